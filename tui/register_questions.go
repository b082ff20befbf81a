package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	sent      sentCode
	req       request
	pending   string
	err       string

	// destFilled is on while dest still holds the address on the account.
	destFilled prefill
}

func newRegisterContact(e *env, sessionID string, m policy.Method, suggestion string) *registerContact {
	d := m.Describe()
	s := &registerContact{e: e, sessionID: sessionID, method: m, sent: sentCode{now: e.now()},
		dest: newInput(e, d.Example, limitContact, false), code: newInput(e, d.Placeholder, limitCode, false)}
	s.dest.SetValue(sanitize.String(suggestion))
	s.dest.CursorEnd()
	s.dest.Focus()
	s.destFilled.on = s.dest.Value() != ""
	return s
}

func (s *registerContact) title() string { return "Your security info · " + s.method.Describe().Noun }
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
			return s, failure(s.e, "Can't continue", msg.err, &s.err)
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
				return s, showDeadEnd(s.e, "Can't continue", sentence(msg.err))
			}
			s.err = sentence(msg.err)
			s.code.SetValue("")
			return s, nil
		}
		return s, backToOverview(s.method.Describe().Noun + " saved.")
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
			if r := s.sent.refusal(); r != "" {
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
		s.err = "Type the " + strings.ToLower(s.method.Describe().Noun) + " first."
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
	if !s.sent.active() {
		b.WriteString(st.Body.Render("Type your "+s.method.Describe().AskFor+". We'll send a code to it, to make sure it reaches you.") + "\n\n")
		fitInput(&s.dest, fieldW)
		b.WriteString(s.dest.View() + "\n")
		if s.destFilled.on {
			b.WriteString(st.Muted.Render("The one on your account: enter uses it, typing replaces it, ← → edit it.") + "\n")
		}
	} else {
		b.WriteString(s.sent.header(st, width))
		s.code.SetWidth(fieldW)
		b.WriteString(s.code.View() + "\n")
	}
	if s.pending != "" {
		b.WriteString("\n" + st.Muted.Render("⋯ "+s.pending))
	}
	if s.sent.note != "" {
		b.WriteString("\n" + st.Success.Render(s.sent.note))
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
	s := &enrolAuthenticator{e: e, sessionID: sessionID, code: newInput(e, policy.Authenticator.Describe().Placeholder, limitCode, false), showQR: true}
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
	if n := policy.Authenticator.Describe().CodeLength; len(code) != n || strings.Trim(code, "0123456789") != "" {
		s.err = fmt.Sprintf("Type the %d-digit code your app shows.", n)
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
	code := policy.Authenticator.Describe().Placeholder
	typeCode := st.Body.Render("2. Type the " + code + " it shows:")
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
	b.WriteString(st.Body.Render("Then type the "+code+" it shows:") + "\n" + s.code.View() + "\n")
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
// takes an answer for each. The questions start filled in from the
// catalogue, each a different one; typing in a question replaces it and
// searches the catalogue, and the match shown under it is taken with → (at
// the end of the text) or ctrl+e.
type registerQuestions struct {
	e         *env
	sessionID string
	n         int
	catalogue []string
	questions []textinput.Model
	// filled is on while a question is still the one filled in.
	filled  []prefill
	answers []textinput.Model
	focus   int
	// pick is which of the focused question's matches is shown.
	pick    int
	req     request
	pending bool
	err     string
}

func newRegisterQuestions(e *env, sessionID string, n int) *registerQuestions {
	s := &registerQuestions{e: e, sessionID: sessionID, n: n, catalogue: assets.Questions()}
	for i := 0; i < n; i++ {
		q := newInput(e, "type to search the list, or write your own", limitQuestion, false)
		fill := prefill{}
		if i < len(s.catalogue) {
			q.SetValue(s.catalogue[i])
			q.CursorEnd()
			fill.on = true
		}
		s.questions = append(s.questions, q)
		s.filled = append(s.filled, fill)
		s.answers = append(s.answers, newInput(e, "answer", limitAnswer, true))
	}
	if n > 0 {
		s.focus = max(s.nextNeeding(0), 0)
		s.field(s.focus).Focus()
	}
	return s
}

func (s *registerQuestions) title() string { return "Your security info · Security questions" }
func (s *registerQuestions) typing() bool  { return true }

func (s *registerQuestions) help() []key.Binding {
	k := s.e.keys
	enter := k.Select
	enter.SetHelp("enter", "next")
	if flows.CheckQuestions(s.values()) == nil {
		enter.SetHelp("enter", "save")
	}
	b := []key.Binding{enter, k.NextField, k.Back}
	if s.focus%2 == 0 {
		if ms := s.matches(s.focus / 2); len(ms) > 0 {
			b = append(b, k.AcceptSuggestion)
			if len(ms) > 1 {
				b = append(b, k.NextSuggestion)
			}
		}
	}
	return b
}

// field returns the input with focus index i: even indexes are questions,
// odd ones answers.
func (s *registerQuestions) field(i int) *textinput.Model {
	if i%2 == 0 {
		return &s.questions[i/2]
	}
	return &s.answers[i/2]
}

func (s *registerQuestions) setFocus(i int) {
	s.field(s.focus).Blur()
	s.focus, s.pick = (i+2*s.n)%(2*s.n), 0
	s.field(s.focus).Focus()
}

func (s *registerQuestions) move(delta int) { s.setFocus(s.focus + delta) }

// needs reports whether field i still needs input: a question left empty,
// an answer shorter than an answer may be.
func (s *registerQuestions) needs(i int) bool {
	if i%2 == 0 {
		return flows.NormaliseQuestion(s.questions[i/2].Value()) == ""
	}
	return utf8.RuneCountInString(flows.NormaliseAnswer(s.answers[i/2].Value())) < flows.MinAnswerLength
}

// nextNeeding is the first field from index from on (coming round to the
// top) that needs input, or -1 when none does.
func (s *registerQuestions) nextNeeding(from int) int {
	for k := range 2 * s.n {
		if i := (from + k) % (2 * s.n); s.needs(i) {
			return i
		}
	}
	return -1
}

// focusOn puts the focus on the field a refusal names.
func (s *registerQuestions) focusOn(err error) {
	var qe *flows.QuestionError
	if errors.As(err, &qe) && qe.Index < s.n {
		i := 2 * qe.Index
		if qe.Answer {
			i++
		}
		s.setFocus(i)
	}
}

// matches lists the catalogue questions holding every word typed in
// question i (in any case), without those the other questions already ask
// and without the text itself. A question still filled in is no search.
func (s *registerQuestions) matches(i int) []string {
	typed := s.questions[i].Value()
	words := strings.Fields(strings.ToLower(typed))
	if s.filled[i].on || len(words) == 0 {
		return nil
	}
	taken := map[string]bool{flows.NormaliseAnswer(typed): true}
	for j, q := range s.questions {
		if j != i {
			taken[flows.NormaliseAnswer(q.Value())] = true
		}
	}
	var out []string
	for _, c := range s.catalogue {
		lc := strings.ToLower(c)
		if taken[flows.NormaliseAnswer(c)] || slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(lc, w) }) {
			continue
		}
		out = append(out, c)
	}
	return out
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
			s.focusOn(msg.err)
			return s, nil
		}
		return s, backToOverview("Security questions saved.")
	case tea.KeyPressMsg:
		k := s.e.keys
		switch {
		case key.Matches(msg, k.Back):
			s.req.next(s.e)
			return s, pop
		case key.Matches(msg, k.NextField), key.Matches(msg, k.Down):
			s.move(1)
			return s, nil
		case key.Matches(msg, k.PrevField), key.Matches(msg, k.Up):
			s.move(-1)
			return s, nil
		case key.Matches(msg, k.Select):
			return s, s.enter()
		}
		if s.focus%2 == 0 && s.suggestionKey(msg) {
			return s, nil
		}
	}
	if s.focus%2 == 1 {
		f := &s.answers[s.focus/2]
		var cmd tea.Cmd
		*f, cmd = f.Update(msg)
		return s, cmd
	}
	i := s.focus / 2
	before := s.questions[i].Value()
	cmd := s.filled[i].update(&s.questions[i], msg)
	if s.questions[i].Value() != before {
		s.pick = 0
	}
	return s, cmd
}

// suggestionKey takes the keys of the suggestion under the focused
// question: → at the end of the text or ctrl+e uses it, ctrl+n shows the
// next. It reports whether it took the key.
func (s *registerQuestions) suggestionKey(msg tea.KeyPressMsg) bool {
	i := s.focus / 2
	q := &s.questions[i]
	ms := s.matches(i)
	if len(ms) == 0 {
		return false
	}
	atEnd := msg.String() == "right" && q.Position() == len([]rune(q.Value()))
	switch {
	case key.Matches(msg, s.e.keys.AcceptSuggestion) || atEnd:
		q.SetValue(ms[s.pick%len(ms)])
		q.CursorEnd()
		s.pick = 0
		return true
	case key.Matches(msg, s.e.keys.NextSuggestion):
		s.pick = (s.pick + 1) % len(ms)
		return true
	}
	return false
}

// enter saves once every question and answer would be accepted, from any
// field. Until then it moves on to the next field that needs input, or
// stays on this one, saying why, when it is the one.
func (s *registerQuestions) enter() tea.Cmd {
	err := flows.CheckQuestions(s.values())
	if err == nil {
		return s.submit()
	}
	s.err = ""
	if s.needs(s.focus) {
		s.err = s.fieldNeed(s.focus)
		return nil
	}
	if next := s.nextNeeding(s.focus + 1); next >= 0 {
		s.setFocus(next)
		return nil
	}
	// Every field has something, and still the set is refused (a question
	// asked twice, an answer given twice): say why, at the field.
	s.err = sentence(err)
	s.focusOn(err)
	return nil
}

// fieldNeed says what field i needs.
func (s *registerQuestions) fieldNeed(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("Question %d needs a question.", i/2+1)
	}
	return fmt.Sprintf("Answer %d must be %d–%d characters.", i/2+1, flows.MinAnswerLength, flows.MaxAnswerLength)
}

func (s *registerQuestions) values() []flows.QuestionAnswer {
	qas := make([]flows.QuestionAnswer, s.n)
	for i := range qas {
		qas[i] = flows.QuestionAnswer{Question: s.questions[i].Value(), Answer: s.answers[i].Value()}
	}
	return qas
}

func (s *registerQuestions) submit() tea.Cmd {
	if s.pending {
		return nil
	}
	qas := s.values()
	e, id, seq := s.e, s.sessionID, s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg { return savedMsg{seq: seq, err: e.svc.RegisterQuestions(e.ctx, id, qas)} }
}

func (s *registerQuestions) view(width int) string {
	// A blank line between questions, while the window is tall enough.
	if v := s.layout(width, "\n"); lipgloss.Height(v) <= s.e.bodyHeight || s.e.bodyHeight == 0 {
		return v
	}
	return s.layout(width, "")
}

// questionIndent is where a question's text starts: after its number
// ("1. ") and the field's prompt ("› ").
const questionIndent = 5

func (s *registerQuestions) layout(width int, gap string) string {
	st := s.e.st
	var b strings.Builder
	b.WriteString(wrap(st.Muted.Render("Pick questions only you can answer: type in a question to search the list, "+
		"or write your own. Answers are 3–40 characters; case and spaces don't matter."), width) + "\n")
	textW := max(width-questionIndent, 8)
	pad := strings.Repeat(" ", questionIndent)
	for i := 0; i < s.n; i++ {
		label := st.Input.Label
		if s.focus/2 == i {
			label = st.Input.FocusedLabel
		}
		b.WriteString(gap + label.Render(fmt.Sprintf("%-3s", fmt.Sprintf("%d.", i+1))))
		if s.focus == 2*i {
			fitInput(&s.questions[i], textW-1)
			b.WriteString(s.questions[i].View() + "\n")
			if ms := s.matches(i); len(ms) > 0 {
				more := "→ or ctrl+e uses it"
				if len(ms) > 1 {
					more += fmt.Sprintf(" · ctrl+n for the next (%d of %d)", s.pick%len(ms)+1, len(ms))
				}
				b.WriteString(indent(wrap(st.Body.Render("↳ "+ms[s.pick%len(ms)]), textW), pad) + "\n")
				b.WriteString(indent(wrap(st.Muted.Render("  "+more), textW), pad) + "\n")
			} else if s.filled[i].on {
				b.WriteString(pad + st.Muted.Render("Typing replaces it and searches the list.") + "\n")
			}
		} else {
			// The whole question, wrapped under itself, not a field's window.
			text := wrap(st.Body.Render(sanitize.String(s.questions[i].Value())), textW)
			if s.needs(2 * i) {
				text = st.Muted.Render("no question yet")
			}
			b.WriteString("  " + strings.TrimPrefix(indent(text, pad), pad) + "\n")
		}
		fitInput(&s.answers[i], min(40, textW))
		b.WriteString("   " + s.answers[i].View() + "\n")
	}
	if s.pending {
		b.WriteString("\n" + st.Muted.Render("⋯ Saving…"))
	}
	if s.err != "" {
		b.WriteString("\n" + wrap(st.Error.Render(s.err), width))
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
