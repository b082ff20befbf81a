package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
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
	// labels are the menu's items, written into it at each draw.
	labels  []phrase
	actions []func() tea.Cmd
	req     request
	err     string
	note    phrase
	confirm *overviewConfirm
	// leaving is set while "leave with registration due?" waits for y/n.
	leaving bool
}

// overviewConfirm is a yes/no question the overview waits on before an
// action that cannot be undone: a removal, or new recovery codes, which
// void the ones the person has.
type overviewConfirm struct {
	// warning, when set, says what is lost, above the question.
	warning, question phrase
	run               func() tea.Cmd
}

// infoWords are the overview's sentences about one method, as catalogue
// IDs. Each is whole for its method: a language may inflect the method's
// noun differently after each verb, or give it a gender the sentence
// agrees with.
type infoWords struct {
	add, change, remove, removeConfirm, removed string
}

// overviewWords holds the words of every method a person registers.
var overviewWords = map[policy.Method]infoWords{
	policy.Email: {"info.add.email", "info.change.email", "info.remove.email",
		"info.remove.email.confirm", "info.removed.email"},
	policy.SMS: {"info.add.sms", "info.change.sms", "info.remove.sms",
		"info.remove.sms.confirm", "info.removed.sms"},
	policy.Authenticator: {"info.add.authenticator", "info.change.authenticator", "info.remove.authenticator",
		"info.remove.authenticator.confirm", "info.removed.authenticator"},
	policy.RecoveryCodes: {"info.get.recovery", "info.get_new.recovery", "info.remove.recovery",
		"info.remove.recovery.confirm", "info.removed.recovery"},
	policy.Questions: {"info.add.questions", "info.change.questions", "info.remove.questions",
		"info.remove.questions.confirm", "info.removed.questions"},
	// Several keys: the change is a screen of its own, the removal takes
	// them all.
	policy.SSHKey: {"info.add.sshkey", "info.change.sshkey", "info.remove.sshkey",
		"info.remove.sshkey.confirm", "info.removed.sshkey"},
}

func newOverview(e *env, sessionID string) *overview {
	return &overview{e: e, sessionID: sessionID}
}

type overviewMsg struct {
	ov  flows.Overview
	err error
}

// refreshMsg asks the overview to load again after a change.
type refreshMsg struct{ note phrase }

func (s *overview) init() tea.Cmd {
	e, id := s.e, s.sessionID
	return func() tea.Msg {
		ov, err := e.svc.Overview(e.ctx, id)
		return overviewMsg{ov: ov, err: err}
	}
}

func (s *overview) close() { s.e.svc.SignOut(s.sessionID) }

func (s *overview) title() string { return s.e.p.T("info.title") }

func (s *overview) help() []key.Binding {
	if s.confirm != nil || s.leaving {
		return []key.Binding{s.e.keys.Confirm, s.e.keys.Cancel}
	}
	back := s.e.keys.Back
	if s.ov != nil && s.ov.Due {
		back.SetHelp(back.Help().Key, "key.info.finish_later")
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
			return s, showDeadEnd(s.e, s.e.p.T("info.cant_continue"), sentence(s.e, msg.err))
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
		note := say(overviewWords[msg.m].removed, nil)
		return s, func() tea.Msg { return refreshMsg{note: note} }
	case confirmedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		if msg.err != nil {
			s.err = sentence(s.e, msg.err)
			return s, nil
		}
		return s, func() tea.Msg { return refreshMsg{note: say("info.confirmed", nil)} }
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
		s.err, s.note = "", phrase{}
		return s, s.actions[i]()
	}
	return s, nil
}

// build lays out the actions the overview offers for the methods policy allows.
func (s *overview) build() {
	s.menu.items, s.menu.hints, s.labels, s.actions = nil, nil, nil, nil
	add := func(label string, fn func() tea.Cmd) {
		s.labels = append(s.labels, say(label, nil))
		s.menu.items = append(s.menu.items, s.e.p.T(label))
		s.menu.hints = append(s.menu.hints, "")
		s.actions = append(s.actions, fn)
	}
	e, id := s.e, s.sessionID
	for _, ms := range s.ov.Methods {
		ms := ms
		words, ok := overviewWords[ms.Method]
		if !ok || !ms.Allowed && !ms.Registered {
			continue
		}
		label := words.add
		if ms.Registered {
			label = words.change
		}
		// Each method registers on its own screen.
		switch ch := ms.Method.Describe().Channel; {
		case ch != policy.ChannelNone:
			suggest := s.ov.SuggestedEmail
			if ch == policy.ChannelSMS {
				suggest = s.ov.SuggestedPhone
			}
			if ms.Registered {
				suggest = ms.Destination
			}
			add(label, func() tea.Cmd {
				return push(newRegisterContact(e, id, ms.Method, suggest))
			})
		case ms.Method == policy.Authenticator:
			add(label, func() tea.Cmd { return push(newEnrolAuthenticator(e, id)) })
		case ms.Method == policy.RecoveryCodes:
			add(label, func() tea.Cmd {
				if !ms.Registered {
					return push(newRecoveryCodes(e, id))
				}
				s.confirm = &overviewConfirm{warning: say("info.get_new.recovery.warning", nil),
					question: say("info.get_new.recovery.confirm", nil),
					run:      func() tea.Cmd { return push(newRecoveryCodes(e, id)) }}
				return nil
			})
		case ms.Method == policy.SSHKey:
			add(label, func() tea.Cmd { return push(newSSHKeys(e, id)) })
		case ms.Method == policy.Questions:
			add(label, func() tea.Cmd {
				return push(newRegisterQuestions(e, id, s.ov.QuestionsToRegister))
			})
		}
		if ms.Registered {
			add(words.remove, func() tea.Cmd {
				m := ms.Method
				s.confirm = &overviewConfirm{warning: s.removalWarning(m),
					question: say(words.removeConfirm, nil), run: func() tea.Cmd {
						seq := s.req.next(e)
						return func() tea.Msg { return removedMsg{seq: seq, m: m, err: e.svc.RemoveMethod(e.ctx, id, m)} }
					}}
				return nil
			})
		}
	}
	if s.ov.CanConfirm {
		add("info.confirm", func() tea.Cmd {
			seq := s.req.next(s.e)
			return func() tea.Msg { return confirmedMsg{seq: seq, err: e.svc.ConfirmInfo(e.ctx, id)} }
		})
	}
	// While registration is due, Done is not offered: leaving is a
	// postponement, asked about first.
	if s.ov.Due {
		add("info.finish_later", func() tea.Cmd {
			s.leaving = true
			return nil
		})
	} else {
		add("info.done", func() tea.Cmd { return home })
	}
	add("overview.language", func() tea.Cmd { return push(newPreferredLanguage(e, id)) })
	if s.menu.cursor >= len(s.menu.items) {
		s.menu.cursor = 0
	}
}

// removalWarning says when a removal takes away the last way the person
// has to prove it's them on its own (security questions never count
// alone); otherwise it is empty.
func (s *overview) removalWarning(m policy.Method) phrase {
	for _, ms := range s.ov.Methods {
		if ms.Registered && ms.Method != m && ms.Method.Describe().CountsAlone {
			return phrase{}
		}
	}
	return say("info.remove.last_way", nil)
}

// dueReason says why registration is due now, in p's language, for a
// person of whom policy asks required ways to prove who they are.
func dueReason(p *locale.Printer, why flows.DueReason, required int) string {
	switch why {
	case flows.DueReregister:
		return p.N("info.due.reregister", required, nil)
	case flows.DueReconfirm:
		return p.T("info.due.reconfirm")
	case flows.DueTooFew:
		return p.N("info.due.too_few", required, nil)
	}
	return ""
}

// statusDetail is what the overview says of a registered method after its
// badge: the address codes go to, how many codes or keys there are, or
// the method's own word. It is empty when the badge says it already.
func statusDetail(p *locale.Printer, ms flows.MethodStatus) string {
	d := ms.Method.Describe()
	detail := sanitize.String(ms.Destination)
	switch {
	case ms.Method == policy.RecoveryCodes:
		// How many are left is worth more than that they exist.
		detail = p.N("info.recovery.left", ms.Count, locale.Args{"Total": p.Number(ms.Of)})
	case ms.Method == policy.SSHKey:
		detail = p.N("info.sshkey.count", ms.Count, locale.Args{"Total": p.Number(ms.Of)})
	case d.Detail != "":
		detail = p.T(d.Detail)
	}
	if detail == p.T("info.badge.set_up") {
		return ""
	}
	return detail
}

func (s *overview) view(width int) string {
	st, p := s.e.st, s.e.p
	if s.ov == nil {
		return st.Muted.Render("⋯ " + p.T("info.loading"))
	}
	var b strings.Builder
	if s.ov.Due {
		b.WriteString(wrap(st.Warning.Render(dueReason(p, s.ov.DueReason, s.ov.Required))+" "+
			st.Muted.Render(p.T("info.due.required")), width) + "\n\n")
	}
	for _, ms := range s.ov.Methods {
		badge := st.Badge.Warn.Render(p.T("info.badge.not_set_up"))
		// Padded by display width: a label in wide characters lines up too.
		label := p.T(ms.Label)
		line := label + strings.Repeat(" ", max(22-lipgloss.Width(label), 0)+1)
		if ms.Registered {
			badge = st.Badge.OK.Render(p.T("info.badge.set_up"))
		}
		line += badge
		// The detail gets what is left of the line: the address first,
		// then when it was confirmed if that fits too.
		room := width - lipgloss.Width(line) - 2
		if ms.Registered && room > 0 {
			detail := statusDetail(p, ms)
			confirmed := ""
			if !ms.ConfirmedAt.IsZero() && ms.ConfirmedAt.Unix() > 0 {
				confirmed = p.F("info.confirmed_on", locale.Args{"Date": p.Date(ms.ConfirmedAt.Local())})
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
		b.WriteString("\n" + wrap(st.Success.Render(p.T("info.can_reset")), width) + "\n\n")
	} else if !s.ov.Due {
		// When registration is due, the reason at the top already says this.
		b.WriteString("\n" + wrap(st.Warning.Render(p.N("info.set_up_ways", s.ov.Required, nil)), width) + "\n\n")
	} else {
		b.WriteString("\n")
	}
	// A question takes the menu's place, under the methods it is about;
	// in a short window it stays in view (blocking).
	if s.leaving {
		b.WriteString(wrap(st.Warning.Render(question(p, s.leaveQuestion())), width) + "\n")
	} else if s.confirm != nil {
		if w := s.confirm.warning.in(p); w != "" {
			b.WriteString(wrap(st.Warning.Render(w), width) + "\n")
		}
		b.WriteString(st.Warning.Render(question(p, s.confirm.question)) + "\n")
	} else {
		s.menu.label(p, s.labels)
		// Beside Language, the one sspr writes to the person in: the one
		// they chose, or the one this visit is in; a language's name is
		// written in itself.
		chosen := p.Language().Name
		if s.ov.Language != "" {
			chosen = s.e.languages.Printer(s.ov.Language).Language().Name
		}
		s.menu.hints[len(s.menu.hints)-1] = chosen
		b.WriteString(s.menu.view(s.e, width))
	}
	if note := s.note.in(p); note != "" {
		b.WriteString("\n\n" + st.Success.Render(note))
	}
	if s.err != "" {
		b.WriteString("\n\n" + st.Error.Render(s.err))
	}
	return b.String()
}

// leaveQuestion asks before someone leaves with their registration due,
// saying what that leaves them with.
func (s *overview) leaveQuestion() phrase {
	if s.ov.CanReset {
		return say("info.leave.unconfirmed", nil)
	}
	return say("info.leave.unfinished", nil)
}
