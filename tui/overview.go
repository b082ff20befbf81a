package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// overview is the security-info screen: each method with its status, and
// the actions on it.
type overview struct {
	e         *env
	sessionID string
	ov        *flows.Overview
	menu      menu
	actions   []func() tea.Cmd
	req       request
	err       string
	note      string
	confirm   *overviewConfirm
	// leaving is set while "leave with registration due?" waits for y/n.
	leaving bool
}

// overviewConfirm is a yes/no question the overview waits on before an
// action that cannot be undone: a removal, or new recovery codes, which
// void the ones the person has.
type overviewConfirm struct {
	// warning, when set, says what is lost, above the question.
	warning, question string
	run               func() tea.Cmd
}

func newOverview(e *env, sessionID string) *overview {
	return &overview{e: e, sessionID: sessionID}
}

type overviewMsg struct {
	ov  flows.Overview
	err error
}

// refreshMsg asks the overview to load again after a change.
type refreshMsg struct{ note string }

func (s *overview) init() tea.Cmd {
	e, id := s.e, s.sessionID
	return func() tea.Msg {
		ov, err := e.svc.Overview(e.ctx, id)
		return overviewMsg{ov: ov, err: err}
	}
}

func (s *overview) close() { s.e.svc.SignOut(s.sessionID) }

func (s *overview) title() string { return "Your security info" }

func (s *overview) help() []key.Binding {
	if s.confirm != nil || s.leaving {
		return []key.Binding{s.e.keys.Confirm, s.e.keys.Cancel}
	}
	back := s.e.keys.Back
	if s.ov != nil && s.ov.Due {
		back.SetHelp(back.Help().Key, "finish later")
	}
	return []key.Binding{s.e.keys.Up, s.e.keys.Down, s.e.keys.Select, back}
}

type removedMsg struct {
	seq int
	m   policy.Method
	err error
}

type confirmedMsg struct {
	seq int
	err error
}

// postponedMsg reports that a person left with their registration due.
type postponedMsg struct {
	seq int
	err error
}

func (s *overview) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case overviewMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, "Can't continue", sentence(s.e, msg.err))
		}
		ov := msg.ov
		s.ov = &ov
		s.build()
		return s, nil
	case refreshMsg:
		s.note = msg.note
		return s, s.init()
	case removedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		if msg.err != nil {
			s.err = sentence(s.e, msg.err)
			return s, nil
		}
		note := s.e.p.T(msg.m.Describe().Noun) + " removed."
		if d := msg.m.Describe(); d.MaxRegistered > 1 {
			note = "All your " + s.e.p.T(d.Plural) + " removed."
		}
		return s, func() tea.Msg { return refreshMsg{note: note} }
	case confirmedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		if msg.err != nil {
			s.err = sentence(s.e, msg.err)
			return s, nil
		}
		return s, func() tea.Msg { return refreshMsg{note: "Thanks — your security info is confirmed."} }
	case postponedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		if msg.err != nil {
			s.err = sentence(s.e, msg.err)
			return s, nil
		}
		return s, home
	case tea.KeyPressMsg:
		if s.leaving {
			if answerLeave(s.e, msg, &s.leaving) {
				e, id, seq := s.e, s.sessionID, s.req.next(s.e)
				return s, func() tea.Msg { return postponedMsg{seq: seq, err: e.svc.PostponeRegistration(e.ctx, id)} }
			}
			return s, nil
		}
		if s.confirm != nil {
			switch {
			case key.Matches(msg, s.e.keys.Confirm):
				run := s.confirm.run
				s.confirm = nil
				return s, run()
			case key.Matches(msg, s.e.keys.Cancel), key.Matches(msg, s.e.keys.Back):
				s.confirm = nil
			}
			return s, nil
		}
		if key.Matches(msg, s.e.keys.Back) {
			if s.ov != nil && s.ov.Due {
				// Required means required: leaving is asked about, and
				// counted, never taken as done.
				s.leaving = true
				return s, nil
			}
			return s, home
		}
		if s.ov == nil || len(s.actions) == 0 {
			return s, nil
		}
		i, ok := s.menu.update(s.e, msg)
		if !ok {
			return s, nil
		}
		s.err, s.note = "", ""
		return s, s.actions[i]()
	}
	return s, nil
}

// build lays out the actions the overview offers for the methods policy allows.
func (s *overview) build() {
	s.menu.items, s.menu.hints, s.actions = nil, nil, nil
	add := func(label, hint string, fn func() tea.Cmd) {
		s.menu.items = append(s.menu.items, label)
		s.menu.hints = append(s.menu.hints, hint)
		s.actions = append(s.actions, fn)
	}
	e, id := s.e, s.sessionID
	for _, ms := range s.ov.Methods {
		ms := ms
		if !ms.Allowed && !ms.Registered {
			continue
		}
		verb := "Add"
		if ms.Registered {
			verb = "Change"
		}
		noun := e.p.T(ms.Method.Describe().Inline)
		// Each method registers on its own screen; the words come from the
		// method table.
		switch ch := ms.Method.Describe().Channel; {
		case ch != policy.ChannelNone:
			suggest := s.ov.SuggestedEmail
			if ch == policy.ChannelSMS {
				suggest = s.ov.SuggestedPhone
			}
			if ms.Registered {
				suggest = ms.Detail
			}
			add(verb+" "+noun, "", func() tea.Cmd {
				return push(newRegisterContact(e, id, ms.Method, suggest))
			})
		case ms.Method == policy.Authenticator:
			add(verb+" "+noun, "", func() tea.Cmd { return push(newEnrolAuthenticator(e, id)) })
		case ms.Method == policy.RecoveryCodes:
			label := "Get " + noun
			if ms.Registered {
				label = "Get new " + noun
			}
			add(label, "", func() tea.Cmd {
				if !ms.Registered {
					return push(newRecoveryCodes(e, id))
				}
				s.confirm = &overviewConfirm{warning: "The recovery codes you have now stop working at once.",
					question: "Get new recovery codes?", run: func() tea.Cmd { return push(newRecoveryCodes(e, id)) }}
				return nil
			})
		case ms.Method == policy.SSHKey:
			label := "Add an " + noun
			if ms.Registered {
				label = "Add or remove " + noun + "s"
			}
			add(label, "", func() tea.Cmd { return push(newSSHKeys(e, id)) })
		case ms.Method == policy.Questions:
			add(verb+" "+noun, "", func() tea.Cmd {
				return push(newRegisterQuestions(e, id, s.ov.QuestionsToRegister))
			})
		}
		if ms.Registered {
			what := noun
			if ms.Method.Describe().MaxRegistered > 1 {
				// One of several goes on its own screen; here, all of them.
				what = "all " + noun + "s"
			}
			add("Remove "+what, "", func() tea.Cmd {
				m := ms.Method
				s.confirm = &overviewConfirm{warning: s.removalWarning(m),
					question: "Remove " + what + "?", run: func() tea.Cmd {
						seq := s.req.next(e)
						return func() tea.Msg { return removedMsg{seq: seq, m: m, err: e.svc.RemoveMethod(e.ctx, id, m)} }
					}}
				return nil
			})
		}
	}
	if s.ov.CanConfirm {
		add("Confirm my info is right", "", func() tea.Cmd {
			seq := s.req.next(s.e)
			return func() tea.Msg { return confirmedMsg{seq: seq, err: e.svc.ConfirmInfo(e.ctx, id)} }
		})
	}
	// While registration is due, Done is not offered: leaving is a
	// postponement, asked about first.
	if s.ov.Due {
		add("Finish later and sign out", "", func() tea.Cmd {
			s.leaving = true
			return nil
		})
	} else {
		add("Done", "", func() tea.Cmd { return home })
	}
	if s.menu.cursor >= len(s.menu.items) {
		s.menu.cursor = 0
	}
}

// removalWarning says when a removal takes away the last way the person
// has to prove it's them on its own (security questions never count
// alone); otherwise it is empty.
func (s *overview) removalWarning(m policy.Method) string {
	for _, ms := range s.ov.Methods {
		if ms.Registered && ms.Method != m && ms.Method.Describe().CountsAlone {
			return ""
		}
	}
	return "It's the last way you have to prove it's you: without it you can't reset your password yourself."
}

func (s *overview) view(width int) string {
	st := s.e.st
	if s.ov == nil {
		return st.Muted.Render("⋯ Loading your security info…")
	}
	var b strings.Builder
	if s.ov.Due {
		b.WriteString(wrap(st.Warning.Render(sanitize.String(s.ov.DueReason))+" "+
			st.Muted.Render("This is required: Done appears once it is met."), width) + "\n\n")
	}
	for _, ms := range s.ov.Methods {
		badge := st.Badge.Warn.Render("not set up")
		line := fmt.Sprintf("%-22s ", s.e.p.T(ms.Label))
		if ms.Registered {
			badge = st.Badge.OK.Render("set up")
		}
		line += badge
		// The detail gets what is left of the line: the address first,
		// then when it was confirmed if that fits too.
		room := width - lipgloss.Width(line) - 2
		detail := sanitize.String(ms.Detail)
		if detail == "set up" {
			detail = "" // the badge says it already
		}
		if ms.Registered && room > 0 {
			confirmed := ""
			if !ms.ConfirmedAt.IsZero() && ms.ConfirmedAt.Unix() > 0 {
				confirmed = "confirmed " + ms.ConfirmedAt.Local().Format("2 Jan 2006")
				if detail != "" {
					confirmed = " · " + confirmed
				}
			}
			if lipgloss.Width(detail+confirmed) <= room {
				line += "  " + detail + st.Muted.Render(confirmed)
			} else if detail != "" {
				line += "  " + sanitize.Line(detail, room)
			}
		}
		b.WriteString(line + "\n")
	}
	if s.ov.CanReset {
		b.WriteString("\n" + wrap(st.Success.Render("You can reset your password yourself."), width) + "\n\n")
	} else if !s.ov.Due {
		// When registration is due, the reason at the top already says this.
		b.WriteString("\n" + wrap(st.Warning.Render("Set up "+flows.Ways(s.ov.Required)+
			" to prove it's you, so you can reset your password yourself."), width) + "\n\n")
	} else {
		b.WriteString("\n")
	}
	// A question takes the menu's place, under the methods it is about;
	// in a short window it stays in view (blocking).
	if s.leaving {
		b.WriteString(wrap(st.Warning.Render(s.leaveQuestion()), width) + "\n")
	} else if s.confirm != nil {
		if s.confirm.warning != "" {
			b.WriteString(wrap(st.Warning.Render(s.confirm.warning), width) + "\n")
		}
		b.WriteString(st.Warning.Render(s.confirm.question+" (y/n)") + "\n")
	} else {
		b.WriteString(s.menu.view(s.e, width))
	}
	if s.note != "" {
		b.WriteString("\n\n" + st.Success.Render(s.note))
	}
	if s.err != "" {
		b.WriteString("\n\n" + st.Error.Render(s.err))
	}
	return b.String()
}

// leaveQuestion asks before someone leaves with their registration due,
// saying what that leaves them with.
func (s *overview) leaveQuestion() string {
	if s.ov.CanReset {
		return "Leave without confirming your info? You will be asked again the next time you sign in. (y/n)"
	}
	return "Leave without finishing? Until you do, you can't reset your password yourself, and you will be " +
		"asked again the next time you sign in. (y/n)"
}
