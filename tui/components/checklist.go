package components

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// CheckItem is one rule of a checklist, such as "At least 12 characters".
type CheckItem struct {
	// Label says what the rule requires.
	Label string
	// Met reports whether the current input satisfies the rule.
	Met bool
}

// Checklist draws items one per rule, each with a met or unmet mark, within
// width cells. A label too long for the line wraps under itself rather than
// under the mark, so the marks stay in a clean column.
func Checklist(items []CheckItem, st *styles.Styles, width int) string {
	if width < 1 || len(items) == 0 {
		return ""
	}
	markWidth := max(ansi.StringWidth(st.Glyphs.Met), ansi.StringWidth(st.Glyphs.Unmet))
	labelWidth := width - markWidth - 1
	indent := strings.Repeat(" ", markWidth+1)

	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte('\n')
		}
		mark, markStyle, labelStyle := st.Glyphs.Unmet, st.Check.Unmet, st.Check.UnmetLabel
		if it.Met {
			mark, markStyle, labelStyle = st.Glyphs.Met, st.Check.Met, st.Check.MetLabel
		}
		if labelWidth < 1 {
			// No room for labels: the marks alone still tell how many
			// rules are left.
			b.WriteString(markStyle.Render(ansi.Truncate(mark, width, "")))
			continue
		}
		mark += strings.Repeat(" ", markWidth-ansi.StringWidth(mark))
		b.WriteString(markStyle.Render(mark))
		b.WriteByte(' ')
		for j, line := range wrapLines(sanitize.String(it.Label), labelWidth) {
			if j > 0 {
				b.WriteByte('\n')
				b.WriteString(indent)
			}
			b.WriteString(labelStyle.Render(line))
		}
	}
	return b.String()
}

// wrapLines word-wraps plain text s to width cells, breaking words that are
// longer than a line, and guarantees that no line is wider than width.
func wrapLines(s string, width int) []string {
	lines := strings.Split(ansi.Wrap(s, width, ""), "\n")
	for i, l := range lines {
		// Wrap cannot split a double-width character across a one-cell
		// line; truncating is the only way to keep the promise.
		lines[i] = ansi.Truncate(l, width, "")
	}
	return lines
}
