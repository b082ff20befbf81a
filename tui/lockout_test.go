package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
)

const counter9 = "kiosk:counter-9"

// blockSource fails sign-ins from a source with made-up names, as a script
// would, until the source is blocked. The fake clock stays put, so the
// block runs from 09:00.
func blockSource(t *testing.T, h *harness, source string) {
	t.Helper()
	ctx := context.Background()
	for i := range flows.SourceFailLimit {
		_, _ = h.Svc.SignIn(ctx, fmt.Sprintf("visitor%02d", i), "wrong password", source)
	}
	if st, err := h.Svc.SourceState(ctx, source); err != nil || st.Blocked == nil {
		t.Fatalf("%s is not blocked: %+v %v", source, st, err)
	}
}

func kioskAt(t *testing.T, h *harness, source string) *driver {
	return newDriver(t, h, Options{Mode: ModeKiosk, Source: source, IdleTimeout: 120 * time.Second, DoneTimeout: 30 * time.Second})
}

// TestSourceBlockNamesTheTerminal: at a blocked kiosk the welcome screen
// and every dead end say that this terminal is paused, until when, and who
// to contact, whatever name is typed; never "this account".
func TestSourceBlockNamesTheTerminal(t *testing.T) {
	h := newHarness(t)
	d := kioskAt(t, h, counter9)
	d.notSee("paused")
	// Blocked while someone is on a screen (by another process with the
	// same terminal id): back on the welcome screen, it says so.
	d.keys("enter")
	at[*identify](d)
	blockSource(t, h, counter9)
	d.keys("esc")
	at[*welcome](d)
	paused := "Self-service at this terminal (counter-9) is paused until 09:10 after too many failed attempts here."
	d.see(paused, "Administrators can still sign in.")

	for _, name := range []string{"alice", "nobody-at-all"} {
		d.startReset(name)
		at[*deadEndScreen](d)
		d.see("Reset paused", paused, "Please contact your helpdesk: "+helpdesk)
		d.notSee("this account", "Administrators can still")
		d.keys("enter")
	}
	d.signIn(2, "alice")
	at[*deadEndScreen](d)
	d.see("Can't sign in", paused, "Please contact your helpdesk: "+helpdesk)
	d.notSee("this account")
	d.keys("enter")

	// Once the block ends the welcome screen no longer mentions it.
	d.tick(flows.TerminalBlockFor)
	d.keys("down", "up")
	d.notSee("paused")
	d.startReset("alice")
	at[*methods](d)
}

// TestSourceBlockNamesTheAddress: over SSH, the address is what is paused,
// for the 30 minutes of the security rules.
func TestSourceBlockNamesTheAddress(t *testing.T) {
	h := newHarness(t)
	blockSource(t, h, "ssh:203.0.113.9")
	d := newDriver(t, h, Options{Mode: ModeSSH, Source: "ssh:203.0.113.9"})
	paused := "Self-service from your network address (203.0.113.9) is paused until 09:30 after too many failed attempts from it."
	d.see(paused)
	d.startReset("bob")
	at[*deadEndScreen](d)
	d.see("Reset paused", paused, "Please contact your helpdesk: "+helpdesk)
	d.notSee("this account")
	// Another address is not held back.
	other := newDriver(t, h, Options{Mode: ModeSSH, Source: "ssh:203.0.113.10"})
	other.notSee("paused")
}

// TestPaceCountsDown: after five failures at a kiosk each try waits a
// growing delay, counted down on screen; enter during the countdown sends
// nothing (a try too soon would count against the kiosk).
func TestPaceCountsDown(t *testing.T) {
	h := newHarness(t)
	d := kioskAt(t, h, counter9)
	failed := func() int {
		return countAudit(t, h, audit.Filter{Events: []audit.Event{audit.EventSignInFailed}})
	}
	start := failed()
	d.keys("2")
	at[*signIn](d)
	n := 0
	// Each try under another name: the kiosk's pace, not an account's
	// block, is what is counted down.
	try := func() {
		t.Helper()
		n++
		if at[*signIn](d).focus == 1 {
			d.keys("shift+tab")
		}
		d.clear()
		d.typeText(fmt.Sprintf("visitor%d", n))
		d.keys("tab")
		d.typeText("wrong password")
		d.keys("enter")
		d.see("That username and password don't match.")
	}
	for range flows.SourceSlowAfter - 1 {
		try()
		d.notSee("Please wait")
	}
	for i, wait := range []int{1, 2, 4, 8} {
		try()
		d.see(fmt.Sprintf("Please wait %d second", wait))
		if wait > 1 {
			d.tick(time.Second)
			d.see(fmt.Sprintf("Please wait %d second", wait-1))
		}
		// Enter while it counts down sends nothing.
		before := failed()
		d.typeText("wrong password")
		d.keys("enter")
		if failed() != before {
			t.Fatalf("round %d: a try was sent during the countdown", i)
		}
		d.clear()
		d.tick(time.Duration(max(wait-1, 1)) * time.Second)
		d.notSee("Please wait")
	}
	if got := failed() - start; got != flows.SourceSlowAfter+3 {
		t.Fatalf("%d failures recorded, want %d", got, flows.SourceSlowAfter+3)
	}
	// Leaving wipes the countdown with the rest; the next person is not
	// shown someone else's wait.
	d.keys("esc")
	at[*welcome](d)
	d.notSee("Please wait")
}

// signInAdmin signs the seeded admin in from the welcome screen: password,
// emailed code, authenticator.
func signInAdmin(t *testing.T, d *driver, h *harness) {
	t.Helper()
	d.signIn(4, "admin")
	at[*methods](d)
	d.chooseItem("Email me a code")
	d.typeText(h.Inbox.LastCode(t, "admin@example.com"))
	d.keys("enter")
	at[*methods](d)
	d.chooseItem("Use my authenticator app")
	d.typeText(h.totpNow(t, testSecret))
	d.keys("enter")
	at[*adminHome](d)
}

// TestAdminClearsBlockAtKiosk: at a blocked kiosk an administrator signs
// in (after the pace's countdown), finds the terminal on the Blocks tab,
// clears it after a question, and can still leave kiosk mode; the clearing
// is audited and the next person can reset.
func TestAdminClearsBlockAtKiosk(t *testing.T) {
	h := newHarness(t)
	blockSource(t, h, counter9)
	d := kioskAt(t, h, counter9)

	// The last failures were just now: even the administrator waits.
	d.keys("4")
	d.typeText("admin")
	d.keys("tab")
	d.typeText(testPassword)
	d.keys("enter")
	at[*signIn](d)
	d.see("Please wait 30 seconds before trying again.")
	d.tick(flows.SourceMaxDelay)
	d.keys("esc")

	signInAdmin(t, d, h)
	d.keys("5")
	d.see("Administration · Blocks", "2 blocks in force", "terminal counter-9", "account dave",
		"kiosk:counter-9: blocked since 09:00, until 09:10", "30 failures in 5 minutes")
	d.keys("enter")
	d.see("Everyone there can try again at once.", "Clear the block on terminal counter-9? y yes · n no")
	d.keys("n")
	d.notSee("Clear the block on")
	if st, _ := h.Svc.SourceState(context.Background(), counter9); st.Blocked == nil {
		t.Fatal("answering no cleared the block")
	}
	d.keys("enter", "y")
	d.see("The block on terminal counter-9 is cleared.", "1 block in force", "account dave")
	d.notSee("counter-9:")
	rows, err := h.Svc.AuditEntries(context.Background(), audit.Filter{Events: []audit.Event{audit.EventBlockCleared},
		Target: "source:" + counter9})
	if err != nil || len(rows) != 1 || rows[0].Actor != "admin" || rows[0].Source != counter9 {
		t.Fatalf("block.cleared rows: %+v %v", rows, err)
	}

	d.keys("esc")
	d.see("Leave kiosk mode")
	d.chooseItem("Sign out")
	at[*welcome](d)
	d.notSee("paused")
	d.startReset("alice")
	at[*methods](d)
}

// TestBlocksTabGolden pins the Blocks tab at 80×24: a blocked terminal
// above a blocked account, the selected block in full, the keys.
func TestBlocksTabGolden(t *testing.T) {
	h := newHarness(t)
	blockSource(t, h, counter9)
	h.Clock.Advance(flows.SourceMaxDelay)
	d := kioskAt(t, h, "kiosk:admin-desk")
	signInAdmin(t, d, h)
	d.keys("5")
	golden.RequireEqual(t, d.view())
	// An empty tab says what would show there.
	for range 2 {
		d.keys("enter", "y")
	}
	d.see("No blocks in force.", "enter refresh")
}
