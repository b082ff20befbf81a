package tui

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

func TestChangePassword(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("down", "enter")
	at[*signIn](d)
	d.see("Change your password · Sign in", "Username", "Password", `Forgot it? Go back and choose "Reset a forgotten password".`)
	d.keys("enter") // enter in the username goes on to the password
	if at[*signIn](d).focus != 1 {
		t.Fatal("enter did not move to the password")
	}
	d.keys("enter")
	d.see("Type your username and password.")
	d.keys("shift+tab")
	d.typeText("alice")
	d.keys("tab")
	d.typeText("not the password")
	d.keys("enter")
	d.see("That username and password don't match.")
	if at[*signIn](d).password.Value() != "" {
		t.Fatal("a wrong password stays in the field")
	}
	d.typeText(testPassword)
	d.keys("enter")
	at[*newPassword](d)
	d.see("Choose a new password")
	if where := findSecret(d.m, testPassword); !strings.Contains(where, "oldPassword") {
		t.Fatalf("the current password should be held only for the change: %q", where)
	}
	// The same password again breaks the history rule, told on save.
	d.typeText(testPassword)
	d.keys("tab")
	d.typeText(testPassword)
	d.keys("enter")
	at[*newPassword](d)
	d.see("That password doesn't meet every rule yet: see the list.")
	d.clear()
	d.keys("shift+tab")
	d.clear()
	d.typeText(newPass)
	d.keys("tab")
	d.typeText(newPass)
	d.keys("enter")
	at[*done](d)
	d.see("Your password has been changed.")
	if where := findSecret(d.m, testPassword, newPass); where != "" {
		t.Fatal(where)
	}
	if !h.signInWorks("alice", newPass) || h.signInWorks("alice", testPassword) {
		t.Fatal("the change did not take")
	}
	d.keys("enter")
	at[*welcome](d)
}

func TestWeakPasswordRefused(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(2, "alice")
	for _, pw := range []string{"password1234", "alice alice alice", "short"} {
		d.clear()
		d.typeText(pw)
		d.keys("tab")
		d.clear()
		d.typeText(pw)
		d.keys("enter")
		at[*newPassword](d)
		d.see("That password doesn't meet every rule yet: see the list.")
		d.keys("shift+tab")
	}
	if !h.signInWorks("alice", testPassword) {
		t.Fatal("a weak password was saved")
	}
}

func TestForcedRegistrationAfterChange(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(2, "erin")
	at[*newPassword](d)
	d.typeText(newPass)
	d.keys("tab")
	d.typeText(newPass)
	d.keys("enter")
	at[*done](d)
	d.see("Press enter to continue.")
	d.tick(time.Minute) // does not clear itself: registration comes next
	d.keys("left")
	at[*done](d)
	d.keys("enter")
	at[*overview](d)
	d.see("Your security info", "Register at least one way to prove who you are, so you can reset your password yourself.")
	if len(d.m.stack) != 2 {
		t.Fatalf("%d screens", len(d.m.stack))
	}
}

func TestSecurityInfoAddEmail(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	at[*overview](d)
	d.see("Register at least one way to prove who you are, so you can reset your password yourself.",
		"Email code", "not set up", "Add email address", "Add authenticator app", "Get recovery codes", "Done")

	d.chooseItem("Add email address")
	rc := at[*registerContact](d)
	d.see("Type your email address.")
	if rc.dest.Value() != "erin@example.com" {
		t.Fatalf("suggested %q", rc.dest.Value())
	}
	d.clear()
	d.keys("enter")
	d.see("Type the email address first.")
	d.typeText("not an address")
	d.keys("enter")
	at[*registerContact](d)
	d.notSee("We sent a code")
	d.clear()
	d.typeText("erin.new@example.com")
	d.keys("enter")
	d.see("We sent a code to", "Code expires in 10:00")
	first := h.Inbox.LastCode(t, "erin.new@example.com")

	d.keys("ctrl+r")
	d.see("Wait a little before asking for another code.")
	d.typeText("1234567a")
	d.keys("enter")
	d.see("Codes are digits only.")
	d.clear()
	d.typeText("00000000")
	d.keys("enter")
	d.see("That code is not right.")
	// Esc goes back to the address, not out.
	d.keys("esc")
	at[*registerContact](d)
	d.see("Type your email address.")
	d.keys("esc")
	at[*overview](d)
	d.chooseItem("Add email address")
	d.clear()
	d.typeText("erin.new@example.com")
	d.tick(flows.ResendCooldown)
	d.keys("enter")
	second := h.Inbox.LastCode(t, "erin.new@example.com")
	if second == first {
		t.Fatal("no new code")
	}
	d.typeText(second[:4] + " " + second[4:])
	d.keys("enter")
	at[*overview](d)
	d.see("Email address saved.", "You can reset your password yourself.", "Change email address", "Remove email address")
	d.notSee("Register at least", "Remove email code")

	// Remove asks first.
	d.chooseItem("Remove email address")
	d.see("Remove email address? (y/n)", "y yes", "n no")
	d.keys("n")
	d.see("Change email address")
	d.chooseItem("Remove email address")
	d.keys("y")
	d.see("Email address removed.", "Add email address")

	// With nothing registered again, registration is due: no Done, and
	// leaving is a postponement asked about first.
	if hasItem(d, "Done") {
		t.Fatal("Done is offered with nothing registered")
	}
	d.chooseItem("Finish later and sign out")
	d.keys("y")
	at[*welcome](d)
}

// TestSecurityInfoRemovalLabels checks that each removal names what the
// person registered (their address, number or codes), not the method's
// "code", and that removing the mobile number says so throughout.
func TestSecurityInfoRemovalLabels(t *testing.T) {
	h := newHarness(t)
	carolWithCodes(t, h)
	d := kiosk(t, h)
	d.signIn(3, "carol")
	ov := at[*overview](d)
	var removals []string
	for _, item := range ov.menu.items {
		if strings.HasPrefix(item, "Remove ") {
			removals = append(removals, item)
		}
	}
	want := []string{"Remove email address", "Remove mobile number", "Remove authenticator app", "Remove recovery codes"}
	if !slices.Equal(removals, want) {
		t.Fatalf("removal items %q, want %q", removals, want)
	}

	d.chooseItem("Remove mobile number")
	d.see("Remove mobile number? (y/n)")
	d.keys("y")
	d.see("Mobile number removed.", "Add mobile number", "Remove email address")
	d.notSee("Remove mobile number", "Text message code removed")
}

// carolWithCodes gives carol an authenticator and recovery codes besides
// her email address and mobile number.
func carolWithCodes(t *testing.T, h *harness) {
	t.Helper()
	h.RegisterVerified(t, "carol", policy.Authenticator, testSecret)
	ctx := context.Background()
	info, err := h.Svc.SignIn(ctx, "carol", testPassword, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.NewRecoveryCodes(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	h.Svc.SignOut(info.ID)
}

// secretOnScreen reads the grouped authenticator key from the screen.
var groupedSecret = regexp.MustCompile(`\b([A-Z2-7]{4}(?: [A-Z2-7]{1,4}){3,})\b`)

func TestAuthenticatorEnrolmentThenReset(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add authenticator app")
	en := at[*enrolAuthenticator](d)
	d.see("1. Scan this with your", "Can't scan? Press tab for the", "2. Type the 6-digit code it")
	// The QR code is whole at 80×24: every row, quiet zone included.
	assertWholeQR(t, d.view(), en.qr)

	d.keys("tab")
	d.see("In your app, add an account by hand with this key:", "Or open this link on the phone:", "otpauth://totp/")
	w := d.words()
	m := groupedSecret.FindStringSubmatch(w)
	if m == nil {
		t.Fatalf("no grouped secret on screen:\n%s", d.view())
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if !strings.Contains(strings.ReplaceAll(w, " ", ""), "secret="+secret) {
		t.Fatalf("the URI on screen does not carry the key %s:\n%s", secret, d.view())
	}

	d.typeText("123")
	d.keys("enter")
	d.see("Type the 6-digit code your app shows.")
	d.clear()
	d.typeText("000000")
	d.keys("enter")
	d.see("That is not right. Check it and try again.")
	d.clear()
	d.typeText(h.totpNow(t, secret))
	d.keys("enter")
	at[*overview](d)
	d.see("Authenticator app saved.", "You can reset your password yourself.", "Change authenticator app")
	if where := findSecret(d.m, secret); where != "" {
		t.Fatalf("the key is kept after enrolment: %s", where)
	}
	d.chooseItem("Done")

	// Now erin resets with it. The code just used can't be used again.
	d.startReset("erin")
	d.see("Use my authenticator app")
	d.chooseItem("Use my authenticator app")
	at[*codeEntry](d)
	d.typeText(h.totpNow(t, secret))
	d.keys("enter")
	d.see("That code was already used. Wait for the next one in your app.")
	h.Clock.Advance(30 * time.Second)
	d.clear()
	code := h.totpNow(t, secret)
	d.typeText(code[:3] + " " + code[3:])
	d.keys("enter")
	at[*newPassword](d)
	d.typeText(newPass)
	d.keys("tab")
	d.typeText(newPass)
	d.keys("enter")
	at[*done](d)
	if !h.signInWorks("erin", newPass) {
		t.Fatal("the reset did not take")
	}
}

// TestAuthenticatorNarrowWindow: at every size, with the demo's outbox
// beside the screen or not, the enrolment shows either the whole QR code
// with both steps of what to do, or the key to type; never a cut code, and
// never a code without its instructions.
func TestAuthenticatorNarrowWindow(t *testing.T) {
	h := newHarness(t)
	sizes := [][2]int{{40, 12}, {60, 30}, {80, 24}, {100, 50}, {120, 40}, {200, 60}}
	for w := 40; w <= 200; w += 16 {
		for ht := 16; ht <= 60; ht += 11 {
			sizes = append(sizes, [2]int{w, ht})
		}
	}
	d := newDriver(t, h, Options{Mode: ModeDemo})
	d.signIn(3, "erin")
	d.chooseItem("Add authenticator app")
	en := at[*enrolAuthenticator](d)
	for _, sz := range sizes {
		d.resize(sz[0], sz[1])
		v := stripPanel(d.view())
		if strings.Contains(v, "▀") {
			assertWholeQR(t, v, en.qr)
			// The words beside or around the code, with its blocks taken out.
			words := strings.Join(strings.Fields(strings.Map(func(r rune) rune {
				if strings.ContainsRune("▀▄█", r) {
					return ' '
				}
				return r
			}, v)), " ")
			for _, want := range []string{"1. Scan this with your authenticator app.", "2. Type the 6-digit code it shows"} {
				if !strings.Contains(words, want) {
					t.Fatalf("%dx%d: the QR code shows without %q:\n%s", sz[0], sz[1], want, d.view())
				}
			}
		} else if !strings.Contains(d.words(), groupsOf(en.enr.Secret)[0]) {
			t.Fatalf("%dx%d: neither QR nor key:\n%s", sz[0], sz[1], d.view())
		}
	}
}

// assertWholeQR fails unless every row of the QR code is on screen, uncut.
func assertWholeQR(t *testing.T, view, qr string) {
	t.Helper()
	for i, row := range strings.Split(qr, "\n") {
		if !strings.Contains(view, row) {
			t.Fatalf("QR row %d is not on screen whole:\n%s", i, view)
		}
	}
}

// groupsOf splits a key in groups of four, as the screen shows it.
func groupsOf(s string) []string {
	var out []string
	for len(s) > 4 {
		out = append(out, s[:4])
		s = s[4:]
	}
	return append(out, s)
}

func TestRecoveryCodesShownOnce(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Get recovery codes")
	rc := at[*recoveryCodes](d)
	if len(rc.codes) != flows.RecoveryCodeCount {
		t.Fatalf("%d codes", len(rc.codes))
	}
	codes := append([]string(nil), rc.codes...)
	d.see("They are shown only now", "Press y when you have saved them.", codes[0], codes[9])
	// Only the explicit step leaves.
	d.keys("enter", "n", "down", "space")
	at[*recoveryCodes](d)
	d.keys("y")
	at[*overview](d)
	d.see("Recovery codes saved. Each one works once.", "10 of 10 codes left", "Get new recovery codes")
	if where := findSecret(d.m, codes...); where != "" {
		t.Fatalf("codes kept after they were shown: %s", where)
	}
	d.notSee(codes[0])
	d.chooseItem("Done")

	// One of them resets the password.
	d.startReset("erin")
	d.chooseItem("Use a recovery code")
	d.see("Type one of the recovery codes you saved.")
	d.typeText(codes[3])
	d.keys("enter")
	at[*newPassword](d)
}

func TestSecurityQuestionsAsSecondMethod(t *testing.T) {
	h := newHarness(t)
	h.SetPolicy(t, "methods_allowed", "email,sms,questions")
	h.SetPolicy(t, "methods_required", "2")
	d := kiosk(t, h)
	d.signIn(3, "alice")
	d.chooseItem("Add security questions")
	rq := at[*registerQuestions](d)
	answers := []string{"first pet rex", "blue river town", "aunt matilda"}
	d.see("Answers are 3–40 characters")
	for i, a := range answers {
		if rq.focus != 2*i+1 {
			t.Fatalf("focus %d, want the answer of question %d", rq.focus, i+1)
		}
		d.typeText(a)
		d.keys("enter") // to the next question
		if i < len(answers)-1 {
			d.keys("enter") // keep the suggested question
		}
	}
	at[*overview](d)
	d.see("Security questions saved.", "You can reset your password yourself.")
	d.chooseItem("Done")

	d.startReset("alice")
	d.see("Step 1 of 2", "Answer my security questions")
	d.chooseItem("Email me a code")
	d.typeText(h.Inbox.LastCode(t, "alice@example.com"))
	d.keys("enter")
	at[*methods](d)
	d.see("Step 2 of 2", "One way proven.")
	d.chooseItem("Answer my security questions")
	aq := at[*answerQuestions](d)
	d.see("Answer each question as you did when you set them up.")
	byQuestion := map[string]string{}
	for i, q := range rq.questions {
		byQuestion[q.Value()] = answers[i]
	}
	d.keys("enter", "enter", "enter")
	d.see("Answer every question.")
	d.keys("tab") // from the last answer round to the first
	for i, q := range aq.qs {
		if aq.focus != i {
			t.Fatalf("focus %d, want %d", aq.focus, i)
		}
		d.typeText(strings.ToUpper(byQuestion[q]) + "  ")
		d.keys("enter")
	}
	at[*newPassword](d)
	if where := findSecret(d.m, answers...); where != "" {
		t.Fatal(where)
	}
}
