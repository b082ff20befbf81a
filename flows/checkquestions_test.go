package flows_test

import (
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
)

// TestCheckQuestions checks that a refused set names the field at fault,
// so a form can put the cursor on it, and still wraps ErrInvalid.
func TestCheckQuestions(t *testing.T) {
	set := func(a1, a2, a3 string) []flows.QuestionAnswer {
		return []flows.QuestionAnswer{{Question: "Q one?", Answer: a1}, {Question: "Q two?", Answer: a2}, {Question: "Q three?", Answer: a3}}
	}
	if err := flows.CheckQuestions(set("alpha", "bravo", "charlie")); err != nil {
		t.Fatalf("a good set: %v", err)
	}
	sameQ := set("alpha", "bravo", "charlie")
	sameQ[2].Question = " q  ONE? "
	emptyQ := set("alpha", "bravo", "charlie")
	emptyQ[1].Question = "   "
	for name, c := range map[string]struct {
		qas    []flows.QuestionAnswer
		index  int
		answer bool
		msg    string
	}{
		"short answer":   {set("alpha", "br", "charlie"), 1, true, "answer 2 must be 3–40 characters: invalid"},
		"same answer":    {set("alpha", "bravo", " BRAVO"), 2, true, "answer 3 repeats another answer: invalid"},
		"same question":  {sameQ, 2, false, "question 3 is asked twice: invalid"},
		"empty question": {emptyQ, 1, false, "question 2 must be 1–200 printable characters: invalid"},
	} {
		err := flows.CheckQuestions(c.qas)
		var qe *flows.QuestionError
		if !errors.As(err, &qe) || !errors.Is(err, flows.ErrInvalid) || qe.Index != c.index || qe.Answer != c.answer || err.Error() != c.msg {
			t.Errorf("%s: %v (%+v)", name, err, qe)
		}
	}
}
