package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
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

func (t *blocksTab) label() string { return "Blocks" }
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
		refresh.SetHelp("enter", "refresh")
		return []key.Binding{refresh}
	}
	clear := k.Select
	clear.SetHelp("enter", "clear block")
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
func blockWhat(b flows.Block) string {
	name := b.Key
	if b.Scope != flows.BlockAccount {
		name = flows.SourceName(b.Key)
	}
	return string(b.Scope) + " " + sanitize.Line(name, 40)
}

// ask puts clearing a block to the admin; the flows audit it.
func (t *blocksTab) ask(b flows.Block) {
	what := blockWhat(b)
	question := fmt.Sprintf("Clear the block on %s?", what)
	t.note, t.err = "", ""
	t.confirm = &panelConfirm{question: question, run: func() tea.Cmd {
		seq, e := t.req.next(t.a.e), t.a.e
		return t.a.do(func(actor flows.Actor) tea.Msg {
			err := e.svc.ClearBlock(e.ctx, actor, b.Scope, b.Key)
			return blockClearedMsg{seq: seq, note: "The block on " + what + " is cleared.", err: err}
		})
	}}
}

// blockTime shows a time of day, with the date when it is not today.
func blockTime(now, t time.Time) string {
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

func (t *blocksTab) view(width int) string {
	st := t.a.e.st
	now := t.a.e.now()
	var b strings.Builder
	switch {
	case !t.loaded && t.err != "":
		return st.Error.Render(sanitize.Line(t.err, width))
	case !t.loaded:
		return st.Muted.Render("⋯ loading")
	case len(t.blocks) == 0:
		b.WriteString(st.Body.Render("No blocks in force.") + "\n\n")
		b.WriteString(st.Muted.Render("An account is blocked after repeated failed proofs, and a terminal or network "+
			"address after many failures from it. Each block shows here until it ends or is cleared.") + "\n")
		t.footer(&b, width)
		return wrap(b.String(), width)
	}
	status := fmt.Sprintf("%s in force, terminals and addresses first", panelPlural(t.total, "block"))
	if t.total > len(t.blocks) {
		status = fmt.Sprintf("the %s newest of %s in force; sspr block list shows all",
			panelThousands(len(t.blocks)), panelPlural(t.total, "block"))
	}
	b.WriteString(st.Muted.Render(sanitize.Line(status, width)) + "\n\n")

	// Columns: pointer, kind, name, since, until, why.
	const ptrW, kindW, timeW = 2, 9, 13
	whyW := 24
	nameW := max(width-ptrW-kindW-2*timeW-whyW, 10)
	b.WriteString(st.Muted.Render("  "+panelPad("KIND", kindW)+panelPad("NAME", nameW)+panelPad("SINCE", timeW)+
		panelPad("UNTIL", timeW)+"WHY") + "\n")
	for i := t.top; i < min(t.top+blocksRows, len(t.blocks)); i++ {
		bl := t.blocks[i]
		name := bl.Key
		if bl.Scope != flows.BlockAccount {
			name = flows.SourceName(bl.Key)
		}
		row := panelPad(string(bl.Scope), kindW) + panelPad(name, nameW-1) + " " + panelPad(blockTime(now, bl.Since), timeW) +
			panelPad(blockTime(now, bl.Until), timeW) + sanitize.Line(bl.Reason, max(width-ptrW-kindW-nameW-2*timeW, 1))
		if i == t.cursor && t.confirm == nil {
			b.WriteString(st.Body.Foreground(st.Palette.Accent).Bold(true).Render(st.Glyphs.Pointer + " " + row))
		} else {
			b.WriteString("  " + row)
		}
		b.WriteString("\n")
	}
	if rest := len(t.blocks) - t.top - blocksRows; rest > 0 {
		b.WriteString(st.Muted.Render(fmt.Sprintf("  … %s more below", panelThousands(rest))) + "\n")
	}
	b.WriteString("\n")
	if t.confirm != nil {
		sel := t.blocks[t.cursor]
		consequence := "Its failed attempts are forgotten too."
		if sel.Scope != flows.BlockAccount {
			consequence = "Everyone there can try again at once."
		}
		b.WriteString(st.Body.Render(consequence) + "\n" + wrap(t.confirm.view(t.a.e), width) + "\n")
	} else {
		sel := t.blocks[t.cursor]
		detail := fmt.Sprintf("%s: blocked since %s, until %s (%s). %s.", sanitize.String(sel.Key),
			blockTime(now, sel.Since), blockTime(now, sel.Until), timeLeft(sel.Until.Sub(now)), sanitize.String(sel.Reason))
		if sel.Scope != flows.BlockAccount {
			detail += " Everyone there is held back; administrators can still sign in."
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
func timeLeft(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "in under a minute"
	case d < 2*time.Hour:
		return fmt.Sprintf("in %d min", int((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("in %d h", int((d+time.Hour/2)/time.Hour))
}

// panelPlural is "1 block", "3 blocks".
func panelPlural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return panelThousands(n) + " " + noun + "s"
}
