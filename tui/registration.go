package tui

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// savedMsg reports a registration step done (or not).
type savedMsg struct {
	seq int
	err error
}

// backToOverview returns to the overview and has it reload.
func backToOverview(note phrase) tea.Cmd {
	return tea.Sequence(pop, func() tea.Msg { return refreshMsg{note: note} })
}

// phrase is a catalogue message a screen keeps until it draws it: a note
// or a question written when it is drawn is in the language the visit has
// then, which may change after the message was made.
type phrase struct {
	id   string
	args locale.Args
}

// say is a message with named placeholders (or none).
func say(id string, args locale.Args) phrase { return phrase{id: id, args: args} }

// in writes the phrase in p's language; the empty phrase writes nothing.
func (ph phrase) in(p *locale.Printer) string {
	if ph.id == "" {
		return ""
	}
	return p.F(ph.id, ph.args)
}

// question writes a yes/no question with its keys.
func question(p *locale.Printer, ph phrase) string { return ph.in(p) + " " + p.T("info.yes_no") }

// placeholder sets a field's hint, in the language of the draw.
func placeholder(ti *textinput.Model, hint string) { ti.Placeholder = styles.Placeholder(hint) }

// label writes a menu's items from their phrases, in the language of the
// draw.
func (mn *menu) label(p *locale.Printer, labels []phrase) {
	for i, l := range labels {
		mn.items[i] = l.in(p)
	}
}
