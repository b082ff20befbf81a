package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/policy"
)

// lockOut locks a seeded user out with three different wrong passwords
// (the policy's threshold set to three), typed somewhere other than the
// driver's terminal.
func (h *harness) lockOut(t *testing.T, name string) {
	t.Helper()
	h.SetPolicy(t, policy.KeyLockoutThreshold, "3")
	for i := range 3 {
		_, _ = h.Svc.SignIn(context.Background(), name, fmt.Sprintf("wrong password %d", i), "kiosk:elsewhere")
	}
	if h.signInWorks(name, testPassword) {
		t.Fatalf("%s is not locked out", name)
	}
}

// startUnlock chooses "Unlock my account" and names the account.
func (d *driver) startUnlock(name string) {
	d.t.Helper()
	at[*welcome](d)
	d.chooseItem("Unlock my account")
	at[*identify](d)
	d.see("Unlock your account · Who are you?", "Locked out after too many tries? Enter your username and "+
		"prove it's you with a method you set up earlier. Your password stays as it is.")
	d.typeText(name)
	d.keys("enter")
}

// TestUnlockJourney: a locked-out person walks the reset's screens, under
// the unlock's titles, and their account is unlocked with the password they
// had; the same journey on an account that is not locked says so only at
// the end, after the proof.
func TestUnlockJourney(t *testing.T) {
	h := newHarness(t)
	h.lockOut(t, "alice")
	d := kiosk(t, h)
	d.startUnlock("alice")
	at[*methods](d)
	d.see("Unlock your account · Prove it's you", "Email me a code", "a•••e@example.com")
	d.proveEmail("alice@example.com")
	at[*unlocked](d)
	d.see("All done", "Your account is unlocked.", "Your password is the same as before", helpdesk,
		"This screen clears itself in 30s.")
	if !h.signInWorks("alice", testPassword) {
		t.Fatal("alice's password does not work after the unlock")
	}
	d.tick(30 * time.Second)
	at[*welcome](d)

	d.startUnlock("alice")
	d.proveEmail("alice@example.com")
	at[*unlocked](d)
	d.see("Your account isn't locked.", "Nothing was changed.")
	d.keys("enter")
	at[*welcome](d)
}

// signInWrong signs in as alice with a wrong password through the item.
func (d *driver) signInWrong(item string) {
	d.t.Helper()
	d.keys(item)
	at[*signIn](d)
	d.typeText("alice")
	d.keys("enter")
	d.typeText("not the password")
	d.keys("enter")
	d.see("That username and password don't match.")
}

// TestUnlockOffHidesTheItem: a refused password points to "Unlock my
// account" (it is also how a locked-out account answers), the admin's
// sign-in aside; with allow_unlock false the welcome screen offers neither,
// and the items before it keep their numbers.
func TestUnlockOffHidesTheItem(t *testing.T) {
	const hint = `choose "Unlock my account"`
	h := newHarness(t)
	d := kiosk(t, h)
	d.see("Unlock my account")
	d.signInWrong("2")
	d.see(hint)
	d.keys("esc")
	d.signInWrong("4")
	d.notSee(hint)

	h.SetPolicy(t, policy.KeyAllowUnlock, "false")
	d = kiosk(t, h)
	d.see("Administration")
	d.notSee("Unlock my account")
	d.signInWrong("3")
	d.notSee(hint)
}

// TestPanelUnlock: the users tab's unlock lifts a lockout of sspr's own,
// says so, and the password works again; on an account neither locked nor
// blocked it says that.
func TestPanelUnlock(t *testing.T) {
	h := newHarness(t)
	h.lockOut(t, "alice")
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelSearch(d, "alice")
	d.keys("enter")
	panelChoose(d, "Unlock and clear failed attempts")
	d.see("Unlock alice if locked out, and clear their failed attempts?")
	d.keys("y")
	d.see("alice is unlocked.")
	if !h.signInWorks("alice", testPassword) {
		t.Fatal("alice's password does not work after the admin's unlock")
	}
	d.keys("enter")
	panelChoose(d, "Unlock and clear failed attempts")
	d.keys("y")
	d.see("alice was not locked out; failed attempts cleared.")
}
