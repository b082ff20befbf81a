package flows

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
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

// OutboxMessage is a message as the demo's outbox panel shows it.
type OutboxMessage struct {
	ID      int64
	Kind    string
	Channel string
	To      string
	Subject string
	Body    string
	At      time.Time
}

// Outbox returns messages "sent" through the outbox channel after an id, for
// the demo's on-screen outbox.
func (s *Service) Outbox(ctx context.Context, afterID int64, limit int) ([]OutboxMessage, error) {
	rows, err := store.ListOutbox(ctx, s.db, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out := make([]OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = OutboxMessage{ID: r.ID, Kind: r.Kind, Channel: r.Channel, To: r.Destination, Subject: r.Subject,
			Body: r.Body, At: time.Unix(r.CreatedAt, 0)}
	}
	return out, nil
}

// otpauthURI builds the key URI for authenticator apps. The algorithm, digits
// and period are the defaults every app assumes, so they are left out: a
// shorter URI makes a smaller QR code that fits an 80×24 terminal.
func otpauthURI(issuer, account, secretB32 string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", secretB32)
	q.Set("issuer", issuer)
	return "otpauth://totp/" + label + "?" + q.Encode()
}
