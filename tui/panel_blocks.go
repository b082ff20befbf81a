package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

const (
	// blocksLimit is how many blocks the tab fetches: made-up names can
	// block by the thousand, and `sspr block list` shows them all.
	blocksLimit = 500
	// blocksRows is how many blocks the table shows at once.
	blocksRows = 10
)

// blocksTab lists the blocks in force, terminals and addresses first (each
// holds back everyone there), and clears the selected one after a question.
type blocksTab struct {
	a      *panelAccess
	blocks []flows.Block
	total  int
	loaded bool
	cursor int
	// top is the first row shown, so the cursor stays in view.
	top     int
	confirm *panelConfirm
	req     request
	note    string
	err     string
}

func newBlocksTab(a *panelAccess) *blocksTab { return &blocksTab{a: a} }

func (t *blocksTab) label() string { return "admin.tab.blocks" }
func (t *blocksTab) typing() bool  { return false }
func (t *blocksTab) busy() bool    { return t.confirm != nil }
func (t *blocksTab) close()        {}

type (
	blocksMsg struct {
		seq    int
		blocks []flows.Block
		total  int
		err    error
	}
	blockClearedMsg struct {
		seq  int
		note string
		err  error
	}
)

func (t *blocksTab) open() tea.Cmd {
	seq, e := t.req.next(t.a.e), t.a.e
	return t.a.do(func(flows.Actor) tea.Msg {
		blocks, total, err := e.svc.Blocks(e.ctx, blocksLimit)
		return blocksMsg{seq: seq, blocks: blocks, total: total, err: err}
	})
}

func (t *blocksTab) help() []key.Binding {
	k := t.a.e.keys
	if t.confirm != nil {
		return []key.Binding{k.Confirm, k.Cancel}
	}
	if len(t.blocks) == 0 {
		refresh := k.Select
		refresh.SetHelp("enter", "key.refresh")
		return []key.Binding{refresh}
	}
	clear := k.Select
	clear.SetHelp("enter", "key.clear_block")
	return []key.Binding{k.Up, k.Down, clear}
}

func (t *blocksTab) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case blocksMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err = panelSentence(t.a.e, msg.err)
			return nil
		}
		t.blocks, t.total, t.loaded, t.err = msg.blocks, msg.total, true, ""
		t.cursor = max(min(t.cursor, len(t.blocks)-1), 0)
		t.scroll()
	case blockClearedMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err, t.note = panelSentence(t.a.e, msg.err), ""
		} else {
			t.err, t.note = "", msg.note
		}
		return t.open()
	case tea.KeyPressMsg:
		return t.onKey(msg)
	}
	return nil
}

func (t *blocksTab) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := t.a.e.keys
	if t.confirm != nil {
		closed, cmd := t.confirm.answer(t.a.e, msg)
		if closed {
			t.confirm = nil
		}
		return cmd
	}
	switch {
	case key.Matches(msg, k.Up):
		t.cursor = max(t.cursor-1, 0)
	case key.Matches(msg, k.Down):
		t.cursor = max(min(t.cursor+1, len(t.blocks)-1), 0)
	case key.Matches(msg, k.PageUp):
		t.cursor = max(t.cursor-blocksRows, 0)
	case key.Matches(msg, k.PageDown):
		t.cursor = max(min(t.cursor+blocksRows, len(t.blocks)-1), 0)
	case key.Matches(msg, k.Select):
		if len(t.blocks) == 0 {
			t.note, t.err = "", ""
			return t.open()
		}
		t.ask(t.blocks[t.cursor])
	}
	t.scroll()
	return nil
}

// scroll keeps the cursor's row in the rows shown.
func (t *blocksTab) scroll() {
	switch {
	case t.cursor < t.top:
		t.top = t.cursor
	case t.cursor >= t.top+blocksRows:
		t.top = t.cursor - blocksRows + 1
	}
	t.top = max(min(t.top, len(t.blocks)-blocksRows), 0)
}

// blockWhat names a block as a person reads it: "terminal counter-9".
func blockWhat(p *locale.Printer, b flows.Block) string {
	name := b.Key
	if b.Scope != flows.BlockAccount {
		name = flows.SourceName(b.Key)
	}
	return p.F("admin.blocks.what", locale.Args{"Kind": scopeWord(p, b.Scope), "Name": sanitize.Line(name, 40)})
}

// scopeWord names what a block holds back: an account, a terminal or a
// network address.
func scopeWord(p *locale.Printer, s flows.BlockScope) string {
	switch s {
	case flows.BlockAccount:
		return p.T("admin.blocks.scope.account")
	case flows.BlockTerminal:
		return p.T("admin.blocks.scope.terminal")
	case flows.BlockAddress:
		return p.T("admin.blocks.scope.address")
	}
	return string(s)
}

// ask puts clearing a block to the admin; the flows audit it.
func (t *blocksTab) ask(b flows.Block) {
	p := t.a.e.p
	what := locale.Args{"What": blockWhat(p, b)}
	t.note, t.err = "", ""
	t.confirm = &panelConfirm{question: p.F("admin.blocks.clear.question", what), run: func() tea.Cmd {
		seq, e := t.req.next(t.a.e), t.a.e
		return t.a.do(func(actor flows.Actor) tea.Msg {
			err := e.svc.ClearBlock(e.ctx, actor, b.Scope, b.Key)
			return blockClearedMsg{seq: seq, note: p.F("admin.blocks.clear.done", what), err: err}
		})
	}}
}

// blockTime shows a time of day, with the date when it is not today.
func blockTime(p *locale.Printer, now, t time.Time) string {
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return p.Time(t)
	}
	return t.Format(p.T("admin.format.block_day"))
}

func (t *blocksTab) view(width int) string {
	st, p := t.a.e.st, t.a.e.p
	now := t.a.e.now()
	var b strings.Builder
	switch {
	case !t.loaded && t.err != "":
		return st.Error.Render(sanitize.Line(t.err, width))
	case !t.loaded:
		return st.Muted.Render(p.T("admin.blocks.loading"))
	case len(t.blocks) == 0:
		b.WriteString(st.Body.Render(p.T("admin.blocks.none")) + "\n\n")
		b.WriteString(st.Muted.Render(p.T("admin.blocks.none_explained")) + "\n")
		t.footer(&b, width)
		return wrap(b.String(), width)
	}
	status := p.N("admin.blocks.status", t.total, nil)
	if t.total > len(t.blocks) {
		status = p.N("admin.blocks.status_newest", t.total, locale.Args{"Shown": p.Number(len(t.blocks))})
	}
	b.WriteString(st.Muted.Render(sanitize.Line(status, width)) + "\n\n")

	// Columns: pointer, kind, name, since, until, why.
	const ptrW, kindW, timeW = 2, 9, 13
	whyW := 24
	nameW := max(width-ptrW-kindW-2*timeW-whyW, 10)
	b.WriteString(st.Muted.Render("  "+panelPad(p.T("admin.blocks.col.kind"), kindW)+panelPad(p.T("admin.blocks.col.name"), nameW)+
		panelPad(p.T("admin.blocks.col.since"), timeW)+panelPad(p.T("admin.blocks.col.until"), timeW)+p.T("admin.blocks.col.why")) + "\n")
	for i := t.top; i < min(t.top+blocksRows, len(t.blocks)); i++ {
		bl := t.blocks[i]
		name := bl.Key
		if bl.Scope != flows.BlockAccount {
			name = flows.SourceName(bl.Key)
		}
		row := panelPad(scopeWord(p, bl.Scope), kindW) + panelPad(name, nameW-1) + " " + panelPad(blockTime(p, now, bl.Since), timeW) +
			panelPad(blockTime(p, now, bl.Until), timeW) + sanitize.Line(blockReason(p, bl), max(width-ptrW-kindW-nameW-2*timeW, 1))
		if i == t.cursor && t.confirm == nil {
			b.WriteString(st.Body.Foreground(st.Palette.Accent).Bold(true).Render(st.Glyphs.Pointer + " " + row))
		} else {
			b.WriteString("  " + row)
		}
		b.WriteString("\n")
	}
	if rest := len(t.blocks) - t.top - blocksRows; rest > 0 {
		b.WriteString(st.Muted.Render("  "+p.F("admin.blocks.more_below", locale.Args{"Count": p.Number(rest)})) + "\n")
	}
	b.WriteString("\n")
	if t.confirm != nil {
		sel := t.blocks[t.cursor]
		consequence := p.T("admin.blocks.clear.account")
		if sel.Scope != flows.BlockAccount {
			consequence = p.T("admin.blocks.clear.source")
		}
		b.WriteString(st.Body.Render(consequence) + "\n" + wrap(t.confirm.view(t.a.e), width) + "\n")
	} else {
		sel := t.blocks[t.cursor]
		args := locale.Args{"Name": sanitize.String(sel.Key), "Since": blockTime(p, now, sel.Since),
			"Until": blockTime(p, now, sel.Until), "Left": timeLeft(p, sel.Until.Sub(now)), "Reason": blockReason(p, sel)}
		detail := p.F("admin.blocks.detail.account", args)
		if sel.Scope != flows.BlockAccount {
			detail = p.F("admin.blocks.detail.source", args)
		}
		b.WriteString(st.Body.Render(wrap(detail, width)) + "\n")
	}
	t.footer(&b, width)
	return b.String()
}

// footer writes the outcome of the last change, or the error of the last load.
func (t *blocksTab) footer(b *strings.Builder, width int) {
	st := t.a.e.st
	switch {
	case t.err != "":
		b.WriteString("\n" + st.Error.Render(sanitize.Line(t.err, width)))
	case t.note != "":
		b.WriteString("\n" + st.Success.Render(sanitize.Line(t.note, width)))
	}
}

// timeLeft says roughly how long until a block ends: "in 9 min", "in 24 h".
func timeLeft(p *locale.Printer, d time.Duration) string {
	switch {
	case d < time.Minute:
		return p.T("admin.blocks.left_under_minute")
	case d < 2*time.Hour:
		return p.N("admin.voucher.left_minutes", int((d+time.Minute-1)/time.Minute), nil)
	}
	return p.N("admin.voucher.left_hours", int((d+time.Hour/2)/time.Hour), nil)
}

// blockReason says why a block is in force, in the panel's language when
// flows could read it, else as the store keeps it.
func blockReason(p *locale.Printer, b flows.Block) string {
	if b.Failures > 0 {
		return p.N("admin.blocks.reason", b.Failures, locale.Args{"Window": p.Duration(b.Window)})
	}
	return sanitize.String(b.Reason)
}
