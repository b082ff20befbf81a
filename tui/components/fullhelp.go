package components

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/tui/keys"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// FullHelp draws every binding with help as bubbles/help's full view:
// columns of keys and what they do, filled top to bottom in the given
// order, with as many columns side by side as width takes (so as few rows
// as possible). When not even two columns fit, it is one binding a line,
// each cut to width.
func FullHelp(bindings []key.Binding, width int, st *styles.Styles) string {
	shown := keys.Help(bindings...)
	if width < 1 || len(shown) == 0 {
		return ""
	}
	h := help.New()
	h.Styles = st.HelpStyles()
	h.Ellipsis = st.Glyphs.Ellipsis
	for cols := len(shown); cols > 1; cols-- {
		per := (len(shown) + cols - 1) / cols
		if v := h.FullHelpView(shown.Columns(per)); lipgloss.Width(v) <= width {
			return v
		}
	}
	keyW := 0
	for _, kb := range shown {
		keyW = max(keyW, ansi.StringWidth(kb.Help().Key))
	}
	lines := make([]string, len(shown))
	for i, kb := range shown {
		k := kb.Help().Key
		line := st.Help.Key.Render(k) + strings.Repeat(" ", keyW-ansi.StringWidth(k)+1) + st.Help.Desc.Render(kb.Help().Desc)
		lines[i] = ansi.Truncate(line, width, st.Glyphs.Ellipsis)
	}
	return strings.Join(lines, "\n")
}
