package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/sspr-kiosk/sspr/flows/audit"
)

// seen is the screen as a person sees it on a terminal without colour: the
// view written through the ASCII colour profile, then without the
// attributes that profile keeps (bold), and without trailing blanks.
func seen(t testing.TB, d *driver) string {
	t.Helper()
	var b strings.Builder
	w := colorprofile.NewWriter(&b, nil)
	w.Profile = colorprofile.ASCII
	raw := d.m.View().Content
	assertSafe(t, raw)
	if _, err := w.WriteString(raw); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(ansi.Strip(b.String()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// hashes matches the audit chain's hashes, which differ with each store's key.
var hashes = regexp.MustCompile(`\b[0-9a-f]{16,64}\b`)

// screenGolden compares what the screen shows with
// testdata/<test name>.golden; go test -run NAME -update rewrites it.
// masks rewrite what differs from run to run (keys, codes) first.
func screenGolden(t *testing.T, d *driver, masks ...func(string) string) {
	t.Helper()
	s := seen(t, d)
	for _, m := range masks {
		s = m(s)
	}
	golden.RequireEqual(t, hashes.ReplaceAllStringFunc(s, func(h string) string {
		return strings.Repeat("h", len(h))
	}))
}

// atSizes runs fn in a subtest per supported size, named like "40x12".
func atSizes(t *testing.T, fn func(t *testing.T, w, h int)) {
	for _, s := range supportedSizes {
		t.Run(fmt.Sprintf("%dx%d", s[0], s[1]), func(t *testing.T) { fn(t, s[0], s[1]) })
	}
}

// TestGoldenNewPasswordRefused: the new-password screen after an enter
// with rules unmet shows the unmet rules and why enter did nothing, at
// every supported size.
func TestGoldenNewPasswordRefused(t *testing.T) {
	atSizes(t, func(t *testing.T, w, hh int) {
		h := newHarness(t)
		d := kiosk(t, h)
		d.resize(w, hh)
		d.signIn(2, "alice")
		d.typeText("abc")
		d.keys("tab")
		d.typeText("abd")
		d.keys("enter")
		at[*newPassword](d)
		screenGolden(t, d)
	})
}

// TestGoldenAdminHelp: ? on an admin tab shows every key of the tab in
// columns, and the short help bar of every tab keeps the tab keys.
func TestGoldenAdminHelp(t *testing.T) {
	atSizes(t, func(t *testing.T, w, hh int) {
		h := newHarness(t)
		d := panelDriver(t, h, Options{Mode: ModeKiosk})
		d.resize(w, hh)
		d.keys("2", "?")
		screenGolden(t, d)
	})
}

// TestGoldenUsersAndAuditNarrow: at 60 and 40 columns the users table keeps
// each user's state, and the audit log who did what and how it went; the
// less important columns go first.
func TestGoldenUsersAndAuditNarrow(t *testing.T) {
	for _, size := range [][2]int{{60, 20}, {40, 12}} {
		for _, tab := range []string{"users", "audit"} {
			t.Run(fmt.Sprintf("%s/%dx%d", tab, size[0], size[1]), func(t *testing.T) {
				h := newHarness(t)
				d := panelDriver(t, h, Options{Mode: ModeKiosk})
				d.resize(size[0], size[1])
				if tab == "users" {
					d.keys("2", "down", "down", "down", "down") // the cursor on dave, who is blocked
				} else {
					d.keys("3", "down", "down", "down", "down", "down", "down") // a failed sign-in
				}
				screenGolden(t, d)
			})
		}
	}
}

// bannedWords is a policy value longer than any line.
const bannedWords = "harbour,lantern,meadow,quartz,saffron,thimble,tractor,umbrella,velvet,walnut"

// TestGoldenAuditDetail: enter on an audit entry shows it whole, a long
// changed value wrapped under its label, scrolled when the window is short.
func TestGoldenAuditDetail(t *testing.T) {
	atSizes(t, func(t *testing.T, w, hh int) {
		h := newHarness(t)
		h.SetPolicy(t, "banned_words", bannedWords)
		d := panelDriver(t, h, Options{Mode: ModeKiosk})
		d.resize(w, hh)
		d.keys("3")
		for e := panelOf(d).tabs[2].(*auditTab); e.entries[e.cursor].Event != audit.EventPolicyChanged; {
			d.keys("down")
		}
		d.keys("enter")
		screenGolden(t, d)
	})
}

// TestGoldenREADME pins the screens the README shows, as `sspr demo` draws
// them at 80×24: the README's captures are copied from these files.
func TestGoldenREADME(t *testing.T) {
	demo := func(t *testing.T) (*harness, *driver) {
		h := newDemoHarness(t)
		d := newDriver(t, h, Options{Mode: ModeDemo, CostPerCall: 25, Currency: "USD"})
		return h, d
	}
	t.Run("method picker", func(t *testing.T) {
		_, d := demo(t)
		d.startReset("carol")
		screenGolden(t, d)
	})
	t.Run("code entry", func(t *testing.T) {
		_, d := demo(t)
		d.startReset("carol")
		d.keys("enter")
		at[*codeEntry](d)
		d.tick(time.Second)
		screenGolden(t, d)
	})
	t.Run("new password", func(t *testing.T) {
		_, d := demo(t)
		d.signIn(2, "alice")
		d.typeText("Tangerine velvet")
		screenGolden(t, d)
	})
	// The same screens in two other languages, for the README's
	// Languages section.
	t.Run("welcome de", func(t *testing.T) {
		d := newDriver(t, newDemoHarness(t), Options{Mode: ModeDemo, Language: "de"})
		screenGolden(t, d)
	})
	t.Run("method picker ja", func(t *testing.T) {
		d := newDriver(t, newDemoHarness(t), Options{Mode: ModeDemo, Language: "ja"})
		d.startReset("carol")
		screenGolden(t, d)
	})
	t.Run("security info", func(t *testing.T) {
		_, d := demo(t)
		d.signIn(3, "erin")
		at[*overview](d)
		screenGolden(t, d)
	})
	// The admin signs in with the emailed code from the harness's inbox.
	t.Run("admin users", func(t *testing.T) {
		h := newHarness(t)
		d := panelDriver(t, h, Options{Mode: ModeDemo})
		d.keys("2")
		screenGolden(t, d)
	})
	t.Run("admin insights", func(t *testing.T) {
		h := newHarness(t)
		d := panelDriver(t, h, Options{Mode: ModeDemo, CostPerCall: 25, Currency: "USD"})
		d.keys("4")
		screenGolden(t, d)
	})
}
