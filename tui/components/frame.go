package components

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// The smallest window Frame draws the app in. Below it, forms and the
// checklist no longer fit, and a clear request beats a garbled screen.
const (
	MinWidth  = 40
	MinHeight = 12
)

// tooSmall are the messages shown in a window below the minimum size,
// longest first; the first that fits is used.
func tooSmall(p *locale.Printer) []string {
	return []string{
		p.F("frame.too_small", locale.Args{"Width": p.Number(MinWidth), "Height": p.Number(MinHeight)}),
		p.T("frame.too_small.shorter"),
		p.T("frame.too_small.shortest"),
	}
}

// Frame draws the app chrome around a screen: the title on the first line,
// the body below it, and the help bar on the last line, all inside the
// blank margin that st.App sets.
// The result is exactly width×height cells (every line padded with spaces),
// so it covers the whole window and leaves nothing of the previous screen.
//
// The title is sanitised. body and help are already-styled output of other
// components: they pass through sanitize.Styled, a safety net that keeps
// colours but removes links, cursor movement and other controls that a
// screen may have let through by forgetting to sanitise some user text.
// They are clipped, not wrapped: a body taller than the space left loses
// its last lines, so screens with long content must scroll. At 80×24 the
// body gets 20 rows, or 22 when it needs them (the blank lines around it
// are given up first).
//
// A window smaller than MinWidth×MinHeight gets a centred message asking
// for a larger one instead.
func Frame(title, body, help string, width, height int, st *styles.Styles, p *locale.Printer) string {
	if width < 1 || height < 1 {
		return ""
	}
	if width < MinWidth || height < MinHeight {
		return tooSmallMessage(width, height, st, p)
	}

	innerW := width - st.App.GetHorizontalFrameSize()
	innerH := height - st.App.GetVerticalFrameSize()
	if innerW < 1 || innerH < 3 {
		// Only possible with an App style whose frame eats the window.
		return tooSmallMessage(width, height, st, p)
	}

	var bodyLines []string
	if body != "" {
		bodyLines = strings.Split(sanitize.Styled(body), "\n")
	}
	// Title, a blank line, the body, a blank line, the help bar. A body
	// that needs the room gets the two blank lines: the authenticator QR
	// code is 21–23 rows and must not lose a row on an 80×24 screen.
	spacer := 1
	if len(bodyLines) > innerH-4 {
		spacer = 0
	}
	bodyH := innerH - 2 - 2*spacer
	if len(bodyLines) > bodyH {
		bodyLines = bodyLines[:bodyH]
	}

	lines := make([]string, 0, innerH)
	if t := sanitize.Line(title, innerW-st.Title.GetHorizontalFrameSize()); t != "" {
		lines = append(lines, st.Title.Render(t))
	} else {
		lines = append(lines, "")
	}
	if spacer > 0 {
		lines = append(lines, "")
	}
	lines = append(lines, bodyLines...)
	for len(lines) < innerH-1 {
		lines = append(lines, "")
	}
	helpLine, _, _ := strings.Cut(sanitize.Styled(help), "\n")
	lines = append(lines, helpLine)

	// The App style's frame is drawn as blank space by hand rather than
	// with st.App.Render, which measures every padded line several times
	// and would cost most of the frame's time budget.
	left := st.App.GetMarginLeft() + st.App.GetBorderLeftSize() + st.App.GetPaddingLeft()
	top := st.App.GetMarginTop() + st.App.GetBorderTopSize() + st.App.GetPaddingTop()
	blank := strings.Repeat(" ", width)
	var b strings.Builder
	b.Grow(height * (width + 64))
	for row := range height {
		if row > 0 {
			b.WriteByte('\n')
		}
		i := row - top
		if i < 0 || i >= len(lines) {
			b.WriteString(blank)
			continue
		}
		b.WriteString(blank[:left])
		b.WriteString(padLine(lines[i], innerW))
		b.WriteString(blank[:width-left-innerW])
	}
	return b.String()
}

// tooSmallMessage centres the longest "window too small" message that fits.
func tooSmallMessage(width, height int, st *styles.Styles, p *locale.Printer) string {
	msgs := tooSmall(p)
	msg := ansi.Truncate(msgs[len(msgs)-1], width, "…")
	for _, m := range msgs {
		if w := strings.Join(wrapLines(m, width), "\n"); lipgloss.Height(w) <= height {
			msg = w
			break
		}
	}
	msg = st.Warning.Align(lipgloss.Center).Render(msg)
	return fit(lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, msg), width, height)
}

// fit cuts or pads s to exactly width×height cells: extra lines and cells
// are dropped, missing ones are filled with spaces.
func fit(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = padLine(l, width)
	}
	return strings.Join(lines, "\n")
}

// padLine cuts or pads one line to exactly width cells. It measures the
// line before padding it, because measuring is the expensive part and
// trailing spaces would only make it slower.
func padLine(l string, width int) string {
	w := cellWidth(l)
	if w > width {
		l = ansi.Truncate(l, width, "…")
		w = cellWidth(l) // a wide character may leave one cell free
	}
	if w < width {
		l += strings.Repeat(" ", width-w)
	}
	return l
}

// cellWidth is ansi.StringWidth with a fast path for printable ASCII, where
// every byte is one cell.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}
