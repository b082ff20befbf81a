package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// auditDetail shows one audit entry whole: a changed policy value or a long
// reason does not fit a table row at any width. Every field but the time
// and the event came from people or the network and is sanitised; long
// values wrap under their label, and an entry taller than the window
// scrolls.
type auditDetail struct {
	e      *env
	entry  audit.Entry
	offset int
	// shown and total are the lines of the last view: how far it scrolls.
	shown, total int
}

// auditLabelWidth is the column the values start at.
const auditLabelWidth = 8

// lines are the entry's lines at width.
func (d *auditDetail) lines(width int) []string {
	st, e := d.e.st, d.entry
	var out []string
	field := func(label, value string) {
		text := st.Input.Label.Render(fmt.Sprintf("%-*s", auditLabelWidth, label)) +
			components.WrapValue(st.Body.Render(sanitize.String(value)), width, auditLabelWidth)
		out = append(out, strings.Split(text, "\n")...)
	}
	out = append(out, strings.Split(wrap(st.Subtitle.Render(fmt.Sprintf("Entry %d · %s", e.ID, e.Event)), width), "\n")...)
	field("time", e.At.UTC().Format("2006-01-02 15:04:05")+" UTC")
	target := e.Target
	if target == "" {
		target = "—"
	}
	field("actor", e.Actor+" · target "+target)
	field("source", e.Source+" · outcome "+e.Outcome)
	if e.Detail != "" {
		field("detail", e.Detail)
	}
	field("hash", e.Hash)
	field("prev", e.PrevHash)
	return out
}

// view draws as many lines as the window has room for (the tab bar above
// takes two), from the scroll offset, and where the rest is.
func (d *auditDetail) view(width int) string {
	lines := d.lines(width)
	rows := len(lines)
	if h := d.e.bodyHeight - 2; h > 0 && h < rows {
		rows = max(h-1, 1) // a line says where the rest is
	}
	d.total, d.shown = len(lines), rows
	d.offset = min(max(d.offset, 0), len(lines)-rows)
	out := strings.Join(lines[d.offset:d.offset+rows], "\n")
	if rows < len(lines) {
		out += "\n" + d.e.st.Muted.Render(sanitize.Line(fmt.Sprintf("Lines %d–%d of %d · ↑/↓ to scroll",
			d.offset+1, d.offset+rows, len(lines)), width))
	}
	return out
}

// onKey scrolls, and reports whether the key closes the entry.
func (d *auditDetail) onKey(msg tea.KeyPressMsg) (closed bool) {
	k := d.e.keys
	switch {
	case key.Matches(msg, k.Back), key.Matches(msg, k.Select):
		return true
	case key.Matches(msg, k.Up):
		d.offset--
	case key.Matches(msg, k.Down):
		d.offset++
	case key.Matches(msg, k.PageUp):
		d.offset -= max(d.shown-1, 1)
	case key.Matches(msg, k.PageDown):
		d.offset += max(d.shown-1, 1)
	}
	d.offset = min(max(d.offset, 0), max(d.total-d.shown, 0))
	return false
}

func (d *auditDetail) help() []key.Binding {
	k := d.e.keys
	back := k.Back
	back.SetHelp("esc", "back to the log")
	if d.shown >= d.total {
		return []key.Binding{back}
	}
	up, down := k.Up, k.Down
	up.SetHelp(up.Help().Key, "scroll up")
	down.SetHelp(down.Help().Key, "scroll down")
	return []key.Binding{back, up, down, k.PageUp, k.PageDown}
}
