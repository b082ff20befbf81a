package tui

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// TestRefusalsSpeakTheVisitLanguage: a refusal flows did not write for a
// person (its words are the log's, in English) reaches the screen as the
// visit language's general sentence, never as its English words.
func TestRefusalsSpeakTheVisitLanguage(t *testing.T) {
	p := locale.Embedded().Printer("de")
	e := &env{p: p}
	for _, c := range []struct {
		err error
		id  string
	}{
		{fmt.Errorf("set language: %w: %w", flows.ErrInvalid, errors.New("no such language \"tlh\"")), "error.invalid"},
		{fmt.Errorf("clear block: \"x\" is neither an account nor a source: %w", flows.ErrInvalid), "error.invalid"},
		{fmt.Errorf("send code: the method is not offered here: %w", flows.ErrNotAllowed), "error.not_allowed"},
	} {
		if got, want := sentence(e, c.err), p.T(c.id); got != want {
			t.Errorf("%v\nbecame %q, want %q", c.err, got, want)
		}
	}
}
