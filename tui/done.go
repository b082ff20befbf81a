package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
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
	// is for.
	optional bool
	why      string
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
		s.why = "You don't have enough ways to prove it's you set up to reset your password yourself next time."
	} else {
		s.why = requiredWhy(e, info)
	}
}

// requiredWhy says why registration comes next when policy makes it due.
func requiredWhy(e *env, info flows.SessionInfo) string {
	return dueReason(e.p, info.DueReason, info.Required) + " Your organisation requires it."
}

// close signs out a session nobody went on with.
func (s *done) close() {
	if s.sessionID != "" {
		s.e.svc.SignOut(s.sessionID)
	}
}

func (s *done) init() tea.Cmd { return loadHelpdesk(s.e) }

func (s *done) title() string { return "All done" }

func (s *done) help() []key.Binding {
	if s.optional {
		setUp, finish := s.e.keys.Select, s.e.keys.Back
		setUp.SetHelp(setUp.Help().Key, "set up now")
		finish.SetHelp(finish.Help().Key, "finish")
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
	b.WriteString(s.e.st.Success.Render("Your password has been changed.") + "\n\n")
	b.WriteString(s.e.st.Body.Render("Use your new password from now on.") + "\n\n")
	if s.helpdesk == "" {
		b.WriteString(s.e.st.Body.Render("If you didn't do this, contact your helpdesk at once.") + "\n\n")
	} else {
		b.WriteString(s.e.st.Body.Render("If you didn't do this, contact your helpdesk at once: ") +
			s.e.st.Code.Render(sanitize.Line(s.helpdesk, max(width-4, 10))) + "\n\n")
	}
	if s.why != "" {
		b.WriteString(s.e.st.Warning.Render(sanitize.String(s.why)) + "\n\n")
	}
	switch {
	case s.optional:
		b.WriteString(s.e.st.Muted.Render("Press enter to set them up now, or esc to finish."))
	case s.next != nil:
		b.WriteString(s.e.st.Muted.Render("Press enter to continue."))
	default:
		left := s.timeout - s.now.Sub(s.started)
		b.WriteString(s.e.st.Muted.Render("Press enter to finish. This screen clears itself in " +
			left.Round(time.Second).String() + "."))
	}
	return wrap(b.String(), width)
}
