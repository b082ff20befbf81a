package tui

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// newHarnessOpts is a harness built with opts and seeded like the demo.
func newHarnessOpts(t testing.TB, opts flowstest.Options) *harness {
	t.Helper()
	h := &harness{flowstest.New(t, opts)}
	h.seed(t)
	return h
}

// emailOnlyHarness is a harness whose server has no text message channel
// configured: email codes go to the inbox, texts nowhere.
func emailOnlyHarness(t testing.TB) *harness {
	t.Helper()
	inbox := &flowstest.Inbox{}
	h := &harness{flowstest.New(t, flowstest.Options{Channels: func(*store.DB, clock.Clock) map[string]dispatch.Channel {
		return map[string]dispatch.Channel{dispatch.ChannelEmail: inbox}
	}})}
	h.Inbox = inbox
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

// TestNewRecoveryCodesAsksFirst checks that getting new recovery codes,
// when the person has some, first says the old ones stop working; no keeps
// them, yes makes new ones and the old ones fail.
func TestNewRecoveryCodesAsksFirst(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	info, err := h.Svc.SignIn(ctx, "alice", testPassword, "seed")
	if err != nil {
		t.Fatal(err)
	}
	old, err := h.Svc.NewRecoveryCodes(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.Svc.SignOut(info.ID)
	d := kiosk(t, h)
	d.signIn(3, "alice")
	d.chooseItem("Get new recovery codes")
	at[*overview](d)
	d.see("The recovery codes you have now stop working at once.", "Get new recovery codes? (y/n)", "y yes", "n no")
	d.keys("n")
	at[*overview](d)
	d.notSee("stop working")
	d.chooseItem("Get new recovery codes")
	d.keys("esc")
	at[*overview](d)
	d.notSee("stop working")
	rs, err := h.Svc.StartReset(ctx, "alice", "check")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, old[0]); err != nil {
		t.Fatalf("no voided the codes: %v", err)
	}
	d.chooseItem("Get new recovery codes")
	d.keys("y")
	at[*recoveryCodes](d)
	d.see("Press y when you have saved them.")
	rs, err = h.Svc.StartReset(ctx, "alice", "check")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, old[1]); err == nil {
		t.Fatal("an old code still works")
	}
}

// TestRemoveLastMethodWarns checks that removing the only method that
// counts on its own says what is lost, and that removing one of two does
// not.
func TestRemoveLastMethodWarns(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "carol")
	d.chooseItem("Remove mobile number")
	d.see("Remove mobile number? (y/n)")
	d.notSee("last way")
	d.keys("y")
	d.see("Mobile number removed.")
	d.chooseItem("Remove email address")
	d.see("It's the last way you have to prove it's you: without it you can't reset your password yourself.",
		"Remove email address? (y/n)")
	d.keys("n")
	d.see("Remove email address")
	d.notSee("last way")
}

// TestMakeAdminWithFewMethodsWarns checks the question before making an
// administrator of someone who could not sign in to the panel: no method,
// one method, and none for two.
func TestMakeAdminWithFewMethodsWarns(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelAct(d, "erin", "Make administrator")
	d.see("erin has no method an administrator can sign in with; administrators prove two (security questions don't count), "+
		"so erin can't open this panel until they register two.", "Make erin an administrator?")
	d.keys("n", "esc")
	panelAct(d, "alice", "Make administrator")
	d.see("alice has only one method an administrator can sign in with (Email code); administrators prove two, "+
		"so alice can't open this panel until they register another.", "Make alice an administrator?")
	d.keys("y")
	d.see("alice is now an administrator.")
	panelAct(d, "carol", "Make administrator")
	d.see("Make carol an administrator?")
	d.notSee("can't open this panel")
}

// TestContactPrefillIsReplacedByTyping checks the number filled in from
// the account: typing a new one replaces it rather than appending, a paste
// does too, and an arrow keeps it to edit.
func TestContactPrefillIsReplacedByTyping(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add mobile number")
	rc := at[*registerContact](d)
	if rc.dest.Value() != "+15551230000" {
		t.Fatalf("suggested %q", rc.dest.Value())
	}
	d.typeText("+15557654321")
	if v := rc.dest.Value(); v != "+15557654321" {
		t.Fatalf("typing over the suggestion gave %q", v)
	}
	d.notSee("This is the one on your account")
	d.keys("esc")

	d.chooseItem("Add mobile number")
	rc = at[*registerContact](d)
	d.see("This is the one on your account: enter uses it, typing replaces it, ← → edit it.")
	d.paste("+15550001111")
	if v := rc.dest.Value(); v != "+15550001111" {
		t.Fatalf("a paste over the suggestion gave %q", v)
	}
	d.keys("esc")

	d.chooseItem("Add mobile number")
	rc = at[*registerContact](d)
	d.keys("left", "backspace")
	d.typeText("9")
	if v := rc.dest.Value(); v != "+15551230090" {
		t.Fatalf("editing the suggestion gave %q", v)
	}
	d.keys("enter")
	d.see("We sent a code to")
	if h.Inbox.LastCode(t, "+15551230090") == "" {
		t.Fatal("no code to the edited number")
	}
}

// panelCursorTo moves the policy list to a setting.
func panelCursorTo(d *driver, k string) *policyTab {
	d.t.Helper()
	d.keys("1")
	t := panelOf(d).tabs[0].(*policyTab)
	for t.cursor != indexOf(policy.Keys(), k) {
		d.keys("down")
	}
	return t
}

// TestPolicyEditorShowsWholeValue opens "Methods allowed" for the first
// time: its value starts at its start, all of it in view, and the server
// without a text channel says sms is not configured. The screen is pinned
// at 80×24.
func TestPolicyEditorShowsWholeValue(t *testing.T) {
	h := emailOnlyHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelCursorTo(d, policy.KeyMethodsAllowed)
	d.keys("enter")
	d.see("New › email,sms,authenticator,recovery_codes,voucher",
		"Not configured on this server, so offered to nobody even if allowed: sms (set sms.url in config.yaml).")
	golden.RequireEqual(t, []byte(d.view()))
}

// TestPolicyListSaysNotConfigured checks the policy list: an allowed
// method the server cannot deliver is marked "not configured" under its
// setting, and nothing is marked when every channel is there.
func TestPolicyListSaysNotConfigured(t *testing.T) {
	d := panelDriver(t, emailOnlyHarness(t), Options{Mode: ModeLocal})
	d.keys("1")
	if !regexp.MustCompile(`(?m)^\s*Methods allowed\s+email,sms,.*\n\s+sms: not configured\s*$`).MatchString(d.view()) {
		t.Fatalf("sms is not marked not configured under methods allowed:\n%s", d.view())
	}
	d = panelDriver(t, newHarness(t), Options{Mode: ModeLocal})
	d.keys("1")
	d.see("Methods allowed")
	d.notSee("not configured")
}

// TestPolicyBoolIsASwitch checks that an on/off setting is flipped, not
// typed: enter or space on it asks to save the other value; in the editor
// letters do nothing and space flips it back.
func TestPolicyBoolIsASwitch(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	pt := panelCursorTo(d, policy.KeyNotifyUsersOnReset)
	d.see("enter/space flip")
	d.keys("enter")
	d.see("(•) false", "Save notify users on reset: true → false?", "What if: users will not be told")
	d.keys("n")
	if pt.typing() {
		t.Fatal("the switch takes text")
	}
	d.typeText("yes")
	if v := pt.input.Value(); v != "false" {
		t.Fatalf("typing changed the switch to %q", v)
	}
	d.keys("space")
	d.see("(•) true", "Press space to flip it.")
	d.keys("enter")
	d.see("That is the value in force")
	d.keys("space", "enter", "y")
	d.see("Saved: notify users on reset changed from true to false.")
	if pol, _ := h.Svc.Policy(ctx); pol.NotifyUsersOnReset {
		t.Fatal("not saved")
	}
	// Space on the list flips too.
	panelCursorTo(d, policy.KeyRequireRegistration)
	d.keys("space")
	d.see("Save require registration: true → false?")
	d.keys("y")
	d.see("Saved: require registration changed from true to false.")
	if pol, _ := h.Svc.Policy(ctx); pol.RequireRegistration {
		t.Fatal("not saved")
	}
}
