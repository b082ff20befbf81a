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
	s, marked := markBreaks(s)
	if marked {
		breakpoints += breakMark
	}
	wrapped := lipgloss.Wrap(s, width, breakpoints)
	if marked {
		wrapped = strings.ReplaceAll(wrapped, breakMark, "")
	}
	lines := strings.Split(wrapped, "\n")
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

// Japanese and Chinese put no spaces between words: a line may break
// between any two characters, except that none begins with a closing
// bracket, a stop or a comma, and none ends with an opening bracket
// (kinsoku). Wrap breaks only at its breakpoints and cuts a longer run of
// text at the width, wherever that falls; so before wrapping, markBreaks
// puts a zero-width space, a breakpoint, wherever such text may break, and
// wrapAt takes the marks out again.

// breakMark is where a line may break in text without spaces: a zero-width
// space, which no screen text holds (sanitising takes invisible characters
// out of user text).
const breakMark = "\u200b"

// noLineStart are the characters a line never begins with: closing
// brackets and quotes, stops, commas, the prolonged sound mark, iteration
// marks and small kana.
const noLineStart = "、。，．・：；？！ー―〜～）」』】〕〉》｝］〙〗〟’”ヽヾゝゞ々…‥" +
	"ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ)]},.:;!?%"

// noLineEnd are the characters a line never ends with: opening brackets
// and quotes.
const noLineEnd = "（「『【〔〈《｛［〘〖〝‘“(["

// markBreaks returns s with breakMark wherever a line may break next to a
// double-width character (one side of the break is one), and whether it
// marked any. Escape sequences are passed over: styles do not break text.
func markBreaks(s string) (string, bool) {
	if !hasWide(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	var state byte
	prev, prevWide := "", false
	for rest := s; len(rest) > 0; {
		seq, width, n, next := ansi.DecodeSequence(rest, state, nil)
		state, rest = next, rest[n:]
		if width == 0 {
			b.WriteString(seq)
			if seq == "\n" || seq == " " {
				prev = ""
			}
			continue
		}
		wide := width > 1
		if prev != "" && prev != " " && seq != " " && (wide || prevWide) &&
			!strings.Contains(noLineStart, seq) && !strings.Contains(noLineEnd, prev) {
			b.WriteString(breakMark)
		}
		b.WriteString(seq)
		prev, prevWide = seq, wide
	}
	return b.String(), true
}

// hasWide reports whether s holds a double-width character.
func hasWide(s string) bool {
	for _, r := range s {
		if r >= 0x1100 && ansi.StringWidth(string(r)) > 1 {
			return true
		}
	}
	return false
}
