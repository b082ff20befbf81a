package tui

import (
	"errors"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows"
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
	// label names the tab in the tab bar.
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
}

// newAdminHome opens the admin panel for a session the admin sign-in made.
func newAdminHome(e *env, info flows.SessionInfo) *adminHome {
	a := &panelAccess{e: e, sessionID: info.ID, self: info.Username}
	return &adminHome{e: e, info: info, lastActive: e.now(),
		tabs: []panelTab{newPolicyTab(a), newUsersTab(a), newAuditTab(a), newInsightsTab(a), newBlocksTab(a)}}
}

func (p *adminHome) init() tea.Cmd { return p.tabs[p.tab].open() }

func (p *adminHome) title() string { return "Administration · " + p.tabs[p.tab].label() }

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
	out.SetHelp(out.Help().Key, "sign out")
	return keys.Bindings(append(b, k.SwitchTab(), out, k.Tab)).Ranked()
}

// Leave-menu items.
const (
	leaveStay  = "Back to the panel"
	leaveOut   = "Sign out"
	leaveKiosk = "Leave kiosk mode"
)

func (p *adminHome) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case clockMsg:
		if time.Time(msg).Sub(p.lastActive) >= adminIdleLock {
			// Locked: home wipes every screen, which signs the session out.
			return p, home
		}
	case panelEndedMsg:
		return p, showDeadEnd(p.e, "Signed out", "Your administrator session has ended. Sign in again to go on.")
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
		choice := p.menu.items[i]
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
			p.menu = menu{items: []string{leaveStay, leaveOut}}
			if p.e.mode == ModeKiosk {
				p.menu.items = append(p.menu.items, leaveKiosk)
			}
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
	who := "Signed in as " + sanitize.Line(p.info.Username, 24) + "."
	if width-ansi.StringWidth(b.String()) > len(who)+2 {
		b.WriteString(strings.Repeat(" ", width-ansi.StringWidth(b.String())-len(who)) + st.Muted.Render(who))
	}
	b.WriteString("\n\n")
	if p.leaving {
		b.WriteString(st.Body.Render("Leave the administration panel?") + "\n\n")
		b.WriteString(p.menu.view(p.e, width))
		return b.String()
	}
	b.WriteString(p.tabs[p.tab].view(width))
	return b.String()
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
		label := string(rune('1'+i)) + " " + t.label()
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
	switch {
	case err == nil:
		return ""
	case errors.Is(err, flows.ErrLastAdmin):
		return "There must be at least one administrator, and this would leave none."
	case errors.Is(err, policy.ErrInvalidValue), errors.Is(err, policy.ErrUnknownKey):
		return panelCapital(policyMessage(err))
	case errors.Is(err, flows.ErrNotFound):
		if msg := innerMessage(err, flows.ErrNotFound); msg != "" {
			return msg
		}
		return "That no longer exists."
	case errors.Is(err, flows.ErrExists):
		if msg := innerMessage(err, flows.ErrExists); msg != "" {
			return msg
		}
		return "That exists already."
	case errors.Is(err, flows.ErrFlowExpired):
		return "Your administrator session has ended. Sign in again to go on."
	}
	return sentence(e, err)
}

// policyMessage finds the policy's own sentence inside the wrapping of the
// flows ("set policy: …"): the error whose direct cause is the sentinel.
func policyMessage(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if u := errors.Unwrap(e); u == policy.ErrInvalidValue || u == policy.ErrUnknownKey {
			msg = e.Error()
		}
	}
	return msg
}

// capitalSentence starts s with a capital and ends it with a full stop.
func panelCapital(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
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
	return e.st.Warning.Render(sanitize.String(c.question)) + "\n" + e.st.Help.Key.Render("y") + e.st.Muted.Render(" yes · ") +
		e.st.Help.Key.Render("n") + e.st.Muted.Render(" no")
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
