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
func Wrap(s string, width int) string { return wrapAt(s, width, " ") }

// wrapAt is Wrap with other characters to break after besides hyphens.
func wrapAt(s string, width int, breakpoints string) string {
	width = max(width, 1)
	lines := strings.Split(lipgloss.Wrap(s, width, breakpoints), "\n")
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
func WrapHanging(s string, width, indent int) string { return hanging(s, width, indent, " ") }

// WrapValue is WrapHanging for a value that may be a comma list without
// spaces (banned words, allowed methods): it breaks after commas too, so
// a list is not cut inside a word. Not for prose, where "1,250" is one
// number.
func WrapValue(s string, width, indent int) string { return hanging(s, width, indent, " ,") }

func hanging(s string, width, indent int, breakpoints string) string {
	indent = max(min(indent, width-1), 0)
	lines := strings.Split(wrapAt(s, width-indent, breakpoints), "\n")
	pad := strings.Repeat(" ", indent)
	for i := 1; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}
