package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
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

// TestResendSaysPreviousCodeVoid checks the words after ctrl+r, at a reset
// and when registering an address: the new code is coming and the earlier
// one no longer works (and it does not).
func TestResendSaysPreviousCodeVoid(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	first := h.Inbox.LastCode(t, "alice@example.com")
	d.notSee(resentNote)
	d.tick(flows.ResendCooldown)
	d.keys("ctrl+r")
	d.see("A new code is on its way; the previous one no longer works.", "Code expires in 10:00")
	d.typeText(first)
	d.notSee(resentNote) // typing puts it away
	d.keys("enter")
	d.see("That code is not right.")

	d = kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add email address")
	d.keys("enter")
	d.see("We sent a code to")
	d.notSee(resentNote)
	d.tick(flows.ResendCooldown)
	d.keys("ctrl+r")
	d.see("A new code is on its way; the previous one no longer works.")
}

// TestFreshCodeCountdown opens the address form, lets time pass before the
// send (the person reads, then presses enter) and checks that the fresh
// code shows its lifetime, not more.
func TestFreshCodeCountdown(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add email address")
	// The clock moves without the screen hearing of it, as between two
	// ticks or while the send is on its way.
	h.Clock.Advance(3 * time.Second)
	d.keys("enter")
	d.see("We sent a code to", "Code expires in 10:00")
	d.notSee("10:03", "10:01")
	d.tick(time.Second)
	d.see("Code expires in 9:59")
}
