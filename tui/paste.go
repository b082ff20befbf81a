package tui

import (
	"unicode/utf8"

	"charm.land/bubbles/v2/textinput"
)

// fieldScreen is a screen that can say which text field has the focus, so
// the root can refuse a paste longer than that field takes instead of
// letting the field cut it short: a cut password would differ from the
// one in the person's password manager.
type fieldScreen interface {
	focusedField() *textinput.Model
}

// pasteFits reports whether text fits the focused field of the current
// screen beside what it already holds.
func (m *Model) pasteFits(text string) bool {
	f, ok := m.top().(fieldScreen)
	if !ok {
		return true
	}
	in := f.focusedField()
	if in == nil || in.CharLimit <= 0 {
		return true
	}
	return utf8.RuneCountInString(in.Value())+utf8.RuneCountInString(text) <= in.CharLimit
}

func (s *identify) focusedField() *textinput.Model { return &s.input }

func (s *codeEntry) focusedField() *textinput.Model { return &s.input }

func (s *enrolAuthenticator) focusedField() *textinput.Model { return &s.code }

func (s *newPassword) focusedField() *textinput.Model {
	if s.focus == 0 {
		return &s.pw
	}
	return &s.confirm
}

func (s *signIn) focusedField() *textinput.Model {
	if s.focus == 0 {
		return &s.user
	}
	return &s.password
}

func (s *registerContact) focusedField() *textinput.Model {
	if !s.sent.active() {
		return &s.dest
	}
	return &s.code
}

func (s *registerQuestions) focusedField() *textinput.Model {
	if s.n == 0 {
		return nil
	}
	return s.field(s.focus)
}

func (s *answerQuestions) focusedField() *textinput.Model {
	if len(s.inputs) == 0 {
		return nil
	}
	return &s.inputs[s.focus]
}
