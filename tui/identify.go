package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// identify asks for the username to reset or unlock: the first step of
// either journey, which go on the same way.
type identify struct {
	e       *env
	kind    journeyKind
	input   textinput.Model
	req     request
	pending bool
	err     string
}

func newIdentify(e *env, kind journeyKind) *identify {
	in := newInput(e, "", limitUsername, false)
	in.Focus()
	return &identify{e: e, kind: kind, input: in}
}

func (s *identify) title() string {
	if s.kind == journeyUnlock {
		return s.e.p.T("identify.title.unlock")
	}
	return s.e.p.T("identify.title.reset")
}

func (s *identify) typing() bool { return true }

func (s *identify) help() []key.Binding {
	return []key.Binding{s.e.keys.Select, s.e.keys.Back}
}

type startedMsg struct {
	seq int
	rs  flows.ResetStart
	err error
}

func (s *identify) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case startedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		if msg.err != nil {
			return s, failure(s.e, journeyPaused(s.kind), msg.err, &s.err)
		}
		j := &journey{kind: s.kind, flowID: msg.rs.FlowID, required: msg.rs.Required, options: msg.rs.Options}
		// Pushed, so that Esc on the method picker comes back here.
		return s, push(newMethods(s.e, j))
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, s.e.keys.Select):
			if s.pending {
				return s, nil
			}
			name := strings.TrimSpace(s.input.Value())
			if name == "" {
				s.err = s.e.p.T("identify.empty")
				return s, nil
			}
			s.pending, s.err = true, ""
			seq, e, start := s.req.next(s.e), s.e, s.e.svc.StartResetFrom
			if s.kind == journeyUnlock {
				start = s.e.svc.StartUnlockFrom
			}
			return s, func() tea.Msg {
				rs, err := start(e.ctx, name, e.origin())
				if err == nil {
					e.outbox.Watch(rs.FlowID)
				}
				return startedMsg{seq: seq, rs: rs, err: err}
			}
		}
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	return s, cmd
}

func (s *identify) view(width int) string {
	var b strings.Builder
	intro := s.e.p.T("identify.intro.reset")
	if s.kind == journeyUnlock {
		intro = s.e.p.T("identify.intro.unlock")
	}
	b.WriteString(s.e.st.Body.Render(intro) + "\n\n")
	b.WriteString(s.e.st.Input.FocusedLabel.Render(s.e.p.T("field.username")) + "\n")
	s.input.Placeholder = styles.Placeholder(s.e.p.T("identify.placeholder"))
	s.input.SetWidth(min(40, max(width-4, 8)))
	b.WriteString(s.input.View() + "\n")
	if s.pending {
		b.WriteString("\n" + s.e.st.Muted.Render(s.e.p.T("identify.pending")))
	}
	if s.err != "" {
		b.WriteString("\n" + s.e.st.Error.Render(s.err))
	}
	return wrap(b.String(), width)
}
