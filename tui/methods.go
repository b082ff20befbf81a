package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// journeyKind says what proving identity leads to.
type journeyKind int

const (
	journeyReset journeyKind = iota
	journeyAdmin
	// journeyUnlock proves what a reset does and lifts a lockout.
	journeyUnlock
)

// journeyPaused heads the dead end of a reset or an unlock: a catalogue
// ID, which the dead end writes in the visit's language.
func journeyPaused(k journeyKind) string {
	if k == journeyUnlock {
		return "journey.unlock.paused"
	}
	return "journey.reset.paused"
}

// journey is a verification flow in progress: a reset, an unlock or an
// admin sign-in.
// It holds the flow id, never a secret.
type journey struct {
	kind     journeyKind
	flowID   string
	required int
	proven   int
	options  []flows.MethodOption
}

// methods lets the person pick how to prove who they are.
type methods struct {
	e       *env
	j       *journey
	menu    menu
	req     request
	pending string
	err     string
	// sent remembers the codes sent in this journey, so going back from the
	// code screen and choosing the same way again reopens it instead of
	// being refused by the resend cooldown.
	sent map[policy.Method]flows.CodeSent
	// leaving is set while "go back and lose what you proved?" waits for y/n.
	leaving bool
	// helpdesk is the contact, loaded once a proof made it safe to show
	// why the next step offers what it does.
	helpdesk string
}

func newMethods(e *env, j *journey) *methods {
	s := &methods{e: e, j: j}
	s.menu.wholeHints = true
	s.refresh()
	return s
}

func (s *methods) refresh() {
	s.menu.items, s.menu.hints = nil, nil
	for _, o := range s.j.options {
		s.menu.items = append(s.menu.items, methodPrompt(s.e, o))
		s.menu.hints = append(s.menu.hints, o.Destination)
	}
	if s.menu.cursor >= len(s.menu.items) {
		s.menu.cursor = 0
	}
}

// methodPrompt words an option as an action.
func methodPrompt(e *env, o flows.MethodOption) string { return e.p.T(o.Method.Describe().Prompt) }

func (s *methods) title() string {
	switch s.j.kind {
	case journeyAdmin:
		return s.e.p.T("methods.title.admin")
	case journeyUnlock:
		return s.e.p.T("methods.title.unlock")
	}
	return s.e.p.T("methods.title.reset")
}

func (s *methods) help() []key.Binding {
	if s.leaving {
		return []key.Binding{s.e.keys.Confirm, s.e.keys.Cancel}
	}
	return []key.Binding{s.e.keys.Up, s.e.keys.Down, s.e.keys.Select, s.e.keys.Back}
}

// voucherOnly reports a journey whose next step can be met only with a
// helpdesk voucher: the person registered fewer ways than the policy asks
// for. Told only after a proof, so it says nothing about an account to
// someone who has not proven anything.
func (s *methods) voucherOnly() bool {
	return s.j.proven > 0 && len(s.j.options) == 1 && s.j.options[0].Method.Describe().Issued
}

func (s *methods) close() {
	s.e.svc.CancelFlow(s.j.flowID)
}

// provenMsg tells the method picker that one more method was proven.
type provenMsg struct{ p flows.Progress }

type sentMsg struct {
	seq    int
	option flows.MethodOption
	sent   flows.CodeSent
	err    error
}

// connectionProvedMsg reports a method the connection proved by itself.
type connectionProvedMsg struct {
	seq int
	p   flows.Progress
	err error
}

type questionsMsg struct {
	seq int
	qs  []string
	err error
}

func (s *methods) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case provenMsg:
		s.j.proven = len(msg.p.Proven)
		s.j.options = msg.p.Options
		s.err = ""
		s.refresh()
		return s, loadHelpdesk(s.e)
	case sentMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			if deadEnd(msg.err) {
				return s, showDeadEnd(s.e, journeyPaused(s.j.kind), sentence(s.e, msg.err))
			}
			s.err = sentence(s.e, msg.err)
			return s, loadHelpdesk(s.e)
		}
		if s.sent == nil {
			s.sent = map[policy.Method]flows.CodeSent{}
		}
		s.sent[msg.option.Method] = msg.sent
		return s, push(newCodeEntry(s.e, s.j, msg.option, &msg.sent))
	case connectionProvedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err == nil && !msg.p.Done {
			return s.update(provenMsg{p: msg.p})
		}
		return s, afterProof(s.e, s.j, msg.p, msg.err, &s.err)
	case questionsMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			s.err = sentence(s.e, msg.err)
			return s, nil
		}
		return s, push(newAnswerQuestions(s.e, s.j, msg.qs))
	case adminSignedInMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, "journey.cant_sign_in", sentence(s.e, msg.err))
		}
		return s, replaceJourney(newAdminHome(s.e, msg.info))
	case helpdeskMsg:
		if s.j.proven > 0 {
			s.helpdesk = string(msg)
		}
		if msg != "" && s.err != "" {
			s.err += " " + s.e.p.F("methods.or_helpdesk", locale.Args{"Contact": string(msg)})
		}
		return s, nil
	case tea.KeyPressMsg:
		if s.leaving {
			if answerLeave(s.e, msg, &s.leaving) {
				s.req.next(s.e)
				return s, pop
			}
			return s, nil
		}
		if key.Matches(msg, s.e.keys.Back) {
			if s.j.proven > 0 {
				// Going back ends the flow: what was proven would be lost.
				s.leaving = true
				return s, nil
			}
			s.req.next(s.e)
			return s, pop
		}
		if s.pending != "" || len(s.j.options) == 0 {
			return s, nil
		}
		i, ok := s.menu.update(s.e, msg)
		if !ok {
			return s, nil
		}
		return s, s.choose(s.j.options[i])
	}
	return s, nil
}

func (s *methods) choose(o flows.MethodOption) tea.Cmd {
	e, flowID, seq := s.e, s.j.flowID, s.req.next(s.e)
	s.err = ""
	switch {
	case o.SendsCode && e.now().Before(s.sent[o.Method].ResendAt):
		// The code sent moments ago is still the one to type.
		sent := s.sent[o.Method]
		return push(newCodeEntry(e, s.j, o, &sent))
	case o.SendsCode:
		s.pending = e.p.F("methods.sending", locale.Args{"Destination": o.Destination})
		return func() tea.Msg {
			sent, err := e.svc.SendCode(e.ctx, flowID, o.Method)
			return sentMsg{seq: seq, option: o, sent: sent, err: err}
		}
	case o.Method.Describe().ByConnection:
		// Proved by the connection itself: nothing to type.
		s.pending = e.p.T("methods.checking_key")
		return func() tea.Msg {
			p, err := e.svc.ProveByConnection(e.ctx, flowID, o.Method)
			return connectionProvedMsg{seq: seq, p: p, err: err}
		}
	case o.Method == policy.Questions:
		s.pending = e.p.T("methods.fetching_questions")
		return func() tea.Msg {
			qs, err := e.svc.Questions(e.ctx, flowID)
			return questionsMsg{seq: seq, qs: qs, err: err}
		}
	}
	return push(newCodeEntry(e, s.j, o, nil))
}

func (s *methods) view(width int) string {
	var b strings.Builder
	if s.j.required > 1 {
		step := s.e.p.F("methods.step", locale.Args{"Step": s.e.p.Number(s.j.proven + 1), "Total": s.e.p.Number(s.j.required)})
		b.WriteString(s.e.st.Subtitle.Render(step) + "\n\n")
	}
	if s.leaving {
		b.WriteString(s.e.st.Warning.Render(s.e.p.T("methods.leave")))
		return wrap(b.String(), width)
	}
	switch {
	case s.voucherOnly():
		b.WriteString(s.e.st.Success.Render(s.e.p.T("methods.one_proven")) + " " +
			s.e.st.Body.Render(s.e.p.T("methods.voucher_only")) + "\n")
		b.WriteString(helpdeskLine(s.e, s.helpdesk, width) + "\n\n")
	case s.j.proven > 0:
		b.WriteString(s.e.st.Success.Render(s.e.p.T("methods.choose_second")) + "\n\n")
	default:
		b.WriteString(s.e.st.Body.Render(s.e.p.T("methods.intro")) + "\n\n")
	}
	if len(s.j.options) == 0 {
		b.WriteString(s.e.st.Warning.Render(s.e.p.T("methods.none_left")) + " " + helpdeskLine(s.e, s.helpdesk, width))
	} else {
		b.WriteString(s.menu.view(s.e, width))
	}
	if s.pending != "" {
		b.WriteString("\n\n" + s.e.st.Muted.Render("⋯ "+s.pending))
	}
	if s.err != "" {
		b.WriteString("\n\n" + s.e.st.Error.Render(s.err))
	}
	return wrap(b.String(), width)
}
