package tui

import tea "charm.land/bubbletea/v2"

// savedMsg reports a registration step done (or not).
type savedMsg struct {
	seq int
	err error
}

// backToOverview returns to the overview and has it reload.
func backToOverview(note string) tea.Cmd {
	return tea.Sequence(pop, func() tea.Msg { return refreshMsg{note: note} })
}
