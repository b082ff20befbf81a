package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// assertWiped checks that only a fresh welcome screen is left and that no
// secret is held anywhere the root can reach or shown on screen.
func assertWiped(t *testing.T, d *driver, secrets ...string) {
	t.Helper()
	if len(d.m.stack) != 1 {
		t.Fatalf("%d screens left after the wipe", len(d.m.stack))
	}
	w := at[*welcome](d)
	if w.menu.cursor != 0 {
		t.Fatal("the welcome menu kept its cursor")
	}
	if where := findSecret(d.m, secrets...); where != "" {
		t.Fatalf("after the wipe %s", where)
	}
	v := d.m.View().Content
	for _, s := range secrets {
		if strings.Contains(v, s) {
			t.Fatalf("the view still shows %q", s)
		}
	}
	d.notSee("Still there?")
}

func TestIdleWipeOnEveryScreen(t *testing.T) {
	const answer = "my secret answer"
	steps := map[string]func(d *driver) []string{
		"identify": func(d *driver) []string {
			d.keys("enter")
			d.typeText("alice")
			return []string{"alice"}
		},
		"code": func(d *driver) []string {
			d.startReset("alice")
			d.sendEmailCode()
			code := d.h.Inbox.LastCode(d.t, "alice@example.com")
			d.typeText(code[:6])
			return []string{code[:6]}
		},
		"new password": func(d *driver) []string {
			d.startReset("alice")
			d.sendEmailCode()
			d.typeText(d.h.Inbox.LastCode(d.t, "alice@example.com"))
			d.keys("enter")
			at[*newPassword](d)
			d.typeText(newPass)
			d.keys("tab")
			d.typeText(newPass[:9])
			return []string{newPass, newPass[:9]}
		},
		"sign in": func(d *driver) []string {
			d.keys("2")
			d.typeText("alice")
			d.keys("tab")
			d.typeText(testPassword)
			return []string{testPassword}
		},
		"change password": func(d *driver) []string {
			d.signIn(2, "alice")
			at[*newPassword](d)
			d.typeText(newPass)
			return []string{testPassword, newPass}
		},
		"done": func(d *driver) []string {
			// erin must register after changing her password, so the done
			// screen waits for enter instead of clearing itself.
			d.signIn(2, "erin")
			d.typeText(newPass)
			d.keys("tab")
			d.typeText(newPass)
			d.keys("enter")
			at[*done](d)
			d.see("Press enter to continue.")
			return []string{testPassword, newPass}
		},
		"questions": func(d *driver) []string {
			d.h.SetPolicy(d.t, "methods_allowed", "email,questions")
			d.signIn(3, "erin")
			at[*overview](d)
			d.chooseItem("Add security questions")
			at[*registerQuestions](d)
			d.typeText(answer)
			return []string{answer}
		},
		"authenticator": func(d *driver) []string {
			// The QR code fills the window: the countdown must still show.
			d.signIn(3, "erin")
			d.chooseItem("Add authenticator app")
			en := at[*enrolAuthenticator](d)
			d.typeText("123")
			return []string{en.enr.Secret}
		},
		"recovery codes": func(d *driver) []string {
			d.signIn(3, "erin")
			d.chooseItem("Get recovery codes")
			rc := at[*recoveryCodes](d)
			if len(rc.codes) == 0 {
				d.t.Fatal("no codes shown")
			}
			return append([]string(nil), rc.codes...)
		},
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			d := kiosk(t, h)
			secrets := step(d)
			for _, s := range secrets {
				if name == "done" {
					break // the done screen already forgot the password
				}
				if !strings.Contains(fmt.Sprint(findSecret(d.m, s)), s) {
					t.Fatalf("the test did not get %q into the model", s)
				}
			}
			top := fmt.Sprintf("%T", d.m.top())

			d.tick(104 * time.Second)
			d.notSee("Still there?")
			d.tick(time.Second)
			d.see("Still there? All is cleared in 15 seconds — press any key to stay.")
			d.tick(14 * time.Second)
			d.see("All is cleared in 1 second —")
			if got := fmt.Sprintf("%T", d.m.top()); got != top {
				t.Fatalf("the countdown moved from %s to %s", top, got)
			}
			d.tick(time.Second)
			assertWiped(t, d, secrets...)
		})
	}
}

func TestIdleCountdownKeyContinues(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("enter")
	d.typeText("alice")
	d.tick(110 * time.Second)
	d.see("All is cleared in 10 seconds")
	d.keys("left") // any key
	d.notSee("Still there?")
	d.tick(110 * time.Second)
	at[*identify](d)
	d.tick(10 * time.Second)
	assertWiped(t, d, "alice")
}

func TestIdleNotOnWelcome(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.tick(time.Hour)
	at[*welcome](d)
	d.notSee("Still there?")
}

func TestKioskKeysDoNotQuit(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	quitKeys := []string{"ctrl+c", "ctrl+z", "ctrl+\\", "ctrl+d", "esc", "q"}
	check := func(where string) {
		t.Helper()
		for _, k := range quitKeys[:3] {
			cmd := d.update(keyMsg(k))
			d.exec(cmd)
			if d.quit {
				t.Fatalf("%s quits on %s", k, where)
			}
		}
	}
	check("welcome")
	for _, k := range quitKeys {
		d.keys(k)
	}
	if d.quit {
		t.Fatal("quit on welcome")
	}
	d.keys("enter")
	check("identify")
	at[*identify](d)
	d.typeText("alice")
	d.keys("enter")
	check("methods")
	d.keys("enter")
	check("code")
	at[*codeEntry](d)
	d.keys("esc", "esc", "esc")
	at[*welcome](d)
	if d.m.env.keys.Quit.Enabled() {
		t.Fatal("quit is enabled in kiosk mode")
	}
	d.notSee("ctrl+c quit")
}

func TestLocalModeCtrlCQuits(t *testing.T) {
	h := newHarness(t)
	d := newDriver(t, h, Options{Mode: ModeLocal})
	d.keys("enter")
	d.typeText("alice")
	d.see("ctrl+c quit")
	d.keys("ctrl+z", "ctrl+\\")
	if d.quit {
		t.Fatal("ctrl+z or ctrl+\\ quits")
	}
	d.keys("ctrl+c")
	if !d.quit {
		t.Fatal("ctrl+c does not quit in local mode")
	}
	assertWiped(t, d, "alice")
}

// signIn chooses a welcome item (2 change, 3 security info, 4 admin) and
// signs in with the seeded password.
func (d *driver) signIn(item int, name string) {
	d.t.Helper()
	at[*welcome](d)
	d.keys(fmt.Sprint(item))
	at[*signIn](d)
	d.typeText(name)
	d.keys("enter") // to the password
	d.typeText(testPassword)
	d.keys("enter")
}

// chooseItem moves a menu's cursor to the item with that label and selects it.
func (d *driver) chooseItem(label string) {
	d.t.Helper()
	var mn *menu
	switch s := d.m.top().(type) {
	case *overview:
		mn = &s.menu
	case *methods:
		mn = &s.menu
	case *adminHome:
		mn = &s.menu
	case *welcome:
		mn = &s.menu
	case *sshKeys:
		mn = &s.menu
	default:
		d.t.Fatalf("no menu on %T", s)
	}
	// A label is given in English; in another language the item is the
	// same message, translated.
	if id, ok := englishIDs(d.t)[label]; ok {
		label = d.m.env.p.T(id)
	}
	for range len(mn.items) {
		if mn.items[mn.cursor] == label {
			d.keys("enter")
			return
		}
		d.keys("down")
	}
	d.t.Fatalf("no %q in %q", label, mn.items)
}

func TestAdminSignInAndLeaveKiosk(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(4, "admin")
	at[*methods](d)
	d.see("Administration · Prove it's you", "Step 1 of 2", "Email me a code", "Use my authenticator app")
	d.notSee("voucher", "security questions")
	d.chooseItem("Email me a code")
	d.typeText(h.Inbox.LastCode(t, "admin@example.com"))
	d.keys("enter")
	at[*methods](d)
	d.see("Step 2 of 2", "One way proven. Now choose a second, different way.", "Use my authenticator app")
	d.notSee("Email me a code")
	d.keys("enter")
	at[*codeEntry](d)
	d.see("Open your authenticator app")
	d.typeText("12345x")
	d.keys("enter")
	d.see("Codes are digits only.")
	d.clear()
	d.typeText(h.totpNow(t, testSecret))
	d.keys("enter")
	at[*adminHome](d)
	d.see("Administration", "Signed in as admin.")
	d.keys("ctrl+c", "ctrl+z", "ctrl+\\")
	if d.quit {
		t.Fatal("quit before leaving")
	}
	d.keys("esc") // the panel's way out
	d.see("Leave the administration panel?", "Sign out", "Leave kiosk mode")
	d.chooseItem("Leave kiosk mode")
	if !d.quit {
		t.Fatal("Leave kiosk mode does not quit")
	}
	assertWiped(t, d, testPassword)
}

func TestAdminSignOut(t *testing.T) {
	h := newHarness(t)
	d := newDriver(t, h, Options{Mode: ModeDemo})
	d.signIn(4, "admin")
	d.chooseItem("Email me a code")
	d.typeText(h.Inbox.LastCode(t, "admin@example.com"))
	d.keys("enter")
	d.keys("enter")
	d.typeText(h.totpNow(t, testSecret))
	d.keys("enter")
	at[*adminHome](d)
	d.keys("esc")
	d.see("Sign out")
	d.notSee("Leave kiosk mode")
	d.chooseItem("Sign out")
	at[*welcome](d)
	if d.quit {
		t.Fatal("sign out quits")
	}
}

// TestOnlyAdminLeavesKiosk: a non-admin's password does not open the
// administration sign-in, and neither does a wrong one.
func TestOnlyAdminLeavesKiosk(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(4, "alice")
	at[*signIn](d)
	d.see("That username and password don't match.")
	if d.quit {
		t.Fatal("a non-admin left kiosk mode")
	}
	d.keys("esc")
	// A wrong admin password.
	d.keys("4")
	d.typeText("admin")
	d.keys("tab")
	d.typeText("wrong password")
	d.keys("enter")
	at[*signIn](d)
	d.see("That username and password don't match.")
	if p := at[*signIn](d).password.Value(); p != "" {
		t.Fatalf("the wrong password stays in the field: %q", p)
	}
}

func TestEscDuringSendIsDropped(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	sent := h.Inbox.Count()

	// enter starts the send; its result is held back.
	held := d.update(keyMsg("enter"))
	if held == nil {
		t.Fatal("no send command")
	}
	d.see("⋯ Sending a code to a•••e@example.com…")
	// Mashing keys while it is pending starts nothing and moves nothing.
	for _, k := range []string{"enter", "down", "j", "2", "enter", "up", "1", "ctrl+r", "tab", "x"} {
		if cmd := d.update(keyMsg(k)); cmd != nil {
			t.Fatalf("%s during the send returned a command", k)
		}
	}
	at[*methods](d)
	d.see("⋯ Sending a code")
	// Esc during the send goes back to the username; the late result
	// changes nothing.
	d.keys("esc")
	at[*identify](d)
	d.exec(held)
	at[*identify](d)
	if len(d.m.stack) != 2 {
		t.Fatalf("the late result opened a screen: %d", len(d.m.stack))
	}
	// Esc ended the flow, so the late send had nothing to send for.
	if h.Inbox.Count() != sent {
		t.Fatal("a code was sent for a flow that was left")
	}
	d.notSee("Sending")
}

func TestStaleLookupDropped(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("enter")
	d.typeText("alice")
	held := d.update(keyMsg("enter"))
	d.see("Looking you up…")
	d.keys("esc", "enter")
	at[*identify](d)
	d.typeText("carol")
	d.exec(held) // alice's result arrives at carol's identify screen
	at[*identify](d)
	d.notSee("Looking you up…")
	d.keys("enter")
	at[*methods](d)
	d.see("c•••l@example.com")
}

// TestEscDuringRequestIsDropped: a resend's or a code check's result
// arrives after Esc went back to the method picker, which must not take it
// for its own send or open a screen for it.
func TestEscDuringRequestIsDropped(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(h *harness, d *driver)
		key     string
		shows   string
	}{
		{"resend", func(_ *harness, d *driver) { d.tick(30 * time.Second) }, "ctrl+r", "Sending a new code…"},
		{"check", func(h *harness, d *driver) { d.typeText(h.Inbox.LastCode(d.t, "alice@example.com")) }, "enter", "⋯ Checking…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			d := kiosk(t, h)
			d.startReset("alice")
			d.sendEmailCode()
			tc.prepare(h, d)
			held := d.update(keyMsg(tc.key))
			d.see(tc.shows)
			d.keys("esc")
			at[*methods](d)
			d.exec(held)
			at[*methods](d)
			if len(d.m.stack) != 3 {
				t.Fatalf("%d screens: the stale result opened a screen", len(d.m.stack))
			}
		})
	}
}

func TestEscDuringPasswordSave(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	d.typeText(h.Inbox.LastCode(t, "alice@example.com"))
	d.keys("enter")
	d.typeText(newPass)
	d.keys("tab")
	d.typeText(newPass)
	held := d.update(keyMsg("enter"))
	d.see("⋯ Saving…")
	for _, k := range []string{"enter", "enter", "tab", "enter"} {
		d.keys(k)
	}
	d.keys("esc", "y") // y: leave, throwing the proofs away
	at[*welcome](d)
	d.exec(held)
	at[*welcome](d)
	assertWiped(t, d, newPass)
}

func TestResizes(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	sizes := [][2]int{{1, 1}, {0, 0}, {-5, -5}, {10000, 10000}, {40, 12}, {39, 12}, {120, 40}, {2, 50}, {300, 1}, {80, 24}}
	for i := range 200 {
		sz := sizes[i%len(sizes)]
		d.resize(sz[0], sz[1])
		v := d.view()
		w, hh := min(max(sz[0], 1), MaxWidth), min(max(sz[1], 1), MaxHeight)
		lines := strings.Split(v, "\n")
		if len(lines) != hh {
			t.Fatalf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Fatalf("%dx%d: line wider than the window: %q", sz[0], sz[1], l)
			}
		}
	}
	d.resize(1, 1)
	if v := d.view(); v != "…" {
		t.Fatalf("1x1: %q", v)
	}
	d.resize(12, 1)
	d.see("Too small")
	d.resize(30, 24)
	d.see("Please make the window larger")
	d.resize(80, 24)
	at[*codeEntry](d)
	d.see("We sent a code to a•••e@example.com.")
	d.typeText(h.Inbox.LastCode(t, "alice@example.com"))
	d.keys("enter")
	at[*newPassword](d)
}
