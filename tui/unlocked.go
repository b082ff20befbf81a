package tui

import (
	"errors"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// unlocked ends an unlock journey: it lifts the lockout the proofs allow
// and says how it went. Whether the account was locked at all is said only
// here, after the proofs, so the journey tells nothing to anyone who has
// not proved who they are. It returns to the start on its own, as the done
// screen does.
type unlocked struct {
	e       *env
	flowID  string
	pending bool
	out     flows.UnlockOutcome
	started time.Time
	now     time.Time
	timeout time.Duration
	// helpdesk is who to call if the unlock was not the person's doing.
	helpdesk string
}

func newUnlocking(e *env, flowID string) *unlocked {
	now := e.now()
	return &unlocked{e: e, flowID: flowID, pending: true, started: now, now: now, timeout: e.doneTimeout}
}

// unlockedMsg carries the outcome of CompleteUnlock.
type unlockedMsg struct {
	out flows.UnlockOutcome
	err error
}

func (s *unlocked) init() tea.Cmd {
	e, id := s.e, s.flowID
	return tea.Batch(loadHelpdesk(e), func() tea.Msg {
		out, err := e.svc.CompleteUnlock(e.ctx, id)
		return unlockedMsg{out: out, err: err}
	})
}

// close forgets the flow if the person leaves before it completes.
func (s *unlocked) close() {
	if s.pending {
		s.e.svc.CancelFlow(s.flowID)
	}
}

func (s *unlocked) title() string {
	if s.pending {
		return s.e.p.T("journey.unlock.title")
	}
	return s.e.p.T("done.title")
}

func (s *unlocked) help() []key.Binding {
	if s.pending {
		return nil
	}
	return []key.Binding{s.e.keys.Select}
}

func (s *unlocked) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case unlockedMsg:
		s.pending = false
		if msg.err != nil {
			return s, showDeadEnd(s.e, journeyPaused(journeyUnlock), unlockSentence(s.e, msg.err))
		}
		s.out, s.started = msg.out, s.e.now()
	case helpdeskMsg:
		s.helpdesk = string(msg)
	case clockMsg:
		s.now = time.Time(msg)
		if !s.pending && s.now.Sub(s.started) >= s.timeout {
			return s, home
		}
	case tea.KeyPressMsg:
		if !s.pending && (key.Matches(msg, s.e.keys.Select) || key.Matches(msg, s.e.keys.Back)) {
			return s, home
		}
	}
	return s, nil
}

// unlockSentence says why an unlock stopped, and for a directory that
// refused it, who can still help.
func unlockSentence(e *env, err error) string {
	if errors.Is(err, flows.ErrUnlockRefused) {
		return e.p.T("error.unlock_refused_helpdesk")
	}
	return sentence(e, err)
}

func (s *unlocked) view(width int) string {
	st, p := s.e.st, s.e.p
	if s.pending {
		return wrap(st.Muted.Render("⋯ "+p.T("unlocked.pending")), width)
	}
	var b strings.Builder
	if s.out.Unlocked {
		b.WriteString(st.Success.Render(p.T("unlocked.done")) + "\n\n")
		b.WriteString(st.Body.Render(p.T("unlocked.same_password")) + "\n\n")
		b.WriteString(notYou(s.e, s.helpdesk, width) + "\n\n")
	} else {
		b.WriteString(st.Success.Render(p.T("unlocked.not_locked")) + "\n\n")
		b.WriteString(st.Body.Render(p.F("unlocked.nothing_changed", locale.Args{"Item": p.T("welcome.reset")})) + "\n\n")
	}
	b.WriteString(st.Muted.Render(finishLine(s.e, s.timeout-s.now.Sub(s.started))))
	return wrap(b.String(), width)
}
