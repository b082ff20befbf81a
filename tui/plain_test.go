package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// through writes the screen through a colour profile, as the program would
// on that terminal, and returns what reaches it.
func through(t *testing.T, d *driver, p colorprofile.Profile) string {
	t.Helper()
	var b strings.Builder
	w := colorprofile.NewWriter(&b, nil)
	w.Profile = p
	if _, err := w.WriteString(d.m.View().Content); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hasLine reports whether a line of the screen, trimmed, is want.
func hasLine(screen, want string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// TestNoColourMarkers: on a terminal without colour (NO_COLOR, a monochrome
// or dumb terminal) the field that takes the keys is the one with "›"
// before it, and a field's hint is in brackets, so neither is told by
// colour alone.
func TestNoColourMarkers(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("2")
	at[*signIn](d)
	for _, p := range []colorprofile.Profile{colorprofile.ASCII, colorprofile.NoTTY} {
		out := through(t, d, p)
		if p == colorprofile.NoTTY && strings.Contains(out, "\x1b") {
			t.Fatalf("%v: escape sequences reach a terminal without any: %q", p, out)
		}
		if strings.Contains(out, "\x1b[38") || strings.Contains(out, "\x1b[48") {
			t.Fatalf("%v: colours reach a terminal without colour", p)
		}
		screen := ansi.Strip(out)
		if !hasLine(screen, "› [username]") || !hasLine(screen, "[current password]") {
			t.Fatalf("%v: the focused field or the hints are not marked:\n%s", p, screen)
		}
		if strings.Count(screen, "›") != 1 {
			t.Fatalf("%v: more than one field marked as focused:\n%s", p, screen)
		}
	}
	d.typeText("alice")
	d.keys("tab")
	screen := ansi.Strip(through(t, d, colorprofile.NoTTY))
	if !hasLine(screen, "alice") || hasLine(screen, "› alice") || !hasLine(screen, "› [current password]") {
		t.Fatalf("after tab the password field should be the marked one, and typed text plain:\n%s", screen)
	}
	if strings.Contains(screen, "[alice]") {
		t.Fatalf("typed text looks like a hint:\n%s", screen)
	}
}
