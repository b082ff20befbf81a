package flows_test

import (
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
)

// TestRefusalsInLanguage checks that the refusals a person reads are
// catalogue messages: screens write them in the reader's language, the
// English sentence is the one screens always showed, the text for logs and
// the CLI is unchanged, and errors.Is still finds the sentinel.
func TestRefusalsInLanguage(t *testing.T) {
	cat := flows.WithGerman(t,
		"refusal.username.characters: 'Der Benutzername „{{.Name}}“ darf nur Buchstaben, Ziffern und . _ @ - enthalten.'\n"+
			"refusal.answer.length: Antwort {{.Number}} muss {{.Min}} bis {{.Max}} Zeichen lang sein.\n"+
			"refusal.directory.expired: Ihr Passwort ist abgelaufen; wählen Sie „Passwort zurücksetzen“.\n")
	src, de := cat.Source(), cat.Printer("de")
	short := []flows.QuestionAnswer{{Question: "Q one?", Answer: "alpha"}, {Question: "Q two?", Answer: "br"}}
	for _, c := range []struct {
		name     string
		err      error
		sentinel error
		text     string // Error(), for logs and the CLI
		english  string
		german   string
	}{
		{"username", flows.ValidateUsername("al\x1bice"), flows.ErrInvalid,
			`username "al\x1bice" may hold only letters, digits and . _ @ -: invalid`,
			`Username "al\x1bice" may hold only letters, digits and . _ @ -.`,
			`Der Benutzername „al\x1bice“ darf nur Buchstaben, Ziffern und . _ @ - enthalten.`},
		{"invisible", flows.ValidateDisplayName("Ad\u200bmin"), flows.ErrInvalid,
			`display name "Ad<U+200B>min" holds an invisible character (U+200B): invalid`,
			`Display name "Ad<U+200B>min" holds an invisible character (U+200B).`,
			`Display name "Ad<U+200B>min" holds an invisible character (U+200B).`},
		{"answer", flows.CheckQuestions(short), flows.ErrInvalid,
			"answer 2 must be 3–40 characters: invalid",
			"Answer 2 must be 3–40 characters.",
			"Antwort 2 muss 3 bis 40 Zeichen lang sein."},
		{"unlock off", flows.ErrUnlockOff, flows.ErrNotAllowed,
			"unlocking an account without a reset is turned off here; choose Reset password instead: method not allowed",
			"Unlocking an account without a reset is turned off here; choose Reset password instead.",
			"Unlocking an account without a reset is turned off here; choose Reset password instead."},
		{"directory", &flows.DirectoryRefusedError{Reason: ldapdir.PolicyPasswordExpired}, flows.ErrNotAllowed,
			"your password has expired; choose Reset password to set a new one",
			"Your password has expired; choose Reset password to set a new one.",
			"Ihr Passwort ist abgelaufen; wählen Sie „Passwort zurücksetzen“."},
	} {
		var refusal *locale.Error
		if !errors.As(c.err, &refusal) {
			t.Errorf("%s: %v carries no message a person reads in their language", c.name, c.err)
			continue
		}
		if !errors.Is(c.err, c.sentinel) {
			t.Errorf("%s: %v does not match %v", c.name, c.err, c.sentinel)
		}
		if got := c.err.Error(); got != c.text {
			t.Errorf("%s: Error() = %q, want %q", c.name, got, c.text)
		}
		if got := refusal.In(src); got != c.english {
			t.Errorf("%s: in English %q, want %q", c.name, got, c.english)
		}
		if got := refusal.In(de); got != c.german {
			t.Errorf("%s: in German %q, want %q", c.name, got, c.german)
		}
	}
}
