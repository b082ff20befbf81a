package tui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/locale"
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
	code := panelOf(d).tabs[1].(*usersTab).at.shownVoucher().Code
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
	resent := locale.Embedded().Source().T(resentNote) // the words on screen, not the ID
	d.startReset("alice")
	d.sendEmailCode()
	first := h.Inbox.LastCode(t, "alice@example.com")
	d.notSee(resent)
	d.tick(flows.ResendCooldown)
	d.keys("ctrl+r")
	d.see("A new code is on its way; the previous one no longer works.", "Code expires in 10:00")
	d.typeText(first)
	d.notSee(resent) // typing puts it away
	d.keys("enter")
	d.see("That code is not right.")

	d = kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add email address")
	d.keys("enter")
	d.see("We sent a code to")
	d.notSee(resent)
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
	d.notSee("The one on your account")
	d.keys("esc")

	d.chooseItem("Add mobile number")
	rc = at[*registerContact](d)
	d.see("The one on your account: enter uses it, typing replaces it, ← → edit it.")
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
	if !regexp.MustCompile(`(?m)^\s*Methods allowed\s+email,sms,.*\n(\s+[a-z_,]+\s*\n)?\s+sms: not configured\s*$`).MatchString(d.view()) {
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

// openQuestions signs erin in with questions allowed and opens the form.
func openQuestions(t *testing.T) (*harness, *driver, *registerQuestions) {
	t.Helper()
	h := newHarness(t)
	h.SetPolicy(t, "methods_allowed", "email,sms,questions")
	d := kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add security questions")
	return h, d, at[*registerQuestions](d)
}

// TestQuestionSuggestionIsTaken types a few words into a question: the
// catalogue question holding them shows under it, → at the end of the text
// or ctrl+e takes it, and ctrl+n shows the next match.
func TestQuestionSuggestionIsTaken(t *testing.T) {
	_, d, rq := openQuestions(t)
	d.keys("tab") // to question 2, filled in from the catalogue
	d.typeText("film")
	if v := rq.questions[1].Value(); v != "film" {
		t.Fatalf("typing into the filled-in question gave %q", v)
	}
	d.see("↳ What was the title of the first film you saw in a cinema?", "→ or ctrl+e uses it")
	d.keys("right")
	if v := rq.questions[1].Value(); v != "What was the title of the first film you saw in a cinema?" {
		t.Fatalf("→ took %q", v)
	}
	d.notSee("↳")

	d.keys("tab", "tab") // to question 3
	d.typeText("first name")
	n := len(rq.matches(2))
	if n < 2 {
		t.Fatalf("%d matches for \"first name\"", n)
	}
	first, second := rq.matches(2)[0], rq.matches(2)[1]
	d.see("↳ "+first, fmt.Sprintf("ctrl+n for the next (1 of %d)", n))
	d.keys("ctrl+n")
	d.see("↳ "+second, fmt.Sprintf("(2 of %d)", n))
	d.keys("left", "ctrl+e") // not at the end: ctrl+e still takes it
	if v := rq.questions[2].Value(); v != second || v == first {
		t.Fatalf("ctrl+e took %q, want %q", v, second)
	}
	// A question other fields ask is not suggested again.
	d.keys("tab", "tab")
	d.typeText("film")
	d.notSee("↳ What was the title of the first film")
}

// TestQuestionsShownWhole checks that a question is shown whole, not cut
// at the width of a field: at 80 columns on one line, at 40 wrapped.
func TestQuestionsShownWhole(t *testing.T) {
	_, d, _ := openQuestions(t)
	d.see("What was the name of your first stuffed animal?", "What was the make and model of your first car?")
	d.keys("tab")
	d.see("Typing replaces it and searches the list.")
	d.resize(40, 24)
	d.see("What was the make and model of your first car?")
}

// TestQuestionsFocusNeedsInput checks where the focus goes: first to the
// first field that needs input (the first answer, the questions being
// filled in), then on enter to the next one that does, staying with a word
// on a field that still needs it, and to the field a refusal names.
func TestQuestionsFocusNeedsInput(t *testing.T) {
	_, d, rq := openQuestions(t)
	if rq.focus != 1 {
		t.Fatalf("focus %d at the start, want the first answer", rq.focus)
	}
	d.typeText("alpha")
	d.keys("enter")
	if rq.focus != 3 {
		t.Fatalf("focus %d after the first answer, want the second answer, past its filled-in question", rq.focus)
	}
	d.keys("enter")
	if rq.focus != 3 {
		t.Fatalf("enter left an empty answer for %d", rq.focus)
	}
	d.see("Answer 2 must be 3–40 characters.")
	d.typeText("bravo")
	d.keys("tab", "ctrl+u") // clear question 3
	d.keys("shift+tab", "enter")
	if rq.focus != 4 {
		t.Fatalf("focus %d, want the question left empty", rq.focus)
	}
	d.typeText("What colour was your first bicycle?")
	d.keys("enter")
	d.typeText("ALPHA ")
	d.keys("enter")
	d.see("Answer 3 repeats another answer.")
	if rq.focus != 5 {
		t.Fatalf("focus %d after a refusal, want the answer at fault", rq.focus)
	}
}

// TestQuestionsSaveFromAnyField fills every answer and goes back to the
// first: enter there saves, the help bar says so, and esc does not.
func TestQuestionsSaveFromAnyField(t *testing.T) {
	h, d, _ := openQuestions(t)
	for i, a := range []string{"alpha", "bravo", "charlie"} {
		d.typeText(a)
		if i < 2 {
			d.keys("tab", "tab")
		}
	}
	d.keys("shift+tab", "shift+tab", "shift+tab", "shift+tab")
	if rq := at[*registerQuestions](d); rq.focus != 1 {
		t.Fatalf("focus %d, want the first answer", rq.focus)
	}
	d.keys("enter")
	at[*overview](d)
	d.see("Security questions saved.")
	if got := h.CountEvents(t, audit.EventMethodRegistered); got == 0 {
		t.Fatal("no registration recorded")
	}
	// The help bar says what enter does.
	d.chooseItem("Change security questions")
	d.see("enter next")
	d.typeText("alpha")
	d.keys("enter")
	d.typeText("bravo")
	d.keys("enter")
	d.typeText("charlie")
	d.see("enter save")
}

// TestQuestionsFormGolden pins the form at 80×24 with a suggestion showing.
func TestQuestionsFormGolden(t *testing.T) {
	_, d, _ := openQuestions(t)
	d.typeText("alpha")
	d.keys("tab")
	d.typeText("film")
	golden.RequireEqual(t, []byte(d.view()))
}

// TestMisheardVoucherStays types a voucher with a zero in it at a reset:
// the screen says what a voucher looks like and keeps what was typed, to
// correct one symbol; corrected (in lower case), it works.
func TestMisheardVoucherStays(t *testing.T) {
	h := newHarness(t)
	v, err := h.Svc.IssueVoucher(context.Background(), h.Admin, "alice")
	if err != nil {
		t.Fatal(err)
	}
	d := kiosk(t, h)
	d.startReset("alice")
	d.chooseItem("I have a helpdesk voucher")
	ce := at[*codeEntry](d)
	d.see("voucher: 4 groups of 4")
	misheard := v.Code[:len(v.Code)-1] + "0"
	d.typeText(misheard)
	d.keys("enter")
	d.see("A voucher is 16 letters and digits in groups of 4, without 0, 1, I, L or O.")
	if ce.input.Value() != misheard {
		t.Fatalf("the field holds %q after a misheard voucher", ce.input.Value())
	}
	d.keys("backspace")
	d.typeText(strings.ToLower(v.Code[len(v.Code)-1:]))
	d.keys("enter")
	at[*newPassword](d)
}
