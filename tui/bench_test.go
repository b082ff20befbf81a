package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
)

// benchLanguages are the languages the benchmarks draw in: the source, and
// one with wide characters and catalogue lookups on every word.
var benchLanguages = []string{"en", "ja"}

// benchScreens opens each screen at 120×40, in the demo (outbox panel
// beside the screen, the busiest layout), in a language.
func benchScreens(b *testing.B, lang string) map[string]*driver {
	b.Helper()
	open := map[string]func(d *driver){
		"welcome":  func(d *driver) {},
		"identify": func(d *driver) { d.keys("enter"); d.typeText("alice") },
		"methods":  func(d *driver) { d.startReset("carol") },
		"code": func(d *driver) {
			d.startReset("alice")
			d.sendEmailCode()
			d.typeText("1234")
		},
		"questions": func(d *driver) {
			d.h.SetPolicy(d.t, "methods_allowed", "email,sms,questions")
			sid, err := d.h.Svc.SignIn(b.Context(), "carol", testPassword, "b")
			if err != nil {
				d.t.Fatal(err)
			}
			_ = d.h.Svc.RegisterQuestions(b.Context(), sid.ID, []flows.QuestionAnswer{
				{Question: "What was the name of your first pet?", Answer: "rex rex"},
				{Question: "In what city were you born?", Answer: "springfield"},
				{Question: "What was your first car?", Answer: "a blue one"}})
			d.h.SetPolicy(d.t, "methods_required", "2")
			d.startReset("carol")
			d.chooseItem("Email me a code")
			d.typeText(d.h.Inbox.LastCode(d.t, "carol@example.com"))
			d.keys("enter")
			d.chooseItem("Answer my security questions")
			at[*answerQuestions](d)
			d.typeText("rex")
		},
		"new password": func(d *driver) {
			d.signIn(2, "alice")
			d.typeText(newPass)
		},
		"done": func(d *driver) { d.resetAlice(newPass) },
		"sign in": func(d *driver) {
			d.keys("2")
			d.typeText("alice")
			d.keys("tab")
			d.typeText("secret")
		},
		"overview": func(d *driver) { d.signIn(3, "carol") },
		"contact": func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Add email address")
			d.keys("enter")
			at[*registerContact](d)
		},
		"authenticator": func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Add authenticator app")
			at[*enrolAuthenticator](d)
		},
		"authenticator key": func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Add authenticator app")
			d.keys("tab")
		},
		"recovery codes": func(d *driver) {
			d.signIn(3, "erin")
			d.chooseItem("Get recovery codes")
			at[*recoveryCodes](d)
		},
		"register questions": func(d *driver) {
			d.h.SetPolicy(d.t, "methods_allowed", "email,questions")
			d.signIn(3, "erin")
			d.chooseItem("Add security questions")
			at[*registerQuestions](d)
		},
		"dead end": func(d *driver) { d.startReset("dave") },
		"admin": func(d *driver) {
			d.signIn(4, "admin")
			d.chooseItem("Email me a code")
			d.typeText(d.h.Inbox.LastCode(d.t, "admin@example.com"))
			d.keys("enter", "enter")
			d.typeText(d.h.totpNow(d.t, testSecret))
			d.keys("enter")
		},
		"idle countdown": func(d *driver) {
			d.keys("enter")
			d.tick(110 * time.Second)
		},
	}
	out := map[string]*driver{}
	for name, fn := range open {
		h := newHarness(b)
		d := newDriver(b, h, Options{Mode: ModeDemo, IdleTimeout: 2 * time.Minute, Language: lang})
		d.resize(120, 40)
		fn(d)
		d.tick(time.Second) // fill the outbox panel
		out[name] = d
	}
	return out
}

// BenchmarkView draws every screen at 120×40; the target is under 1 ms.
func BenchmarkView(b *testing.B) {
	for _, lang := range benchLanguages {
		for name, d := range benchScreens(b, lang) {
			b.Run(lang+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = d.m.View()
				}
			})
		}
	}
}

// BenchmarkKeystroke is one key on the new-password screen, Update and
// View, as the program does it; the target is under 2 ms. The strength
// estimate runs in a command, off the keystroke's path, as in the program.
func BenchmarkKeystroke(b *testing.B) {
	for _, lang := range benchLanguages {
		b.Run(lang, func(b *testing.B) {
			h := newHarness(b)
			d := newDriver(b, h, Options{Mode: ModeDemo, Language: lang})
			d.resize(120, 40)
			d.signIn(2, "alice")
			d.typeText("plum tractor")
			at[*newPassword](d)
			keys := []tea.KeyPressMsg{{Code: 'x', Text: "x"}, {Code: tea.KeyBackspace}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.m.Update(keys[i%2])
				_ = d.m.View()
				i++
			}
		})
	}
}
