package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
)

// newHarnessOpts is a harness built with opts and seeded like the demo.
func newHarnessOpts(t testing.TB, opts flowstest.Options) *harness {
	t.Helper()
	h := &harness{flowstest.New(t, opts)}
	h.seed(t)
	return h
}

// TestPanelVoucherReadOut issues a voucher under a week's lifetime: it is
// four groups of four, each spelled out to read on a call, and says when it
// ends with the date, in days.
func TestPanelVoucherReadOut(t *testing.T) {
	h := newHarnessOpts(t, flowstest.Options{VoucherLifetime: 7 * 24 * time.Hour})
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelAct(d, "alice", "Issue a helpdesk voucher")
	d.keys("y")
	code := panelOf(d).tabs[1].(*usersTab).voucher.Code
	if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$`).MatchString(code) {
		t.Fatalf("voucher %q is not four groups of four", code)
	}
	d.see("Helpdesk voucher for alice", code, "Read it out group by group:",
		"It works once, only for alice, and expires at 09:0", "UTC on 9 Mar 2026 (in 7 days).")
	view := d.view()
	for _, g := range strings.Split(code, "-") {
		if !regexp.MustCompile(`(?m)^\s*` + g + `  [a-z-]+ [a-z-]+ [a-z-]+ [a-z-]+\s*$`).MatchString(view) {
			t.Fatalf("group %s is not read out on its own line:\n%s", g, view)
		}
	}
	d.keys("space")
	d.notSee(code, "Read it out")
}
