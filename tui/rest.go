package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// RestMsg says the model is at rest: nothing on screen will change until the
// person does something (see Model.AtRest). A host may end the program on it,
// keep the model, and start a new program with the same model when input
// arrives. The SSH portal does, so that an idle session holds no renderer,
// no input parser and no frame ticker. A host that ignores it loses nothing.
type RestMsg struct{}

// restCheckMsg fires RestAfter after the model came to rest; seq says which
// stretch of quiet it belongs to.
type restCheckMsg struct{ seq uint64 }

// SetRestAfter changes how long the model waits at rest before RestMsg. A
// host calls it between programs, never while one runs the model.
func (m *Model) SetRestAfter(d time.Duration) { m.opts.RestAfter = d }

// AtRest says whether the screen depends on nothing but the person: no
// countdown, no idle wipe, no outbox to poll, no answer still on its way.
// Only the welcome screen of a session outside the demo is, once it has
// heard back what it asked.
func (m *Model) AtRest() bool {
	if m.needsTick() {
		return false
	}
	s, ok := m.top().(interface{ settled() bool })
	return !ok || s.settled()
}

// restAfterUpdate arms the rest check once the model is at rest. Every
// message but the check itself starts a new stretch of quiet, so the check
// only reports rest when nothing at all happened for RestAfter.
func (m *Model) restAfterUpdate(msg tea.Msg) tea.Cmd {
	if m.opts.RestAfter <= 0 {
		return nil
	}
	if check, ok := msg.(restCheckMsg); ok {
		m.restArmed = false
		if check.seq == m.restSeq && m.AtRest() {
			return func() tea.Msg { return RestMsg{} }
		}
	} else {
		m.restSeq++
	}
	if m.restArmed || !m.AtRest() {
		return nil
	}
	m.restArmed = true
	seq := m.restSeq
	return tea.Tick(m.opts.RestAfter, func(time.Time) tea.Msg { return restCheckMsg{seq: seq} })
}
