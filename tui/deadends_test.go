package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
)

// screenGolden pins what the person reads on the current screen at 80×24,
// without colour: run the tests with -update to write it again.
func (d *driver) screenGolden(t *testing.T) {
	t.Helper()
	if d.m.width != 80 || d.m.height != 24 {
		t.Fatalf("goldens are 80×24, the window is %d×%d", d.m.width, d.m.height)
	}
	golden.RequireEqual(t, d.view())
}

// hasItem reports whether the current screen's menu offers an item.
func hasItem(d *driver, label string) bool {
	d.t.Helper()
	var items []string
	switch s := d.m.top().(type) {
	case *overview:
		items = s.menu.items
	case *methods:
		items = s.menu.items
	default:
		d.t.Fatalf("no menu on %T", s)
	}
	for _, it := range items {
		if it == label {
			return true
		}
	}
	return false
}

// addSuggestedEmail registers the email address the overview suggests,
// with the code sent to it.
func (d *driver) addSuggestedEmail(to string) {
	d.t.Helper()
	d.chooseItem("Add email address")
	d.keys("enter")
	d.typeText(d.h.Inbox.LastCode(d.t, to))
	d.keys("enter")
	at[*overview](d)
}

// Registration required means required: while it is due the overview
// offers no Done, Esc asks before leaving, and leaving is recorded as a
// postponement; Done shows once the policy is met.
func TestForcedRegistrationNoDone(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	at[*overview](d)
	d.see("Register at least one way to prove who you are", "This is required: Done appears once it is met.",
		"Finish later and sign out", "esc finish later")
	if hasItem(d, "Done") {
		t.Fatal("Done is offered before the policy is met")
	}
	d.screenGolden(t)

	// Esc asks; n stays.
	d.keys("esc")
	at[*overview](d)
	d.see("Leave without finishing? Until you do, you can't reset your password yourself, and you will be asked again the next time you sign in. (y/n)")
	d.keys("n")
	at[*overview](d)
	d.see("Add email address")
	postponed := func() int {
		return countAudit(t, h, audit.Filter{Events: []audit.Event{audit.EventRegistrationPostponed}, Target: "erin"})
	}
	if n := postponed(); n != 0 {
		t.Fatalf("%d postponements before leaving", n)
	}
	d.chooseItem("Finish later and sign out")
	d.see("Leave without finishing?")
	d.keys("y")
	at[*welcome](d)
	if n := postponed(); n != 1 {
		t.Fatalf("%d postponements recorded, want 1", n)
	}
	a, err := h.Svc.ActivityReport(context.Background(), 1, 0, "")
	if err != nil || a.Postponed != 1 {
		t.Fatalf("activity report counts %d postponements (%v)", a.Postponed, err)
	}

	// Asked again at the next sign-in; once an email is registered, Done.
	d.signIn(3, "erin")
	at[*overview](d)
	d.see("Register at least one way")
	d.addSuggestedEmail("erin@example.com")
	d.see("Email address saved.", "You can reset your password yourself.")
	d.notSee("This is required", "Finish later")
	d.chooseItem("Done")
	at[*welcome](d)
	if n := postponed(); n != 1 {
		t.Fatalf("%d postponements after finishing, want 1", n)
	}
}

// A re-registration an admin asks for is not met by confirming: what was
// registered is gone, the screen says so, and only registering again ends it.
func TestReregistrationNotOneKeypress(t *testing.T) {
	h := newHarness(t)
	if err := h.Svc.RequireReregistration(context.Background(), h.Admin, "alice"); err != nil {
		t.Fatal(err)
	}
	d := kiosk(t, h)
	d.signIn(3, "alice")
	at[*overview](d)
	d.see("Your helpdesk asked you to set up your security info again, so what you had registered was removed.",
		"Register at least one way to prove who you are.", "Add email address")
	d.notSee("You can reset your password yourself.")
	for _, ms := range at[*overview](d).ov.Methods {
		if ms.Registered {
			t.Fatalf("%s is still registered", ms.Method)
		}
	}
	if hasItem(d, "Confirm my info is right") || hasItem(d, "Done") {
		t.Fatalf("the old info can be kept with one key: %q", at[*overview](d).menu.items)
	}
	d.screenGolden(t)

	// Registering the address again, proven by a code, ends it.
	d.addSuggestedEmail("alice@example.com")
	d.see("Email address saved.", "You can reset your password yourself.")
	d.notSee("Your helpdesk asked")
	d.chooseItem("Done")
	at[*welcome](d)
}

// proveEmail proves the email way on the method picker with the code sent.
func (d *driver) proveEmail(to string) {
	d.t.Helper()
	d.chooseItem("Email me a code")
	at[*codeEntry](d)
	d.typeText(d.h.Inbox.LastCode(d.t, to))
	d.keys("enter")
}

// Esc on the method picker goes back one step, to the username; after a
// proof it asks first, since going back loses it.
func TestMethodPickerEscOneStep(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	at[*methods](d)
	d.keys("esc")
	if id := at[*identify](d); id.input.Value() != "alice" {
		t.Fatalf("the username screen holds %q", id.input.Value())
	}
	d.keys("enter")
	at[*methods](d)
	d.see("Email me a code")

	h.SetPolicy(t, "methods_required", "2")
	d.keys("esc", "esc")
	at[*welcome](d)
	d.startReset("carol")
	d.proveEmail("carol@example.com")
	m := at[*methods](d)
	d.see("Step 2 of 2", "One way proven.")
	d.keys("esc")
	at[*methods](d)
	d.see("Go back and start again? The way you already proved would have to be proved again. (y/n)", "y yes", "n no")
	d.screenGolden(t)
	d.keys("n")
	at[*methods](d)
	d.see("Step 2 of 2", "Text me a code")
	d.keys("esc", "y")
	at[*identify](d)
	if _, err := h.Svc.SendCode(t.Context(), m.j.flowID, "sms"); err == nil {
		t.Fatal("the flow lives on after going back")
	}

	// The administrators' picker goes back to their sign-in, password gone.
	d.keys("esc")
	d.signIn(4, "admin")
	at[*methods](d)
	d.keys("esc")
	if si := at[*signIn](d); si.user.Value() != "admin" || si.password.Value() != "" {
		t.Fatalf("sign-in holds %q and a password of %d characters", si.user.Value(), len(si.password.Value()))
	}
}

// With two ways required and only one registered, the second step offers
// only a voucher and says why, with the helpdesk contact; before any proof
// nothing is said, so a name tells nothing about its account.
func TestVoucherOnlySecondStepExplained(t *testing.T) {
	h := newHarness(t)
	h.SetPolicy(t, "methods_required", "2")
	d := kiosk(t, h)
	why := "A second way is needed, and you have only one set up that can be used here."
	for _, name := range []string{"alice", "nobody-here"} {
		d.startReset(name)
		at[*methods](d)
		d.see("Step 1 of 2")
		d.notSee(why, helpdesk)
		d.keys("esc", "esc")
		at[*welcome](d)
	}
	d.startReset("alice")
	d.proveEmail("alice@example.com")
	at[*methods](d)
	d.see("Step 2 of 2", why, "A helpdesk voucher can serve as the second", "Please contact your helpdesk: "+helpdesk,
		"I have a helpdesk voucher")
	d.screenGolden(t)
}

// Esc on "Choose a new password" after the proofs asks before throwing them
// away; n keeps what was typed, y ends the flow.
func TestNewPasswordEscAsks(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.proveEmail("alice@example.com")
	np := at[*newPassword](d)
	d.typeText(newPass)
	d.keys("esc")
	at[*newPassword](d)
	d.see("Leave without setting a new password? What you proved is thrown away, and you would start again from the beginning. (y/n)")
	d.screenGolden(t)
	d.keys("n")
	at[*newPassword](d)
	if np.pw.Value() != newPass {
		t.Fatal("n did not keep the typed password")
	}
	d.keys("esc", "y")
	at[*welcome](d)
	if err := h.Svc.CompleteReset(context.Background(), np.t.flowID, newPass); err == nil {
		t.Fatal("the proofs live on after leaving")
	}
	if !h.signInWorks("alice", testPassword) {
		t.Fatal("the password changed")
	}
}

// A temporary password leads to "Choose a new password" with a word on why.
func TestTemporaryPasswordExplained(t *testing.T) {
	h := newHarness(t)
	temp, err := h.Svc.AddUser(context.Background(), h.Admin, flows.NewUser{Username: "fred", DisplayName: "Fred Example"})
	if err != nil || temp == "" {
		t.Fatalf("temporary password %q: %v", temp, err)
	}
	d := kiosk(t, h)
	d.keys("3")
	d.typeText("fred")
	d.keys("enter")
	d.typeText(temp)
	d.keys("enter")
	at[*newPassword](d)
	d.see("You signed in with a temporary password, so choose your own password now.")
	d.screenGolden(t)

	// An ordinary change says nothing of the kind.
	d.keys("esc")
	d.signIn(2, "alice")
	at[*newPassword](d)
	d.notSee("temporary password")
}

// The done screen names the helpdesk to call if the change was not the
// person's doing.
func TestDoneShowsHelpdesk(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.resetAlice(newPass)
	d.see("If you didn't do this, contact your helpdesk at once: " + helpdesk)
	d.screenGolden(t)
}

// importGina imports gina, who has no password and nothing registered.
func importGina(t *testing.T, h *harness) {
	t.Helper()
	csv := "username,display_name,email,phone,groups,admin\ngina,Gina Example,gina@example.com,+15551230007,,false\n"
	if _, err := h.Svc.ImportUsers(context.Background(), h.Admin, strings.NewReader(csv), flows.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// voucherFor issues a helpdesk voucher as an admin would.
func voucherFor(t *testing.T, h *harness, name string) string {
	t.Helper()
	v, err := h.Svc.IssueVoucher(context.Background(), h.Admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return v.Code
}

// resetWithVoucher resets a password with a helpdesk voucher and arrives
// at the done screen.
func (d *driver) resetWithVoucher(name, voucher, pw string) {
	d.t.Helper()
	d.startReset(name)
	d.chooseItem("I have a helpdesk voucher")
	d.typeText(voucher)
	d.keys("enter")
	d.setPassword(pw)
}

// setPassword types a new password twice on "Choose a new password" and
// saves it, arriving at the done screen.
func (d *driver) setPassword(pw string) {
	d.t.Helper()
	at[*newPassword](d)
	d.typeText(pw)
	d.keys("tab")
	d.typeText(pw)
	d.keys("enter")
	at[*done](d)
}

// An imported user who reset with a voucher goes on to register, as policy
// requires; without that requirement it is offered and can be declined.
func TestRegistrationAfterVoucherReset(t *testing.T) {
	h := newHarness(t)
	importGina(t, h)
	d := kiosk(t, h)
	d.resetWithVoucher("gina", voucherFor(t, h, "gina"), newPass)
	d.see("Your password has been changed.", "Register at least one way to prove who you are",
		"Your organisation requires it.", "Press enter to continue.")
	d.screenGolden(t)
	d.tick(time.Minute) // it does not clear itself: registration comes next
	at[*done](d)
	d.keys("esc") // required: Esc goes on too
	at[*overview](d)
	d.see("Register at least one way", "Finish later and sign out")
	d.addSuggestedEmail("gina@example.com")
	d.see("Email address saved.", "You can reset your password yourself.")
	d.chooseItem("Done")
	at[*welcome](d)
	if !h.signInWorks("gina", newPass) {
		t.Fatal("the reset did not take")
	}
	// alice, who can reset on her own, is not sent on.
	d.resetAlice("another " + newPass)
	d.see("This screen clears itself in 30s.")
	d.notSee("Press enter to continue.")

	// Not required: offered, and Esc finishes.
	h2 := newHarness(t)
	h2.SetPolicy(t, "require_registration", "false")
	importGina(t, h2)
	d2 := kiosk(t, h2)
	d2.resetWithVoucher("gina", voucherFor(t, h2, "gina"), newPass)
	d2.see("You don't have enough ways to prove it's you set up to reset your password yourself next time.",
		"Press enter to set them up now, or esc to finish.", "enter set up now", "esc finish")
	d2.keys("esc")
	at[*welcome](d2)
	h2.Clock.Advance(time.Minute)
	d2.resetWithVoucher("gina", voucherFor(t, h2, "gina"), "another "+newPass)
	d2.keys("enter")
	at[*overview](d2)
	d2.see("Set up one way to prove it's you")
	d2.chooseItem("Done")
	at[*welcome](d2)
}

// An administrator without two methods is told where to register them.
func TestAdminWithoutMethodsToldWhere(t *testing.T) {
	h := newHarness(t)
	if err := h.Svc.SetAdmin(context.Background(), h.Admin, "erin", true); err != nil {
		t.Fatal(err)
	}
	d := kiosk(t, h)
	d.signIn(4, "erin")
	at[*signIn](d)
	d.see("Administrators need two registered methods other than security questions.",
		`Register them under "My security info" on the start screen, signing in with your password.`)
	// And there they can: the overview asks erin for two.
	d.keys("esc")
	d.signIn(3, "erin")
	at[*overview](d)
	d.see("Register at least 2 ways to prove who you are")
}

// After a password change with registration due, the done screen says what
// comes next and why.
func TestDoneSaysRegistrationFollows(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(2, "erin")
	d.setPassword(newPass)
	d.see("Register at least one way to prove who you are, so you can reset your password yourself. Your organisation requires it.",
		"Press enter to continue.")
	d.keys("enter")
	at[*overview](d)
}

// An enter pressed before the password rules have arrived (a slow store) is
// not lost: the password is saved as soon as they come.
func TestNewPasswordEnterBeforeRules(t *testing.T) {
	h := newHarness(t)
	importGina(t, h)
	voucher := voucherFor(t, h, "gina")
	d := kiosk(t, h)
	d.startReset("gina")
	d.chooseItem("I have a helpdesk voucher")
	d.typeText(voucher)
	d.keys("enter")
	s := at[*newPassword](d)
	// The rules are still on their way.
	s.rules = nil
	d.typeText(newPass)
	d.keys("tab")
	d.typeText(newPass)
	d.keys("enter")
	at[*newPassword](d)
	// They arrive: the enter takes effect without another.
	d.exec(s.init())
	at[*done](d)
	d.see("Your password has been changed.")
}
