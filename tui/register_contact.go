package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// registerContact adds or changes an email address or mobile number: the
// address is typed, a code is sent to it, and it counts once the code is in.
type registerContact struct {
	e         *env
	sessionID string
	method    policy.Method
	dest      textinput.Model
	code      textinput.Model
	sent      sentCode
	req       request
	// pending is the catalogue ID of what is under way, or "".
	pending string
	err     string

	// destFilled is on while dest still holds the address on the account.
	destFilled prefill
}

// contactWords are the contact screen's sentences for one channel, as
// catalogue IDs: whole per method, so that each language words the
// address its own way.
type contactWords struct {
	title, ask, missing, saved string
}

var contactScreenWords = map[policy.Method]contactWords{
	policy.Email: {"info.title.email", "info.contact.ask.email", "info.contact.missing.email", "info.saved.email"},
	policy.SMS:   {"info.title.sms", "info.contact.ask.sms", "info.contact.missing.sms", "info.saved.sms"},
}

func newRegisterContact(e *env, sessionID string, m policy.Method, suggestion string) *registerContact {
	d := m.Describe()
	s := &registerContact{e: e, sessionID: sessionID, method: m, sent: sentCode{now: e.now()},
		dest: newInput(e, d.Example, limitContact, false), code: newInput(e, codePlaceholder(e, m), limitCode, false)}
	s.dest.SetValue(sanitize.String(suggestion))
	s.dest.CursorEnd()
	s.dest.Focus()
	s.destFilled.on = s.dest.Value() != ""
	return s
}

func (s *registerContact) words() contactWords { return contactScreenWords[s.method] }

func (s *registerContact) title() string { return s.e.p.T(s.words().title) }
func (s *registerContact) typing() bool  { return true }

func (s *registerContact) help() []key.Binding {
	return s.sent.help(s.e.keys.Select, s.e.keys.Resend, s.e.keys.Back)
}

func (s *registerContact) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case clockMsg:
		s.sent.now = time.Time(msg)
		return s, nil
	case sentMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			return s, failure(s.e, s.e.p.T("info.cant_continue"), msg.err, &s.err)
		}
		s.sent.got(msg.sent, s.e.now())
		s.dest.Blur()
		s.code.SetValue("")
		s.code.Focus()
		return s, nil
	case savedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			if deadEnd(msg.err) {
				return s, showDeadEnd(s.e, s.e.p.T("info.cant_continue"), sentence(s.e, msg.err))
			}
			s.err = sentence(s.e, msg.err)
			s.code.SetValue("")
			return s, nil
		}
		return s, backToOverview(say(s.words().saved, nil))
	case tea.KeyPressMsg:
		s.sent.keyed()
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			if s.sent.active() {
				// Back from the code goes back to the address.
				s.sent.drop()
				s.err = ""
				s.code.Blur()
				s.dest.Focus()
				return s, nil
			}
			return s, pop
		case key.Matches(msg, s.e.keys.Resend) && s.sent.active():
			if r := s.sent.refusal(s.e.p); r != "" {
				s.err = r
				return s, nil
			}
			return s, s.send()
		case key.Matches(msg, s.e.keys.Select):
			if !s.sent.active() {
				return s, s.send()
			}
			return s, s.confirm()
		}
	}
	var cmd tea.Cmd
	if !s.sent.active() {
		cmd = s.destFilled.update(&s.dest, msg)
	} else {
		s.code, cmd = s.code.Update(msg)
	}
	return s, cmd
}

func (s *registerContact) send() tea.Cmd {
	if s.pending != "" {
		return nil
	}
	dest := strings.TrimSpace(s.dest.Value())
	if dest == "" {
		s.err = s.e.p.T(s.words().missing)
		return nil
	}
	e, id, m, seq := s.e, s.sessionID, s.method, s.req.next(s.e)
	s.pending, s.err = "info.sending", ""
	return func() tea.Msg {
		sent, err := e.svc.BeginContact(e.ctx, id, m, dest)
		return sentMsg{seq: seq, sent: sent, err: err}
	}
}

func (s *registerContact) confirm() tea.Cmd {
	if s.pending != "" {
		return nil
	}
	code := flows.NormaliseCode(s.code.Value())
	if code == "" || strings.Trim(code, "0123456789") != "" {
		s.err = s.e.p.T("info.contact.digits_only")
		return nil
	}
	e, id, m, seq := s.e, s.sessionID, s.method, s.req.next(s.e)
	s.pending, s.err = "info.checking", ""
	return func() tea.Msg {
		return savedMsg{seq: seq, err: e.svc.ConfirmContact(e.ctx, id, m, code)}
	}
}

func (s *registerContact) view(width int) string {
	var b strings.Builder
	st, p := s.e.st, s.e.p
	fieldW := min(44, max(width-4, 8))
	if !s.sent.active() {
		b.WriteString(st.Body.Render(p.T(s.words().ask)) + "\n\n")
		fitInput(&s.dest, fieldW)
		b.WriteString(s.dest.View() + "\n")
		if s.destFilled.on {
			b.WriteString(st.Muted.Render(p.T("info.contact.prefilled")) + "\n")
		}
	} else {
		b.WriteString(s.sent.header(s.e.p, st, width))
		s.code.SetWidth(fieldW)
		placeholder(&s.code, codePlaceholder(s.e, s.method))
		b.WriteString(s.code.View() + "\n")
	}
	if s.pending != "" {
		b.WriteString("\n" + st.Muted.Render("⋯ "+p.T(s.pending)))
	}
	if s.sent.note != "" {
		b.WriteString("\n" + st.Success.Render(s.e.p.T(s.sent.note)))
	}
	if s.err != "" {
		b.WriteString("\n" + st.Error.Render(s.err))
	}
	return wrap(b.String(), width)
}
