// Package termtest reads what a program draws on a terminal the way a
// person at that terminal sees it: the bytes from a PTY or an SSH channel
// go through a real terminal emulator (github.com/charmbracelet/x/vt), and
// tests look at the cells after every escape sequence has been applied,
// not at a byte stream full of cursor moves.
//
// It is a test helper: import it only from _test.go files.
package termtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/vt"
)

// Terminal is an emulated screen fed by a program's output, with the
// program's input to type into. It keeps every byte it was fed as well, for
// the tests that are about the bytes themselves (colour codes, sizes).
type Terminal struct {
	mu      sync.Mutex
	emu     *vt.Emulator
	raw     bytes.Buffer
	mark    int
	changed chan struct{} // signalled after each write, for waiters
	ended   chan struct{} // closed when the fed reader ends
	input   io.Writer
	resize  func(cols, rows int) error
}

// Option sets up a Terminal.
type Option func(*Terminal)

// WithInput is where Send and Type write: the PTY, or the SSH session's
// stdin.
func WithInput(w io.Writer) Option { return func(t *Terminal) { t.input = w } }

// WithResize is how Resize tells the program its window changed: the PTY's
// size, or an SSH window-change request.
func WithResize(f func(cols, rows int) error) Option { return func(t *Terminal) { t.resize = f } }

// New returns a blank cols×rows screen. Feed it with Feed, or use it as the
// io.Writer the program's output goes to.
//
// The emulator's own answers to the program's queries (cursor position,
// colours, modes) are read and dropped, as the hand-written readers these
// tests had before did: the programs under test must work with terminals
// that do not answer.
func New(cols, rows int, opts ...Option) *Terminal {
	t := &Terminal{
		emu:     vt.NewEmulator(cols, rows),
		changed: make(chan struct{}, 1),
		ended:   make(chan struct{}),
	}
	for _, o := range opts {
		o(t)
	}
	// The emulator writes its answers into a pipe; unread, they would block
	// the next Write.
	go func() { _, _ = io.Copy(io.Discard, t.emu) }()
	return t
}

// Feed copies r into the screen in a goroutine until r ends (the program
// exited, the channel closed); waits stop early after that.
func (t *Terminal) Feed(r io.Reader) {
	go func() {
		_, _ = io.Copy(t, r)
		_ = t.Close()
		close(t.ended)
	}()
}

// Write applies program output to the screen. Safe for concurrent use, so
// an SSH session's stdout and stderr can both be this Terminal.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.raw.Write(p)
	if _, err := t.emu.Write(p); err != nil {
		return 0, fmt.Errorf("emulator: %w", err)
	}
	select {
	case t.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Close ends the goroutine that drops the emulator's answers; call it once
// no more output will come (Feed does, when its reader ends). The screen
// stays readable.
func (t *Terminal) Close() error {
	// Closing the answer pipe's writer, not the emulator, ends the reader
	// without touching the emulator's unguarded closed flag.
	if c, ok := t.emu.InputPipe().(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	}
	return nil
}

// Screen is what the screen shows now, one line per row, trailing spaces
// trimmed.
func (t *Terminal) Screen() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.emu.String()
}

// Words is the screen with every run of white space, line ends included,
// made one space: text wrapped over lines reads as one.
func (t *Terminal) Words() string { return words(t.Screen()) }

func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// Contains says whether the screen shows every text, compared as Words.
func (t *Terminal) Contains(text ...string) bool {
	w := t.Words()
	for _, x := range text {
		if !strings.Contains(w, words(x)) {
			return false
		}
	}
	return true
}

// ErrEnded is returned by WaitFor when the output ended before the screen
// showed what was waited for.
var ErrEnded = errors.New("the output ended")

// ErrTimeout is returned by WaitFor when the screen did not show what was
// waited for in time.
var ErrTimeout = errors.New("timed out")

// WaitFor waits until the screen shows every text (white space compared as
// in Words). The error carries the screen, for the test's failure message.
func (t *Terminal) WaitFor(timeout time.Duration, text ...string) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if t.Contains(text...) {
			return nil
		}
		select {
		case <-t.changed:
		case <-t.ended:
			if t.Contains(text...) {
				return nil
			}
			return fmt.Errorf("wait for %q: %w; the screen:\n%s", text, ErrEnded, t.Screen())
		case <-deadline.C:
			return fmt.Errorf("wait %s for %q: %w; the screen:\n%s", timeout, text, ErrTimeout, t.Screen())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Ended is closed when the reader given to Feed has ended.
func (t *Terminal) Ended() <-chan struct{} { return t.ended }

// Changed is signalled after output arrives, for tests that wait on
// something other than the screen's text.
func (t *Terminal) Changed() <-chan struct{} { return t.changed }

// Raw is every byte fed so far.
func (t *Terminal) Raw() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw.String()
}

// Mark makes RawSince start from the bytes fed from now on.
func (t *Terminal) Mark() {
	t.mu.Lock()
	t.mark = t.raw.Len()
	t.mu.Unlock()
}

// RawSince is the bytes fed since the last Mark.
func (t *Terminal) RawSince() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.raw.Bytes()[t.mark:])
}

// Send writes keys to the program's input as they are.
func (t *Terminal) Send(keys string) error {
	if t.input == nil {
		return errors.New("send keys: the terminal has no input")
	}
	if _, err := io.WriteString(t.input, keys); err != nil {
		return fmt.Errorf("send keys: %w", err)
	}
	return nil
}

// Type writes text a character at a time with pause between them, as a
// person types, so no program mistakes it for a paste.
func (t *Terminal) Type(text string, pause time.Duration) error {
	for _, r := range text {
		if err := t.Send(string(r)); err != nil {
			return err
		}
		time.Sleep(pause)
	}
	return nil
}

// Resize makes the screen cols×rows and tells the program.
func (t *Terminal) Resize(cols, rows int) error {
	t.mu.Lock()
	t.emu.Resize(cols, rows)
	t.mu.Unlock()
	if t.resize == nil {
		return nil
	}
	if err := t.resize(cols, rows); err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	return nil
}
