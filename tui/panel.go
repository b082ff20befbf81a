package tui

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/keys"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// adminIdleLock is how long an admin session may sit without a key before
// the panel locks: the session is signed out and the welcome screen returns.
const adminIdleLock = 10 * time.Minute

// panelTab is one tab of the admin panel. Tabs are parts of the panel
// screen, not screens of their own, so the panel keeps the idle lock and the
// session while they change.
type panelTab interface {
	// label is the catalogue ID of the tab's name in the tab bar.
	label() string
	// open loads what the tab shows; it runs each time the tab is shown.
	open() tea.Cmd
	// update handles keys when the tab is shown, and every other message
	// (each tab takes only its own results).
	update(msg tea.Msg) tea.Cmd
	view(width int) string
	help() []key.Binding
	// typing reports a focused text field.
	typing() bool
	// busy reports a sub-step (an edit, a menu, a question) that takes Esc
	// and keeps the tab keys from switching tabs.
	busy() bool
	// close forgets anything secret the tab holds.
	close()
}

// panelAccess is what the tabs share: the environment and the admin
// session every call is made under.
type panelAccess struct {
	e         *env
	sessionID string
	self      string
}

// panelEndedMsg says the admin session is gone (expired or signed out).
type panelEndedMsg struct{ err error }

// do runs fn in a command with the signed-in administrator as the actor.
// Every read and every change of the panel goes through it, so nothing of
// the panel works without a live admin session.
func (a *panelAccess) do(fn func(actor flows.Actor) tea.Msg) tea.Cmd {
	e, id := a.e, a.sessionID
	return func() tea.Msg {
		actor, err := e.svc.AdminActor(id)
		if err != nil {
			return panelEndedMsg{err: err}
		}
		return fn(actor)
	}
}

// adminHome is the admin panel, what a signed-in administrator sees: Policy | Users | Audit |
// Insights | Blocks, switched with 1–5 or ←/→. Esc opens a menu to sign out or, at a
// kiosk, to leave kiosk mode.
type adminHome struct {
	e          *env
	info       flows.SessionInfo
	tabs       []panelTab
	tab        int
	lastActive time.Time
	// menu offers signing out (and, at a kiosk, leaving kiosk mode) while
	// leaving is set; Esc opens it.
	menu    menu
	leaving bool
	// leaveItems are the menu's choices as catalogue IDs.
	leaveItems []string
}

// newAdminHome opens the admin panel for a session the admin sign-in made.
func newAdminHome(e *env, info flows.SessionInfo) *adminHome {
	a := &panelAccess{e: e, sessionID: info.ID, self: info.Username}
	return &adminHome{e: e, info: info, lastActive: e.now(),
		tabs: []panelTab{newPolicyTab(a), newUsersTab(a), newAuditTab(a), newInsightsTab(a), newBlocksTab(a)}}
}

func (p *adminHome) init() tea.Cmd { return p.tabs[p.tab].open() }

func (p *adminHome) title() string {
	return p.e.p.F("admin.title", locale.Args{"Tab": p.e.p.T(p.tabs[p.tab].label())})
}

func (p *adminHome) typing() bool { return !p.leaving && p.tabs[p.tab].typing() }

func (p *adminHome) close() {
	for _, t := range p.tabs {
		t.close()
	}
	p.e.svc.SignOut(p.info.ID)
}

func (p *adminHome) help() []key.Binding {
	k := p.e.keys
	if p.leaving {
		return []key.Binding{k.Up, k.Down, k.Select, k.Back}
	}
	t := p.tabs[p.tab]
	b := t.help()
	if t.busy() || t.typing() {
		return b
	}
	// The keys that act on the tab first, then moving between tabs and
	// signing out, then moving in a list: a short help bar keeps the first.
	out := k.Back
	out.SetHelp(out.Help().Key, "key.sign_out")
	return keys.Bindings(append(b, k.SwitchTab(), out, k.Tab)).Ranked()
}

// Leave-menu items, as catalogue IDs: the menu is written out at draw time.
const (
	leaveStay  = "admin.leave.stay"
	leaveOut   = "admin.leave.sign_out"
	leaveKiosk = "admin.leave.kiosk"
)

func (p *adminHome) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case clockMsg:
		if time.Time(msg).Sub(p.lastActive) >= adminIdleLock {
			// Locked: home wipes every screen, which signs the session out.
			return p, home
		}
	case panelEndedMsg:
		return p, showDeadEnd(p.e, p.e.p.T("admin.signed_out.title"), p.e.p.T("admin.session_ended"))
	case tea.KeyPressMsg:
		p.lastActive = p.e.now()
		return p, p.onKey(msg)
	case tea.PasteMsg:
		p.lastActive = p.e.now()
		if p.leaving {
			return p, nil
		}
		return p, p.tabs[p.tab].update(msg)
	}
	var cmds []tea.Cmd
	for _, t := range p.tabs {
		cmds = append(cmds, t.update(msg))
	}
	return p, tea.Batch(cmds...)
}

func (p *adminHome) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.e.keys
	if p.leaving {
		if key.Matches(msg, k.Back) {
			p.leaving = false
			return nil
		}
		i, ok := p.menu.update(p.e, msg)
		if !ok {
			return nil
		}
		choice := p.leaveItems[i]
		p.leaving = false
		switch choice {
		case leaveOut:
			return home
		case leaveKiosk:
			return func() tea.Msg { return leaveMsg{} }
		}
		return nil
	}
	t := p.tabs[p.tab]
	if !t.busy() && !t.typing() {
		if i, ok := k.TabIndex(msg); ok {
			return p.show(i)
		}
		switch {
		case key.Matches(msg, k.NextTab):
			return p.show((p.tab + 1) % len(p.tabs))
		case key.Matches(msg, k.PrevTab):
			return p.show((p.tab + len(p.tabs) - 1) % len(p.tabs))
		case key.Matches(msg, k.Back):
			p.leaving = true
			p.menu = menu{}
			p.leaveItems = []string{leaveStay, leaveOut}
			if p.e.mode == ModeKiosk {
				p.leaveItems = append(p.leaveItems, leaveKiosk)
			}
			p.writeLeaveMenu()
			return nil
		}
	}
	return t.update(msg)
}

// show switches to tab i and reloads it, so what it shows is current.
func (p *adminHome) show(i int) tea.Cmd {
	p.tab = i
	return p.tabs[i].open()
}

func (p *adminHome) view(width int) string {
	st := p.e.st
	var b strings.Builder
	b.WriteString(p.tabBar(false))
	if ansi.StringWidth(b.String()) > width {
		// Too narrow for every name: the other tabs show their number.
		b.Reset()
		b.WriteString(p.tabBar(true))
	}
	who := p.e.p.F("admin.signed_in_as", locale.Args{"Name": sanitize.Line(p.info.Username, 24)})
	if whoW := ansi.StringWidth(who); width-ansi.StringWidth(b.String()) > whoW+2 {
		b.WriteString(strings.Repeat(" ", width-ansi.StringWidth(b.String())-whoW) + st.Muted.Render(who))
	}
	b.WriteString("\n\n")
	if p.leaving {
		b.WriteString(st.Body.Render(p.e.p.T("admin.leave.question")) + "\n\n")
		p.writeLeaveMenu()
		b.WriteString(p.menu.view(p.e, width))
		return b.String()
	}
	b.WriteString(p.tabs[p.tab].view(width))
	return b.String()
}

// writeLeaveMenu writes the leave menu's choices in the visit's language.
func (p *adminHome) writeLeaveMenu() {
	p.menu.items = p.menu.items[:0]
	for _, id := range p.leaveItems {
		p.menu.items = append(p.menu.items, p.e.p.T(id))
	}
}

// tabBar draws the tab names, the shown tab highlighted; short leaves the
// other tabs at their number.
func (p *adminHome) tabBar(short bool) string {
	st := p.e.st
	var b strings.Builder
	for i, t := range p.tabs {
		if i > 0 {
			b.WriteString(" ")
		}
		label := string(rune('1'+i)) + " " + p.e.p.T(t.label())
		switch {
		case i == p.tab:
			b.WriteString(st.Title.Render(label))
		case short:
			b.WriteString(st.Muted.Render(" " + string(rune('1'+i)) + " "))
		default:
			b.WriteString(st.Muted.Render(" " + label + " "))
		}
	}
	return b.String()
}

// panelSentence turns an error of an admin operation into one sentence.
// Admins may be told what the flows' end-user sentences keep back (that a
// user or group does not exist), and refusals say why.
func panelSentence(e *env, err error) string {
	var refusal *locale.Error
	var invalid *policy.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, flows.ErrLastAdmin):
		return e.p.T("admin.error.last_admin")
	case errors.As(err, &invalid):
		// The policy writes its refusals as the CLI prints them, after
		// "set policy: "; on a screen they open a sentence.
		return panelCapital(invalid.In(e.p))
	case errors.As(err, &refusal):
		// The admin refusals of flows are written as the CLI prints them.
		return panelCapital(refusal.In(e.p))
	case errors.Is(err, flows.ErrNotFound):
		if msg := innerMessage(err, flows.ErrNotFound); msg != "" {
			return msg
		}
		return e.p.T("admin.error.not_found")
	case errors.Is(err, flows.ErrExists):
		if msg := innerMessage(err, flows.ErrExists); msg != "" {
			return msg
		}
		return e.p.T("admin.error.exists")
	case errors.Is(err, flows.ErrFlowExpired):
		return e.p.T("admin.session_ended")
	}
	return sentence(e, err)
}

// innerMessage returns the sentence a flow put in front of a sentinel error,
// capitalised, with the operation prefixes removed: for the admin panel,
// whose refusals not yet in the catalogue are the CLI's words.
func innerMessage(err, sentinel error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if msg == "" || msg == sentinel.Error() {
		return ""
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// panelCapital starts s with a capital and ends it with a full stop, unless
// it already ends a sentence (in any script: "。" too).
func panelCapital(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if last, _ := utf8.DecodeLastRuneInString(s); !strings.ContainsRune(".。!?！？", last) {
		s += "."
	}
	return s
}

// panelConfirm is a yes/no question before a change.
type panelConfirm struct {
	question string
	run      func() tea.Cmd
}

// answer handles a key for an open question: y runs it, n or Esc drops it.
// It reports whether the question is closed, and the command to run.
func (c *panelConfirm) answer(e *env, msg tea.KeyPressMsg) (closed bool, cmd tea.Cmd) {
	switch {
	case key.Matches(msg, e.keys.Confirm):
		return true, c.run()
	case key.Matches(msg, e.keys.Cancel), key.Matches(msg, e.keys.Back):
		return true, nil
	}
	return false, nil
}

func (c *panelConfirm) view(e *env) string {
	// The keys on a line of their own, so that wrapping a long question
	// never splits "y yes · n no".
	return e.st.Warning.Render(sanitize.String(c.question)) + "\n" + e.st.Help.Key.Render("y") +
		e.st.Muted.Render(" "+e.p.T("key.yes")+" · ") + e.st.Help.Key.Render("n") + e.st.Muted.Render(" "+e.p.T("key.no"))
}

// focusedField is the text field that has the focus, so that a paste too
// long for it is refused whole (see pasteFits).
func (p *adminHome) focusedField() *textinput.Model {
	if p.leaving || !p.tabs[p.tab].typing() {
		return nil
	}
	switch t := p.tabs[p.tab].(type) {
	case *policyTab:
		return &t.input
	case *usersTab:
		return &t.search
	case *auditTab:
		return &t.fields[t.focus]
	}
	return nil
}
