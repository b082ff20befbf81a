package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
)

const tooLong = "That paste is too long for this field; nothing was pasted."

// hostile is text that would take over a terminal if it reached one: an
// OSC 8 link, a screen clear, a carriage return, a bidi override, C1 CSI.
const hostile = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2J\r\u202Eevil\u2066x\u2069\x9b31m\x07\x00"

// typingScreens opens each screen with a text field and returns the field's
// value, to check what a paste did.
func typingScreens() map[string]func(d *driver) func() string {
	return map[string]func(d *driver) func() string{
		"identify": func(d *driver) func() string {
			d.keys("enter")
			return func() string { return at[*identify](d).input.Value() }
		},
		"code": func(d *driver) func() string {
			d.startReset("alice")
			d.sendEmailCode()
			return func() string { return at[*codeEntry](d).input.Value() }
		},
		"sign in": func(d *driver) func() string {
			d.keys("2", "tab")
			return func() string { return at[*signIn](d).password.Value() }
		},
		"new password": func(d *driver) func() string {
			d.signIn(2, "alice")
			return func() string { return at[*newPassword](d).pw.Value() }
		},
		"contact": func(d *driver) func() string {
			d.signIn(3, "erin")
			d.chooseItem("Add email address")
			d.clear()
			return func() string { return at[*registerContact](d).dest.Value() }
		},
		"authenticator": func(d *driver) func() string {
			d.signIn(3, "erin")
			d.chooseItem("Add authenticator app")
			return func() string { return at[*enrolAuthenticator](d).code.Value() }
		},
	}
}

func TestHugePasteRefused(t *testing.T) {
	huge := strings.Repeat("0123456789abcdef", 100*1024/16)
	for name, open := range typingScreens() {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			d := kiosk(t, h)
			value := open(d)
			before := value()
			limit := d.m.top().(fieldScreen).focusedField().CharLimit
			top := d.m.top()
			d.paste(huge)
			if value() != before {
				t.Fatalf("the field changed to %d characters", len(value()))
			}
			if d.m.top() != top {
				t.Fatal("the paste moved the screen")
			}
			d.see(tooLong)
			// The next key clears the notice and the field still works.
			d.typeText("1")
			d.notSee(tooLong)
			if value() != before+"1" {
				t.Fatalf("field %q after typing", value())
			}
			// A paste longer than the field is refused too, rather than
			// cut short: a cut password would not be the one pasted.
			d.paste(strings.Repeat("7", limit))
			if value() != before+"1" {
				t.Fatalf("an over-long paste was cut into the field: %d characters", len(value()))
			}
			d.see(tooLong)
		})
	}
}

func TestPasteFits(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(2, "alice")
	pw := strings.Repeat("x7Q!", flows.MaxPasswordLength/4)
	d.paste(pw + "\n")
	if got := at[*newPassword](d).pw.Value(); got != pw {
		t.Fatalf("a paste that fits exactly became %q", got)
	}
	d.notSee(tooLong)
}

func TestHostilePasteAndKeys(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("enter")
	d.paste(hostile)
	d.send(tea.KeyPressMsg{Code: 0x202e, Text: "\u202e"}, tea.KeyPressMsg{Code: 'a', Text: "\x1b[2Ja\r"})
	got := at[*identify](d).input.Value()
	if unsafeIn(got) != "" || strings.Contains(got, "evil.example") {
		t.Fatalf("the field holds %q", got)
	}
	if !strings.Contains(got, "click") || !strings.HasSuffix(got, "a ") {
		t.Fatalf("the text around the sequences is lost: %q", got)
	}
	d.view() // checks the view
	d.keys("enter")
	at[*methods](d) // a decoy: nothing says the name is odd
	d.view()
}

// TestStoredHostileText plants what the flows would refuse to store (a
// migration or a directory can still bring it) and walks the screens that
// show stored text.
func TestStoredHostileText(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.exec(t, "UPDATE users SET display_name = ? WHERE username = 'alice'", "Alice "+hostile)
	h.exec(t, "UPDATE methods SET destination = ? WHERE kind = 'email' AND user_id = (SELECT id FROM users WHERE username = 'carol')",
		"carol@example.com"+hostile)
	h.exec(t, "INSERT INTO outbox (kind, channel, destination, subject, body, state, created_at) VALUES ('notification', 'email', ?, ?, ?, 'sent', 0)",
		"x@example.com"+hostile, "Subject "+hostile, "Body "+hostile)

	d := newDriver(t, h, Options{Mode: ModeDemo})
	views := []string{d.view()}
	// alice's name goes into the code message, which the outbox shows.
	d.startReset("alice")
	d.sendEmailCode()
	d.tick(0)
	views = append(views, d.view())
	d.keys("esc", "esc", "esc")
	// carol's stored address is on her overview.
	d.signIn(3, "carol")
	at[*overview](d)
	views = append(views, d.view())
	d.keys("esc")
	// A custom security question.
	h.SetPolicy(t, "methods_allowed", "email,sms,questions")
	h.SetPolicy(t, "methods_required", "2")
	sid, err := h.Svc.SignIn(ctx, "carol", testPassword, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.RegisterQuestions(ctx, sid.ID, []flows.QuestionAnswer{
		{Question: "Question one here?", Answer: "one one"}, {Question: "Question two here?", Answer: "two two"},
		{Question: "Question three here?", Answer: "three three"}}); err != nil {
		t.Fatal(err)
	}
	h.exec(t, "UPDATE question_answers SET question = question || ?", hostile)
	d.startReset("carol")
	d.chooseItem("Email me a code")
	d.typeText(h.Inbox.LastCode(t, h.storable("carol@example.com"+hostile)))
	d.keys("enter")
	d.chooseItem("Answer my security questions")
	at[*answerQuestions](d)
	views = append(views, d.view())
	for _, sz := range [][2]int{{40, 12}, {120, 40}, {300, 100}} {
		d.resize(sz[0], sz[1])
		views = append(views, d.view())
	}
	for i, v := range views {
		if strings.Contains(v, "evil.example") || strings.Contains(v, "[2J") {
			t.Fatalf("view %d holds the payload:\n%s", i, v)
		}
	}
	d.ctrlOAt(60)
}

// TestStoredHostileHelpdesk: a helpdesk contact the policy would refuse
// makes the stored policy invalid; the dead end still draws safely.
func TestStoredHostileHelpdesk(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{hostile, "https://help.example.org/\u202eevil", "help\u202e@example.org"} {
		h.exec(t, "UPDATE policy SET value = ? WHERE key = 'helpdesk_contact'", v)
		d := kiosk(t, h)
		d.startReset("dave")
		at[*deadEndScreen](d)
		d.see("Please contact your helpdesk")
		if strings.Contains(d.view(), "evil.example") {
			t.Fatal(d.view())
		}
	}
}

// ctrlOAt toggles the demo outbox at a narrow width and checks both views.
func (d *driver) ctrlOAt(width int) {
	d.t.Helper()
	d.resize(width, 20)
	if strings.Contains(d.view(), "Outbox") {
		d.t.Fatalf("the outbox takes a narrow window unasked:\n%s", d.view())
	}
	d.keys("ctrl+o")
	if v := d.view(); !strings.Contains(v, "Outbox") || !strings.Contains(v, "ctrl+o goes back to the screen") {
		d.t.Fatalf("ctrl+o does not show the outbox:\n%s", v)
	}
	d.keys("ctrl+o")
	if v := d.view(); strings.Contains(v, "ctrl+o goes back") {
		d.t.Fatalf("ctrl+o does not go back:\n%s", v)
	}
}
