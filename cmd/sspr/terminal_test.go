package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sspr-kiosk/sspr/tui/termtest"
)

// startOn runs path args on a new PTY of rows×cols with env.
func startOn(t *testing.T, env []string, rows, cols uint16, path string, args ...string) *ptyClient {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = env
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	term := termtest.New(int(cols), int(rows), termtest.WithInput(tty),
		termtest.WithResize(func(cols, rows int) error {
			return pty.Setsize(tty, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
		}))
	term.Feed(tty)
	c := &ptyClient{t: t, term: term, done: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		<-term.Ended()
		c.done <- err
	}()
	t.Cleanup(func() {
		// Wait owns cmd.ProcessState; killing a process that has ended
		// already is refused harmlessly (os.ErrProcessDone).
		_ = cmd.Process.Kill()
		tty.Close()
	})
	return c
}

// exitCode waits for the program on the PTY to end and returns its exit
// code.
func (c *ptyClient) exitCode() int {
	c.t.Helper()
	select {
	case err := <-c.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			c.t.Fatal(err)
		}
		return 0
	case <-time.After(e2eWait):
		c.t.Fatalf("still running; it shows:\n%q", c.term.Raw())
	}
	return -1
}

// ttyEnv is the test's environment with a terminal type, and nothing that
// changes colours or says the tests run inside tmux.
func ttyEnv(term string) []string {
	var env []string
	for _, kv := range cleanEnv() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "TERM", "COLORTERM", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TMUX", "TERM_PROGRAM":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TERM="+term)
}

// TestTUIRefusesADumbTerminal: on TERM=dumb, which cannot move its cursor,
// the kiosk and the demo say so in a line and what to do, before they
// touch any data, instead of drawing screens it cannot show.
func TestTUIRefusesADumbTerminal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"kiosk", "--data", dir}, {"demo"}} {
		p := startOn(t, ttyEnv("dumb"), 24, 80, binary, args...)
		if code := p.exitCode(); code == 0 {
			t.Fatalf("sspr %s on TERM=dumb exited 0; it shows:\n%q", args[0], p.term.Raw())
		}
		want := "the " + args[0] + " needs a terminal that can move its cursor, and TERM=dumb says this one cannot"
		if out := p.term.Raw(); !strings.Contains(squashSpace(out), squashSpace(want)) || strings.Contains(out, "\x1b[?1049h") {
			t.Fatalf("sspr %s on TERM=dumb shows:\n%q", args[0], out)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused kiosk created its data folder: %v", err)
	}
}

// colourSGR matches an SGR sequence that sets a colour.
var colourSGR = regexp.MustCompile("\x1b\\[(?:[0-9;:]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;:m]")

// TestTUIMonochromeTerminal: on TERM=xterm-mono the demo draws no colour
// codes (its fields and hints are marked by other means), where a colour
// terminal gets them.
func TestTUIMonochromeTerminal(t *testing.T) {
	for _, term := range []string{"xterm-256color", "xterm-mono"} {
		p := startOn(t, ttyEnv(term), 24, 80, binary, "demo")
		p.waitFor("Reset a forgotten password")
		coloured := colourSGR.MatchString(p.term.Raw())
		p.send("\x03") // ctrl+c leaves the demo
		if code := p.exitCode(); code != 0 {
			t.Errorf("TERM=%s: ctrl+c ended the demo with %d", term, code)
		}
		if coloured != (term == "xterm-256color") {
			t.Fatalf("TERM=%s: colour codes %v:\n%q", term, coloured, p.term.Raw())
		}
	}
}
