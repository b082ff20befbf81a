package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var panelCode = regexp.MustCompile(`Code (\d{8})`)

// codeInPanel reads the newest code from the outbox panel.
func (d *driver) codeInPanel() string {
	d.t.Helper()
	m := panelCode.FindStringSubmatch(d.view())
	if m == nil {
		d.t.Fatalf("no code in the outbox:\n%s", d.view())
	}
	return m[1]
}

func TestDemoOutboxBeside(t *testing.T) {
	h := newDemoHarness(t)
	d := newDriver(t, h, Options{Mode: ModeDemo})
	for _, sz := range [][2]int{{100, 30}, {120, 40}} {
		d.resize(sz[0], sz[1])
		v := d.view()
		if !strings.Contains(v, "texted") || strings.Contains(v, "t…") {
			t.Fatalf("%dx%d: outbox subtitle cut:\n%s", sz[0], sz[1], v)
		}
		d.see("Reset a forgotten password")
		if sz[0] >= 100 {
			d.see("ctrl+o outbox")
		}
	}
	// At 80 columns the screen keeps the whole width; ctrl+o switches.
	d.resize(80, 24)
	if strings.Contains(d.view(), "texted") {
		t.Fatalf("80x24: the outbox takes room from the screen:\n%s", d.view())
	}
	d.resize(100, 30)
	d.startReset("alice")
	d.sendEmailCode()
	d.tick(time.Second)
	code := d.codeInPanel()
	d.typeText(code)
	d.keys("enter")
	at[*newPassword](d)
	// ctrl+o hides and shows the panel at a wide window.
	d.keys("ctrl+o")
	if strings.Contains(d.view(), "Outbox") {
		t.Fatal("ctrl+o did not hide the outbox")
	}
	d.keys("ctrl+o")
	if !strings.Contains(d.view(), "Outbox") {
		t.Fatal("ctrl+o did not show the outbox")
	}
	at[*newPassword](d)
}

func TestDemoOutboxNarrow(t *testing.T) {
	h := newDemoHarness(t)
	d := newDriver(t, h, Options{Mode: ModeDemo})
	d.resize(60, 20)
	d.see("Reset a forgotten password")
	d.startReset("alice")
	d.sendEmailCode()
	d.tick(time.Second)
	d.see("Something new is in the outbox: ctrl+o shows it.", "We sent a code to")
	d.keys("ctrl+o")
	code := d.codeInPanel()
	if !strings.Contains(d.view(), "ctrl+o goes back to the screen") {
		t.Fatal("no way back shown")
	}
	d.keys("ctrl+o")
	at[*codeEntry](d)
	d.typeText(code)
	d.keys("enter")
	at[*newPassword](d)
	// The outbox never draws in a window below the minimum.
	d.keys("ctrl+o")
	d.resize(20, 5)
	d.see("Please make the window larger")
}

func TestWelcomeHintsAligned(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	for _, w := range []int{80, 120} {
		d.resize(w, 24)
		cols := map[int]bool{}
		for _, l := range strings.Split(d.view(), "\n") {
			for _, hint := range []string{"I know my current one", "Ways to prove it's me"} {
				if i := strings.Index(l, hint); i >= 0 {
					cols[len([]rune(l[:i]))] = true
				}
			}
		}
		if len(cols) != 1 {
			t.Fatalf("width %d: hints start in columns %v:\n%s", w, cols, d.view())
		}
	}
	// At 40 columns a cut hint is fine, a cut menu is not.
	d.resize(40, 12)
	d.see("Reset a forgotten password", "Change my password", "My security info", "Administration")
}

func TestMethodHintsWhole(t *testing.T) {
	h := newHarness(t)
	for _, sz := range [][2]int{{40, 12}, {80, 24}} {
		d := newDriver(t, h, Options{Mode: ModeDemo})
		d.resize(sz[0], sz[1])
		d.startReset("alice")
		d.see("a•••e@example.com")
		d.keys("esc")
	}
}

// TestDemoOutboxPerSession: two sessions of one demo (as `sspr demo
// --listen` serves them) each see the codes of the people they looked up,
// never the other's.
func TestDemoOutboxPerSession(t *testing.T) {
	h := newDemoHarness(t)
	a := newDriver(t, h, Options{Mode: ModeDemo})
	b := newDriver(t, h, Options{Mode: ModeDemo})
	for _, d := range []*driver{a, b} {
		d.resize(120, 40)
	}
	a.startReset("alice")
	a.sendEmailCode()
	a.tick(time.Second)
	alice := a.codeInPanel()

	b.startReset("bob")
	at[*methods](b)
	b.tick(time.Second)
	if v := b.view(); strings.Contains(v, alice) || !strings.Contains(v, "Nothing sent yet.") {
		t.Fatalf("session B looked up bob and sees:\n%s", v)
	}

	b.keys("esc", "esc")
	b.startReset("carol")
	b.sendEmailCode()
	b.tick(time.Second)
	carol := b.codeInPanel()
	if strings.Contains(b.view(), alice) {
		t.Errorf("session B shows alice's code %s:\n%s", alice, b.view())
	}
	a.tick(time.Second)
	if v := a.view(); strings.Contains(v, carol) || !strings.Contains(v, alice) {
		t.Errorf("session A should show alice's code %s and not carol's %s:\n%s", alice, carol, v)
	}
}
