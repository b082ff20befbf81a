package tui

import (
	"context"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

const day = 24 * time.Hour

// expiringHarness is the demo accounts with passwords that last 30 days,
// the clock moved on by age.
func expiringHarness(t *testing.T, age time.Duration) *harness {
	t.Helper()
	h := newHarness(t)
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")
	h.Clock.Advance(age)
	return h
}

// TestExpiryBannerAfterSignIn: signing in to the security info with a
// password that expires within the reminder window asks "Your password
// expires in 3 days — change it now?". No goes on to the security info;
// yes changes the password and then goes on there.
func TestExpiryBannerAfterSignIn(t *testing.T) {
	h := expiringHarness(t, 27*day)
	d := kiosk(t, h)
	d.signIn(3, "alice")
	at[*expiryPrompt](d)
	d.see("Your password expires in 3 days — change it now?", "It stops working on Wed 1 Apr 2026 09:00 UTC.")
	d.screenGolden(t)
	d.keys("n")
	at[*overview](d)

	d.keys("esc")
	d.signIn(3, "alice")
	at[*expiryPrompt](d)
	d.keys("y")
	at[*newPassword](d)
	d.typeText(newPass)
	d.keys("enter")
	d.typeText(newPass)
	d.keys("enter")
	at[*done](d)
	if !h.signInWorks("alice", newPass) {
		t.Fatal("the new password does not work")
	}
	d.keys("enter")
	at[*overview](d)

	// The new password has 30 days: no question at the next sign-in.
	d.keys("esc")
	d.keys("3")
	d.typeText("alice")
	d.keys("enter")
	d.typeText(newPass)
	d.keys("enter")
	at[*overview](d)
	// Esc is "not now" too.
	d.keys("esc")
	d.signIn(3, "bob")
	at[*expiryPrompt](d)
	d.keys("esc")
	at[*overview](d)
}

// TestNoExpiryBannerOutsideTheWindow: 16 days before expiry is outside the
// 14-day window, and with no maximum age nothing expires at all.
func TestNoExpiryBannerOutsideTheWindow(t *testing.T) {
	h := expiringHarness(t, 14*day)
	d := kiosk(t, h)
	d.signIn(3, "alice")
	at[*overview](d)

	d.keys("esc")
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "0")
	h.Clock.Advance(100 * day)
	d.signIn(3, "alice")
	at[*overview](d)
}

// TestExpiredPasswordForcesChange: past password_max_age_days the
// password still signs in, but only to the change screen, which says why;
// the change done, the security info follows.
func TestExpiredPasswordForcesChange(t *testing.T) {
	h := expiringHarness(t, 30*day+time.Second)
	d := kiosk(t, h)
	d.signIn(3, "alice")
	at[*newPassword](d)
	d.see("Your password has expired, so choose a new one now to go on.")
	d.screenGolden(t)
	d.typeText(newPass)
	d.keys("enter")
	d.typeText(newPass)
	d.keys("enter")
	at[*done](d)
	d.keys("enter")
	at[*overview](d)

	// Change password says the same.
	d.keys("esc")
	d.signIn(2, "carol")
	at[*newPassword](d)
	d.see("Your password has expired")
}

// TestInsightsShowExpiry: the Insights tab counts the passwords expiring
// within 7 and 30 days and names the people no reminder can reach.
func TestInsightsShowExpiry(t *testing.T) {
	h := newHarness(t)
	if _, err := h.Svc.AddUser(context.Background(), h.Admin, flows.NewUser{Username: "zed", DisplayName: "Zed",
		Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")
	h.Clock.Advance(25 * day)
	d := panelDriver(t, h, Options{Mode: ModeKiosk})
	d.keys("4")
	d.see("Expiry 7 within 7 days · 7 within 30 · 1 person no reminder can reach: zed")
}

// TestPanelEditsExpirySettings: the policy tab reaches the expiry settings
// at the end of its list in an 80×24 window, refuses a reminder day out of
// range in one sentence, and saves a maximum age after its what-if line.
func TestPanelEditsExpirySettings(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeKiosk})
	panelEditPolicy(d, policy.KeyExpiryReminderDays, "0")
	d.see("Expiry reminder days must be a comma list of days from 1 to 90, such as 14,7,3,1.")
	d.keys("esc")
	d.see("Expiry reminder days 14,7,3,1")

	panelEditPolicy(d, policy.KeyPasswordMaxAgeDays, "90")
	d.see("with passwords lasting 90 days, 0 passwords would have expired")
	d.keys("enter", "y")
	d.see("Saved: password max age (days) changed from 0 to 90.")
	if pol, _ := h.Svc.Policy(context.Background()); pol.PasswordMaxAgeDays != 90 {
		t.Fatalf("max age %d", pol.PasswordMaxAgeDays)
	}
}
