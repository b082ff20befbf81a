package components

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/tui/keys"
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

// ShortHelp is HelpBar for a screen that also has a full help: when the
// bindings do not all fit, the keys that act come before the keys that
// only move (keys.Bindings.Ranked), and as many as fit are followed by
// more ("? more keys") instead of an ellipsis, so the person learns where
// the rest are. With more disabled (while typing) it is HelpBar.
func ShortHelp(bindings []key.Binding, more key.Binding, width int, st *styles.Styles) string {
	if !more.Enabled() || more.Help().Key == "" {
		return HelpBar(bindings, width, st)
	}
	shown := make([]key.Binding, 0, len(bindings)+1)
	for _, kb := range bindings {
		if kb.Enabled() && kb.Help().Key != "" {
			shown = append(shown, kb)
		}
	}
	if barWidth(shown, st) <= width {
		return HelpBar(shown, width, st)
	}
	shown = keys.Bindings(shown).Ranked()
	n := len(shown)
	for n > 0 && barWidth(append(shown[:n:n], more), st) > width {
		n--
	}
	return HelpBar(append(shown[:n:n], more), width, st)
}

// barWidth is how wide HelpBar draws bindings that all fit.
func barWidth(bindings []key.Binding, st *styles.Styles) int {
	w := 0
	for i, kb := range bindings {
		if i > 0 {
			w += ansi.StringWidth(st.Glyphs.Separator)
		}
		h := kb.Help()
		w += ansi.StringWidth(h.Key) + 1 + ansi.StringWidth(h.Desc)
	}
	return w
}
