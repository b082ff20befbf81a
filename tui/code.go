package tui

import (
	"errors"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// codeEntry takes a one-time code, a recovery code or a voucher for one
// method of a journey. For sent codes it shows the time left and offers a
// resend after a cooldown.
type codeEntry struct {
	e       *env
	j       *journey
	option  flows.MethodOption
	code    sentCode
	input   textinput.Model
	req     request
	pending string
	err     string
}

func newCodeEntry(e *env, j *journey, o flows.MethodOption, sent *flows.CodeSent) *codeEntry {
	in := newInput(e, "", limitCode, false)
	in.Focus()
	// Reset codes are delivered behind the screen.
	return &codeEntry{e: e, j: j, option: o, input: in, code: sentCode{sent: sent, now: e.now(), behind: true}}
}

func (s *codeEntry) title() string {
	return s.e.p.F("code.title", locale.Args{"Method": s.e.p.T(s.option.Label)})
}

func (s *codeEntry) typing() bool { return true }

func (s *codeEntry) help() []key.Binding {
	return s.code.help(s.e.keys.Select, s.e.keys.Resend, s.e.keys.Back)
}

type verifiedMsg struct {
	seq int
	p   flows.Progress
	err error
}

func (s *codeEntry) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case clockMsg:
		s.code.now = time.Time(msg)
		return s, nil
	case verifiedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		// What cannot be a code (a misheard voucher symbol) was not
		// counted, and a code refused unchecked is sent again as it is:
		// both stay in the field.
		if !errors.Is(msg.err, flows.ErrInvalid) && !errors.Is(msg.err, flows.ErrSlowDown) {
			s.input.SetValue("")
		}
		return s, afterProof(s.e, s.j, msg.p, msg.err, &s.err)
	case sentMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			return s, failure(s.e, journeyPaused(s.j.kind), msg.err, &s.err)
		}
		s.code.got(msg.sent, s.e.now())
		s.err = ""
		s.input.SetValue("")
		return s, nil
	case tea.KeyPressMsg:
		s.code.keyed()
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, s.e.keys.Resend) && s.code.active():
			return s, s.resend()
		case key.Matches(msg, s.e.keys.Select):
			return s, s.submit()
		}
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	return s, cmd
}

func (s *codeEntry) resend() tea.Cmd {
	if s.pending != "" {
		return nil
	}
	if r := s.code.refusal(s.e.p); r != "" {
		s.err = r
		return nil
	}
	e, flowID, o, seq := s.e, s.j.flowID, s.option, s.req.next(s.e)
	s.pending, s.err = s.e.p.T("code.sending_new"), ""
	return func() tea.Msg {
		sent, err := e.svc.SendCode(e.ctx, flowID, o.Method)
		return sentMsg{seq: seq, option: o, sent: sent, err: err}
	}
}

func (s *codeEntry) submit() tea.Cmd {
	if s.pending != "" || s.e.waiting() {
		return nil
	}
	code := flows.NormaliseCode(s.input.Value())
	if code == "" {
		s.err = s.e.p.T("code.empty")
		return nil
	}
	if s.option.Method.Describe().Alphabet == policy.AlphabetDigits && strings.Trim(code, "0123456789") != "" {
		s.err = s.e.p.T("code.digits_only")
		return nil
	}
	e, flowID, m, seq := s.e, s.j.flowID, s.option.Method, s.req.next(s.e)
	s.pending, s.err = s.e.p.T("journey.checking"), ""
	return func() tea.Msg {
		p, err := e.svc.VerifyCode(e.ctx, flowID, m, code)
		return verifiedMsg{seq: seq, p: p, err: err}
	}
}

// afterProof moves a journey on after a proof: to the next method, the new
// password, the admin panel, or a dead end. A wrong proof stays put with a
// message.
func afterProof(e *env, j *journey, p flows.Progress, err error, errText *string) tea.Cmd {
	if err != nil {
		return failure(e, "journey.cant_continue", err, errText)
	}
	if !p.Done {
		return tea.Sequence(pop, func() tea.Msg { return provenMsg{p: p} })
	}
	speakStored(e, p.Language)
	switch j.kind {
	case journeyAdmin:
		// The method picker below takes the result and opens the panel.
		return tea.Sequence(pop, completeAdminSignIn(e, j))
	case journeyUnlock:
		return replaceJourney(newUnlocking(e, j.flowID))
	}
	return replaceJourney(newNewPassword(e, passwordTarget{flowID: j.flowID}))
}

// replaceJourney drops the screens of a finished step and opens the next:
// everything above the welcome screen is replaced.
func replaceJourney(s screen) tea.Cmd {
	return func() tea.Msg { return journeyMsg{s} }
}

// journeyMsg replaces every screen above the welcome screen with one.
type journeyMsg struct{ s screen }

func (s *codeEntry) view(width int) string {
	var b strings.Builder
	if d := s.option.Method.Describe(); d.SendsCode() {
		b.WriteString(s.code.header(s.e.p, s.e.st, width))
	} else if d.Instruction != "" {
		text := s.e.p.F(d.Instruction, locale.Args{"Digits": d.CodeLength, "Organisation": sanitize.String(s.e.svc.Organisation())})
		b.WriteString(s.e.st.Body.Render(text) + "\n\n")
	}
	s.input.Placeholder = styles.Placeholder(codePlaceholder(s.e, s.option.Method))
	s.input.SetWidth(min(40, max(width-4, 8)))
	b.WriteString(s.input.View() + "\n")
	b.WriteString(s.code.hint(s.e.p, s.e.st))
	if s.pending != "" {
		b.WriteString("\n\n" + s.e.st.Muted.Render("⋯ "+s.pending))
	}
	if s.code.note != "" {
		b.WriteString("\n\n" + s.e.st.Success.Render(s.e.p.T(s.code.note)))
	}
	if s.err != "" {
		b.WriteString("\n\n" + s.e.st.Error.Render(s.err))
	}
	return wrap(b.String(), width)
}
