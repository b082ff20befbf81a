package components

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Wrap fits text to width cells, breaking lines only between words (at
// spaces and after hyphens); the one thing ever broken inside is a word
// longer than a whole line. Styles carry over each break, existing line
// breaks are kept, and no line is wider than width.
//
// Every sentence a screen shows goes through Wrap: a message cut at the
// window's edge ("…and this woul…") loses what it was saying. Cutting with
// an ellipsis (sanitize.Line) is for table cells and values only. Wrap does
// not sanitise: callers sanitise user text before styling it.
func Wrap(s string, width int) string {
	width = max(width, 1)
	lines := strings.Split(lipgloss.Wrap(s, width, " "), "\n")
	for i, l := range lines {
		// Wrap cannot put a double-width character on a one-cell line;
		// cutting it is the only way to keep the promise on width.
		if ansi.StringWidth(l) > width {
			lines[i] = ansi.Truncate(l, width, "")
		}
	}
	return strings.Join(lines, "\n")
}

// WrapHanging wraps text that follows a label of indent cells on its first
// line: every line gets width-indent cells, and the lines after the first
// are indented to start under the first, so a long value reads as one
// column beside its label.
func WrapHanging(s string, width, indent int) string {
	indent = max(min(indent, width-1), 0)
	lines := strings.Split(Wrap(s, width-indent), "\n")
	pad := strings.Repeat(" ", indent)
	for i := 1; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}
