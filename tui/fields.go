package tui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// prefill marks a field whose value sspr filled in (the address on the
// account, a question from the catalogue). Like selected text, the first
// character typed or pasted replaces the whole value, so typing a new one
// does not append to it; a key that moves or deletes keeps it, to edit.
type prefill struct{ on bool }

// update passes msg to in, clearing the filled-in value first when msg is
// the first text typed or pasted.
func (p *prefill) update(in *textinput.Model, msg tea.Msg) tea.Cmd {
	if p.on {
		switch msg := msg.(type) {
		case tea.KeyPressMsg:
			if msg.Text != "" {
				in.SetValue("")
			}
			p.on = false
		case tea.PasteMsg:
			in.SetValue("")
			p.on = false
		}
	}
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	return cmd
}

// fitInput sets a field's width and scrolls it again for that width: a
// field scrolls only as its cursor moves, so a value set while the field
// was narrower would stay scrolled, its start hidden, though it now fits
// (and one set while it was wider would overflow it). The window is
// worked out from the start, then as far as the cursor needs.
func fitInput(in *textinput.Model, width int) {
	if in.Width() == width {
		return
	}
	pos := in.Position()
	in.SetWidth(width)
	in.CursorStart()
	in.SetCursor(pos)
}

// indent puts pad before every line of s.
func indent(s, pad string) string {
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}
