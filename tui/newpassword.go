package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// passwordTarget says whose password the new-password screen sets and how:
// after a reset flow, or as a change in a signed-in session.
type passwordTarget struct {
	flowID      string
	sessionID   string
	oldPassword string
	// temporary says the person signed in with a temporary password, which
	// is why they are asked for a new one before anything else.
	temporary bool
	// expired says the password they signed in with has expired
	// (password_max_age_days), which is why they must choose a new one.
	expired bool
	// next opens after "done" instead of the welcome screen (forced
	// registration after a change); nextWhy says why, when it is due, in
	// the language of the visit when the reason is drawn.
	next    func() screen
	nextWhy func() string
}

func (t passwordTarget) id() string {
	if t.flowID != "" {
		return t.flowID
	}
	return t.sessionID
}

// newPassword asks for the new password twice, with the rules as a live
// checklist and a strength meter.
type newPassword struct {
	e       *env
	t       passwordTarget
	pw      textinput.Model
	confirm textinput.Model
	focus   int
	rules   *flows.PasswordRules
	eval    flows.Evaluation
	evalReq request
	// evaluated is the evaluation request eval answers.
	evaluated int
	// evaluating is set while an evaluation runs; there is never more than
	// one, so typing fast, or holding a key down, cannot pile them up.
	evaluating bool
	req        request
	pending    bool
	err        string
	// leaving is set while "leave and lose what you proved?" waits for y/n.
	leaving bool
	// submitted is set by an enter pressed before the rules arrived: the
	// submit goes ahead when they do, rather than being lost.
	submitted bool
}

func newNewPassword(e *env, t passwordTarget) *newPassword {
	s := &newPassword{e: e, t: t,
		pw:      newInput(e, "", limitPassword, true),
		confirm: newInput(e, "", limitPassword, true)}
	s.pw.Focus()
	return s
}

type rulesMsg struct {
	rules flows.PasswordRules
	err   error
}

func (s *newPassword) init() tea.Cmd {
	e, id := s.e, s.t.id()
	return func() tea.Msg {
		r, err := e.svc.PasswordRulesFor(e.ctx, id)
		return rulesMsg{rules: r, err: err}
	}
}

func (s *newPassword) title() string { return s.e.p.T("newpassword.title") }

func (s *newPassword) typing() bool { return !s.leaving }

func (s *newPassword) help() []key.Binding {
	if s.leaving {
		return []key.Binding{s.e.keys.Confirm, s.e.keys.Cancel}
	}
	return []key.Binding{s.e.keys.NextField, s.e.keys.Select, s.e.keys.Back}
}

func (s *newPassword) close() {
	if s.t.flowID != "" {
		s.e.svc.CancelFlow(s.t.flowID)
	}
	s.pw.SetValue("")
	s.confirm.SetValue("")
	s.t.oldPassword = ""
}

type passwordSetMsg struct {
	seq int
	// info is the session a reset opens when the person's security info
	// falls short (see flows.CompleteResetSignedIn); empty otherwise.
	info flows.SessionInfo
	err  error
}

func (s *newPassword) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case rulesMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, "journey.cant_continue", sentence(s.e, msg.err))
		}
		r := msg.rules
		s.rules = &r
		if s.submitted {
			s.submitted = false
			return s, tea.Batch(s.evaluate(), s.submit())
		}
		return s, s.evaluate()
	case evaluatedMsg:
		s.evaluating = false
		if s.evalReq.current(msg.seq) {
			s.eval, s.evaluated = msg.eval, msg.seq
			return s, nil
		}
		// The password changed while this ran: check what it is now.
		return s, s.evaluate()
	case passwordSetMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = false
		var rejected *flows.RejectedError
		switch {
		case msg.err == nil || errors.Is(msg.err, flows.ErrNotFollowed):
			d := newDone(s.e, s.t.next)
			d.sessionID, d.why = s.t.sessionID, s.t.nextWhy
			if msg.info.ID != "" {
				d.registerAfterReset(msg.info)
			}
			if msg.err != nil {
				// Set, but not everywhere: the person hears it first.
				said, why := sentence(s.e, msg.err), d.why
				d.why = func() string {
					if why == nil {
						return said
					}
					return strings.TrimSpace(said + " " + why())
				}
			}
			s.close()
			return s, replaceJourney(d)
		case errors.As(msg.err, &rejected):
			s.eval = rejected.Evaluation
			s.err = sentence(s.e, msg.err)
		case deadEnd(msg.err):
			return s, showDeadEnd(s.e, "journey.cant_continue", sentence(s.e, msg.err))
		default:
			s.err = sentence(s.e, msg.err)
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
		switch {
		case key.Matches(msg, s.e.keys.Back):
			if s.t.flowID != "" {
				// The proofs end with the flow: ask before throwing them away.
				s.leaving = true
				return s, nil
			}
			s.req.next(s.e)
			return s, pop
		}
		if taken, submit := twoFields(s.e, msg, &s.pw, &s.confirm, &s.focus); taken {
			if submit {
				return s, s.submit()
			}
			return s, nil
		}
	}
	var cmd tea.Cmd
	if s.focus == 0 {
		before := s.pw.Value()
		s.pw, cmd = s.pw.Update(msg)
		if s.pw.Value() != before {
			return s, tea.Batch(cmd, s.evaluate())
		}
		return s, cmd
	}
	s.confirm, cmd = s.confirm.Update(msg)
	return s, cmd
}

type evaluatedMsg struct {
	seq  int
	eval flows.Evaluation
}

// evaluate re-checks the rules as the person types. It runs in a command:
// the strength estimate takes up to a few milliseconds for a long, odd
// password, and a keystroke must never wait for it. While one runs, the
// next waits for it to finish and then checks the latest value.
func (s *newPassword) evaluate() tea.Cmd {
	if s.rules == nil {
		return nil
	}
	seq := s.evalReq.next(s.e)
	if s.evaluating {
		return nil
	}
	s.evaluating = true
	rules, pw := *s.rules, s.pw.Value()
	return func() tea.Msg { return evaluatedMsg{seq: seq, eval: rules.Evaluate(pw)} }
}

func (s *newPassword) matches() bool {
	return s.pw.Value() != "" && s.pw.Value() == s.confirm.Value()
}

func (s *newPassword) submit() tea.Cmd {
	if s.rules == nil {
		s.submitted = true
		return nil
	}
	if s.pending {
		return nil
	}
	// With an evaluation still running the check is left to the service,
	// which applies every rule again anyway.
	if s.evaluated == s.evalReq.seq && !s.eval.OK {
		s.err = s.e.p.T("error.rules_unmet")
		return nil
	}
	if !s.matches() {
		s.err = s.e.p.T("newpassword.mismatch")
		return nil
	}
	e, t, pw, seq := s.e, s.t, s.pw.Value(), s.req.next(s.e)
	s.pending, s.err = true, ""
	return func() tea.Msg {
		if t.flowID != "" {
			info, err := e.svc.CompleteResetSignedIn(e.ctx, t.flowID, pw)
			return passwordSetMsg{seq: seq, info: info, err: err}
		}
		return passwordSetMsg{seq: seq, err: e.svc.ChangePassword(e.ctx, t.sessionID, t.oldPassword, pw)}
	}
}

func (s *newPassword) view(width int) string {
	st, p := s.e.st, s.e.p
	if s.leaving {
		// The question alone, so that it shows in the smallest window.
		return wrap(st.Warning.Render(p.T("newpassword.leave")), width)
	}
	intro := ""
	if s.t.temporary {
		intro = wrap(st.Body.Render(p.T("newpassword.temporary")), width) + "\n\n"
	}
	if s.t.expired {
		intro = wrap(st.Body.Render(p.T("newpassword.expired")), width) + "\n\n"
	}
	fieldW := min(40, max(width-4, 8))
	label := func(text string, focused bool) string {
		if focused {
			return st.Input.FocusedLabel.Render(text)
		}
		return st.Input.Label.Render(text)
	}
	s.pw.Placeholder = styles.Placeholder(p.T("newpassword.placeholder.new"))
	s.confirm.Placeholder = styles.Placeholder(p.T("newpassword.placeholder.again"))
	s.pw.SetWidth(fieldW)
	s.confirm.SetWidth(fieldW)
	first := label(p.T("newpassword.label.new"), s.focus == 0) + "\n" + s.pw.View()
	meter := components.StrengthMeter(s.eval.Score, min(fieldW, width), st, p)
	second := label(p.T("newpassword.label.again"), s.focus == 1) + "\n" + s.confirm.View()
	items := make([]components.CheckItem, 0, len(s.eval.Results)+1)
	for _, r := range s.eval.Results {
		items = append(items, components.CheckItem{Label: r.In(s.e.p), Met: r.Met})
	}
	items = append(items, components.CheckItem{Label: p.T("newpassword.match"), Met: s.matches()})
	var status []string
	if s.pending {
		status = append(status, st.Muted.Render("⋯ "+p.T("newpassword.saving")))
	}
	if s.err != "" {
		status = append(status, wrap(st.Error.Render(s.err), width))
	}

	// In a short window the reason for a temporary password gives way to
	// what stops the person (compactView).
	full := intro + first + "\n" + meter + "\n\n" + second + "\n\n" + components.Checklist(items, st, width)
	if s.rules != nil && s.rules.History > 0 {
		history := p.T("newpassword.history.many")
		if s.rules.History == 1 {
			history = p.T("newpassword.history.one")
		}
		full += "\n" + wrap(st.Muted.Render(history), width)
	}
	for _, line := range status {
		full += "\n\n" + line
	}
	rows := s.e.bodyHeight
	if rows <= 0 || lipgloss.Height(full) <= rows {
		return full
	}
	return s.compactView(width, rows, first, meter, second, items, status)
}

// compactView fits the screen to a short window. What stops the person
// always shows: both fields, the message after a refused enter and the
// rules still unmet. The rules already met fold into one line, then the
// blank lines, the meter (the strength rule says the same) and that line
// go, and a list still too long ends with how many more rules are unmet.
func (s *newPassword) compactView(width, rows int, first, meter, second string, items []components.CheckItem,
	status []string) string {
	st, p := s.e.st, s.e.p
	var unmet []components.CheckItem
	for _, it := range items {
		if !it.Met {
			unmet = append(unmet, it)
		}
	}
	summary := ""
	if met := len(items) - len(unmet); met > 0 {
		what := p.N("newpassword.rules_met", met, nil)
		if len(unmet) > 0 {
			what = p.N("newpassword.other_rules_met", met, nil)
		}
		summary = st.Check.Met.Render(st.Glyphs.Met) + " " + st.Check.MetLabel.Render(what)
	}
	list := components.Checklist(unmet, st, width)
	layouts := []struct {
		meter, summary bool
		gap            string
	}{{true, true, "\n\n"}, {true, true, "\n"}, {false, true, "\n"}, {false, false, "\n"}}
	for _, l := range layouts {
		blocks := []string{first}
		if l.meter {
			blocks[0] += "\n" + meter
		}
		blocks = append(blocks, second)
		rules := list
		if l.summary && summary != "" {
			rules = strings.TrimPrefix(rules+"\n"+summary, "\n")
		}
		if rules != "" {
			blocks = append(blocks, rules)
		}
		blocks = append(blocks, status...)
		if body := strings.Join(blocks, l.gap); lipgloss.Height(body) <= rows {
			return body
		}
	}
	// Still too tall: the message right under the fields, then as many
	// unmet rules as fit, and how many more there are.
	head := strings.Join(append([]string{first, second}, status...), "\n")
	left := rows - lipgloss.Height(head)
	if len(unmet) == 0 || left < 1 {
		return head
	}
	var shown []string
	for i, it := range unmet {
		item := strings.Split(components.Checklist([]components.CheckItem{it}, st, width), "\n")
		room := left - len(shown)
		if i < len(unmet)-1 {
			room-- // a line for how many more
		}
		if len(item) > room {
			shown = append(shown, st.Check.Unmet.Render(st.Glyphs.Unmet)+" "+
				st.Check.UnmetLabel.Render(p.N("newpassword.more_rules", len(unmet)-i, nil)))
			break
		}
		shown = append(shown, item...)
	}
	return head + "\n" + strings.Join(shown, "\n")
}
