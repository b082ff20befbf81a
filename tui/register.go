package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/qr"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// savedMsg reports a registration step done (or not).
type savedMsg struct {
	seq int
	err error
}

// backToOverview returns to the overview and has it reload.
func backToOverview(note string) tea.Cmd {
	return tea.Sequence(pop, func() tea.Msg { return refreshMsg{note: note} })
}

// registerContact adds or changes an email address or mobile number: the
// address is typed, a code is sent to it, and it counts once the code is in.
type registerContact struct {
	e         *env
	sessionID string
	method    policy.Method
	dest      textinput.Model
	code      textinput.Model
	sent      *flows.CodeSent
	req       request
	pending   string
	err       string
	now       time.Time
}

func newRegisterContact(e *env, sessionID string, m policy.Method, suggestion string) *registerContact {
	placeholder := "name@example.com"
	if m == policy.SMS {
		placeholder = "+15551234567"
	}
	s := &registerContact{e: e, sessionID: sessionID, method: m, now: e.now(),
		dest: newInput(e, placeholder, limitContact, false), code: newInput(e, "8-digit code", limitCode, false)}
	s.dest.SetValue(sanitize.String(suggestion))
	s.dest.CursorEnd()
	s.dest.Focus()
	return s
}

func (s *registerContact) title() string { return "Your security info · " + contactNoun(s.method) }
func (s *registerContact) typing() bool  { return true }

func (s *registerContact) help() []key.Binding {
	if s.sent != nil {
		return []key.Binding{s.e.keys.Select, s.e.keys.Resend, s.e.keys.Back}
	}
	return []key.Binding{s.e.keys.Select, s.e.keys.Back}
}

func (s *registerContact) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case clockMsg:
		s.now = time.Time(msg)
		return s, nil
	case sentMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			return s, failure(s.e, "Can't continue", msg.err, &s.err)
		}
		sent := msg.sent
		s.sent = &sent
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
				return s, showDeadEnd(s.e, "Can't continue", sentence(msg.err))
			}
			s.err = sentence(msg.err)
			s.code.SetValue("")
			return s, nil
		}
		return s, backToOverview(contactNoun(s.method) + " saved.")
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			if s.sent != nil {
				// Back from the code goes back to the address.
				s.sent, s.err = nil, ""
				s.code.Blur()
				s.dest.Focus()
				return s, nil
			}
			return s, pop
		case key.Matches(msg, s.e.keys.Resend) && s.sent != nil:
			if s.now.Before(s.sent.ResendAt) {
				s.err = "Wait a little before asking for another code."
				return s, nil
			}
			return s, s.send()
		case key.Matches(msg, s.e.keys.Select):
			if s.sent == nil {
				return s, s.send()
			}
			return s, s.confirm()
		}
	}
	var cmd tea.Cmd
	if s.sent == nil {
		s.dest, cmd = s.dest.Update(msg)
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
		s.err = "Type the " + strings.ToLower(contactNoun(s.method)) + " first."
		return nil
	}
	e, id, m, seq := s.e, s.sessionID, s.method, s.req.next(s.e)
	s.pending, s.err = "Sending a code…", ""
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
		s.err = "Codes are digits only."
		return nil
	}
	e, id, m, seq := s.e, s.sessionID, s.method, s.req.next(s.e)
	s.pending, s.err = "Checking…", ""
	return func() tea.Msg {
		return savedMsg{seq: seq, err: e.svc.ConfirmContact(e.ctx, id, m, code)}
	}
}

func (s *registerContact) view(width int) string {
	var b strings.Builder
	st := s.e.st
	fieldW := min(44, max(width-4, 8))
	if s.sent == nil {
		what := "email address"
		if s.method == policy.SMS {
			what = "mobile number, with the country code (like +15551234567)"
		}
		b.WriteString(st.Body.Render("Type your "+what+". We'll send a code to it, to make sure it reaches you.") + "\n\n")
		s.dest.SetWidth(fieldW)
		b.WriteString(s.dest.View() + "\n")
	} else {
		b.WriteString(st.Body.Render("We sent a code to ") + st.Code.Render(sanitize.Line(s.sent.Destination, max(width-20, 8))) + ".\n")
		b.WriteString(components.Countdown(s.sent.ExpiresAt.Sub(s.now), st) + "\n\n")
		s.code.SetWidth(fieldW)
		b.WriteString(s.code.View() + "\n")
	}
	if s.pending != "" {
		b.WriteString("\n" + st.Muted.Render("⋯ "+s.pending))
	}
	if s.err != "" {
		b.WriteString("\n" + st.Error.Render(s.err))
	}
	return wrap(b.String(), width)
}

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
	s := &enrolAuthenticator{e: e, sessionID: sessionID, code: newInput(e, "6-digit code", limitCode, false), showQR: true}
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

func (s *enrolAuthenticator) title() string { return "Your security info · Authenticator app" }
func (s *enrolAuthenticator) typing() bool  { return true }

func (s *enrolAuthenticator) help() []key.Binding {
	// tab switches between the QR code and the key, not between fields.
	toggle := s.e.keys.NextField
	toggle.SetHelp("tab", "QR code or key")
	return []key.Binding{s.e.keys.Select, toggle, s.e.keys.Back}
}

func (s *enrolAuthenticator) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case enrolmentMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, "Can't continue", sentence(msg.err))
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
				return s, showDeadEnd(s.e, "Can't continue", sentence(msg.err))
			}
			s.err = sentence(msg.err)
			s.code.SetValue("")
			return s, nil
		}
		return s, backToOverview("Authenticator app saved.")
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
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		s.err = "Type the 6-digit code your app shows."
		return nil
	}
	e, id, seq := s.e, s.sessionID, s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg { return savedMsg{seq: seq, err: e.svc.ConfirmAuthenticator(e.ctx, id, code)} }
}

func (s *enrolAuthenticator) view(width int) string {
	st := s.e.st
	if s.enr == nil {
		return st.Muted.Render("⋯ Making a new key…")
	}
	s.code.SetWidth(14)
	status := ""
	if s.pending {
		status = st.Muted.Render("⋯ Checking…")
	}
	if s.err != "" {
		status = st.Error.Render(s.err)
	}
	secret := components.GroupSecret(s.enr.Secret)
	scan := st.Body.Render("1. Scan this with your authenticator app.")
	cantScan := st.Muted.Render("Can't scan? Press tab for the key to type.")
	typeCode := st.Body.Render("2. Type the 6-digit code it shows:")
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
		b.WriteString(st.Muted.Render("The window is too small for the QR code.") + "\n")
	}
	b.WriteString(st.Body.Render("In your app, add an account by hand with this key:") + "\n")
	b.WriteString(st.Code.Render(secret) + "\n\n")
	b.WriteString(st.Body.Render("Then type the 6-digit code it shows:") + "\n" + s.code.View() + "\n")
	if status != "" {
		b.WriteString(status + "\n")
	}
	b.WriteString("\n" + st.Muted.Render("Or open this link on the phone:") + "\n")
	b.WriteString(st.Muted.Render(sanitize.Line(s.enr.URI, 1000)) + "\n")
	if !tooSmall {
		b.WriteString(st.Muted.Render("Press tab to show the QR code again."))
	}
	return wrap(b.String(), width)
}

// recoveryCodes makes and shows a new set of recovery codes, once, and asks
// the person to confirm they saved them.
type recoveryCodes struct {
	e         *env
	sessionID string
	codes     []string
	err       string
}

func newRecoveryCodes(e *env, sessionID string) *recoveryCodes {
	return &recoveryCodes{e: e, sessionID: sessionID}
}

type codesMsg struct {
	codes []string
	err   error
}

func (s *recoveryCodes) init() tea.Cmd {
	e, id := s.e, s.sessionID
	return func() tea.Msg {
		codes, err := e.svc.NewRecoveryCodes(e.ctx, id)
		return codesMsg{codes: codes, err: err}
	}
}

func (s *recoveryCodes) title() string { return "Your security info · Recovery codes" }

func (s *recoveryCodes) help() []key.Binding { return []key.Binding{s.e.keys.Confirm} }

// close forgets the codes: they are shown once.
func (s *recoveryCodes) close() { s.codes = nil }

func (s *recoveryCodes) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case codesMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, "Can't continue", sentence(msg.err))
		}
		s.codes = msg.codes
	case tea.KeyPressMsg:
		// Only an explicit "I have saved them" leaves; Esc does too, since
		// the codes are already active.
		if s.codes != nil && (key.Matches(msg, s.e.keys.Confirm) || key.Matches(msg, s.e.keys.Back)) {
			s.codes = nil
			return s, backToOverview("Recovery codes saved. Each one works once.")
		}
	}
	return s, nil
}

func (s *recoveryCodes) view(width int) string {
	st := s.e.st
	if s.codes == nil {
		return st.Muted.Render("⋯ Making your codes…")
	}
	var b strings.Builder
	b.WriteString(st.Body.Render("Write these down or print them, and keep them somewhere safe. Each works once. "+
		"They are shown only now; any earlier codes no longer work.") + "\n\n")
	for i := 0; i < len(s.codes); i += 2 {
		line := fmt.Sprintf("%2d. %s", i+1, st.Code.Render(s.codes[i]))
		if i+1 < len(s.codes) {
			line += fmt.Sprintf("    %2d. %s", i+2, st.Code.Render(s.codes[i+1]))
		}
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("\n" + st.Warning.Render("Press y when you have saved them."))
	return wrap(b.String(), width)
}

// registerQuestions picks questions from the catalogue (or custom ones) and
// takes an answer for each.
type registerQuestions struct {
	e         *env
	sessionID string
	n         int
	catalogue []string
	questions []textinput.Model
	answers   []textinput.Model
	focus     int
	req       request
	pending   bool
	err       string
}

func newRegisterQuestions(e *env, sessionID string, n int) *registerQuestions {
	s := &registerQuestions{e: e, sessionID: sessionID, n: n, catalogue: assets.Questions()}
	for i := 0; i < n; i++ {
		q := newInput(e, "question", limitQuestion, false)
		q.SetSuggestions(s.catalogue)
		q.ShowSuggestions = true
		if i < len(s.catalogue) {
			q.SetValue(s.catalogue[i])
			// Show a long question from its start, not its end.
			q.CursorStart()
		}
		s.questions = append(s.questions, q)
		s.answers = append(s.answers, newInput(e, "answer", limitAnswer, true))
	}
	if n > 0 {
		s.answers[0].Focus()
		s.focus = 1
	}
	return s
}

func (s *registerQuestions) title() string { return "Your security info · Security questions" }
func (s *registerQuestions) typing() bool  { return true }

func (s *registerQuestions) help() []key.Binding {
	return []key.Binding{s.e.keys.NextField, s.e.keys.Select, s.e.keys.Back}
}

// field returns the input with focus index i: even indexes are questions,
// odd ones answers.
func (s *registerQuestions) field(i int) *textinput.Model {
	if i%2 == 0 {
		return &s.questions[i/2]
	}
	return &s.answers[i/2]
}

func (s *registerQuestions) move(delta int) {
	s.field(s.focus).Blur()
	s.focus = (s.focus + delta + 2*s.n) % (2 * s.n)
	s.field(s.focus).Focus()
}

func (s *registerQuestions) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case savedMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		if msg.err != nil {
			s.err = sentence(msg.err)
			return s, nil
		}
		return s, backToOverview("Security questions saved.")
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.e.keys.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, s.e.keys.NextField), key.Matches(msg, s.e.keys.Down):
			s.move(1)
			return s, nil
		case key.Matches(msg, s.e.keys.PrevField), key.Matches(msg, s.e.keys.Up):
			s.move(-1)
			return s, nil
		case key.Matches(msg, s.e.keys.Select):
			if s.focus < 2*s.n-1 {
				s.move(1)
				return s, nil
			}
			return s, s.submit()
		}
	}
	var cmd tea.Cmd
	f := s.field(s.focus)
	*f, cmd = f.Update(msg)
	return s, cmd
}

func (s *registerQuestions) submit() tea.Cmd {
	if s.pending {
		return nil
	}
	qas := make([]flows.QuestionAnswer, s.n)
	for i := range qas {
		qas[i] = flows.QuestionAnswer{Question: s.questions[i].Value(), Answer: s.answers[i].Value()}
	}
	e, id, seq := s.e, s.sessionID, s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg { return savedMsg{seq: seq, err: e.svc.RegisterQuestions(e.ctx, id, qas)} }
}

func (s *registerQuestions) view(width int) string {
	st := s.e.st
	var b strings.Builder
	b.WriteString(wrap(st.Muted.Render("Pick questions only you can answer (type to search the list, or write your own). "+
		"Answers are 3–40 characters; case and spaces don't matter."), width) + "\n")
	fieldW := min(60, max(width-4, 8))
	for i := 0; i < s.n; i++ {
		label := st.Input.Label
		if s.focus/2 == i {
			label = st.Input.FocusedLabel
		}
		b.WriteString("\n" + label.Render(fmt.Sprintf("Question %d", i+1)) + "\n")
		s.questions[i].SetWidth(fieldW)
		s.answers[i].SetWidth(min(40, fieldW))
		b.WriteString(s.questions[i].View() + "\n" + s.answers[i].View() + "\n")
	}
	if s.pending {
		b.WriteString("\n" + st.Muted.Render("⋯ Saving…"))
	}
	if s.err != "" {
		b.WriteString("\n" + st.Error.Render(s.err))
	}
	return b.String()
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
