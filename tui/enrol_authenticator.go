package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/qr"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// enrolAuthenticator shows the QR code, URI and secret of a new
// authenticator and takes a code made from it.
type enrolAuthenticator struct {
	e         *env
	sessionID string
	enr       *flows.Enrolment
	qr        string
	code      textinput.Model
	showQR    bool
	req       request
	pending   bool
	err       string
}

func newEnrolAuthenticator(e *env, sessionID string) *enrolAuthenticator {
	s := &enrolAuthenticator{e: e, sessionID: sessionID, code: newInput(e, codePlaceholder(e, policy.Authenticator), limitCode, false), showQR: true}
	s.code.Focus()
	return s
}

type enrolmentMsg struct {
	enr flows.Enrolment
	qr  string
	err error
}

func (s *enrolAuthenticator) init() tea.Cmd {
	e, id, dark := s.e, s.sessionID, s.e.st.IsDark
	return func() tea.Msg {
		enr, err := e.svc.BeginAuthenticator(e.ctx, id)
		if err != nil {
			return enrolmentMsg{err: err}
		}
		// Drawn once here: it takes milliseconds, too long for View.
		code, err := qr.Render(enr.URI, !dark)
		return enrolmentMsg{enr: enr, qr: code, err: err}
	}
}

func (s *enrolAuthenticator) title() string { return s.e.p.T("info.title.authenticator") }
func (s *enrolAuthenticator) typing() bool  { return true }

func (s *enrolAuthenticator) help() []key.Binding {
	// tab switches between the QR code and the key, not between fields.
	toggle := s.e.keys.NextField
	toggle.SetHelp("tab", "key.info.qr_or_key")
	return []key.Binding{s.e.keys.Select, toggle, s.e.keys.Back}
}

func (s *enrolAuthenticator) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case enrolmentMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, s.e.p.T("info.cant_continue"), sentence(s.e, msg.err))
		}
		enr := msg.enr
		s.enr, s.qr = &enr, msg.qr
		return s, nil
	case savedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		if msg.err != nil {
			if deadEnd(msg.err) {
				return s, showDeadEnd(s.e, s.e.p.T("info.cant_continue"), sentence(s.e, msg.err))
			}
			s.err = sentence(s.e, msg.err)
			s.code.SetValue("")
			return s, nil
		}
		return s, backToOverview(say("info.saved.authenticator", nil))
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, s.e.keys.NextField):
			// Toggle between the QR code and the text form, for small windows.
			s.showQR = !s.showQR
			return s, nil
		case key.Matches(msg, s.e.keys.Select):
			return s, s.submit()
		}
	}
	var cmd tea.Cmd
	s.code, cmd = s.code.Update(msg)
	return s, cmd
}

func (s *enrolAuthenticator) submit() tea.Cmd {
	if s.pending || s.enr == nil {
		return nil
	}
	code := flows.NormaliseCode(s.code.Value())
	if n := policy.Authenticator.Describe().CodeLength; len(code) != n || strings.Trim(code, "0123456789") != "" {
		s.err = s.e.p.F("info.auth.type_code", locale.Args{"Digits": n})
		return nil
	}
	e, id, seq := s.e, s.sessionID, s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg { return savedMsg{seq: seq, err: e.svc.ConfirmAuthenticator(e.ctx, id, code)} }
}

func (s *enrolAuthenticator) view(width int) string {
	st, p := s.e.st, s.e.p
	if s.enr == nil {
		return st.Muted.Render("⋯ " + p.T("info.auth.making"))
	}
	s.code.SetWidth(14)
	placeholder(&s.code, codePlaceholder(s.e, policy.Authenticator))
	status := ""
	if s.pending {
		status = st.Muted.Render("⋯ " + p.T("info.checking"))
	}
	if s.err != "" {
		status = st.Error.Render(s.err)
	}
	secret := components.GroupSecret(s.enr.Secret)
	scan := st.Body.Render(p.T("info.auth.scan"))
	cantScan := st.Muted.Render(p.T("info.auth.cant_scan"))
	digits := locale.Args{"Digits": policy.Authenticator.Describe().CodeLength}
	typeCode := st.Body.Render(p.F("info.auth.type_shown", digits))
	qrW, qrH := maxLineWidth(s.qr), strings.Count(s.qr, "\n")+1
	if s.showQR && qrW <= width && width >= qrW+30 && qrH+1 <= s.e.bodyHeight {
		// QR on the left, instructions on the right.
		right := wrap(scan+"\n\n"+cantScan+"\n\n"+typeCode+"\n"+s.code.View()+"\n\n"+status, width-qrW-3)
		return joinColumns(s.qr, right, 3)
	}
	if s.showQR && qrW <= width {
		// Too narrow for columns: the steps above and below the code,
		// when all of it fits; a code without what to do with it is no use.
		above := wrap(scan+" "+cantScan, width)
		below := wrap(typeCode, width) + "\n" + s.code.View() + "  " + status
		if lipgloss.Height(above)+qrH+lipgloss.Height(below) <= s.e.bodyHeight {
			return above + "\n" + s.qr + "\n" + below
		}
	}
	// A QR code that does not fit whole, with its steps, can't be used:
	// then the key to type shows instead, with a word on why.
	tooSmall := s.showQR
	// The key and the code field first: in a small window the link at
	// the end is what gets cut.
	var b strings.Builder
	if tooSmall && status == "" {
		// With a message to show, the message needs the room more.
		b.WriteString(st.Muted.Render(p.T("info.auth.too_small")) + "\n")
	}
	b.WriteString(st.Body.Render(p.T("info.auth.by_hand")) + "\n")
	b.WriteString(st.Code.Render(secret) + "\n\n")
	b.WriteString(st.Body.Render(p.F("info.auth.then_type", digits)) + "\n" + s.code.View() + "\n")
	if status != "" {
		b.WriteString(status + "\n")
	}
	b.WriteString("\n" + st.Muted.Render(p.T("info.auth.link")) + "\n")
	b.WriteString(st.Muted.Render(sanitize.Line(s.enr.URI, 1000)) + "\n")
	if !tooSmall {
		b.WriteString(st.Muted.Render(p.T("info.auth.show_qr")))
	}
	return wrap(b.String(), width)
}

// maxLineWidth is the widest line of a block.
func maxLineWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, len([]rune(l)))
	}
	return w
}

// joinColumns puts two blocks side by side with a gap.
func joinColumns(left, right string, gap int) string {
	ll, rl := strings.Split(left, "\n"), strings.Split(right, "\n")
	lw := maxLineWidth(left)
	n := max(len(ll), len(rl))
	var b strings.Builder
	for i := 0; i < n; i++ {
		l, r := "", ""
		if i < len(ll) {
			l = ll[i]
		}
		if i < len(rl) {
			r = rl[i]
		}
		b.WriteString(l + strings.Repeat(" ", lw-len([]rune(l))+gap) + r)
		if i < n-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}
