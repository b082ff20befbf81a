package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// registerQuestions picks questions from the catalogue (or custom ones) and
// takes an answer for each. The questions start filled in from the
// catalogue, each a different one; typing in a question replaces it and
// searches the catalogue, and the match shown under it is taken with → (at
// the end of the text) or ctrl+e.
type registerQuestions struct {
	e         *env
	sessionID string
	n         int
	catalogue []string
	questions []textinput.Model
	// filled is on while a question is still the one filled in.
	filled  []prefill
	answers []textinput.Model
	focus   int
	// pick is which of the focused question's matches is shown.
	pick    int
	req     request
	pending bool
	err     string
}

func newRegisterQuestions(e *env, sessionID string, n int) *registerQuestions {
	s := &registerQuestions{e: e, sessionID: sessionID, n: n, catalogue: flows.Questions(e.p)}
	for i := 0; i < n; i++ {
		// The hints are written at each draw, in the visit's language.
		q := newInput(e, "", limitQuestion, false)
		fill := prefill{}
		if i < len(s.catalogue) {
			q.SetValue(s.catalogue[i])
			q.CursorEnd()
			fill.on = true
		}
		s.questions = append(s.questions, q)
		s.filled = append(s.filled, fill)
		s.answers = append(s.answers, newInput(e, "", limitAnswer, true))
	}
	if n > 0 {
		s.focus = max(s.nextNeeding(0), 0)
		s.field(s.focus).Focus()
	}
	return s
}

func (s *registerQuestions) title() string { return s.e.p.T("info.title.questions") }
func (s *registerQuestions) typing() bool  { return true }

func (s *registerQuestions) help() []key.Binding {
	k := s.e.keys
	enter := k.Select
	enter.SetHelp("enter", "key.info.next")
	if flows.CheckQuestions(s.values()) == nil {
		enter.SetHelp("enter", "key.info.save")
	}
	b := []key.Binding{enter, k.NextField, k.Back}
	if s.focus%2 == 0 {
		if ms := s.matches(s.focus / 2); len(ms) > 0 {
			b = append(b, k.AcceptSuggestion)
			if len(ms) > 1 {
				b = append(b, k.NextSuggestion)
			}
		}
	}
	return b
}

// field returns the input with focus index i: even indexes are questions,
// odd ones answers.
func (s *registerQuestions) field(i int) *textinput.Model {
	if i%2 == 0 {
		return &s.questions[i/2]
	}
	return &s.answers[i/2]
}

func (s *registerQuestions) setFocus(i int) {
	s.field(s.focus).Blur()
	s.focus, s.pick = (i+2*s.n)%(2*s.n), 0
	s.field(s.focus).Focus()
}

func (s *registerQuestions) move(delta int) { s.setFocus(s.focus + delta) }

// needs reports whether field i still needs input: a question left empty,
// an answer shorter than an answer may be.
func (s *registerQuestions) needs(i int) bool {
	if i%2 == 0 {
		return flows.NormaliseQuestion(s.questions[i/2].Value()) == ""
	}
	return utf8.RuneCountInString(flows.NormaliseAnswer(s.answers[i/2].Value())) < flows.MinAnswerLength
}

// nextNeeding is the first field from index from on (coming round to the
// top) that needs input, or -1 when none does.
func (s *registerQuestions) nextNeeding(from int) int {
	for k := range 2 * s.n {
		if i := (from + k) % (2 * s.n); s.needs(i) {
			return i
		}
	}
	return -1
}

// focusOn puts the focus on the field a refusal names.
func (s *registerQuestions) focusOn(err error) {
	var qe *flows.QuestionError
	if errors.As(err, &qe) && qe.Index < s.n {
		i := 2 * qe.Index
		if qe.Answer {
			i++
		}
		s.setFocus(i)
	}
}

// matches lists the catalogue questions holding every word typed in
// question i (in any case), without those the other questions already ask
// and without the text itself. A question still filled in is no search.
func (s *registerQuestions) matches(i int) []string {
	typed := s.questions[i].Value()
	words := strings.Fields(strings.ToLower(typed))
	if s.filled[i].on || len(words) == 0 {
		return nil
	}
	taken := map[string]bool{flows.NormaliseAnswer(typed): true}
	for j, q := range s.questions {
		if j != i {
			taken[flows.NormaliseAnswer(q.Value())] = true
		}
	}
	var out []string
	for _, c := range s.catalogue {
		lc := strings.ToLower(c)
		if taken[flows.NormaliseAnswer(c)] || slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(lc, w) }) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (s *registerQuestions) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case savedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		if msg.err != nil {
			s.err = sentence(s.e, msg.err)
			s.focusOn(msg.err)
			return s, nil
		}
		return s, backToOverview(say("info.saved.questions", nil))
	case tea.KeyPressMsg:
		k := s.e.keys
		switch {
		case key.Matches(msg, k.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, k.NextField), key.Matches(msg, k.Down):
			s.move(1)
			return s, nil
		case key.Matches(msg, k.PrevField), key.Matches(msg, k.Up):
			s.move(-1)
			return s, nil
		case key.Matches(msg, k.Select):
			return s, s.enter()
		}
		if s.focus%2 == 0 && s.suggestionKey(msg) {
			return s, nil
		}
	}
	if s.focus%2 == 1 {
		f := &s.answers[s.focus/2]
		var cmd tea.Cmd
		*f, cmd = f.Update(msg)
		return s, cmd
	}
	i := s.focus / 2
	before := s.questions[i].Value()
	cmd := s.filled[i].update(&s.questions[i], msg)
	if s.questions[i].Value() != before {
		s.pick = 0
	}
	return s, cmd
}

// suggestionKey takes the keys of the suggestion under the focused
// question: → at the end of the text or ctrl+e uses it, ctrl+n shows the
// next. It reports whether it took the key.
func (s *registerQuestions) suggestionKey(msg tea.KeyPressMsg) bool {
	i := s.focus / 2
	q := &s.questions[i]
	ms := s.matches(i)
	if len(ms) == 0 {
		return false
	}
	atEnd := msg.String() == "right" && q.Position() == len([]rune(q.Value()))
	switch {
	case key.Matches(msg, s.e.keys.AcceptSuggestion) || atEnd:
		q.SetValue(ms[s.pick%len(ms)])
		q.CursorEnd()
		s.pick = 0
		return true
	case key.Matches(msg, s.e.keys.NextSuggestion):
		s.pick = (s.pick + 1) % len(ms)
		return true
	}
	return false
}

// enter saves once every question and answer would be accepted, from any
// field. Until then it moves on to the next field that needs input, or
// stays on this one, saying why, when it is the one.
func (s *registerQuestions) enter() tea.Cmd {
	err := flows.CheckQuestions(s.values())
	if err == nil {
		return s.submit()
	}
	s.err = ""
	if s.needs(s.focus) {
		s.err = s.fieldNeed(s.focus)
		return nil
	}
	if next := s.nextNeeding(s.focus + 1); next >= 0 {
		s.setFocus(next)
		return nil
	}
	// Every field has something, and still the set is refused (a question
	// asked twice, an answer given twice): say why, at the field.
	s.err = sentence(s.e, err)
	s.focusOn(err)
	return nil
}

// fieldNeed says what field i needs.
func (s *registerQuestions) fieldNeed(i int) string {
	p := s.e.p
	if i%2 == 0 {
		return p.F("info.questions.needs_question", locale.Args{"Number": i/2 + 1})
	}
	return p.F("info.questions.answer_length", locale.Args{"Number": i/2 + 1,
		"Min": flows.MinAnswerLength, "Max": flows.MaxAnswerLength})
}

func (s *registerQuestions) values() []flows.QuestionAnswer {
	qas := make([]flows.QuestionAnswer, s.n)
	for i := range qas {
		qas[i] = flows.QuestionAnswer{Question: s.questions[i].Value(), Answer: s.answers[i].Value()}
	}
	return qas
}

func (s *registerQuestions) submit() tea.Cmd {
	if s.pending {
		return nil
	}
	qas := s.values()
	e, id, seq := s.e, s.sessionID, s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg { return savedMsg{seq: seq, err: e.svc.RegisterQuestions(e.ctx, id, qas)} }
}

func (s *registerQuestions) view(width int) string {
	// A blank line between questions, while the window is tall enough.
	if v := s.layout(width, "\n"); lipgloss.Height(v) <= s.e.bodyHeight || s.e.bodyHeight == 0 {
		return v
	}
	return s.layout(width, "")
}

// questionIndent is where a question's text starts: after its number
// ("1. ") and the field's prompt ("› ").
const questionIndent = 5

func (s *registerQuestions) layout(width int, gap string) string {
	st, p := s.e.st, s.e.p
	var b strings.Builder
	b.WriteString(wrap(st.Muted.Render(p.F("info.questions.intro",
		locale.Args{"Min": flows.MinAnswerLength, "Max": flows.MaxAnswerLength})), width) + "\n")
	textW := max(width-questionIndent, 8)
	pad := strings.Repeat(" ", questionIndent)
	for i := 0; i < s.n; i++ {
		label := st.Input.Label
		if s.focus/2 == i {
			label = st.Input.FocusedLabel
		}
		b.WriteString(gap + label.Render(fmt.Sprintf("%-3s", fmt.Sprintf("%d.", i+1))))
		placeholder(&s.questions[i], p.T("info.questions.search"))
		placeholder(&s.answers[i], p.T("info.questions.answer"))
		if s.focus == 2*i {
			fitInput(&s.questions[i], textW-1)
			b.WriteString(s.questions[i].View() + "\n")
			if ms := s.matches(i); len(ms) > 0 {
				more := p.T("info.questions.use_match")
				if len(ms) > 1 {
					more = p.F("info.questions.use_match_more", locale.Args{"Number": s.pick%len(ms) + 1, "Total": len(ms)})
				}
				b.WriteString(indent(wrap(st.Body.Render("↳ "+ms[s.pick%len(ms)]), textW), pad) + "\n")
				b.WriteString(indent(wrap(st.Muted.Render("  "+more), textW), pad) + "\n")
			} else if s.filled[i].on {
				b.WriteString(pad + st.Muted.Render(p.T("info.questions.prefilled")) + "\n")
			}
		} else {
			// The whole question, wrapped under itself, not a field's window.
			text := wrap(st.Body.Render(sanitize.String(s.questions[i].Value())), textW)
			if s.needs(2 * i) {
				text = st.Muted.Render(p.T("info.questions.none_yet"))
			}
			b.WriteString("  " + strings.TrimPrefix(indent(text, pad), pad) + "\n")
		}
		fitInput(&s.answers[i], min(40, textW))
		b.WriteString("   " + s.answers[i].View() + "\n")
	}
	if s.pending {
		b.WriteString("\n" + st.Muted.Render("⋯ "+p.T("info.saving")))
	}
	if s.err != "" {
		b.WriteString("\n" + wrap(st.Error.Render(s.err), width))
	}
	return b.String()
}
