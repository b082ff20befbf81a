package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// supportedSizes are the window sizes every screen must work at: the
// smallest the frame draws in, a small window and a classic terminal.
var supportedSizes = [][2]int{{40, 12}, {60, 20}, {80, 24}}

// lastParagraph is the end of a screen's body, after its last blank line:
// where every screen says what stopped an enter.
func lastParagraph(view string) string {
	lines := strings.Split(view, "\n")
	lines = lines[:len(lines)-1] // the help bar
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) == "" {
			lines = lines[i+1:]
			break
		}
	}
	return strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
}

// TestBlockingMessageInViewAtEverySize walks every user screen to an enter
// that is refused and checks, at each supported size, that what stops the
// person is on the screen: the message the screen ends with in a tall
// window, and the refused rules of a new password.
func TestBlockingMessageInViewAtEverySize(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, h *harness)
		walk  func(d *driver)
		// msg is what the screen says, where the end of the screen
		// in a tall window is not it.
		msg  string
		also []string
	}{
		{name: "identify, nothing typed", walk: func(d *driver) {
			d.keys("enter", "enter")
			at[*identify](d)
		}},
		{name: "change, wrong password", walk: func(d *driver) {
			d.keys("2")
			d.typeText("alice")
			d.keys("tab")
			d.typeText("not the password")
			d.keys("enter")
			at[*signIn](d)
		}},
		{name: "security info, nothing typed", walk: func(d *driver) {
			d.keys("3", "tab", "enter")
			at[*signIn](d)
		}},
		{name: "admin, wrong password", walk: func(d *driver) {
			d.keys("4")
			d.typeText("admin")
			d.keys("tab")
			d.typeText("wrong")
			d.keys("enter")
			at[*signIn](d)
		}},
		{name: "emailed code, wrong", walk: func(d *driver) {
			d.startReset("alice")
			d.sendEmailCode()
			d.typeText("1234567")
			d.keys("enter")
			at[*codeEntry](d)
		}},
		{name: "authenticator code, letters", walk: func(d *driver) {
			d.startReset("bob")
			d.chooseItem("Use my authenticator app")
			d.typeText("abc")
			d.keys("enter")
			at[*codeEntry](d)
		}},
		{name: "new password, rules unmet", walk: func(d *driver) {
			d.signIn(2, "alice")
			d.typeText("abc")
			d.keys("tab")
			d.typeText("abc")
			d.keys("enter")
			at[*newPassword](d)
		}, also: []string{"At least 12 characters", "Strong enough"}},
		{name: "new password, entries differ", walk: func(d *driver) {
			d.signIn(2, "alice")
			d.typeText(newPass)
			d.keys("tab")
			d.typeText(newPass + "x")
			d.keys("enter")
			at[*newPassword](d)
		}, also: []string{"Both entries match"}},
		{name: "security questions, unanswered", setup: func(t *testing.T, h *harness) {
			h.SetPolicy(t, "methods_allowed", "email,sms,questions")
		}, walk: func(d *driver) {
			d.signIn(3, "alice")
			d.chooseItem("Add security questions")
			rq := at[*registerQuestions](d)
			for rq.focus < 2*rq.n-1 {
				d.keys("tab")
			}
			d.typeText("x")
			d.keys("enter")
			at[*registerQuestions](d)
		}},
		{name: "security info, a removal to confirm", walk: func(d *driver) {
			d.signIn(3, "carol")
			d.chooseItem("Remove mobile number")
			at[*overview](d)
		}},
		{name: "email address, nothing typed", walk: func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Add email address")
			d.clear()
			d.keys("enter")
			at[*registerContact](d)
		}},
		{name: "email address, wrong code", walk: func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Add email address")
			d.clear()
			d.typeText("erin@example.com")
			d.keys("enter")
			d.typeText("1234567")
			d.keys("enter")
			at[*registerContact](d)
		}},
		{name: "authenticator enrolment, short code", walk: func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Add authenticator app")
			d.typeText("123")
			d.keys("enter")
			at[*enrolAuthenticator](d)
		}, msg: "Type the 6-digit code your app shows."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if c.setup != nil {
				c.setup(t, h)
			}
			d := kiosk(t, h)
			d.resize(80, 60)
			c.walk(d)
			msg := c.msg
			if msg == "" {
				msg = lastParagraph(d.view())
			}
			if msg == "" {
				t.Fatalf("nothing at the end of the screen:\n%s", d.view())
			}
			for _, size := range supportedSizes {
				d.resize(size[0], size[1])
				if !strings.Contains(withoutQR(d.words()), msg) {
					t.Errorf("at %dx%d %q is out of view:\n%s", size[0], size[1], msg, d.view())
				}
				for _, want := range c.also {
					if !strings.Contains(d.words(), want) {
						t.Errorf("at %dx%d %q is out of view:\n%s", size[0], size[1], want, d.view())
					}
				}
			}
		})
	}
}

// withoutQR drops the blocks a QR code is drawn with, so that text in a
// column beside it reads as one run of words.
func withoutQR(words string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == '█' || r == '▀' || r == '▄' {
			return ' '
		}
		return r
	}, words)), " ")
}

// TestPanelMessagesWrapWhole: a refusal in the admin panel is read whole at
// every supported size, wrapped at word boundaries, never cut mid-word.
func TestPanelMessagesWrapWhole(t *testing.T) {
	for _, size := range supportedSizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := newHarness(t)
			d := panelDriver(t, h, Options{Mode: ModeLocal})
			d.resize(size[0], size[1])
			panelAct(d, "admin", "Remove administrator rights")
			d.keys("y")
			d.see("There must be at least one administrator, and this would leave none.")
		})
	}
}

// TestAdminHelp: at 80×24 every admin tab's help bar shows how to change
// tabs and sign out, and points to the rest; ? shows every key of the tab;
// the next key only closes it.
func TestAdminHelp(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	for i, tab := range panelOf(d).tabs {
		d.keys(fmt.Sprint(i + 1))
		lines := strings.Split(d.view(), "\n")
		bar := strings.Join(strings.Fields(lines[len(lines)-1]), " ")
		for _, want := range []string{"←/→ tabs", "esc sign out"} {
			if !strings.Contains(bar, want) {
				t.Errorf("%s: help bar %q lacks %q", tab.label(), bar, want)
			}
		}
		if strings.HasSuffix(bar, "…") {
			t.Errorf("%s: help bar %q ends without saying where the other keys are", tab.label(), bar)
		}
		d.keys("?")
		d.see("Keys on this screen", "←/→ tabs", "esc sign out", "1-5 tabs", "ctrl+c quit", "Press any key to close this help.")
		for _, kb := range tab.help() {
			d.see(kb.Help().Key + " " + locale.Embedded().Source().T(kb.Help().Desc))
		}
		d.keys("right") // closes the help, and does not change the tab
		d.notSee("Keys on this screen")
		if panelOf(d).tab != i {
			t.Fatalf("the key that closed the help changed the tab to %d", panelOf(d).tab)
		}
	}
	// Typing takes ? as text.
	d.keys("2", "/")
	d.typeText("?")
	d.notSee("Keys on this screen")
	if got := panelOf(d).tabs[1].(*usersTab).search.Value(); got != "?" {
		t.Fatalf("search holds %q", got)
	}
}

// TestPanelNarrowColumns: at 60 and 40 columns the users table keeps each
// user's state and the audit log who did it and how it went.
func TestPanelNarrowColumns(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	for _, w := range []int{60, 40} {
		d.resize(w, 24)
		d.keys("2")
		d.see("USERNAME", "STATE")
		rowEnds(d, "admin ", "admin")
		rowEnds(d, "dave ", "blocked")
		d.keys("3")
		d.see("EVENT", "OUTCOME")
		rowEnds(d, "system → dave", "ok")
		rowEnds(d, "dave ", "failed")
	}
}

// rowEnds fails unless a line of the screen that holds the cell ends with
// last: the last column is there, whole.
func rowEnds(d *driver, cell, last string) {
	d.t.Helper()
	for _, line := range strings.Split(d.view(), "\n") {
		if strings.Contains(line, cell) && strings.HasSuffix(strings.TrimSpace(line), " "+last) {
			return
		}
	}
	d.t.Fatalf("no row with %q ends with %q:\n%s", cell, last, d.view())
}

// TestAuditDetail: enter on an audit entry opens it whole; a value longer
// than the window scrolls; esc or enter goes back to the log where it was.
func TestAuditDetail(t *testing.T) {
	h := newHarness(t)
	h.SetPolicy(t, "banned_words", bannedWords)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	d.keys("3")
	a := panelOf(d).tabs[2].(*auditTab)
	for a.entries[a.cursor].Event != audit.EventPolicyChanged {
		d.keys("down")
	}
	cursor := a.cursor
	d.keys("enter")
	d.see("Entry", "policy.changed", "actor test · target policy", "source test · outcome ok", "banned_words")
	for _, word := range strings.Split(bannedWords, ",") {
		d.see(word)
	}
	d.keys("esc")
	d.see("Entries 1–10")
	d.notSee("source test · outcome ok")
	if a.cursor != cursor || panelOf(d).leaving {
		t.Fatalf("esc did not go back to the log where it was (cursor %d, want %d)", a.cursor, cursor)
	}

	// At 40×12 it scrolls to the end, and back.
	d.resize(40, 12)
	d.keys("enter")
	d.see("Lines 1–", "↑/↓ to scroll", "detail")
	d.notSee("walnut", "prev")
	d.keys("pgdown", "pgdown", "pgdown")
	d.see("walnut", "prev")
	d.notSee("actor test")
	d.keys("up", "pgup", "pgup")
	d.see("actor test")
	d.keys("enter")
	d.see("Entries 1–10")
	d.notSee("↑/↓ to scroll")
}

// TestPluralsOnScreen: a history of one password is "your previous
// password", not "your last 1 passwords", when the service refuses it.
func TestPluralsOnScreen(t *testing.T) {
	h := newHarness(t)
	h.SetPolicy(t, "password_history", "1")
	d := kiosk(t, h)
	d.signIn(2, "alice")
	d.typeText(testPassword)
	d.keys("tab")
	d.typeText(testPassword)
	d.keys("enter")
	d.see("That password doesn't meet every rule yet", "Not your previous password")
	d.notSee("passwords")
}
