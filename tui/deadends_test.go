package tui

import (
	"context"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

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
