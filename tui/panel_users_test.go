package tui

import (
	"testing"
)

// TestPanelUserStepsGoBack walks the users tab's steps back one at a time:
// no at a question asked from the method picker returns to the picker, esc
// there to the actions on the same user, and esc again to the table.
func TestPanelUserStepsGoBack(t *testing.T) {
	d := panelDriver(t, newHarness(t), Options{Mode: ModeLocal})
	u := panelOf(d).tabs[1].(*usersTab)

	panelAct(d, "carol", "Remove a method…")
	panelChoose(d, "Text message code")
	d.see("Remove Text message code from carol?")
	if !u.blocking() {
		t.Fatal("the question does not hold the screen")
	}
	d.keys("n")
	d.see("Remove which method?", "Email code", "Text message code")
	d.notSee("Remove Text message code from carol?")
	if u.at.step != userMethods {
		t.Fatalf("no at the question leads to step %d, not the method picker", u.at.step)
	}
	d.keys("esc")
	d.see("carol", "Issue a helpdesk voucher", "Remove a method…")
	d.notSee("Remove which method?")
	if u.at.step != userActions || u.at.target.Username != "carol" {
		t.Fatalf("esc from the picker leads to step %d on %q", u.at.step, u.at.target.Username)
	}
	d.keys("esc")
	d.see("USERNAME", "STATE")
	d.notSee("Issue a helpdesk voucher")
	if u.busy() {
		t.Fatal("the tab is still busy back at the table")
	}
}
