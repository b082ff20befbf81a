package components

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/tui/styles"
)

// HelpBar draws bindings on one line as "key desc • key desc", within width
// cells. Disabled bindings and bindings without help are skipped. Bindings
// are kept in order, most important first: when the next one does not fit,
// it and all after it are dropped and an ellipsis shows that there is more
// (in the full help).
func HelpBar(bindings []key.Binding, width int, st *styles.Styles) string {
	if width < 1 {
		return ""
	}
	sep := st.Help.Separator.Render(st.Glyphs.Separator)
	sepWidth := ansi.StringWidth(st.Glyphs.Separator)

	var b strings.Builder
	used := 0
	for _, kb := range bindings {
		h := kb.Help()
		if !kb.Enabled() || h.Key == "" {
			continue
		}
		entryWidth := ansi.StringWidth(h.Key) + 1 + ansi.StringWidth(h.Desc)
		gap := 0
		if used > 0 {
			gap = sepWidth
		}
		if used+gap+entryWidth > width {
			if tail := " " + st.Glyphs.Ellipsis; used > 0 && used+ansi.StringWidth(tail) <= width {
				b.WriteString(st.Help.Separator.Render(tail))
			}
			break
		}
		if used > 0 {
			b.WriteString(sep)
		}
		b.WriteString(st.Help.Key.Render(h.Key))
		b.WriteByte(' ')
		b.WriteString(st.Help.Desc.Render(h.Desc))
		used += gap + entryWidth
	}
	return b.String()
}
