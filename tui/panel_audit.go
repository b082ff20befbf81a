package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 10

// The fields of the audit filter form.
const (
	auditFieldUser = iota
	auditFieldEvent
	auditFieldFrom
	auditFieldTo
	auditFields
)

// auditTab shows the audit log newest first, a page at a time, with the
// verification of the hash chain at the top. "/" filters by user, event kind
// and time range; enter opens an entry in full (auditDetail).
type auditTab struct {
	a *panelAccess

	report    *audit.Report
	verifyErr string
	vreq      request

	// applied is the filter in force, shown as typed in appliedText.
	applied     audit.Filter
	appliedText [auditFields]string
	entries     []audit.Entry
	offset      int
	hasNext     bool
	loaded      bool
	cursor      int
	err         string
	req         request

	// detail shows the entry under the cursor in full, while it is open.
	detail *auditDetail

	// The filter form, while it is open.
	editing bool
	fields  [auditFields]textinput.Model
	focus   int
	formErr string
}

func newAuditTab(a *panelAccess) *auditTab {
	t := &auditTab{a: a}
	placeholders := [auditFields]string{"username", "e.g. password.reset or password", "YYYY-MM-DD or 7d", "YYYY-MM-DD"}
	for i := range t.fields {
		t.fields[i] = newInput(a.e, placeholders[i], 64, false)
	}
	return t
}

func (t *auditTab) label() string { return "Audit" }
func (t *auditTab) typing() bool  { return t.editing }
func (t *auditTab) busy() bool    { return t.editing || t.detail != nil }
func (t *auditTab) close()        {}

type (
	auditVerifiedMsg struct {
		seq int
		rep audit.Report
		err error
	}
	auditPageMsg struct {
		seq     int
		offset  int
		entries []audit.Entry
		err     error
	}
)

func (t *auditTab) open() tea.Cmd {
	seq, e := t.vreq.next(t.a.e), t.a.e
	verify := t.a.do(func(flows.Actor) tea.Msg {
		rep, err := e.svc.VerifyAudit(e.ctx)
		return auditVerifiedMsg{seq: seq, rep: rep, err: err}
	})
	return tea.Batch(verify, t.fetch(t.offset))
}

func (t *auditTab) fetch(offset int) tea.Cmd {
	seq, e, f := t.req.next(t.a.e), t.a.e, t.applied
	f.Events = append([]audit.Event(nil), t.applied.Events...)
	f.Limit, f.Offset = auditPageSize+1, offset
	return t.a.do(func(flows.Actor) tea.Msg {
		entries, err := e.svc.AuditEntries(e.ctx, f)
		return auditPageMsg{seq: seq, offset: offset, entries: entries, err: err}
	})
}

func (t *auditTab) help() []key.Binding {
	k := t.a.e.keys
	if t.detail != nil {
		return t.detail.help()
	}
	if t.editing {
		apply := k.Select
		apply.SetHelp("enter", "apply")
		cancel := k.Back
		cancel.SetHelp("esc", "cancel")
		return []key.Binding{apply, k.NextField, cancel}
	}
	expand := k.Select
	expand.SetHelp("enter", "details")
	filter := k.Search
	filter.SetHelp("/", "filter")
	older, newer := k.PageDown, k.PageUp
	older.SetHelp("pgdn", "older")
	newer.SetHelp("pgup", "newer")
	return []key.Binding{k.Up, k.Down, expand, filter, older, newer}
}

func (t *auditTab) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case auditVerifiedMsg:
		if !t.vreq.current(msg.seq) {
			return nil
		}
		t.report, t.verifyErr = nil, ""
		if msg.err != nil {
			t.verifyErr = panelSentence(t.a.e, msg.err)
			return nil
		}
		rep := msg.rep
		t.report = &rep
		return nil
	case auditPageMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err = panelSentence(t.a.e, msg.err)
			return nil
		}
		t.err, t.loaded = "", true
		t.offset, t.entries = msg.offset, msg.entries
		t.hasNext = len(t.entries) > auditPageSize
		if t.hasNext {
			t.entries = t.entries[:auditPageSize]
		}
		t.cursor = max(min(t.cursor, len(t.entries)-1), 0)
		return nil
	case tea.KeyPressMsg:
		return t.onKey(msg)
	case tea.PasteMsg:
		if t.editing {
			var cmd tea.Cmd
			t.fields[t.focus], cmd = t.fields[t.focus].Update(msg)
			return cmd
		}
	}
	return nil
}

func (t *auditTab) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := t.a.e.keys
	if t.detail != nil {
		if t.detail.onKey(msg) {
			t.detail = nil
		}
		return nil
	}
	if t.editing {
		switch {
		case key.Matches(msg, k.Back):
			t.editing, t.formErr = false, ""
			t.fields[t.focus].Blur()
			return nil
		case key.Matches(msg, k.Select):
			return t.apply()
		case key.Matches(msg, k.NextField), key.Matches(msg, k.Down):
			return t.focusField((t.focus + 1) % auditFields)
		case key.Matches(msg, k.PrevField), key.Matches(msg, k.Up):
			return t.focusField((t.focus + auditFields - 1) % auditFields)
		}
		var cmd tea.Cmd
		t.fields[t.focus], cmd = t.fields[t.focus].Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, k.Search):
		t.editing, t.formErr = true, ""
		for i := range t.fields {
			t.fields[i].SetValue(t.appliedText[i])
		}
		return t.focusField(auditFieldUser)
	case key.Matches(msg, k.Up):
		if t.cursor > 0 {
			t.cursor--
		} else if t.offset > 0 {
			t.cursor = auditPageSize - 1
			return t.fetch(max(t.offset-auditPageSize, 0))
		}
	case key.Matches(msg, k.Down):
		if t.cursor < len(t.entries)-1 {
			t.cursor++
		} else if t.hasNext {
			t.cursor = 0
			return t.fetch(t.offset + auditPageSize)
		}
	case key.Matches(msg, k.PageDown):
		if t.hasNext {
			t.cursor = 0
			return t.fetch(t.offset + auditPageSize)
		}
	case key.Matches(msg, k.PageUp):
		if t.offset > 0 {
			t.cursor = 0
			return t.fetch(max(t.offset-auditPageSize, 0))
		}
	case key.Matches(msg, k.Select):
		if t.cursor < len(t.entries) {
			t.detail = &auditDetail{e: t.a.e, entry: t.entries[t.cursor]}
		}
	}
	return nil
}

func (t *auditTab) focusField(i int) tea.Cmd {
	t.fields[t.focus].Blur()
	t.focus = i
	t.fields[i].CursorEnd()
	t.fields[i].Focus()
	return nil
}

// apply checks the form and, when it makes sense, shows the first page the
// new filter selects.
func (t *auditTab) apply() tea.Cmd {
	var text [auditFields]string
	for i := range t.fields {
		text[i] = strings.TrimSpace(sanitize.Typed(t.fields[i].Value()))
	}
	f, problem := parseAuditFilter(text, t.a.e.now())
	if problem != "" {
		t.formErr = problem
		return nil
	}
	t.applied, t.appliedText = f, text
	t.editing, t.formErr, t.cursor = false, "", 0
	t.fields[t.focus].Blur()
	return t.fetch(0)
}

// parseAuditFilter reads the filter form: a user (the target), an event kind
// or a prefix of kinds ("password" is password.reset and password.changed),
// and days from and to (inclusive, UTC), or "7d" for the last seven days. It
// returns a sentence when something does not make sense.
func parseAuditFilter(text [auditFields]string, now time.Time) (audit.Filter, string) {
	var f audit.Filter
	f.Target = flows.NormaliseUsername(text[auditFieldUser])
	if ev := strings.ToLower(text[auditFieldEvent]); ev != "" {
		prefix := strings.TrimSuffix(strings.TrimSuffix(ev, "*"), ".")
		for _, e := range audit.AllEvents() {
			if string(e) == ev || strings.HasPrefix(string(e), prefix+".") {
				f.Events = append(f.Events, e)
			}
		}
		if len(f.Events) == 0 {
			return audit.Filter{}, fmt.Sprintf("No event kind is called or starts with %s; kinds are like password.reset or admin.signin.",
				panelQuote(sanitize.Line(text[auditFieldEvent], 30)))
		}
	}
	if from := strings.ToLower(text[auditFieldFrom]); from != "" {
		if n, err := strconv.Atoi(strings.TrimSuffix(from, "d")); err == nil && strings.HasSuffix(from, "d") {
			if n < 1 || n > 3660 {
				return audit.Filter{}, "A number of days must be 1–3660."
			}
			day := now.UTC().Truncate(24 * time.Hour)
			f.Since = day.AddDate(0, 0, -(n - 1))
		} else {
			d, err := time.Parse("2006-01-02", from)
			if err != nil {
				return audit.Filter{}, "Write the first day as YYYY-MM-DD, or 7d for the last seven days."
			}
			f.Since = d
		}
	}
	if to := text[auditFieldTo]; to != "" {
		d, err := time.Parse("2006-01-02", to)
		if err != nil {
			return audit.Filter{}, "Write the last day as YYYY-MM-DD."
		}
		f.Until = d.AddDate(0, 0, 1)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return audit.Filter{}, "The first day must not be after the last day."
	}
	return f, ""
}

func (t *auditTab) view(width int) string {
	if t.detail != nil {
		return t.detail.view(width)
	}
	if t.editing {
		return t.formView(width)
	}
	st := t.a.e.st
	var b strings.Builder
	switch {
	case t.verifyErr != "":
		b.WriteString(wrap(st.Error.Render("The chain could not be checked: "+sanitize.String(t.verifyErr)), width))
	case t.report == nil:
		b.WriteString(st.Muted.Render("⋯ Verifying the audit chain…"))
	case t.report.OK:
		b.WriteString(wrap(st.Success.Render(fmt.Sprintf("%s Audit chain intact: %s verified.", st.Glyphs.Met,
			counted(t.report.Rows, "row", "rows"))), width))
	default:
		b.WriteString(st.Error.Render(wrap(st.Glyphs.Unmet+" Audit chain broken: "+findingsLine(t.report.Findings), width)))
	}
	b.WriteString("\n" + wrap(st.Muted.Render(sanitize.String("Filter: "+t.filterSummary()+"  (/ to change)")), width) + "\n")
	if !t.loaded {
		if t.err != "" {
			return b.String() + "\n" + wrap(st.Error.Render(sanitize.String(t.err)), width)
		}
		return b.String() + "\n" + st.Muted.Render("⋯ Loading…")
	}
	if len(t.entries) == 0 {
		return b.String() + "\n" + st.Muted.Render("No entries match.")
	}
	// Columns: number, time, event, actor → target, outcome. A narrow
	// window leaves out the number, then shortens and drops the time:
	// never who did what and how it went.
	w := components.FitColumns(width-2, 1, []components.Column{{Min: 6, From: 70}, {Min: 11, Drop: 2}, {Min: 13},
		{Min: 13}, {Min: 6}}, []components.Grow{{Col: 2, To: 20}, {Col: 3, To: 16}, {Col: 1, To: 16}, {Col: 2, To: 23},
		{Col: 3}})
	who := "ACTOR → TARGET"
	if w[3] < len([]rune(who)) {
		who = "WHO"
	}
	b.WriteString(st.Muted.Render("  "+panelCells(w[:4], "#", "TIME (UTC)", "EVENT", who)+"OUTCOME") + "\n")
	foot := st.Muted.Render(fmt.Sprintf("Entries %s–%s", panelThousands(t.offset+1), panelThousands(t.offset+len(t.entries))))
	if t.hasNext {
		foot += st.Muted.Render(" · older on pgdn")
	}
	if t.err != "" {
		foot += "\n" + wrap(st.Error.Render(sanitize.String(t.err)), width)
	}
	// The rows the window has room for (the tab bar above takes two): a
	// short window shows the part of the page around the cursor.
	entries, from := t.entries, 0
	if h := t.a.e.bodyHeight - 2 - strings.Count(b.String(), "\n") - lipgloss.Height(foot); h > 0 && h < len(entries) {
		from = min(max(t.cursor-h+1, 0), len(entries)-h)
		entries = entries[from : from+h]
	}
	for j, e := range entries {
		i := from + j
		who := e.Actor
		if e.Target != "" && e.Target != e.Actor {
			who += " → " + e.Target
		}
		at := e.At.UTC().Format("2006-01-02 15:04")
		if w[1] < len(at) {
			at = e.At.UTC().Format("01-02 15:04")
		}
		row := panelCells(w[:4], strconv.FormatInt(e.ID, 10), at, string(e.Event), who)
		outcome := sanitize.Line(e.Outcome, w[4])
		if e.Outcome == audit.OutcomeOK {
			outcome = st.Success.Render(outcome)
		} else {
			outcome = st.Warning.Render(outcome)
		}
		if i == t.cursor {
			b.WriteString(st.Body.Foreground(st.Palette.Accent).Bold(true).Render(st.Glyphs.Pointer+" "+row) + outcome + "\n")
		} else {
			b.WriteString("  " + row + outcome + "\n")
		}
	}
	b.WriteString(foot)
	return b.String()
}

func (t *auditTab) filterSummary() string {
	var parts []string
	names := [auditFields]string{"user", "event", "from", "to"}
	for i, v := range t.appliedText {
		if v != "" {
			parts = append(parts, names[i]+" "+v)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

func (t *auditTab) formView(width int) string {
	st := t.a.e.st
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("Filter the audit log") + "\n")
	b.WriteString(st.Muted.Render("Leave a field empty to match everything.") + "\n\n")
	labels := [auditFields]string{"User", "Event", "From day", "To day"}
	for i := range t.fields {
		label := st.Input.Label
		if i == t.focus {
			label = st.Input.FocusedLabel
		}
		t.fields[i].SetWidth(max(min(width-14, 40), 8))
		b.WriteString(label.Render(fmt.Sprintf("%-10s", labels[i])) + t.fields[i].View() + "\n")
	}
	if t.formErr != "" {
		b.WriteString("\n" + st.Error.Render(sanitize.String(t.formErr)))
	}
	return wrap(b.String(), width)
}

// maxFindingsShown is how many findings of a broken chain the Audit tab
// names; sspr audit verify lists them all.
const maxFindingsShown = 3

// findingsLine names what audit verify found: every finding, a whole-log
// one (a checkpoint the log no longer reaches) as well as a row's, up to
// maxFindingsShown.
func findingsLine(findings []audit.Finding) string {
	texts := make([]string, 0, maxFindingsShown)
	for _, f := range findings[:min(len(findings), maxFindingsShown)] {
		texts = append(texts, sanitize.String(f.Text))
	}
	line := strings.Join(texts, "; ")
	if more := len(findings) - len(texts); more > 0 {
		line += fmt.Sprintf("; and %s (sspr audit verify lists them all)", counted(more, "more finding", "more findings"))
	}
	return line
}
