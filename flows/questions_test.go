package flows

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

func TestQuestionCatalogue(t *testing.T) {
	src := locale.Embedded().Source()
	ids := QuestionIDs()
	qs := Questions(src)
	if len(qs) < 24 || len(qs) != len(ids) {
		t.Fatalf("got %d questions for %d IDs, want at least 24", len(qs), len(ids))
	}
	if qs[0] != "What was the name of your first stuffed animal?" {
		t.Errorf("first question = %q: the catalogue's order changed", qs[0])
	}
	seen := make(map[string]bool, len(qs))
	for i, q := range qs {
		if !src.Has(ids[i]) {
			t.Errorf("%s is not in the English catalogue", ids[i])
		}
		if !strings.HasSuffix(q, "?") {
			t.Errorf("question does not end with '?': %q", q)
		}
		if n := utf8.RuneCountInString(q); n > 80 {
			t.Errorf("question is %d characters, too long for a kiosk line: %q", n, q)
		}
		if q != NormaliseQuestion(q) {
			t.Errorf("question is not stored as written: %q", q)
		}
		key := strings.ToLower(q)
		if seen[key] {
			t.Errorf("duplicate question: %q", q)
		}
		seen[key] = true
	}
	if QuestionIDs()[0] = "changed"; QuestionIDs()[0] == "changed" {
		t.Error("changing the returned IDs changed the catalogue")
	}
}

// withGerman is the embedded English catalogue and a German one holding
// the messages of de, a YAML file.
func withGerman(t testing.TB, de string) *locale.Catalogue {
	t.Helper()
	en, err := fs.ReadFile(assets.Locales(), "en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locale.Load(fstest.MapFS{"en.yaml": {Data: en}, "de.yaml": {Data: []byte("language.name: Deutsch\n" + de)}})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// oneGermanQuestion translates one catalogue question.
const oneGermanQuestion = "question.first_concert: Welches war das erste Konzert, das Sie besucht haben?\n"

func TestQuestionShownInLanguage(t *testing.T) {
	de := withGerman(t, oneGermanQuestion).Printer("de")
	const concert = "What was the first concert you went to?"
	const german = "Welches war das erste Konzert, das Sie besucht haben?"
	for stored, want := range map[string]string{
		concert: german,
		"  What was the first concert   you went to? ": german,
		"Who was my first concert buddy?":              "Who was my first concert buddy?",
		// Not yet translated: the English fallback, as every message.
		"What was the first dish you learned to cook?": "What was the first dish you learned to cook?",
	} {
		if got := Question(de, stored); got != want {
			t.Errorf("Question(de, %q) = %q, want %q", stored, got, want)
		}
	}
	if got := Question(locale.Embedded().Source(), concert); got != concert {
		t.Errorf("Question(en) = %q", got)
	}
}

func TestQuestionStoredInSource(t *testing.T) {
	cat := withGerman(t, oneGermanQuestion)
	for typed, want := range map[string]string{
		"Welches war das erste Konzert, das Sie besucht haben?":   "What was the first concert you went to?",
		"What was the first concert you went to?":                 "What was the first concert you went to?",
		"Wer war mein erster Chef?":                               "Wer war mein erster Chef?",
		" Welches war das erste  Konzert, das Sie besucht haben?": "What was the first concert you went to?",
	} {
		if got := sourceQuestionIn(cat, typed); got != want {
			t.Errorf("stored %q as %q, want %q", typed, got, want)
		}
	}
}
