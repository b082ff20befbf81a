package tui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
)

// startReset walks welcome → identify → methods for a username.
func (d *driver) startReset(name string) {
	d.t.Helper()
	at[*welcome](d)
	d.keys("enter")
	at[*identify](d).input.Focused()
	d.see("Reset your password · Who are you?", "Username")
	d.typeText(name)
	d.keys("enter")
}

// sendEmailCode picks "Email me a code" on the method picker.
func (d *driver) sendEmailCode() {
	d.t.Helper()
	at[*methods](d)
	d.see("Email me a code")
	d.keys("enter")
	at[*codeEntry](d)
}

func TestResetByEmailCode(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.see("Password self-service", "Reset a forgotten password", "Change my password")

	d.startReset("alice")
	d.see("How would you like to prove it's you?", "Email me a code", "a•••e@example.com", "I have a helpdesk voucher")
	d.sendEmailCode()
	d.see("We sent a code to a•••e@example.com.", "Code expires in 10:00", "No code? You can ask for another in 30s.")

	d.typeText(h.Inbox.LastCode(t, "alice@example.com"))
	d.keys("enter")
	np := at[*newPassword](d)
	d.see("Choose a new password", "New password", "Type it again", "At least 12 characters", "Both entries match")
	if len(d.m.stack) != 2 {
		t.Fatalf("the proven steps stay on the stack: %d screens", len(d.m.stack))
	}

	// The checklist follows the typing.
	d.typeText("short")
	d.see("✗ At least 12 characters")
	d.clear()
	d.typeText(newPass)
	d.see("✓ At least 12 characters", "✗ Both entries match")
	d.keys("enter") // to the second field
	if np.focus != 1 {
		t.Fatal("enter in the first field does not move to the second")
	}
	d.typeText(newPass[:5])
	d.keys("enter")
	d.see("The two entries are not the same.")
	d.typeText(newPass[5:])
	d.see("✓ Both entries match")
	d.keys("enter")

	at[*done](d)
	d.see("All done", "Your password has been changed.", "This screen clears itself in 30s.")
	if !h.signInWorks("alice", newPass) {
		t.Fatal("the new password does not work")
	}
	if findSecret(d.m, newPass) != "" {
		t.Fatalf("the done screen keeps the password: %s", findSecret(d.m, newPass))
	}

	// The done screen goes home on its own after DoneTimeout.
	d.tick(29 * time.Second)
	at[*done](d)
	d.see("clears itself in 1s")
	d.tick(time.Second)
	at[*welcome](d)
	if len(d.m.stack) != 1 {
		t.Fatalf("%d screens after done", len(d.m.stack))
	}
}

func TestDoneEnterGoesHome(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.resetAlice(newPass)
	d.keys("enter")
	at[*welcome](d)
}

// resetAlice runs a whole reset of alice by email code.
func (d *driver) resetAlice(pw string) {
	d.t.Helper()
	d.startReset("alice")
	d.sendEmailCode()
	d.typeText(d.h.Inbox.LastCode(d.t, "alice@example.com"))
	d.keys("enter")
	d.setPassword(pw)
}

func TestCodeCountdownAndExpiry(t *testing.T) {
	h := newHarness(t)
	// No idle timeout: the clock jumps minutes at a time here.
	d := newDriver(t, h, Options{Mode: ModeKiosk})
	d.startReset("alice")
	d.sendEmailCode()
	code := h.Inbox.LastCode(t, "alice@example.com")
	d.see("Code expires in 10:00")

	// Keys keep the idle timer away; the clock drives the countdown.
	for _, step := range []struct {
		by   time.Duration
		want string
	}{
		{time.Second, "Code expires in 9:59"},
		{60 * time.Second, "Code expires in 8:59"},
		{8*time.Minute + time.Second, "Code expires in 0:58"},
		{58 * time.Second, "Code expires in 0:00"},
	} {
		d.tick(step.by)
		if step.want == "Code expires in 0:00" {
			// At exactly 10:00 the code is gone.
			d.see("Code expired")
			continue
		}
		d.see(step.want)
	}
	d.tick(time.Second) // 10:01
	d.typeText(code)
	d.keys("enter")
	at[*codeEntry](d)
	d.see("That code has expired. Ask for a new one.", "Press ctrl+r to send a new one.")
	if len(d.m.stack) != 4 {
		t.Fatalf("stack: %d", len(d.m.stack))
	}
	// A new code works.
	d.keys("ctrl+r")
	d.see("Code expires in 10:00")
	fresh := h.Inbox.LastCode(t, "alice@example.com")
	if fresh == code {
		t.Fatal("the resent code is the same")
	}
	d.typeText(fresh)
	d.keys("enter")
	at[*newPassword](d)
}

func TestResendCooldown(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	first := h.Inbox.LastCode(t, "alice@example.com")
	sent := h.Inbox.Count()

	d.keys("ctrl+r")
	d.see("You can ask for a new code in 30s.")
	if h.Inbox.Count() != sent {
		t.Fatal("a code was resent during the cooldown")
	}
	d.tick(12 * time.Second)
	d.see("No code? You can ask for another in 18s.")
	d.keys("ctrl+r")
	d.see("You can ask for a new code in 18s.")
	d.tick(18 * time.Second)
	d.see("No code? Press ctrl+r to send a new one.")
	d.keys("ctrl+r")
	if h.Inbox.Count() != sent+1 {
		t.Fatalf("%d messages after the resend, want %d", h.Inbox.Count(), sent+1)
	}
	d.see("Code expires in 10:00", "No code? You can ask for another in 30s.")
	d.notSee("You can ask for a new code")

	// The first code was voided by the resend.
	d.typeText(first)
	d.keys("enter")
	d.see("That code is not right.")
	d.clear()
	d.typeText(h.Inbox.LastCode(t, "alice@example.com"))
	d.keys("enter")
	at[*newPassword](d)
}

func TestCodeWithSpacesOrDashes(t *testing.T) {
	for _, format := range []func(string) string{
		func(c string) string { return c[:4] + " " + c[4:] },
		func(c string) string { return c[:4] + "-" + c[4:] },
		func(c string) string { return " " + c[:2] + " " + c[2:5] + "-" + c[5:] + " " },
	} {
		h := newHarness(t)
		d := kiosk(t, h)
		d.startReset("alice")
		d.sendEmailCode()
		typed := format(h.Inbox.LastCode(t, "alice@example.com"))
		d.typeText(typed)
		d.keys("enter")
		at[*newPassword](d)
	}
}

func TestLettersInCodeRefused(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	code := h.Inbox.LastCode(t, "alice@example.com")
	for _, typed := range []string{"1234abcd", "O1234567", "12345678x"} {
		d.clear()
		d.typeText(typed)
		d.keys("enter")
		at[*codeEntry](d)
		d.see("Codes are digits only.")
	}
	d.clear()
	d.keys("enter")
	d.see("Type the code first.")
	// None of that counted as a wrong code: all five tries are left.
	d.typeText("00000000")
	d.keys("enter")
	d.see("That code is not right. Check it and try again.")
	d.clear()
	d.typeText(code)
	d.keys("enter")
	at[*newPassword](d)
}

// wrongCodes types n wrong codes and returns the views after each.
func (d *driver) wrongCodes(n int) []string {
	d.t.Helper()
	var views []string
	for i := range n {
		d.clear()
		d.typeText("0000000" + string(rune('0'+i)))
		d.keys("enter")
		views = append(views, d.view())
	}
	return views
}

func TestSixthWrongCodeBlocks(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	code := h.Inbox.LastCode(t, "alice@example.com")

	views := d.wrongCodes(4)
	if !strings.Contains(views[0], "That code is not right. Check it and try again.") {
		t.Fatalf("first wrong code:\n%s", views[0])
	}
	if !strings.Contains(views[3], "That code is not right. You can try once more.") {
		t.Fatalf("fourth wrong code:\n%s", views[3])
	}
	d.wrongCodes(1)
	d.see("That code is not right, and it can't be used any more. Ask for a new one.")
	at[*codeEntry](d)

	// The sixth is refused whatever it is, even the right code: the
	// account is blocked, which is a dead end with the helpdesk contact.
	// (Five failures at this kiosk start its pace: the sixth waits a second.)
	d.tick(time.Second)
	d.clear()
	d.typeText(code)
	d.keys("enter")
	at[*deadEndScreen](d)
	d.see("Can't continue", "Too many attempts. Self-service is paused for this account for now.",
		"Please contact your helpdesk: "+helpdesk, "Press enter to go back to the start.")
	d.keys("enter")
	at[*welcome](d)
	if len(d.m.stack) != 1 {
		t.Fatalf("stack: %d", len(d.m.stack))
	}

	// Starting again is refused at once.
	d.startReset("alice")
	at[*deadEndScreen](d)
	d.see("Too many attempts.", helpdesk)
}

func TestBlockedUser(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("dave")
	at[*deadEndScreen](d)
	d.see("Reset paused", "Too many attempts. Self-service is paused for this account for now.",
		"Please contact your helpdesk: "+helpdesk)
	d.notSee("dave@")
	d.keys("esc")
	at[*welcome](d)

	// Signing in is refused the same way.
	d.keys("2")
	at[*signIn](d)
	d.typeText("dave")
	d.keys("tab")
	d.typeText(testPassword)
	d.keys("enter")
	at[*deadEndScreen](d)
	d.see("Can't sign in", "Too many attempts.", helpdesk)
	if findSecret(d.m, testPassword) != "" {
		t.Fatal(findSecret(d.m, testPassword))
	}
}

var maskedEmail = regexp.MustCompile(`[a-z]•••[a-z]@example\.com`)

// TestDecoyLooksReal walks a real account and an unknown name through the
// same steps and compares every screen, with the masked address's letters
// normalised: with delivery working, and with it failing, which a person
// who has proved nothing must not be able to see either.
func TestDecoyLooksReal(t *testing.T) {
	walk := func(name string, failing bool) []string {
		h := newHarness(t)
		h.Inbox.SetFail(failing)
		d := kiosk(t, h)
		var views []string
		snap := func() { views = append(views, maskedEmail.ReplaceAllString(d.view(), "x•••x@example.com")) }
		d.startReset(name)
		snap()
		d.keys("down")
		snap()
		d.keys("up", "enter")
		snap()
		d.tick(10 * time.Second)
		d.keys("left")
		snap()
		d.keys("ctrl+r")
		snap()
		for _, v := range d.wrongCodes(5) {
			views = append(views, maskedEmail.ReplaceAllString(v, "x•••x@example.com"))
		}
		d.tick(30 * time.Second)
		d.keys("ctrl+r") // blocked now
		snap()
		d.keys("esc")
		snap()
		return views
	}
	decoy := walk("zed", false)
	for _, failing := range []bool{false, true} {
		real := walk("alice", failing)
		if len(real) != len(decoy) {
			t.Fatalf("delivery failing %v: %d screens for alice, %d for zed", failing, len(real), len(decoy))
		}
		for i := range real {
			if real[i] != decoy[i] {
				t.Errorf("delivery failing %v: screen %d differs:\nalice:\n%s\nzed:\n%s", failing, i, real[i], decoy[i])
			}
		}
		if !strings.Contains(real[2], "x•••x@example.com") || !strings.Contains(real[len(real)-2], "Too many attempts") {
			t.Fatalf("the walk did not reach the expected screens:\n%s\n%s", real[2], real[len(real)-2])
		}
	}
}

// TestDeliveryFailure: when a reset's code cannot be delivered, the person
// reads what everyone reads, including how to choose another way; the
// failure goes to the audit log, where admins see it.
func TestDeliveryFailure(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("carol")
	h.Inbox.SetFail(true)
	d.keys("enter")
	at[*codeEntry](d)
	d.see("We sent a code to c•••l@example.com.", "Still nothing? Press esc to choose another way.")
	h.Settle()
	if n := h.CountEvents(t, audit.EventCodeSendFailed); n != 1 {
		t.Fatalf("code.send_failed rows = %d", n)
	}
	h.Inbox.SetFail(false)
	d.keys("esc")
	at[*methods](d)
	d.keys("down", "enter")
	at[*codeEntry](d)
	d.typeText(h.Inbox.LastCode(t, "+15551230003"))
	d.keys("enter")
	at[*newPassword](d)
}

func TestIdentifyEmptyAndBack(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("enter")
	at[*identify](d)
	d.keys("enter")
	d.see("Type your username first.")
	d.typeText("   ")
	d.keys("enter")
	d.see("Type your username first.")
	d.keys("esc")
	at[*welcome](d)
	// Menu keys: j/k and arrows move, digits choose.
	d.keys("j", "j", "k", "down")
	if d.m.top().(*welcome).menu.cursor != 2 {
		t.Fatal("cursor did not follow j/k/down")
	}
	d.keys("1")
	at[*identify](d)
	// Letters are text in a field, not commands.
	d.typeText("jk12?yn")
	if got := d.m.top().(*identify).input.Value(); got != "jk12?yn" {
		t.Fatalf("typed %q", got)
	}
}

func TestMethodsBackCancelsFlow(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	flowID := at[*methods](d).j.flowID
	d.keys("esc")
	at[*identify](d)
	if _, err := h.Svc.SendCode(t.Context(), flowID, "email"); err == nil {
		t.Fatal("the flow lives on after Esc")
	}
}

func TestCodeBackToMethods(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("carol")
	d.see("Email me a code", "Text me a code", "+1 ••• ••• 0003")
	d.keys("down", "enter")
	at[*codeEntry](d)
	d.see("We sent a code to +1 ••• ••• 0003.")
	d.keys("esc")
	at[*methods](d)
	d.keys("enter")
	at[*codeEntry](d)
	d.see("We sent a code to +1 ••• ••• 0003.")
	d.typeText(h.Inbox.LastCode(t, "+15551230003"))
	d.keys("enter")
	at[*newPassword](d)
}
