package portal

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/sspr-kiosk/sspr/tui"
)

// What a client may send. Every key costs the server an update and a
// redraw (about 70 µs), so a client pouring keys in — 100 kB of them took
// 7 s of CPU — could keep a core busy from one connection; and Bubble Tea
// keeps a bracketed paste in memory until it ends, however long. A person
// types a few bytes a second, holds a key down at 30 repeats a second, and
// pastes a password or a code. The limits leave all of that untouched.
//
// Input beyond the budget is dropped, not held back: held back, a flood
// queued behind it every key the person pressed later, and the screen
// answered minutes late. Dropped, it costs only its reading.
const (
	// inputRate and inputBurst bound the bytes a session hands to its
	// programs, per second and at once. A bracketed paste is one message
	// to a program however long, so only its start marker is counted.
	inputRate  = 512
	inputBurst = 8192
	// inputDebt is how far a flood runs the budget below empty: every
	// byte that arrives is counted, passed or not, so a client sending
	// faster than inputRate gets nothing through until it has been quiet
	// for about inputDebt/inputRate (a quarter of a second).
	inputDebt = inputRate / 4
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
// server nothing but reading it. With a budget, it also drops what the
// budget does not allow: any byte outside a paste, and a whole paste whose
// start marker did not pass (so no program is left inside a paste).
type pasteGuard struct {
	budget   *budget // nil passes everything
	kept     int     // bytes of the current paste passed on
	inPaste  bool
	dropping bool
	refused  bool                // the current paste is dropped whole
	recent   [len(pasteEnd)]byte // the last bytes seen, newest last
	passed   int                 // how many of the last bytes seen passed, up to len(recent)
}

// filter returns what of p to pass on.
func (g *pasteGuard) filter(p []byte) []byte {
	out := make([]byte, 0, min(len(p), 1024)+len(pasteEnd))
	for _, b := range p {
		copy(g.recent[:], g.recent[1:])
		g.recent[len(g.recent)-1] = b
		switch {
		case !g.inPaste:
			if g.budget.take() {
				out = append(out, b)
				g.passed = min(g.passed+1, len(g.recent))
			} else {
				g.passed = 0
			}
			if g.saw(pasteStart) {
				g.inPaste, g.kept, g.dropping = true, 0, false
				g.refused = g.passed < len(pasteStart)
			}
		case g.refused:
			g.budget.take()
			g.inPaste = !g.saw(pasteEnd)
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

// budget is a token bucket of input bytes that is never waited on: a byte
// passes if a token is there, and costs one either way, down to a debt of
// floor.
type budget struct {
	rate, burst, floor float64
	now                func() time.Time
	tokens             float64
	last               time.Time
}

// newBudget is a session's input budget, timed by now.
func newBudget(now func() time.Time) *budget {
	return &budget{rate: inputRate, burst: inputBurst, floor: -inputDebt, now: now, tokens: inputBurst}
}

// refill adds the tokens earned since the last refill.
func (b *budget) refill() {
	if b == nil {
		return
	}
	now := b.now()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+b.rate*now.Sub(b.last).Seconds())
	}
	b.last = now
}

// take charges one byte that arrived and says whether it may pass.
func (b *budget) take() bool {
	if b == nil {
		return true
	}
	ok := b.tokens >= 1
	b.tokens = max(b.tokens-1, b.floor)
	return ok
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

// keyboard reads a session's input on one goroutine for the whole session
// and hands it to whichever program is drawing the screen, so that no key
// within the budget is lost between programs.
type keyboard struct {
	ctx    context.Context
	budget *budget       // nil passes everything
	chunks chan []byte   // closed when the input ends
	ended  chan struct{} // closed when the input ends, once chunks is

	mu     sync.Mutex
	unread []byte // taken from chunks but not yet given to a program
}

// newKeyboard starts reading r, handing on at most what b allows (nil:
// everything).
func newKeyboard(ctx context.Context, r io.Reader, b *budget) *keyboard {
	k := &keyboard{ctx: ctx, chunks: make(chan []byte), ended: make(chan struct{}), budget: b}
	go k.pump(r)
	return k
}

func (k *keyboard) pump(r io.Reader) {
	defer close(k.ended)
	defer close(k.chunks)
	buf := make([]byte, 256)
	guard := pasteGuard{budget: k.budget}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			k.budget.refill()
		}
		if c := guard.filter(buf[:n]); len(c) > 0 {
			select {
			case k.chunks <- c:
			case <-k.ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// attach returns the input of a new program.
func (k *keyboard) attach() *programInput {
	return &programInput{k: k, retired: make(chan struct{})}
}

// programInput is one program's view of the keyboard. Once retired it reads
// nothing more: anything it takes after that goes back to the keyboard.
type programInput struct {
	k       *keyboard
	retired chan struct{}

	mu       sync.Mutex
	done     bool
	pending  []byte    // read from the keyboard, not yet returned
	lastRead time.Time // when input last reached the program
}

// Read implements io.Reader.
func (r *programInput) Read(p []byte) (int, error) {
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return 0, io.EOF
	}
	if len(r.pending) == 0 {
		r.pending = r.k.takeUnread()
	}
	if len(r.pending) == 0 {
		r.mu.Unlock()
		var c []byte
		select {
		case got, ok := <-r.k.chunks:
			if !ok {
				return 0, io.EOF
			}
			c = got
		case <-r.retired:
			return 0, io.EOF
		}
		r.mu.Lock()
		if r.done {
			r.k.putBack(c)
			r.mu.Unlock()
			return 0, io.EOF
		}
		r.pending = c
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	r.lastRead = time.Now()
	r.mu.Unlock()
	return n, nil
}

// retire stops the input, unless (with a non-zero now) input reached the
// program within restGrace of now or is still pending, in which case it
// reports false and nothing changes. Whatever the program has not read
// goes back to the keyboard.
func (r *programInput) retire(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return true
	}
	if !now.IsZero() && (len(r.pending) > 0 || now.Sub(r.lastRead) < restGrace) {
		return false
	}
	r.done = true
	r.k.putBack(r.pending)
	r.pending = nil
	close(r.retired)
	return true
}

func (k *keyboard) takeUnread() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.unread
	k.unread = nil
	return c
}

func (k *keyboard) putBack(c []byte) {
	if len(c) == 0 {
		return
	}
	k.mu.Lock()
	k.unread = append(c[:len(c):len(c)], k.unread...)
	k.mu.Unlock()
}

func (k *keyboard) hasUnread() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.unread) > 0
}
