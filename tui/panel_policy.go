package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// whatIfDelay is how long the policy editor waits after the last keystroke
// before asking what a value would mean: one question per pause, not one per
// key, since each reads every user.
const whatIfDelay = 200 * time.Millisecond

// limitPolicyValue is the longest value the editor takes (banned words are
// the longest setting).
const limitPolicyValue = policy.MaxBannedWords * (policy.MaxBannedWordLength + 1)

// policyTab lists every setting with its value; enter edits one, with the
// value in force beside the new one, inline validation, a what-if line from
// the store and a yes/no before saving.
type policyTab struct {
	a      *panelAccess
	pol    policy.Policy
	loaded bool
	cursor int
	// top is the first setting shown when the window is too short for all:
	// the list moves only as far as the cursor needs, so the settings
	// around it stay where they were.
	top  int
	note string
	err  string
	req  request

	// The editor, while a setting is being changed.
	editing bool
	key     string
	input   textinput.Model
	invalid string
	// whatIf is the line for whatIfValue; whatIfErr a refusal from the store.
	whatIf, whatIfErr, whatIfValue string
	wreq                           request
	confirm                        *panelConfirm
	// delay is whatIfDelay; tests set it to 0.
	delay time.Duration
}

func newPolicyTab(a *panelAccess) *policyTab {
	in := newInput(a.e, "new value", limitPolicyValue, false)
	return &policyTab{a: a, input: in, delay: whatIfDelay}
}

func (t *policyTab) label() string { return "Policy" }
func (t *policyTab) typing() bool {
	return t.editing && t.confirm == nil && !policy.IsBool(t.key)
}
func (t *policyTab) busy() bool { return t.editing }
func (t *policyTab) close()     {}

type (
	policyLoadedMsg struct {
		seq int
		pol policy.Policy
		err error
	}
	policyWhatIfDueMsg struct{ seq int }
	policyWhatIfMsg    struct {
		seq   int
		value string
		line  string
		err   error
	}
	policySavedMsg struct {
		seq    int
		change policy.Change
		err    error
	}
)

func (t *policyTab) open() tea.Cmd {
	seq, e := t.req.next(t.a.e), t.a.e
	return t.a.do(func(flows.Actor) tea.Msg {
		pol, err := e.svc.Policy(e.ctx)
		return policyLoadedMsg{seq: seq, pol: pol, err: err}
	})
}

func (t *policyTab) help() []key.Binding {
	k := t.a.e.keys
	switch {
	case t.confirm != nil:
		return []key.Binding{k.Confirm, k.Cancel}
	case t.editing:
		save := k.Select
		save.SetHelp("enter", "save")
		cancel := k.Back
		cancel.SetHelp("esc", "cancel")
		if policy.IsBool(t.key) {
			return []key.Binding{k.Toggle, save, cancel}
		}
		return []key.Binding{save, cancel}
	}
	edit := k.Select
	edit.SetHelp("enter", "edit")
	if policy.IsBool(policy.Keys()[t.cursor]) {
		edit.SetHelp("enter/space", "flip")
	}
	return []key.Binding{k.Up, k.Down, edit}
}

func (t *policyTab) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case policyLoadedMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err = panelSentence(t.a.e, msg.err)
			return nil
		}
		t.pol, t.loaded = msg.pol, true
		return nil
	case policyWhatIfDueMsg:
		if !t.wreq.current(msg.seq) || !t.editing {
			return nil
		}
		return t.askWhatIf(msg.seq)
	case policyWhatIfMsg:
		if !t.wreq.current(msg.seq) || !t.editing || msg.value != t.input.Value() {
			return nil
		}
		t.whatIfValue = msg.value
		t.whatIf, t.whatIfErr = msg.line, ""
		if msg.err != nil {
			t.whatIf, t.whatIfErr = "", panelSentence(t.a.e, msg.err)
			if t.confirm != nil {
				// Asked before the store answered: it refuses the value.
				t.confirm = nil
				t.input.Focus()
			}
		}
		return nil
	case policySavedMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err = panelSentence(t.a.e, msg.err)
			t.input.Focus()
			return nil
		}
		c := msg.change
		t.stopEditing()
		t.note = fmt.Sprintf("Saved: %s changed from %s to %s.", policy.Label(c.Key), panelValue(c.Old), panelValue(c.New))
		return t.open()
	case tea.KeyPressMsg:
		return t.onKey(msg)
	case tea.PasteMsg:
		if t.typing() {
			return t.edit(msg)
		}
	}
	return nil
}

func (t *policyTab) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := t.a.e.keys
	if t.confirm != nil {
		closed, cmd := t.confirm.answer(t.a.e, msg)
		if closed {
			t.confirm = nil
			if cmd == nil {
				t.input.Focus()
			}
		}
		return cmd
	}
	if t.editing {
		switch {
		case key.Matches(msg, k.Back):
			t.stopEditing()
			return nil
		case key.Matches(msg, k.Select):
			return t.submit()
		case policy.IsBool(t.key):
			// A switch, not text: space or an arrow flips it.
			if key.Matches(msg, k.Toggle) || key.Matches(msg, k.PrevTab) || key.Matches(msg, k.NextTab) {
				before := t.input.Value()
				t.input.SetValue(flipped(before))
				return t.changed(before, nil)
			}
			return nil
		}
		return t.edit(msg)
	}
	keys := policy.Keys()
	switch {
	case key.Matches(msg, k.Up):
		t.cursor = (t.cursor + len(keys) - 1) % len(keys)
	case key.Matches(msg, k.Down):
		t.cursor = (t.cursor + 1) % len(keys)
	case key.Matches(msg, k.Select), key.Matches(msg, k.Toggle) && policy.IsBool(keys[t.cursor]):
		if !t.loaded {
			return nil
		}
		t.startEditing(keys[t.cursor])
		if policy.IsBool(t.key) {
			// The only change an on/off setting has: flip it and ask.
			t.input.SetValue(flipped(t.input.Value()))
			return t.submit()
		}
	}
	return nil
}

// flipped is the other value of an on/off setting.
func flipped(v string) string {
	if v == "true" {
		return "false"
	}
	return "true"
}

func (t *policyTab) startEditing(k string) {
	t.editing, t.key = true, k
	t.note, t.err, t.invalid = "", "", ""
	t.whatIf, t.whatIfErr, t.whatIfValue = "", "", ""
	t.input.SetValue(t.pol.Get(k))
	t.input.CursorEnd()
	t.input.Focus()
	t.wreq.next(t.a.e)
}

func (t *policyTab) stopEditing() {
	t.editing, t.confirm = false, nil
	t.input.Blur()
	t.input.SetValue("")
	t.invalid, t.err = "", ""
	t.wreq.next(t.a.e)
}

// edit passes a key or paste to the field, checks the new value at once and
// asks what it would mean after a pause.
func (t *policyTab) edit(msg tea.Msg) tea.Cmd {
	before := t.input.Value()
	var cmd tea.Cmd
	t.input, cmd = t.input.Update(msg)
	return t.changed(before, cmd)
}

// changed checks the value after an edit or a flip and, when it changed,
// asks what it would mean after a pause; cmd is the field's own command.
func (t *policyTab) changed(before string, cmd tea.Cmd) tea.Cmd {
	if t.input.Value() == before {
		return cmd
	}
	t.err = ""
	t.validate()
	seq := t.wreq.next(t.a.e)
	t.whatIf, t.whatIfErr, t.whatIfValue = "", "", ""
	if t.invalid != "" || t.input.Value() == t.pol.Get(t.key) {
		return cmd
	}
	if t.delay <= 0 {
		return tea.Batch(cmd, t.askWhatIf(seq))
	}
	return tea.Batch(cmd, tea.Tick(t.delay, func(time.Time) tea.Msg { return policyWhatIfDueMsg{seq: seq} }))
}

// validate applies the value to a copy of the policy, as SetPolicy will;
// what needs the store (a group's existence) comes with the what-if.
func (t *policyTab) validate() {
	next := t.pol
	next.MethodsAllowed = append([]policy.Method(nil), t.pol.MethodsAllowed...)
	next.BannedWords = append([]string(nil), t.pol.BannedWords...)
	err := next.Set(t.key, t.input.Value())
	if err == nil {
		err = next.Validate()
	}
	t.invalid = ""
	if err != nil {
		t.invalid = panelSentence(t.a.e, err)
	}
}

func (t *policyTab) askWhatIf(seq int) tea.Cmd {
	e, k, v := t.a.e, t.key, t.input.Value()
	return t.a.do(func(flows.Actor) tea.Msg {
		line, err := e.svc.PolicyWhatIf(e.ctx, k, v)
		return policyWhatIfMsg{seq: seq, value: v, line: line, err: err}
	})
}

func (t *policyTab) submit() tea.Cmd {
	v := t.input.Value()
	t.validate()
	switch {
	case t.invalid != "":
		return nil
	case v == t.pol.Get(t.key):
		t.err = "That is the value in force; type a new one, or press esc."
		return nil
	case t.whatIfErr != "" && t.whatIfValue == v:
		t.err = t.whatIfErr
		return nil
	}
	var cmd tea.Cmd
	if t.whatIfValue != v {
		// Enter before the pause: ask now, so the question shows the line.
		cmd = t.askWhatIf(t.wreq.next(t.a.e))
	}
	k, old := t.key, t.pol.Get(t.key)
	t.input.Blur()
	t.confirm = &panelConfirm{
		question: fmt.Sprintf("Save %s: %s → %s?", policy.Label(k), panelValue(old), panelValue(v)),
		run: func() tea.Cmd {
			seq, e := t.req.next(t.a.e), t.a.e
			return t.a.do(func(actor flows.Actor) tea.Msg {
				change, err := e.svc.SetPolicy(e.ctx, actor, k, v)
				return policySavedMsg{seq: seq, change: change, err: err}
			})
		},
	}
	return cmd
}

// boolSwitch draws an on/off setting's new value as a switch, marked in
// text as well as in colour: (•) true  ( ) false.
func boolSwitch(st *styles.Styles, v string) string {
	var parts []string
	for _, opt := range []string{"true", "false"} {
		if opt == v {
			parts = append(parts, st.Code.Render("(•) "+opt))
		} else {
			parts = append(parts, st.Muted.Render("( ) "+opt))
		}
	}
	return strings.Join(parts, "   ") + "  " + st.Muted.Render("space flips")
}

// unconfigured picks the methods of ms this server cannot offer: email or
// text without its channel.
func (t *policyTab) unconfigured(ms []policy.Method) []policy.Method {
	var out []policy.Method
	for _, m := range ms {
		if !t.a.e.svc.Configured(m) {
			out = append(out, m)
		}
	}
	return out
}

// channelSetting names the config setting that gives a method its channel.
func channelSetting(m policy.Method) string {
	if m.Describe().Channel == policy.ChannelSMS {
		return "sms.url"
	}
	return "smtp.host"
}

// shownValue writes a setting's value for a sentence; empty shows as "(none)".
func panelValue(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// policyHint says what a setting accepts.
func policyHint(k string) string {
	switch k {
	case policy.KeyEnabledFor:
		return "none, group or all"
	case policy.KeyEnabledGroup:
		return "the name of an existing group"
	case policy.KeyMethodsRequired:
		return "1 or 2"
	case policy.KeyMethodsAllowed:
		return "a comma list of email, sms, authenticator, recovery_codes, voucher, questions"
	case policy.KeyQuestionsToRegister, policy.KeyQuestionsToAnswer:
		return fmt.Sprintf("%d–%d; at least as many registered as answered", policy.MinQuestions, policy.MaxQuestions)
	case policy.KeyReconfirmDays:
		return fmt.Sprintf("0–%d; 0 means never", policy.MaxReconfirmDays)
	case policy.KeyHelpdeskContact:
		return "an email address or an http(s) URL; empty for none"
	case policy.KeyPasswordMinLength:
		return fmt.Sprintf("%d–%d", policy.MinPasswordMinLength, policy.MaxPasswordMinLength)
	case policy.KeyPasswordHistory:
		return fmt.Sprintf("0–%d", policy.MaxPasswordHistory)
	case policy.KeyPasswordMinStrength:
		return fmt.Sprintf("0–%d (zxcvbn score)", policy.MaxPasswordStrength)
	case policy.KeyBannedWords:
		return fmt.Sprintf("a comma list of words, %d–%d characters each", policy.MinBannedWordLength, policy.MaxBannedWordLength)
	case policy.KeyLockoutThreshold:
		return fmt.Sprintf("%d–%d different wrong passwords", policy.MinLockoutThreshold, policy.MaxLockoutThreshold)
	case policy.KeyLockoutDuration:
		return "whole minutes from 1m to 24h, such as 15m or 1h30m"
	}
	return "true or false"
}

func (t *policyTab) view(width int) string {
	if t.editing {
		return t.editView(width)
	}
	st := t.a.e.st
	var b strings.Builder
	if !t.loaded {
		if t.err != "" {
			return st.Error.Render(sanitize.String(t.err))
		}
		return st.Muted.Render("⋯ Loading the policy…")
	}
	keys := policy.Keys()
	labelW := min(30, max(width/2-2, 12))
	valueW := max(width-labelW-4, 4)
	// Allowed methods the server cannot offer get a line of their own
	// under their setting.
	unconfigured := t.unconfigured(t.pol.MethodsAllowed)
	extra := min(len(unconfigured), 1)
	// The allowed methods are read whole, on as many lines as they need:
	// cut, the last of them would be missed.
	indent := lipgloss.Width(st.Item.Unselected.Render("  " + panelPad("", labelW-1) + " "))
	methods := components.WrapValue(sanitize.String(t.pol.Get(policy.KeyMethodsAllowed)), valueW+indent, indent)
	extra += strings.Count(methods, "\n")
	// Scroll when the window is too short for every setting.
	rows := len(keys)
	if h := t.a.e.bodyHeight - 6 - extra; h >= 3 && h < rows {
		rows = h
	}
	t.top = min(max(t.top, t.cursor-rows+1), t.cursor, len(keys)-rows)
	first := max(t.top, 0)
	for i := first; i < first+rows; i++ {
		k := keys[i]
		label := panelCapital(policy.Label(k))
		label = strings.TrimSuffix(label, ".")
		v := t.pol.Get(k)
		value := st.Body.Render(sanitize.Line(v, valueW))
		if k == policy.KeyMethodsAllowed {
			value = st.Body.Render(methods)
		}
		if v == "" {
			value = st.Muted.Render("—")
		}
		line := panelPad(label, labelW-1) + " "
		if i == t.cursor {
			b.WriteString(st.Item.Selected.Render(st.Glyphs.Pointer+" "+line) + value + "\n")
		} else {
			b.WriteString(st.Item.Unselected.Render("  "+line) + value + "\n")
		}
		if k == policy.KeyMethodsAllowed && len(unconfigured) > 0 {
			// Under the value, wherever the row's style puts it.
			b.WriteString(strings.Repeat(" ", indent) +
				st.Warning.Render(sanitize.Line(flows.MethodList(unconfigured)+": not configured", valueW)) + "\n")
		}
	}
	switch {
	case t.err != "":
		b.WriteString("\n" + st.Error.Render(sanitize.String(t.err)))
	case t.note != "":
		b.WriteString("\n" + st.Success.Render(sanitize.String(t.note)))
	default:
		b.WriteString("\n" + st.Muted.Render("Enter changes the selected setting; every change is audited."))
	}
	return wrap(strings.TrimSuffix(b.String(), "\n"), width)
}

func (t *policyTab) editView(width int) string {
	st := t.a.e.st
	var b strings.Builder
	name := strings.TrimSuffix(panelCapital(policy.Label(t.key)), ".")
	b.WriteString(st.Subtitle.Render(name) + st.Muted.Render("  ("+policyHint(t.key)+")") + "\n\n")
	cur := t.pol.Get(t.key)
	b.WriteString(st.Input.Label.Render("In force  ") + st.Body.Render(sanitize.Line(panelValue(cur), max(width-12, 8))) + "\n")
	v := t.input.Value()
	if policy.IsBool(t.key) {
		b.WriteString(st.Input.FocusedLabel.Render("New       ") + boolSwitch(st, v) + "\n\n")
	} else {
		fitInput(&t.input, max(min(width-14, 60), 8))
		b.WriteString(st.Input.FocusedLabel.Render("New       ") + t.input.View() + "\n\n")
	}
	if u := t.unconfigured(policy.AllMethods()); t.key == policy.KeyMethodsAllowed && len(u) > 0 {
		settings := make([]string, len(u))
		for i, m := range u {
			settings[i] = channelSetting(m)
		}
		b.WriteString(st.Warning.Render("Not configured on this server, so offered to nobody even if allowed: "+
			flows.MethodList(u)+" (set "+strings.Join(settings, " and ")+" in config.yaml).") + "\n\n")
	}
	switch {
	case t.invalid != "":
		b.WriteString(st.Error.Render(st.Glyphs.Unmet+" "+sanitize.String(t.invalid)) + "\n")
	case t.whatIfErr != "" && t.whatIfValue == v:
		b.WriteString(st.Error.Render(st.Glyphs.Unmet+" "+sanitize.String(t.whatIfErr)) + "\n")
	case v == cur && policy.IsBool(t.key):
		b.WriteString(st.Muted.Render("Press space to flip it.") + "\n")
	case v == cur:
		b.WriteString(st.Muted.Render("Type the new value.") + "\n")
	default:
		b.WriteString(st.Success.Render(st.Glyphs.Met+" Valid.") + "\n")
		if t.whatIfValue == v && t.whatIf != "" {
			b.WriteString(st.Body.Render("What if: "+sanitize.String(t.whatIf)+".") + "\n")
		} else {
			b.WriteString(st.Muted.Render("What if: ⋯ counting…") + "\n")
		}
	}
	if t.key == policy.KeyHelpdeskContact && t.invalid == "" {
		b.WriteString("\n" + st.Muted.Render("As people at a dead end will see it:") + "\n")
		b.WriteString(st.Input.Focused.Render(helpdeskLine(t.a.e, strings.TrimSpace(v), max(width-6, 20))) + "\n")
	}
	if t.err != "" {
		b.WriteString("\n" + st.Error.Render(sanitize.String(t.err)) + "\n")
	}
	if t.confirm != nil {
		b.WriteString("\n" + t.confirm.view(t.a.e))
	}
	return wrap(strings.TrimSuffix(b.String(), "\n"), width)
}
