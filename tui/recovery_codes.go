package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// recoveryCodes makes and shows a new set of recovery codes, once, and asks
// the person to confirm they saved them.
type recoveryCodes struct {
	e         *env
	sessionID string
	codes     []string
}

func newRecoveryCodes(e *env, sessionID string) *recoveryCodes {
	return &recoveryCodes{e: e, sessionID: sessionID}
}

type codesMsg struct {
	codes []string
	err   error
}

func (s *recoveryCodes) init() tea.Cmd {
	e, id := s.e, s.sessionID
	return func() tea.Msg {
		codes, err := e.svc.NewRecoveryCodes(e.ctx, id)
		return codesMsg{codes: codes, err: err}
	}
}

func (s *recoveryCodes) title() string { return s.e.p.T("info.title.recovery") }

func (s *recoveryCodes) help() []key.Binding { return []key.Binding{s.e.keys.Confirm} }

// close forgets the codes: they are shown once.
func (s *recoveryCodes) close() { s.codes = nil }

func (s *recoveryCodes) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case codesMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, s.e.p.T("info.cant_continue"), sentence(s.e, msg.err))
		}
		s.codes = msg.codes
	case tea.KeyPressMsg:
		// Only an explicit "I have saved them" leaves; Esc does too, since
		// the codes are already active.
		if s.codes != nil && (key.Matches(msg, s.e.keys.Confirm) || key.Matches(msg, s.e.keys.Back)) {
			s.codes = nil
			return s, backToOverview(say("info.saved.recovery", nil))
		}
	}
	return s, nil
}

func (s *recoveryCodes) view(width int) string {
	st, p := s.e.st, s.e.p
	if s.codes == nil {
		return st.Muted.Render("⋯ " + p.T("info.recovery.making"))
	}
	var b strings.Builder
	b.WriteString(st.Body.Render(p.T("info.recovery.intro")) + "\n\n")
	for i := 0; i < len(s.codes); i += 2 {
		line := fmt.Sprintf("%2d. %s", i+1, st.Code.Render(s.codes[i]))
		if i+1 < len(s.codes) {
			line += fmt.Sprintf("    %2d. %s", i+2, st.Code.Render(s.codes[i+1]))
		}
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("\n" + st.Warning.Render(p.T("info.recovery.press_y")))
	return wrap(b.String(), width)
}
