package flows

import (
	"context"

	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// PasswordRules evaluates candidate passwords for one person without any I/O,
// so a screen can redraw its checklist on every keystroke.
type PasswordRules struct {
	checker *password.Checker
	rules   password.Rules
	// History is how many previous passwords are refused; checked on save.
	History int
}

// Evaluate checks a candidate against every rule but history.
func (r PasswordRules) Evaluate(candidate string) Evaluation {
	return r.checker.Evaluate(candidate, r.rules)
}

// PasswordRulesFor returns the rules for the person behind a flow or session id.
func (s *Service) PasswordRulesFor(ctx context.Context, id string) (PasswordRules, error) {
	username, displayName, err := s.subjectOf(id)
	if err != nil {
		return PasswordRules{}, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return PasswordRules{}, err
	}
	return s.rulesFor(pol, username, displayName), nil
}

// rulesFor is the policy's password rules for one person; the history rule
// is applied where the password is saved, since it needs the hashes.
func (s *Service) rulesFor(pol policy.Policy, username, displayName string) PasswordRules {
	return PasswordRules{checker: s.checker, History: pol.PasswordHistory, rules: password.Rules{
		MinLength: pol.PasswordMinLength, MinStrength: pol.PasswordMinStrength, BannedWords: pol.BannedWords,
		Username: username, DisplayName: displayName}}
}

// HelpdeskContact returns the contact shown at every dead end, or "".
func (s *Service) HelpdeskContact(ctx context.Context) string {
	pol, err := s.Policy(ctx)
	if err != nil {
		return ""
	}
	return pol.HelpdeskContact
}
