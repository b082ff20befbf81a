package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// usersPageSize is how many users one page of the table shows.
const usersPageSize = 12

// usersTab is a searchable, paginated table of users with the actions an
// admin takes on one of them. Pages are fetched by username keys, one page
// at a time, so 100,000 users cost what 100 do.
type usersTab struct {
	a      *panelAccess
	search textinput.Model
	// searching is set while the search field has the focus.
	searching bool
	// query is the search the page shows; anchor and pageNo how it was fetched.
	query  string
	anchor userAnchor
	pageNo int
	page   flows.UserPage
	total  int
	loaded bool
	cursor int
	req    request
	note   string
	err    string

	// at is how far the admin has gone into acting on one user.
	at userSteps
}

// userStep is a step of acting on one user, from the table to the answer.
type userStep int

const (
	// userList is the table: no user is selected.
	userList userStep = iota
	// userActions shows the selected user and what can be done to them.
	userActions
	// userMethods asks which method to remove.
	userMethods
	// userConfirm asks yes or no on one action.
	userConfirm
	// userVoucher shows an issued voucher, once, until the next key.
	userVoucher
)

// userSteps is the step the users tab is at and what each step needs. A
// step keeps the data of those before it, so going back finds them as
// they were.
type userSteps struct {
	step userStep
	// target, acts and actions: from userActions on.
	target  flows.UserRow
	acts    []userAction
	actions menu
	// methods: userMethods, and a userConfirm asked from it.
	methods menu
	// confirm and its way back (userActions or userMethods): userConfirm.
	confirm     panelConfirm
	confirmBack userStep
	// voucher, for whom, and the step it covers: userVoucher. It comes
	// with the action's result, when the admin may have moved on; the next
	// key returns there.
	voucher     flows.Voucher
	voucherFor  string
	voucherOver userStep
}

// menu is the menu the step shows, or nil.
func (u *userSteps) menu() *menu {
	switch u.step {
	case userActions:
		return &u.actions
	case userMethods:
		return &u.methods
	}
	return nil
}

// shownVoucher is the voucher on the screen, or nil.
func (u *userSteps) shownVoucher() *flows.Voucher {
	if u.step != userVoucher {
		return nil
	}
	return &u.voucher
}

// userAnchor is where a page starts (after a username) or ends (before one).
type userAnchor struct{ after, before string }

// userAction is one thing an admin can do to the selected user.
type userAction struct {
	label    string
	question string
	// pickMethod asks which method first (for removing one).
	pickMethod bool
	run        func(actor flows.Actor) (note string, v *flows.Voucher, err error)
}

func newUsersTab(a *panelAccess) *usersTab {
	in := newInput(a.e, "username, name or email", flows.MaxSearchLength, false)
	in.Prompt = "/ "
	return &usersTab{a: a, search: in, pageNo: 1}
}

func (t *usersTab) label() string { return "Users" }
func (t *usersTab) typing() bool  { return t.searching }
func (t *usersTab) busy() bool {
	return t.searching || t.at.step != userList
}

func (t *usersTab) close() { t.dropVoucher() }

func (t *usersTab) dropVoucher() {
	if t.at.step == userVoucher {
		t.at.step = t.at.voucherOver
		t.at.voucher, t.at.voucherFor = flows.Voucher{}, ""
	}
}

type (
	usersPageMsg struct {
		seq        int
		query      string
		anchor     userAnchor
		pageNo     int
		keepCursor bool
		page       flows.UserPage
		err        error
	}
	userActionMsg struct {
		seq     int
		user    string
		note    string
		voucher *flows.Voucher
		err     error
	}
)

func (t *usersTab) open() tea.Cmd {
	return t.fetch(t.query, t.anchor, t.pageNo, true, true)
}

// fetch asks for one page; count also asks how many users the search matches.
func (t *usersTab) fetch(query string, anchor userAnchor, pageNo int, count, keepCursor bool) tea.Cmd {
	seq, e := t.req.next(t.a.e), t.a.e
	return t.a.do(func(flows.Actor) tea.Msg {
		page, err := e.svc.ListUserPage(e.ctx, flows.UserQuery{Search: query, After: anchor.after, Before: anchor.before,
			Limit: usersPageSize, Count: count})
		return usersPageMsg{seq: seq, query: query, anchor: anchor, pageNo: pageNo, keepCursor: keepCursor, page: page, err: err}
	})
}

func (t *usersTab) help() []key.Binding {
	k := t.a.e.keys
	switch {
	case t.at.step == userVoucher:
		done := k.Select
		done.SetHelp("any key", "done")
		return []key.Binding{done}
	case t.at.step == userConfirm:
		return []key.Binding{k.Confirm, k.Cancel}
	case t.at.step != userList:
		return []key.Binding{k.Up, k.Down, k.Select, k.Back}
	case t.searching:
		done := k.Select
		done.SetHelp("enter", "done")
		return []key.Binding{done}
	}
	act := k.Select
	act.SetHelp("enter", "actions")
	next, prev := k.PageDown, k.PageUp
	next.SetHelp("pgdn", "next page")
	prev.SetHelp("pgup", "previous page")
	return []key.Binding{k.Up, k.Down, act, k.Search, next, prev}
}

func (t *usersTab) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case usersPageMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err = panelSentence(t.a.e, msg.err)
			return nil
		}
		if t.searching {
			t.err = "" // a refused search is fixed by typing on
		}
		t.query, t.anchor, t.pageNo, t.page, t.loaded = msg.query, msg.anchor, msg.pageNo, msg.page, true
		if msg.page.Total >= 0 {
			t.total = msg.page.Total
		}
		switch {
		case !msg.keepCursor && msg.anchor.before != "":
			t.cursor = len(t.page.Users) - 1
		case !msg.keepCursor:
			t.cursor = 0
		}
		t.cursor = max(min(t.cursor, len(t.page.Users)-1), 0)
		return nil
	case userActionMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err, t.note = panelSentence(t.a.e, msg.err), ""
			return nil
		}
		t.err, t.note = "", msg.note
		if msg.voucher != nil {
			if t.at.step != userVoucher {
				t.at.voucherOver = t.at.step
			}
			t.at.step, t.at.voucher, t.at.voucherFor = userVoucher, *msg.voucher, msg.user
		}
		return t.fetch(t.query, t.anchor, t.pageNo, false, true)
	case tea.KeyPressMsg:
		return t.onKey(msg)
	case tea.PasteMsg:
		if t.searching {
			return t.edit(msg)
		}
	}
	return nil
}

func (t *usersTab) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := t.a.e.keys
	switch t.at.step {
	case userVoucher:
		// Shown once: any key forgets it.
		t.dropVoucher()
		return nil
	case userConfirm:
		closed, cmd := t.at.confirm.answer(t.a.e, msg)
		switch {
		case closed && cmd != nil:
			t.at = userSteps{}
		case closed:
			t.at.step = t.at.confirmBack
		}
		return cmd
	case userMethods:
		if key.Matches(msg, k.Back) {
			t.at.step = userActions
			return nil
		}
		if i, ok := t.at.methods.update(t.a.e, msg); ok {
			t.ask(t.removeMethod(t.at.target, t.at.target.Methods[i]))
		}
		return nil
	case userActions:
		if key.Matches(msg, k.Back) {
			t.at = userSteps{}
			return nil
		}
		if i, ok := t.at.actions.update(t.a.e, msg); ok {
			act := t.at.acts[i]
			if act.pickMethod {
				t.at.step, t.at.methods = userMethods, menu{}
				for _, m := range t.at.target.Methods {
					t.at.methods.items = append(t.at.methods.items, t.a.e.p.T(m.Label()))
				}
				return nil
			}
			t.ask(act)
		}
		return nil
	}
	if t.searching {
		switch {
		case key.Matches(msg, k.Back), key.Matches(msg, k.Select), key.Matches(msg, k.Down):
			t.searching = false
			t.search.Blur()
			return nil
		}
		return t.edit(msg)
	}
	n := len(t.page.Users)
	switch {
	case key.Matches(msg, k.Search):
		t.searching, t.note, t.err = true, "", ""
		t.search.CursorEnd()
		// The cursor does not blink (see styles.TextInput): no command to run.
		t.search.Focus()
		return nil
	case key.Matches(msg, k.Up):
		if t.cursor > 0 {
			t.cursor--
		} else if t.page.HasPrev {
			return t.prevPage()
		}
	case key.Matches(msg, k.Down):
		if t.cursor < n-1 {
			t.cursor++
		} else if t.page.HasNext {
			return t.nextPage()
		}
	case key.Matches(msg, k.PageDown):
		if t.page.HasNext {
			return t.nextPage()
		}
	case key.Matches(msg, k.PageUp):
		if t.page.HasPrev {
			return t.prevPage()
		}
	case key.Matches(msg, k.Select):
		if t.cursor < n {
			u := t.page.Users[t.cursor]
			t.note, t.err = "", ""
			t.at = userSteps{step: userActions, target: u, acts: t.actionsFor(u)}
			for _, a := range t.at.acts {
				t.at.actions.items = append(t.at.actions.items, a.label)
			}
		}
	}
	return nil
}

func (t *usersTab) nextPage() tea.Cmd {
	last := t.page.Users[len(t.page.Users)-1].Username
	return t.fetch(t.query, userAnchor{after: last}, t.pageNo+1, false, false)
}

func (t *usersTab) prevPage() tea.Cmd {
	first := t.page.Users[0].Username
	return t.fetch(t.query, userAnchor{before: first}, max(t.pageNo-1, 1), false, false)
}

// edit passes a key or paste to the search field and, when the search
// changed, fetches its first page with the count.
func (t *usersTab) edit(msg tea.Msg) tea.Cmd {
	before := t.search.Value()
	var cmd tea.Cmd
	t.search, cmd = t.search.Update(msg)
	v := t.search.Value()
	if clean := sanitize.Typed(v); clean != v {
		t.search.SetValue(clean)
		v = clean
	}
	if v == before {
		return cmd
	}
	return tea.Batch(cmd, t.fetch(v, userAnchor{}, 1, true, false))
}

// ask puts an action to the admin as a yes/no question.
func (t *usersTab) ask(act userAction) {
	name := t.at.target.Username
	t.at.confirmBack, t.at.step = t.at.step, userConfirm
	t.at.confirm = panelConfirm{question: act.question, run: func() tea.Cmd {
		seq := t.req.next(t.a.e)
		return t.a.do(func(actor flows.Actor) tea.Msg {
			note, v, err := act.run(actor)
			return userActionMsg{seq: seq, user: name, note: note, voucher: v, err: err}
		})
	}}
}

func (t *usersTab) removeMethod(u flows.UserRow, m policy.Method) userAction {
	e, shown := t.a.e, sanitize.Line(u.Username, 40)
	return userAction{
		question: fmt.Sprintf("Remove %s from %s?", e.p.T(m.Label()), shown),
		run: func(actor flows.Actor) (string, *flows.Voucher, error) {
			return fmt.Sprintf("%s removed from %s.", e.p.T(m.Label()), shown), nil, e.svc.RemoveUserMethod(e.ctx, actor, u.Username, m)
		},
	}
}

// actionsFor lists what can be done to a user; each is confirmed, and the
// flows audit it.
func (t *usersTab) actionsFor(u flows.UserRow) []userAction {
	e, name, shown := t.a.e, u.Username, sanitize.Line(u.Username, 40)
	// A lockout where the password lives (sspr's store or the directory)
	// is not in the list's states: the unlock finds it, and says so.
	unlock := userAction{label: "Unlock and clear failed attempts",
		question: fmt.Sprintf("Unlock %s if locked out, and clear their failed attempts?", shown)}
	if u.Blocked() {
		unlock.label = "Clear the block"
		unlock.question = fmt.Sprintf("Clear the block on %s, and their failed attempts?", shown)
	}
	unlock.run = func(a flows.Actor) (string, *flows.Voucher, error) {
		out, err := e.svc.Unlock(e.ctx, a, name)
		switch {
		case out.Unlocked:
			return shown + " is unlocked.", nil, err
		case out.BlockCleared:
			return shown + " is unblocked.", nil, err
		}
		return shown + " was not locked out; failed attempts cleared.", nil, err
	}
	acts := []userAction{unlock, {
		label: "Require re-registration",
		question: fmt.Sprintf("Remove every method %s registered, so they prove and register each again at their "+
			"next sign-in? Until then they can reset only with a helpdesk voucher.", shown),
		run: func(a flows.Actor) (string, *flows.Voucher, error) {
			return "Removed what " + shown + " registered; " + shown + " will register again at their next sign-in.", nil,
				e.svc.RequireReregistration(e.ctx, a, name)
		},
	}}
	if u.Disabled {
		acts = append(acts, userAction{label: "Enable the account", question: fmt.Sprintf("Enable %s again?", shown),
			run: func(a flows.Actor) (string, *flows.Voucher, error) {
				return shown + " is enabled.", nil, e.svc.SetDisabled(e.ctx, a, name, false)
			}})
	} else {
		acts = append(acts, userAction{label: "Disable the account",
			question: fmt.Sprintf("Disable %s? They will not be able to sign in or reset.", shown),
			run: func(a flows.Actor) (string, *flows.Voucher, error) {
				return shown + " is disabled.", nil, e.svc.SetDisabled(e.ctx, a, name, true)
			}})
	}
	if len(u.Methods) > 0 {
		acts = append(acts, userAction{label: "Remove a method…", pickMethod: true})
	}
	acts = append(acts, userAction{label: "Issue a helpdesk voucher",
		question: fmt.Sprintf("Issue a helpdesk voucher for %s? Check who the caller is first.", shown),
		run: func(a flows.Actor) (string, *flows.Voucher, error) {
			v, err := e.svc.IssueVoucher(e.ctx, a, name)
			return "Voucher issued for " + shown + ".", &v, err
		}})
	if u.Admin {
		acts = append(acts, userAction{label: "Remove administrator rights",
			question: fmt.Sprintf("Remove the administrator rights of %s?", shown),
			run: func(a flows.Actor) (string, *flows.Voucher, error) {
				return shown + " is no longer an administrator.", nil, e.svc.SetAdmin(e.ctx, a, name, false)
			}})
	} else {
		acts = append(acts, userAction{label: "Make administrator",
			question: adminMethodsWarning(e, u, shown) + fmt.Sprintf("Make %s an administrator?", shown),
			run: func(a flows.Actor) (string, *flows.Voucher, error) {
				return shown + " is now an administrator.", nil, e.svc.SetAdmin(e.ctx, a, name, true)
			}})
	}
	return acts
}

// adminMethodsWarning warns, before someone is made an administrator, that
// they have fewer than the two methods an administrator signs in with
// (security questions and vouchers never count for one), so they will not
// get into the panel until they register more. Empty when they have two.
func adminMethodsWarning(e *env, u flows.UserRow, shown string) string {
	var usable []string
	for _, m := range u.Methods {
		if m.Describe().Admin == policy.AdminAlways {
			usable = append(usable, e.p.T(m.Label()))
		}
	}
	switch {
	case len(usable) >= flows.AdminMethodsRequired:
		return ""
	case len(usable) == 0:
		return fmt.Sprintf("%s has no method an administrator can sign in with; administrators prove two "+
			"(security questions don't count), so %s can't open this panel until they register two. ", shown, shown)
	}
	return fmt.Sprintf("%s has only one method an administrator can sign in with (%s); administrators prove two, "+
		"so %s can't open this panel until they register another. ", shown, strings.Join(usable, ", "), shown)
}

// methodLetters abbreviates methods for the table: E S A R V Q.
func panelMethodLetters(ms []policy.Method) string {
	var b strings.Builder
	for _, m := range ms {
		if l := m.Describe().Letter; l != 0 {
			b.WriteByte(l)
		}
	}
	if b.Len() == 0 {
		return "–"
	}
	return b.String()
}

// userStates lists a user's states, most urgent first, in the words every
// admin view uses.
func (t *usersTab) userStates(u *flows.UserRow) []string { return u.States() }

func (t *usersTab) stateCell(u flows.UserRow, width int) string {
	st := t.a.e.st
	var b strings.Builder
	used := 0
	for _, s := range t.userStates(&u) {
		w := len(s)
		if used > 0 {
			w += 2
		}
		if used+w > width {
			if used+1 <= width {
				b.WriteString(st.Muted.Render("…"))
			}
			break
		}
		if used > 0 {
			b.WriteString(", ")
		}
		switch s {
		case flows.StateBlocked, flows.StateDisabled:
			b.WriteString(st.Error.Render(s))
		case flows.StateAdmin:
			b.WriteString(st.Success.Render(s))
		default:
			b.WriteString(st.Warning.Render(s))
		}
		used += w
	}
	return b.String()
}

// panelCells writes the cells of a table row, each cut or padded to its
// column's width and followed by one blank; a column of width 0 is left
// out (FitColumns dropped it).
func panelCells(widths []int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		if i < len(widths) && widths[i] > 0 {
			b.WriteString(panelPad(c, widths[i]) + " ")
		}
	}
	return b.String()
}

// pad cuts or pads plain text to exactly w cells.
func panelPad(s string, w int) string {
	s = sanitize.Line(s, w)
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

func (t *usersTab) view(width int) string {
	st := t.a.e.st
	var b strings.Builder
	switch t.at.step {
	case userList:
	case userVoucher:
		return t.voucherView(width)
	default:
		return t.actionView(width)
	}
	t.search.SetWidth(max(min(width/2, 40), 10))
	head := t.search.View()
	status := ""
	switch {
	case !t.loaded:
		status = "⋯ loading"
	case len(t.page.Users) == 0 && t.query != "":
		status = "no user matches " + panelQuote(sanitize.Line(t.query, 30))
	case len(t.page.Users) == 0:
		status = "no users yet"
	default:
		from := (t.pageNo-1)*usersPageSize + 1
		status = fmt.Sprintf("%s–%s of %s", panelThousands(from), panelThousands(from+len(t.page.Users)-1), panelThousands(t.total))
		if t.query != "" {
			status += " matching " + panelQuote(sanitize.Line(t.query, 20))
		}
	}
	if gap := width - ansi.StringWidth(head) - ansi.StringWidth(status); gap >= 2 {
		b.WriteString(head + strings.Repeat(" ", gap) + st.Muted.Render(status) + "\n")
	} else {
		b.WriteString(head + "\n" + st.Muted.Render(sanitize.Line(status, width)) + "\n")
	}

	legend := wrap(st.Muted.Render("E email · S text · A app · R recovery codes · V voucher · Q questions"), width)
	if t.err != "" {
		legend += "\n" + wrap(st.Error.Render(sanitize.String(t.err)), width)
	} else if t.note != "" {
		legend += "\n" + wrap(st.Success.Render(sanitize.String(t.note)), width)
	}
	// The rows the window has room for (the tab bar above takes two):
	// a short window shows the part of the page around the cursor.
	rows := usersPageSize
	if h := t.a.e.bodyHeight - 2 - strings.Count(b.String(), "\n") - 1 - lipgloss.Height(legend); h > 0 && h < rows {
		rows = max(h, 1)
	}
	users := t.page.Users
	from := min(max(t.cursor-rows+1, 0), max(len(users)-rows, 0))
	users = users[from:min(from+rows, len(users))]

	// Columns: pointer, username, display name, methods, confirmed, state.
	// A narrow window drops the display name, then the date, then the
	// methods: never the username or the state.
	w := components.FitColumns(width-2, 1, []components.Column{{Min: 8}, {Min: 10, Drop: 3}, {Min: 7, Drop: 1},
		{Min: 10, Drop: 2}, {Min: 10}}, []components.Grow{{Col: 0, To: 16}, {Col: 4, To: 18}, {Col: 1, To: 24},
		{Col: 0, To: 24}, {Col: 1, To: 40}, {Col: 4}})
	b.WriteString(st.Muted.Render("  "+panelCells(w[:4], "USERNAME", "DISPLAY NAME", "METHODS", "CONFIRMED")+"STATE") + "\n")
	for i, u := range users {
		confirmed := "never"
		if !u.LastConfirmed.IsZero() {
			confirmed = u.LastConfirmed.Format("2006-01-02")
		}
		row := panelCells(w[:4], u.Username, u.DisplayName, panelMethodLetters(u.Methods), confirmed)
		if from+i == t.cursor && !t.searching {
			b.WriteString(st.Body.Foreground(st.Palette.Accent).Bold(true).Render(st.Glyphs.Pointer + " " + row))
		} else {
			b.WriteString("  " + row)
		}
		b.WriteString(t.stateCell(u, w[4]) + "\n")
	}
	for i := len(users); i < rows; i++ {
		b.WriteString("\n")
	}
	b.WriteString(legend)
	return b.String()
}

// actionView shows the selected user in full, with the actions on them.
func (t *usersTab) actionView(width int) string {
	st := t.a.e.st
	u := &t.at.target
	var b strings.Builder
	field := func(label, value string) {
		b.WriteString(st.Input.Label.Render(fmt.Sprintf("%-15s", label)) + st.Body.Render(sanitize.Line(value, max(width-15, 8))) + "\n")
	}
	b.WriteString(st.Subtitle.Render(sanitize.Line(u.Username, width)) + "\n")
	if u.DisplayName != "" {
		field("Name", u.DisplayName)
	}
	if u.Email != "" {
		field("Email", u.Email)
	}
	methods := make([]string, len(u.Methods))
	for i, m := range u.Methods {
		methods[i] = t.a.e.p.T(m.Label())
	}
	if len(methods) == 0 {
		methods = []string{"none registered"}
	}
	field("Methods", strings.Join(methods, ", "))
	confirmed := "never"
	if !u.LastConfirmed.IsZero() {
		confirmed = u.LastConfirmed.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	field("Last confirmed", confirmed)
	state := flows.StateLine(t.userStates(u))
	if u.Blocked() {
		state = strings.Replace(state, flows.StateBlocked, "blocked until "+u.BlockedUntil.UTC().Format("2006-01-02 15:04")+" UTC", 1)
	}
	field("State", state)
	b.WriteString("\n")
	switch t.at.step {
	case userConfirm:
		b.WriteString(t.at.confirm.view(t.a.e))
	case userMethods:
		b.WriteString(st.Muted.Render("Remove which method?") + "\n" + t.at.methods.view(t.a.e, width))
	default:
		b.WriteString(t.at.actions.view(t.a.e, width))
	}
	return wrap(b.String(), width)
}

func (t *usersTab) voucherView(width int) string {
	st := t.a.e.st
	v := &t.at.voucher
	who := sanitize.Line(t.at.voucherFor, 40)
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("Helpdesk voucher for "+who) + "\n\n")
	b.WriteString(st.Panel.BorderStyle(lipgloss.NormalBorder()).Render(st.Code.Render(sanitize.String(v.Code))) + "\n\n")
	// Spelled out, since B, D, P, T and V sound alike on a phone line.
	b.WriteString(st.Body.Render("Read it out group by group:") + "\n")
	groups, spoken := v.ReadOut()
	for i, g := range groups {
		b.WriteString("  " + st.Code.Render(g) + "  " + st.Muted.Render(spoken[i]) + "\n")
	}
	b.WriteString("\n" + st.Body.Render(fmt.Sprintf("It works once, only for %s, and expires at %s (%s).",
		who, voucherEnd(v.ExpiresAt, t.a.e.now()), voucherLeft(v.ExpiresAt.Sub(t.a.e.now())))) + "\n")
	b.WriteString(st.Warning.Render("It is shown only now: read it to the caller, then press any key.") + "\n")
	return wrap(b.String(), width)
}

// voucherEnd says when a voucher ends: the time alone on the same day, with
// the date when it lasts longer.
func voucherEnd(end, now time.Time) string {
	end, now = end.UTC(), now.UTC()
	if end.YearDay() == now.YearDay() && end.Year() == now.Year() {
		return end.Format("15:04") + " UTC"
	}
	return end.Format("15:04 UTC on 2 Jan 2006")
}

// voucherLeft words a voucher's time left in the unit that reads best:
// minutes up to two hours, then hours up to two days, then days.
func voucherLeft(d time.Duration) string {
	switch {
	case d < 2*time.Hour:
		return fmt.Sprintf("in %d min", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("in %d h", int(d.Round(time.Hour)/time.Hour))
	}
	return fmt.Sprintf("in %d days", int(d.Round(24*time.Hour)/(24*time.Hour)))
}

// strconvQuote quotes already-sanitised text for a sentence.
func panelQuote(s string) string { return "“" + s + "”" }

// thousands writes n with comma separators: 100,000.
func panelThousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + panelThousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
