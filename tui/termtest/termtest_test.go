package termtest

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestScreenAppliesSequences: the screen holds what a person would see after
// cursor moves, overwrites and erases, not the bytes in the order sent.
func TestScreenAppliesSequences(t *testing.T) {
	term := New(20, 4)
	_, _ = io.WriteString(term, "secret\rXX\x1b[K\x1b[3;5Hlower\x1b[1;10Hright\x1b[2J\x1b[1;1Hshown")
	if got := term.Screen(); got != "shown\n\n\n" {
		t.Fatalf("the screen is %q; want only %q on the first row", got, "shown")
	}
	_, _ = io.WriteString(term, "\x1b[2;3Hab\x1b[2;1Hc")
	if got := strings.Split(term.Screen(), "\n")[1]; got != "c ab" {
		t.Fatalf("row 2 is %q; want %q", got, "c ab")
	}
	if !term.Contains("shown c ab") || term.Contains("secret") {
		t.Fatalf("Contains disagrees with the screen:\n%s", term.Screen())
	}
	if !strings.Contains(term.Raw(), "secret") {
		t.Fatal("Raw lost bytes")
	}
}

// TestQueriesDoNotBlock: a program's query, which the emulator answers into
// its input pipe, does not stop later output from reaching the screen.
func TestQueriesDoNotBlock(t *testing.T) {
	term := New(20, 2)
	done := make(chan struct{})
	go func() {
		for range 50 {
			_, _ = io.WriteString(term, "\x1b[6n\x1b[c\x1b]11;?\x07")
		}
		_, _ = io.WriteString(term, "after")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writes after queries blocked")
	}
	if !term.Contains("after") {
		t.Fatalf("the screen:\n%s", term.Screen())
	}
}

// TestWaitFor: a wait ends when the text is on the screen, with ErrEnded
// when the output ends first, and with ErrTimeout otherwise.
func TestWaitFor(t *testing.T) {
	r, w := io.Pipe()
	var typed bytes.Buffer
	term := New(30, 3, WithInput(&typed))
	term.Feed(r)
	go func() {
		_, _ = io.WriteString(w, "Enter your\r\nusername")
	}()
	if err := term.WaitFor(5*time.Second, "Enter your username"); err != nil {
		t.Fatal(err)
	}
	if err := term.WaitFor(50*time.Millisecond, "nowhere"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("wait for absent text: %v; want ErrTimeout", err)
	}
	if err := term.Type("ab", 0); err != nil {
		t.Fatal(err)
	}
	if err := term.Send("\r"); err != nil || typed.String() != "ab\r" {
		t.Fatalf("typed %q (%v); want %q", typed.String(), err, "ab\r")
	}
	w.Close()
	if err := term.WaitFor(5*time.Second, "nowhere"); !errors.Is(err, ErrEnded) {
		t.Fatalf("wait after the output ended: %v; want ErrEnded", err)
	}
}

// TestResize: Resize changes the screen and tells the program.
func TestResize(t *testing.T) {
	var told [2]int
	term := New(10, 2, WithResize(func(c, r int) error { told = [2]int{c, r}; return nil }))
	if err := term.Resize(40, 5); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(term, "\x1b[5;30Hcorner")
	if told != [2]int{40, 5} || strings.Split(term.Screen(), "\n")[4] != strings.Repeat(" ", 29)+"corner" {
		t.Fatalf("told %v; screen %q", told, term.Screen())
	}
}

// TestCloseEndsItsGoroutine: a closed Terminal leaves no goroutine behind,
// which the portal's leak tests count on.
func TestCloseEndsItsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	term := New(10, 2)
	_, _ = io.WriteString(term, "\x1b[6n")
	if err := term.Close(); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(term, "\x1b[6nafter")
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close; %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !term.Contains("after") {
		t.Fatalf("the screen after Close:\n%s", term.Screen())
	}
}
