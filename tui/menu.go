package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// menu is a vertical list of choices, shared by the welcome screen and the
// method pickers.
type menu struct {
	items  []string
	hints  []string
	cursor int
	// wholeHints puts a hint that does not fit beside its item on the line
	// below: a masked address must be read whole. Other hints that do not
	// fit are left out rather than cut.
	wholeHints bool
}

func (mn *menu) update(e *env, msg tea.KeyPressMsg) (chosen int, ok bool) {
	switch {
	case key.Matches(msg, e.keys.Up):
		mn.cursor = (mn.cursor + len(mn.items) - 1) % len(mn.items)
	case key.Matches(msg, e.keys.Down), key.Matches(msg, e.keys.NextField):
		mn.cursor = (mn.cursor + 1) % len(mn.items)
	case key.Matches(msg, e.keys.Select):
		return mn.cursor, true
	default:
		// Digits pick an item directly: quick at a kiosk.
		if s := msg.String(); len(s) == 1 && s[0] >= '1' && s[0] <= '9' {
			if i := int(s[0] - '1'); i < len(mn.items) {
				mn.cursor = i
				return i, true
			}
		}
	}
	return 0, false
}

func (mn *menu) view(e *env, width int) string {
	const prefix = 4 // the pointer or its blank stand-in, before each item
	// Hints line up in a column after the widest item that has one.
	col := 0
	for i, it := range mn.items {
		if i < len(mn.hints) && mn.hints[i] != "" {
			col = max(col, ansi.StringWidth(sanitize.Line(it, max(width-prefix, 1))))
		}
	}
	room := width - prefix - col - 2
	// With wholeHints, one hint that does not fit beside its item puts them
	// all on their own lines, so the list keeps one shape.
	below := false
	for _, h := range mn.hints {
		below = below || mn.wholeHints && ansi.StringWidth(sanitize.String(h)) > room
	}
	var b strings.Builder
	for i, it := range mn.items {
		line := sanitize.Line(it, max(width-prefix, 1))
		if i == mn.cursor {
			b.WriteString(e.st.Item.Selected.Render(e.st.Glyphs.Pointer + " " + line))
		} else {
			b.WriteString(e.st.Item.Unselected.Render("  " + line))
		}
		if i < len(mn.hints) && mn.hints[i] != "" {
			hint := sanitize.String(mn.hints[i])
			switch {
			case !below && ansi.StringWidth(hint) <= room:
				b.WriteString(strings.Repeat(" ", col-ansi.StringWidth(line)+2) + e.st.Muted.Render(hint))
			case below:
				b.WriteString("\n" + strings.Repeat(" ", prefix) + e.st.Muted.Render(sanitize.Line(hint, max(width-prefix, 1))))
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
