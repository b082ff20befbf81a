package portal_test

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// msgDumbTerm is what a session on TERM=dumb reads (copied, not imported).
const msgDumbTerm = "sspr needs a terminal that can move its cursor, and TERM=dumb cannot: connect from a terminal window"

// sessionOn opens a session with a PTY of terminal type term and a shell.
func sessionOn(t *testing.T, addr, term string) *terminal {
	t.Helper()
	return openTerminalAs(t, dial(t, addr), term, 24, 80)
}

// sgr finds the parameters of each SGR sequence.
var sgr = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

// colourCodes lists the SGR parameters in out that set a colour.
func colourCodes(out string) []string {
	var found []string
	for _, m := range sgr.FindAllStringSubmatch(out, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			switch {
			case len(p) == 2 && (p[0] == '3' || p[0] == '4' || p[0] == '9') && p[1] >= '0' && p[1] <= '8',
				len(p) == 3 && strings.HasPrefix(p, "10"):
				found = append(found, p)
			}
		}
	}
	return found
}

// TestSessionColourByTerminal: a session's colours follow its own terminal:
// a colour terminal gets colours, a monochrome one (TERM=xterm-mono) none,
// and TERM=dumb, which cannot show the TUI, a one-line refusal.
func TestSessionColourByTerminal(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)

	colour := sessionOn(t, p.addr, "xterm-256color")
	colour.waitFor("Reset a forgotten password", wait)
	if len(colourCodes(colour.out.Raw())) == 0 {
		t.Fatal("a colour terminal got no colour: the check below could not fail")
	}

	mono := sessionOn(t, p.addr, "xterm-mono")
	mono.waitFor("Reset a forgotten password", wait)
	mono.send("\r") // one more screen, to see it drawn too
	mono.waitFor("Who are you?", wait)
	if codes := colourCodes(mono.out.Raw()); len(codes) > 0 {
		t.Fatalf("TERM=xterm-mono got colour codes %q", codes)
	}

	dumb := sessionOn(t, p.addr, "dumb")
	select {
	case err := <-dumb.done:
		if got := strings.TrimSpace(dumb.out.Raw()); got != msgDumbTerm {
			t.Fatalf("TERM=dumb read %q; want %q", got, msgDumbTerm)
		}
		if exitStatus(err) != 1 {
			t.Fatalf("exit: %v; want status 1", err)
		}
	case <-time.After(wait):
		t.Fatalf("a session on TERM=dumb was not refused; it shows:\n%q", dumb.out.Raw())
	}
}
