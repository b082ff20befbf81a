package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// signInPurpose says what a sign-in leads to.
type signInPurpose int

const (
	purposeChange signInPurpose = iota
	purposeInfo
	purposeAdmin
)

// signIn asks for the username and current password.
type signIn struct {
	e        *env
	purpose  signInPurpose
	user     textinput.Model
	password textinput.Model
	focus    int
	req      request
	pending  bool
	err      string
	// unlockOffered says the welcome screen offers "Unlock my account";
	// lockedHint, that the last try was refused as a wrong password, which
	// is also how a locked-out account answers (and must, so as not to say
	// which accounts exist): the person then reads where to go.
	unlockOffered, lockedHint bool
}

func newSignIn(e *env, p signInPurpose) *signIn {
	s := &signIn{e: e, purpose: p,
		user:     newInput(e, "", limitUsername, false),
		password: newInput(e, "", limitPassword, true)}
	s.user.Focus()
	return s
}

func (s *signIn) title() string {
	switch s.purpose {
	case purposeChange:
		return s.e.p.T("signin.title.change")
	case purposeInfo:
		return s.e.p.T("signin.title.info")
	}
	return s.e.p.T("signin.title.admin")
}

func (s *signIn) typing() bool { return true }

func (s *signIn) help() []key.Binding {
	return []key.Binding{s.e.keys.NextField, s.e.keys.Select, s.e.keys.Back}
}

func (s *signIn) close() {
	s.password.SetValue("")
}

type signedInMsg struct {
	seq  int
	info flows.SessionInfo
	rs   flows.ResetStart
	err  error
}

func (s *signIn) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case signedInMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		if msg.err != nil {
			if !errors.Is(msg.err, flows.ErrSlowDown) {
				s.password.SetValue("") // one refused unchecked is sent again as it is
			}
			s.lockedHint = s.unlockOffered && s.purpose != purposeAdmin && errors.Is(msg.err, flows.ErrBadCredentials)
			return s, failure(s.e, "journey.cant_sign_in", msg.err, &s.err)
		}
		return s, s.next(msg)
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			return s, pop
		}
		if taken, submit := twoFields(s.e, msg, &s.user, &s.password, &s.focus); taken {
			if submit {
				return s, s.submit()
			}
			return s, nil
		}
	}
	var cmd tea.Cmd
	if s.focus == 0 {
		s.user, cmd = s.user.Update(msg)
	} else {
		s.password, cmd = s.password.Update(msg)
	}
	return s, cmd
}

func (s *signIn) submit() tea.Cmd {
	if s.pending || s.e.waiting() {
		return nil
	}
	name, pw := strings.TrimSpace(s.user.Value()), s.password.Value()
	if name == "" || pw == "" {
		s.err = s.e.p.T("signin.empty")
		return nil
	}
	e, purpose, seq := s.e, s.purpose, s.req.next(s.e)
	s.pending, s.err, s.lockedHint = true, "", false
	return func() tea.Msg {
		if purpose == purposeAdmin {
			rs, err := e.svc.StartAdminSignIn(e.ctx, name, pw, e.source)
			if err == nil {
				e.outbox.Watch(rs.FlowID)
			}
			return signedInMsg{seq: seq, rs: rs, err: err}
		}
		info, err := e.svc.SignIn(e.ctx, name, pw, e.source)
		if err == nil {
			e.outbox.Watch(info.ID)
		}
		return signedInMsg{seq: seq, info: info, err: err}
	}
}

// next opens what the sign-in was for. A temporary or expired password is
// changed first; one expiring soon is offered a change; registration, when
// due, follows.
func (s *signIn) next(msg signedInMsg) tea.Cmd {
	e := s.e
	if s.purpose == purposeAdmin {
		s.close()
		j := &journey{kind: journeyAdmin, flowID: msg.rs.FlowID, required: msg.rs.Required, options: msg.rs.Options}
		// Pushed, so that Esc on the method picker comes back here.
		return push(newMethods(e, j))
	}
	info, old := msg.info, s.password.Value()
	s.close()
	speakStored(e, info.Language)
	overview := func() screen { return newOverview(e, info.ID) }
	switch {
	case s.purpose == purposeChange || info.MustChange || info.PasswordExpired:
		t := passwordTarget{sessionID: info.ID, oldPassword: old, temporary: info.MustChange,
			expired: info.PasswordExpired && !info.MustChange}
		if s.purpose == purposeInfo || info.RegistrationDue {
			t.next = overview
		}
		if info.RegistrationDue {
			t.nextWhy = requiredWhy(e, info)
		}
		return replaceJourney(newNewPassword(e, t))
	case info.ExpirySoon:
		return replaceJourney(newExpiryPrompt(e, info, old))
	}
	return replaceJourney(overview())
}

func (s *signIn) view(width int) string {
	var b strings.Builder
	st := s.e.st
	fieldW := min(40, max(width-4, 8))
	switch s.purpose {
	case purposeAdmin:
		b.WriteString(st.Body.Render(s.e.p.T("signin.intro.admin")) + "\n\n")
	default:
		b.WriteString(st.Body.Render(s.e.p.T("signin.intro")) + "\n\n")
	}
	s.user.Placeholder = styles.Placeholder(s.e.p.T("signin.placeholder.username"))
	s.password.Placeholder = styles.Placeholder(s.e.p.T("signin.placeholder.password"))
	labels := []string{s.e.p.T("field.username"), s.e.p.T("field.password")}
	inputs := []*textinput.Model{&s.user, &s.password}
	for i, in := range inputs {
		if i == s.focus {
			b.WriteString(st.Input.FocusedLabel.Render(labels[i]) + "\n")
		} else {
			b.WriteString(st.Input.Label.Render(labels[i]) + "\n")
		}
		in.SetWidth(fieldW)
		b.WriteString(in.View() + "\n\n")
	}
	if s.purpose != purposeAdmin {
		b.WriteString(st.Muted.Render(s.e.p.F("signin.forgot", locale.Args{"Item": s.e.p.T("welcome.reset")})))
	}
	if s.pending {
		b.WriteString("\n\n" + st.Muted.Render("⋯ "+s.e.p.T("signin.pending")))
	}
	if s.err != "" {
		b.WriteString("\n\n" + st.Error.Render(s.err))
		if s.lockedHint {
			b.WriteString("\n" + st.Muted.Render(s.e.p.F("signin.locked_hint", locale.Args{"Item": s.e.p.T("welcome.unlock")})))
		}
	}
	return wrap(b.String(), width)
}
