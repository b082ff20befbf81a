package portal

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/tui"
)

// FuzzKeyboardHandsOnEveryByte: whatever the client sends, however it is
// split into reads, and whenever programs are retired and replaced, every
// byte reaches exactly one program, in order (but for the tail of an
// over-long paste, which the paste guard drops wherever it is split).
func FuzzKeyboardHandsOnEveryByte(f *testing.F) {
	f.Add([]byte("1alice\r\x1b[A\x1b[B\t\r"), []byte{3, 1, 7}, []byte{2, 5})
	f.Add([]byte("\x1b]11;rgb:0000/0000/0000\x07q"), []byte{1}, []byte{1, 1, 1})
	f.Add(bytes.Repeat([]byte("x"), 600), []byte{255, 200}, []byte{0, 9, 100})
	f.Fuzz(func(t *testing.T, input, splits, reads []byte) {
		if len(input) == 0 {
			return
		}
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		k := newKeyboard(ctx, pr, nil)
		go func() {
			// The client's writes, split as the fuzzer says.
			rest := input
			for i := 0; len(rest) > 0; i++ {
				n := len(rest)
				if len(splits) > 0 {
					n = min(int(splits[i%len(splits)])+1, len(rest))
				}
				_, _ = pw.Write(rest[:n])
				rest = rest[n:]
			}
			_ = pw.Close()
		}()

		var got []byte
		buf := make([]byte, 64)
		for program := 0; ; program++ {
			in := k.attach()
			// Each program reads a few times with buffers of the fuzzer's
			// sizes, then is retired; the last one reads to the end.
			want := 1 + program%3
			if len(reads) > 0 {
				want = int(reads[program%len(reads)]) % 5
			}
			ended := false
			for r := 0; r < want || program > 64; r++ {
				size := 1 + (program+r)%len(buf)
				n, err := in.Read(buf[:size])
				got = append(got, buf[:n]...)
				if err == io.EOF {
					ended = true
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			in.retire(time.Time{})
			if ended {
				break
			}
		}
		if want := (&pasteGuard{}).filter(input); !bytes.Equal(got, want) {
			t.Fatalf("programs read %q; the client sent %q, which passes as %q", got, input, want)
		}
	})
}

// TestPasteGuard: a paste that fits passes untouched; an over-long one is
// cut to one byte more than any field takes, with its end kept, wherever
// the reads split the markers; an endless one costs no more than that.
func TestPasteGuard(t *testing.T) {
	filterAll := func(chunks ...[]byte) []byte {
		var g pasteGuard
		var out []byte
		for _, c := range chunks {
			out = append(out, g.filter(c)...)
		}
		return out
	}
	short := []byte("ab" + pasteStart + "hunter two" + pasteEnd + "cd")
	if got := filterAll(short); !bytes.Equal(got, short) {
		t.Fatalf("a short paste became %q", got)
	}
	long := pasteStart + strings.Repeat("x", 100_000) + pasteEnd + "1"
	want := pasteStart + strings.Repeat("x", pasteKept) + pasteEnd + "1"
	for _, split := range []int{1, 3, 7, 256, 4096} {
		var chunks [][]byte
		for rest := []byte(long); len(rest) > 0; {
			n := min(split, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if got := filterAll(chunks...); string(got) != want {
			t.Fatalf("split every %d: %d bytes passed, want %d", split, len(got), len(want))
		}
	}
	// A paste as long as a field takes, or nearly, passes whole.
	for n := tui.MaxPaste - len(pasteEnd); n <= tui.MaxPaste; n++ {
		paste := []byte(pasteStart + strings.Repeat("z", n) + pasteEnd)
		if got := filterAll(paste); !bytes.Equal(got, paste) {
			t.Fatalf("a paste of %d bytes, which a field takes, became %d bytes", n, len(got)-len(pasteStart)-len(pasteEnd))
		}
	}
	endless := append([]byte(pasteStart), bytes.Repeat([]byte("y"), 1<<20)...)
	if got := len(filterAll(endless)); got != len(pasteStart)+pasteKept {
		t.Fatalf("an endless paste passed %d bytes", got)
	}
	// After a cut paste, typing passes again.
	if got := filterAll([]byte(long), []byte("qq")); !strings.HasSuffix(string(got), pasteEnd+"1qq") {
		t.Fatalf("after the paste: %q", got[len(got)-20:])
	}
}

// TestInputIsPaced: a client pouring keys in gets its burst through and
// no more: the rest is read and dropped at once, not held back.
func TestInputIsPaced(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Unix(1e9, 0))
	k := newKeyboard(ctx, pr, newBudget(clk.Now))
	written := make(chan error, 1)
	go func() {
		_, err := pw.Write(bytes.Repeat([]byte("j"), 64<<10))
		_ = pw.Close()
		written <- err
	}()
	in := k.attach()
	got := 0
	buf := make([]byte, 1024)
	for {
		n, err := in.Read(buf)
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	// The clock stood still: the burst of keys is all there was.
	if got > keyBurst {
		t.Fatalf("%d bytes handed on; the limit allows %d", got, keyBurst)
	}
	if got < keyBurst {
		t.Fatalf("only %d bytes handed on; the burst alone is %d", got, keyBurst)
	}
}

// guardedInput is a client's input as a session's paste guard and budget
// see it, on a clock of its own.
type guardedInput struct {
	clk   *clock.Fake
	guard pasteGuard
	out   []byte
}

func newGuardedInput() *guardedInput {
	g := &guardedInput{clk: clock.NewFake(time.Unix(1e9, 0))}
	g.guard.budget = newBudget(g.clk.Now)
	return g
}

// send passes p through in reads of at most 256 bytes (as the keyboard
// reads), after d has passed, and returns what got through.
func (g *guardedInput) send(d time.Duration, p string) string {
	g.clk.Advance(d)
	var out []byte
	for rest := []byte(p); len(rest) > 0; {
		n := min(len(rest), 256)
		g.guard.budget.refill()
		out = append(out, g.guard.filter(rest[:n])...)
		rest = rest[n:]
	}
	g.out = append(g.out, out...)
	return string(out)
}

// TestFloodDroppedTypingKept: whatever a person does gets through whole;
// a flood gets its burst through, then nothing while it lasts, and the
// first key after it passes once the client has been quiet a moment.
func TestFloodDroppedTypingKept(t *testing.T) {
	t.Run("a person", func(t *testing.T) {
		g := newGuardedInput()
		send := func(d time.Duration, p string) {
			t.Helper()
			if got, want := g.send(d, p), string((&pasteGuard{}).filter([]byte(p))); got != want {
				t.Fatalf("%d bytes (%.20q…) became %d bytes", len(want), want, len(got))
			}
		}
		// Ten minutes of fast typing: 15 keys a second.
		for range 10 * 60 * 15 {
			send(time.Second/15, "k")
		}
		// An arrow key held down for a minute at 40 repeats a second.
		for range 60 * 40 {
			send(time.Second/40, "\x1b[B")
		}
		// The terminal's answers when a program starts.
		send(0, "\x1b]11;rgb:0000/0000/0000\x07\x1b[?2026;2$y")
		// A minute of pasting a long password every second.
		for range 60 {
			send(time.Second, pasteStart+strings.Repeat("p", 128)+pasteEnd)
		}
		// Two of the longest pastes a field takes, back to back.
		longest := pasteStart + strings.Repeat("q", tui.MaxPaste) + pasteEnd
		send(0, longest)
		send(0, longest)
		// A look at the screen, then one far too long (cut as before),
		// and a public key pasted by a terminal without bracketed paste.
		send(10*time.Second, pasteStart+strings.Repeat("r", 100_000)+pasteEnd)
		send(10*time.Second, "ssh-rsa "+strings.Repeat("A", 740)+" me@host\r")
	})
	t.Run("a paste that is no paste", func(t *testing.T) {
		// Bubble Tea also ends a paste on "\x1b[0201~"; what follows is
		// keys to it, though the guard sees a paste. Those keys are paid
		// for like any others: a minute of this passes no more than the
		// budget.
		g := newGuardedInput()
		chunk := pasteStart + "\x1b[0201~" + strings.Repeat("j", 4000) + pasteEnd
		passed := 0
		for range 600 {
			passed += len(g.send(100*time.Millisecond, chunk))
		}
		if limit := inputBurst + pasteDebt + 60*inputRate; passed > limit {
			t.Fatalf("%d bytes passed in a minute; the budget allows %d", passed, limit)
		}
	})
	t.Run("a long paste, then typing", func(t *testing.T) {
		// A paste nearly as long as a field takes does not spend the keys:
		// what the person types right after it passes.
		g := newGuardedInput()
		paste := pasteStart + strings.Repeat("k", tui.MaxPaste-100) + pasteEnd
		if got := g.send(0, paste); got != paste {
			t.Fatalf("a paste of %d bytes passed %d", len(paste), len(got))
		}
		if got := g.send(0, "alice\r"); got != "alice\r" {
			t.Fatalf("typing right after the paste became %q", got)
		}
	})
	t.Run("a flood", func(t *testing.T) {
		g := newGuardedInput()
		// Sent all at once: the burst of keys, and not a byte more.
		if got := g.send(0, strings.Repeat("j", 1<<20)); len(got) != keyBurst {
			t.Fatalf("%d bytes of a 1 MiB flood passed; want the burst, %d", len(got), keyBurst)
		}
		// Kept up for a minute at 64 KiB a second: nothing more, bracketed
		// pastes included.
		passed := 0
		for i := range 60 * 256 {
			chunk := strings.Repeat("j", 256)
			if i%2 == 0 {
				chunk = pasteStart + strings.Repeat("x", 100) + pasteEnd + strings.Repeat("j", 256-100-12)
			}
			passed += len(g.send(time.Second/256, chunk))
		}
		if passed != 0 {
			t.Fatalf("%d bytes passed during a minute of flood", passed)
		}
		// No program was left inside a paste.
		if strings.Count(string(g.out), pasteStart) != strings.Count(string(g.out), pasteEnd) {
			t.Fatalf("a paste's start passed without its end")
		}
		// A moment's quiet, and a key and a paste pass.
		if got := g.send(300*time.Millisecond, "1"); got != "1" {
			t.Fatalf("the key after the flood became %q", got)
		}
		paste := pasteStart + "hunter two" + pasteEnd
		if got := g.send(0, paste); got != paste {
			t.Fatalf("the paste after the flood became %q", got)
		}
	})
}

// TestPacer: the first window change goes at once; a flood of them during
// the wait becomes one, sent when the wait is over; a quiet wait sends
// nothing and ends the cooling.
func TestPacer(t *testing.T) {
	var p pacer
	if !p.arrived() {
		t.Fatal("the first change waits")
	}
	sent := 0
	for range 10_000 {
		if p.arrived() {
			sent++
		}
	}
	if sent != 0 {
		t.Fatalf("%d changes sent during the wait", sent)
	}
	if !p.cooled() {
		t.Fatal("the latest change is not sent when the wait is over")
	}
	if p.cooled() {
		t.Fatal("a quiet wait sent a change")
	}
	if !p.arrived() {
		t.Fatal("after a quiet wait a change waits")
	}
}

// FuzzPasteGuard: the guard's output does not depend on how the input was
// split into reads; without a paste it changes nothing; and it never
// passes on more of a paste than pasteKept bytes.
func FuzzPasteGuard(f *testing.F) {
	f.Add([]byte("ab"+pasteStart+"hunter two"+pasteEnd+"cd"), uint8(3))
	f.Add([]byte(pasteStart+strings.Repeat("x", 5000)+pasteEnd+pasteStart+"y"+pasteEnd), uint8(1))
	f.Add([]byte("\x1b[200\x1b[200~~\x1b[201"), uint8(2))
	f.Fuzz(func(t *testing.T, input []byte, split uint8) {
		var whole pasteGuard
		want := whole.filter(input)
		var parts pasteGuard
		var got []byte
		step := int(split)%64 + 1
		for rest := input; len(rest) > 0; {
			n := min(step, len(rest))
			got = append(got, parts.filter(rest[:n])...)
			rest = rest[n:]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("split every %d: %q; whole: %q", step, got, want)
		}
		if !bytes.Contains(input, []byte(pasteStart)) && !bytes.Equal(want, input) {
			t.Fatalf("no paste, yet %q became %q", input, want)
		}
		// Between a start marker and the next end marker (or the end of
		// the output) there are at most pasteKept + len(pasteEnd) bytes.
		out := want
		for {
			i := bytes.Index(out, []byte(pasteStart))
			if i < 0 {
				break
			}
			body := out[i+len(pasteStart):]
			j := bytes.Index(body, []byte(pasteEnd))
			if j < 0 {
				j = len(body)
			}
			if j > pasteKept+len(pasteEnd) {
				t.Fatalf("a paste of %d bytes passed", j)
			}
			out = body[j:]
		}
	})
}

// FuzzPasteGuardWithBudget: however the budget drops bytes, and whatever
// the timing, a program reading the output (which starts and ends a paste
// on the markers it is given) is in a paste exactly when the guard thinks
// so, and no paste reaches it longer than pasteKept and its end marker.
func FuzzPasteGuardWithBudget(f *testing.F) {
	// With four tokens, the X is dropped and the rest spliced into a start
	// marker.
	f.Add([]byte("\x1b[20X0~abc\x1b[201~q"), []byte{0, 0, 0, 0, 0, 10, 0})
	f.Add([]byte(pasteStart+"hunter two"+pasteEnd+"1"), []byte{1})
	f.Add([]byte("\x1b[200\x1b[200~x\x1b[201~"), []byte{3, 0})
	f.Fuzz(func(t *testing.T, input, gaps []byte) {
		clk := clock.NewFake(time.Unix(1e9, 0))
		g := pasteGuard{budget: newBudget(clk.Now)}
		g.budget.tokens = 4 // little, so that bytes are dropped
		var window [len(pasteStart)]byte
		inPaste, pasteLen := false, 0
		for i, b := range input {
			if len(gaps) > 0 {
				clk.Advance(time.Duration(gaps[i%len(gaps)]) * time.Millisecond)
			}
			g.budget.refill()
			for _, o := range g.filter([]byte{b}) {
				shift(window[:], o)
				switch {
				case !inPaste && string(window[:]) == pasteStart:
					inPaste, pasteLen = true, 0
				case inPaste && string(window[:]) == pasteEnd:
					inPaste = false
				case inPaste:
					if pasteLen++; pasteLen > pasteKept+len(pasteEnd) {
						t.Fatalf("a paste of %d bytes passed", pasteLen)
					}
				}
			}
			if guard := g.inPaste && !g.refused; guard != inPaste {
				t.Fatalf("after byte %d (%q): the program is in a paste: %v; the guard thinks %v", i, b, inPaste, guard)
			}
		}
	})
}
