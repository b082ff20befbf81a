package portal

import (
	"time"

	"github.com/sspr-kiosk/sspr/tui"
)

// What a client may send. Every key costs the server an update and a
// redraw (about 70 µs), so a client pouring keys in — 100 kB of them took
// 7 s of CPU — could keep a core busy from one connection; and Bubble Tea
// keeps a bracketed paste in memory until it ends, however long. A person
// types a few bytes a second, holds a key down at 30 repeats a second, and
// pastes a password or a code. The limits leave all of that untouched.
const (
	// inputRate and inputBurst bound the bytes a session hands to its
	// programs, per second and at once.
	inputRate  = 512
	inputBurst = 8192
	// pasteKept is how much of one bracketed paste is passed on: one byte
	// more than any field takes, so the TUI still refuses it as too long.
	pasteKept = tui.MaxPaste + 1
	// resizeEvery is how often at most a program hears of a new window
	// size; a client can send thousands of window changes a second, and
	// each one resizes and redraws the screen.
	resizeEvery = 100 * time.Millisecond
)

// The markers of a bracketed paste.
const (
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
)

// pasteGuard passes a bracketed paste on up to pasteKept bytes and drops
// the rest of it, keeping the end marker, so an endless paste costs the
// server nothing but reading it.
type pasteGuard struct {
	kept     int // bytes of the current paste passed on
	inPaste  bool
	dropping bool
	recent   [len(pasteEnd)]byte // the last bytes seen, newest last
}

// filter returns what of p to pass on.
func (g *pasteGuard) filter(p []byte) []byte {
	out := make([]byte, 0, len(p)+len(pasteEnd))
	for _, b := range p {
		copy(g.recent[:], g.recent[1:])
		g.recent[len(g.recent)-1] = b
		switch {
		case !g.inPaste:
			out = append(out, b)
			if g.saw(pasteStart) {
				g.inPaste, g.kept, g.dropping = true, 0, false
			}
		case g.saw(pasteEnd):
			if g.dropping {
				// Its first bytes went with the dropped ones.
				out = append(out, pasteEnd...)
			} else {
				out = append(out, b)
			}
			g.inPaste = false
		case g.kept < pasteKept:
			out = append(out, b)
			g.kept++
		default:
			g.dropping = true
		}
	}
	return out
}

// saw says whether the bytes seen last are marker.
func (g *pasteGuard) saw(marker string) bool {
	return string(g.recent[len(g.recent)-len(marker):]) == marker
}

// pacer decides when a program hears of window changes: the first at once,
// then at most one per resizeEvery, the latest of those in between.
type pacer struct {
	cooling bool // one was sent less than resizeEvery ago
	waiting bool // another came in since
}

// arrived notes a window change and says whether to send it now (and
// start the wait).
func (p *pacer) arrived() bool {
	if p.cooling {
		p.waiting = true
		return false
	}
	p.cooling = true
	return true
}

// cooled ends the wait and says whether to send the latest size now (and
// wait again).
func (p *pacer) cooled() bool {
	p.cooling = p.waiting
	p.waiting = false
	return p.cooling
}
