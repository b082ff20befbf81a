package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// answerQuestions asks the drawn security questions of a journey.
type answerQuestions struct {
	e       *env
	j       *journey
	qs      []string
	inputs  []textinput.Model
	focus   int
	req     request
	pending bool
	err     string
}

func newAnswerQuestions(e *env, j *journey, qs []string) *answerQuestions {
	s := &answerQuestions{e: e, j: j, qs: qs}
	for range qs {
		s.inputs = append(s.inputs, newInput(e, "", limitAnswer, true))
	}
	if len(s.inputs) > 0 {
		s.inputs[0].Focus()
	}
	return s
}

func (s *answerQuestions) title() string {
	return s.e.p.F("code.title", locale.Args{"Method": s.e.p.T("method.questions.label")})
}

func (s *answerQuestions) typing() bool { return true }

func (s *answerQuestions) help() []key.Binding {
	return []key.Binding{s.e.keys.NextField, s.e.keys.Select, s.e.keys.Back}
}

func (s *answerQuestions) setFocus(i int) {
	s.inputs[s.focus].Blur()
	s.focus = (i + len(s.inputs)) % len(s.inputs)
	s.inputs[s.focus].Focus()
}

func (s *answerQuestions) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case verifiedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		if !errors.Is(msg.err, flows.ErrSlowDown) {
			for i := range s.inputs {
				s.inputs[i].SetValue("")
			}
			s.setFocus(0)
		}
		return s, afterProof(s.e, s.j, msg.p, msg.err, &s.err)
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, s.e.keys.NextField), key.Matches(msg, s.e.keys.Down):
			s.setFocus(s.focus + 1)
			return s, nil
		case key.Matches(msg, s.e.keys.PrevField), key.Matches(msg, s.e.keys.Up):
			s.setFocus(s.focus - 1)
			return s, nil
		case key.Matches(msg, s.e.keys.Select):
			if s.focus < len(s.inputs)-1 {
				s.setFocus(s.focus + 1)
				return s, nil
			}
			return s, s.submit()
		}
	}
	var cmd tea.Cmd
	s.inputs[s.focus], cmd = s.inputs[s.focus].Update(msg)
	return s, cmd
}

func (s *answerQuestions) submit() tea.Cmd {
	if s.pending || s.e.waiting() {
		return nil
	}
	answers := make([]string, len(s.inputs))
	for i, in := range s.inputs {
		answers[i] = in.Value()
		if strings.TrimSpace(answers[i]) == "" {
			s.err = s.e.p.T("questions.empty")
			return nil
		}
	}
	e, flowID, seq := s.e, s.j.flowID, s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg {
		p, err := e.svc.VerifyAnswers(e.ctx, flowID, answers)
		return verifiedMsg{seq: seq, p: p, err: err}
	}
}

func (s *answerQuestions) view(width int) string {
	var b strings.Builder
	b.WriteString(s.e.st.Body.Render(s.e.p.T("questions.intro")) + "\n")
	for i, q := range s.qs {
		label := s.e.st.Input.Label
		if i == s.focus {
			label = s.e.st.Input.FocusedLabel
		}
		b.WriteString("\n" + label.Render(s.e.p.F("questions.label", locale.Args{"Number": s.e.p.Number(i + 1),
			"Question": sanitize.Line(flows.Question(s.e.p, q), max(width-4, 8))})) + "\n")
		s.inputs[i].Placeholder = styles.Placeholder(s.e.p.T("questions.placeholder"))
		s.inputs[i].SetWidth(min(40, max(width-4, 8)))
		b.WriteString(s.inputs[i].View() + "\n")
	}
	if s.pending {
		b.WriteString("\n" + s.e.st.Muted.Render("⋯ "+s.e.p.T("journey.checking")))
	}
	if s.err != "" {
		b.WriteString("\n" + s.e.st.Error.Render(s.err))
	}
	return wrap(b.String(), width)
}
