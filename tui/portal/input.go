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
	// programs, per second and at once.
	inputRate  = 512
	inputBurst = 8192
	// keyBurst bounds the bytes outside a bracketed paste handed on at
	// once (within inputBurst). Each of them is a key the screen handles
	// before the next, so a flood's burst is what the person waits out
	// after it: 1 KiB is about 0.3 s of work, where 8 KiB was 2.5 s. It
	// still holds a pasted code, or a public key's line from a terminal
	// that does not bracket pastes. A bracketed paste reaches a screen as
	// one message, however long, so it is bounded by inputBurst alone.
	keyBurst = 1024
	// inputDebt is how far a flood runs the budget below empty: every
	// byte that arrives is counted, passed or not, so a client sending
	// faster than inputRate gets nothing through until it has been quiet
	// for about inputDebt/inputRate (a quarter of a second).
	inputDebt = inputRate / 4
	// pasteKept is how much of one bracketed paste is passed on: as much
	// as any field takes, and the end marker's first bytes, which are
	// counted before they are known for the marker. A paste a field takes
	// passes whole; a longer one still reaches the screen longer than any
	// field takes, and is refused there as too long.
	pasteKept = tui.MaxPaste + len(pasteEnd)
	// pasteDebt is how far a paste may run the budget below empty: a paste
	// whose start passed is never cut short by the budget, but is paid
	// for in full before anything more passes.
	pasteDebt = pasteKept + len(pasteEnd)
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
// start marker did not pass, so that no program is left inside a paste
// and no paste reaches one as keys.
type pasteGuard struct {
	budget   *budget // nil passes everything
	kept     int     // bytes of the current paste passed on
	inPaste  bool
	dropping bool
	refused  bool                // the current paste is dropped whole
	recent   [len(pasteEnd)]byte // the last bytes seen, newest last
	// sent is the last bytes passed on outside a paste: a program starts
	// a paste on what it is given, which, once bytes are dropped, is not
	// always what was sent.
	sent [len(pasteStart)]byte
}

// filter returns what of p to pass on.
func (g *pasteGuard) filter(p []byte) []byte {
	out := make([]byte, 0, min(len(p), 1024)+len(pasteEnd))
	for _, b := range p {
		shift(g.recent[:], b)
		switch {
		case !g.inPaste:
			passed := g.budget.take()
			if passed {
				out = append(out, b)
				shift(g.sent[:], b)
			}
			switch {
			case passed && string(g.sent[:]) == pasteStart:
				// The program is in a paste now, and sees what the guard
				// sees until it ends.
				g.inPaste, g.refused, g.kept, g.dropping = true, false, 0, false
				g.recent = g.sent
			case g.saw(pasteStart):
				g.inPaste, g.refused = true, true
			}
		case g.refused:
			g.budget.take()
			if g.saw(pasteEnd) {
				g.inPaste = false
			}
		case g.saw(pasteEnd):
			if g.dropping {
				// Its first bytes went with the dropped ones.
				out = append(out, pasteEnd...)
			} else {
				out = append(out, b)
			}
			g.budget.borrow()
			g.inPaste = false
			g.sent = [len(pasteStart)]byte{}
		case g.kept < pasteKept:
			out = append(out, b)
			g.budget.borrow()
			g.kept++
		default:
			g.dropping = true
		}
	}
	return out
}

// shift appends b to the window w, dropping its oldest byte.
func shift(w []byte, b byte) {
	copy(w, w[1:])
	w[len(w)-1] = b
}

// budget is a token bucket of input bytes that is never waited on: a byte
// passes if a token is there, and costs one either way, down to a debt of
// inputDebt; a paste under way may borrow down to pasteDebt. A byte outside
// a paste also needs a token of a smaller bucket of keys, which pastes do
// not touch.
type budget struct {
	now          func() time.Time
	tokens, keys float64
	last         time.Time
}

// newBudget is a session's input budget, timed by now.
func newBudget(now func() time.Time) *budget {
	return &budget{now: now, tokens: inputBurst, keys: keyBurst}
}

// refill adds the tokens earned since the last refill.
func (b *budget) refill() {
	if b == nil {
		return
	}
	now := b.now()
	if !b.last.IsZero() && now.After(b.last) {
		earned := inputRate * now.Sub(b.last).Seconds()
		b.tokens = min(inputBurst, b.tokens+earned)
		b.keys = min(keyBurst, b.keys+earned)
	}
	b.last = now
}

// take charges one byte that arrived outside a paste and says whether it
// may pass.
func (b *budget) take() bool {
	if b == nil {
		return true
	}
	ok := b.tokens >= 1 && b.keys >= 1
	b.tokens = charge(b.tokens, -inputDebt)
	b.keys = charge(b.keys, -inputDebt)
	return ok
}

// borrow charges one byte of a paste under way, which passes regardless.
func (b *budget) borrow() {
	if b != nil {
		b.tokens = charge(b.tokens, -float64(pasteDebt))
	}
}

// charge returns tokens less one, going no lower than floor (and never
// giving back what a paste borrowed).
func charge(tokens, floor float64) float64 {
	return max(tokens-1, min(tokens, floor))
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
