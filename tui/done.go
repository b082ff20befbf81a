package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// done confirms the change and returns to the start on its own, or goes
// on to the security info when that is due or falls short.
type done struct {
	e       *env
	next    func() screen
	started time.Time
	now     time.Time
	timeout time.Duration
	// helpdesk is who to call if the change was not the person's doing.
	helpdesk string
	// sessionID is the signed-in session next hands on; it is signed out
	// when the person leaves from here instead.
	sessionID string
	// optional lets Esc finish instead of going on; why says what going on
	// is for, written when drawn (nil when there is nothing to say).
	optional bool
	why      func() string
}

func newDone(e *env, next func() screen) *done {
	now := e.now()
	return &done{e: e, next: next, started: now, now: now, timeout: e.doneTimeout}
}

// registerAfterReset goes on from a reset to the security info of the
// session the reset opened: required when policy makes registration due,
// offered otherwise.
func (s *done) registerAfterReset(info flows.SessionInfo) {
	e, id := s.e, info.ID
	s.next = func() screen { return newOverview(e, id) }
	s.sessionID = id
	s.optional = !info.RegistrationDue
	if s.optional {
		s.why = func() string { return e.p.T("done.register_optional") }
	} else {
		s.why = requiredWhy(e, info)
	}
}

// requiredWhy says why registration comes next when policy makes it due,
// in the language of the visit when it is drawn.
func requiredWhy(e *env, info flows.SessionInfo) func() string {
	return func() string {
		return e.p.F("done.register_required", locale.Args{"Reason": dueReason(e.p, info.DueReason, info.Required)})
	}
}

// close signs out a session nobody went on with.
func (s *done) close() {
	if s.sessionID != "" {
		s.e.svc.SignOut(s.sessionID)
	}
}

func (s *done) init() tea.Cmd { return loadHelpdesk(s.e) }

func (s *done) title() string { return s.e.p.T("done.title") }

func (s *done) help() []key.Binding {
	if s.optional {
		setUp, finish := s.e.keys.Select, s.e.keys.Back
		setUp.SetHelp(setUp.Help().Key, "key.set_up_now")
		finish.SetHelp(finish.Help().Key, "key.finish")
		return []key.Binding{setUp, finish}
	}
	return []key.Binding{s.e.keys.Select}
}

func (s *done) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case helpdeskMsg:
		s.helpdesk = string(msg)
	case clockMsg:
		s.now = time.Time(msg)
		if s.next == nil && s.now.Sub(s.started) >= s.timeout {
			return s, home
		}
	case tea.KeyPressMsg:
		if key.Matches(msg, s.e.keys.Back) && s.optional {
			return s, home
		}
		if key.Matches(msg, s.e.keys.Select) || key.Matches(msg, s.e.keys.Back) {
			if s.next != nil {
				// Handed on: the next screen owns the session now.
				return s, replaceJourney(s.next())
			}
			return s, home
		}
	}
	return s, nil
}

func (s *done) view(width int) string {
	var b strings.Builder
	p := s.e.p
	b.WriteString(s.e.st.Success.Render(p.T("done.changed")) + "\n\n")
	b.WriteString(s.e.st.Body.Render(p.T("done.use_new")) + "\n\n")
	b.WriteString(notYou(s.e, s.helpdesk, width) + "\n\n")
	if why := s.reason(); why != "" {
		b.WriteString(s.e.st.Warning.Render(sanitize.String(why)) + "\n\n")
	}
	switch {
	case s.optional:
		b.WriteString(s.e.st.Muted.Render(p.T("done.press_optional")))
	case s.next != nil:
		b.WriteString(s.e.st.Muted.Render(p.T("done.press_continue")))
	default:
		b.WriteString(s.e.st.Muted.Render(finishLine(s.e, s.timeout-s.now.Sub(s.started))))
	}
	return wrap(b.String(), width)
}

// reason is why the journey goes on after this screen, or "".
func (s *done) reason() string {
	if s.why == nil {
		return ""
	}
	return s.why()
}

// notYou tells the person who to call if the change was not their doing.
func notYou(e *env, helpdesk string, width int) string {
	if helpdesk == "" {
		return e.st.Body.Render(e.p.T("done.not_you"))
	}
	return styledF(e.p, "done.not_you_contact", nil, "Contact", sanitize.Line(helpdesk, max(width-4, 10)),
		e.st.Body, e.st.Code)
}

// finishLine says the screen clears itself, and in how many seconds.
func finishLine(e *env, left time.Duration) string {
	return e.p.N("done.press_finish", int(left.Round(time.Second)/time.Second), nil)
}
