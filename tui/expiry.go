package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// expiryPrompt offers a change to someone who signed in with a password
// that expires within the reminder window, before their security info.
type expiryPrompt struct {
	e    *env
	info flows.SessionInfo
	// old is the password they signed in with, which the change needs.
	old string
}

func newExpiryPrompt(e *env, info flows.SessionInfo, old string) *expiryPrompt {
	return &expiryPrompt{e: e, info: info, old: old}
}

func (s *expiryPrompt) title() string { return s.e.p.T("expiry.title") }

func (s *expiryPrompt) help() []key.Binding {
	yes, no := s.e.keys.Confirm, s.e.keys.Cancel
	yes.SetHelp(yes.Help().Key, "key.change_now")
	no.SetHelp(no.Help().Key, "key.not_now")
	return []key.Binding{yes, no}
}

func (s *expiryPrompt) close() { s.old = "" }

// overview is where the sign-in was going.
func (s *expiryPrompt) overview() screen { return newOverview(s.e, s.info.ID) }

func (s *expiryPrompt) update(msg tea.Msg) (screen, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	switch {
	case key.Matches(k, s.e.keys.Confirm), key.Matches(k, s.e.keys.Select):
		t := passwordTarget{sessionID: s.info.ID, oldPassword: s.old, next: s.overview}
		if s.info.RegistrationDue {
			t.nextWhy = requiredWhy(s.e, s.info)
		}
		s.close()
		return s, replaceJourney(newNewPassword(s.e, t))
	case key.Matches(k, s.e.keys.Cancel), key.Matches(k, s.e.keys.Back):
		s.close()
		return s, replaceJourney(s.overview())
	}
	return s, nil
}

func (s *expiryPrompt) view(width int) string {
	st, p := s.e.st, s.e.p
	days := flows.DaysLeft(s.info.PasswordExpiresAt, s.e.now())
	var b strings.Builder
	b.WriteString(st.Warning.Render(p.N("expiry.question", days, nil)) + "\n\n")
	b.WriteString(st.Body.Render(p.F("expiry.stops", locale.Args{"When": s.info.PasswordExpiresAt.UTC().Format(p.T("expiry.when_layout"))})))
	return wrap(b.String(), width)
}
