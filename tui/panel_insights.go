package tui

import (
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"golang.org/x/text/message"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// insightsDays is the window of the insights tab, as in `sspr report activity`.
const insightsDays = 30

// insightsTab shows registration coverage, activity per day as bar charts and
// the helpdesk calls self-service took off the phones. Its numbers are those
// of `sspr report activity --format json`: both call ActivityReport.
type insightsTab struct {
	a      *panelAccess
	report *flows.Activity
	// expiry is the password expiry overview; nil when it could not be read.
	expiry *flows.ExpiryOverview
	err    string
	req    request
}

func newInsightsTab(a *panelAccess) *insightsTab { return &insightsTab{a: a} }

func (t *insightsTab) label() string { return "admin.tab.insights" }
func (t *insightsTab) typing() bool  { return false }
func (t *insightsTab) busy() bool    { return false }
func (t *insightsTab) close()        {}

type insightsMsg struct {
	seq    int
	report flows.Activity
	expiry *flows.ExpiryOverview
	err    error
}

func (t *insightsTab) open() tea.Cmd {
	seq, e := t.req.next(t.a.e), t.a.e
	return t.a.do(func(flows.Actor) tea.Msg {
		r, err := e.svc.ActivityReport(e.ctx, insightsDays, e.costPerCall, e.currency)
		msg := insightsMsg{seq: seq, report: r, err: err}
		// The expiry line is left out when the directory cannot say; the
		// rest of the insights stand.
		if ov, err := e.svc.ExpiryOverview(e.ctx); err == nil {
			msg.expiry = &ov
		}
		return msg
	})
}

func (t *insightsTab) help() []key.Binding {
	refresh := t.a.e.keys.Select
	refresh.SetHelp("enter", "key.refresh")
	return []key.Binding{refresh}
}

func (t *insightsTab) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case insightsMsg:
		if !t.req.current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			t.err = panelSentence(t.a.e, msg.err)
			return nil
		}
		r := msg.report
		t.report, t.expiry, t.err = &r, msg.expiry, ""
	case tea.KeyPressMsg:
		if key.Matches(msg, t.a.e.keys.Select) {
			return t.open()
		}
	}
	return nil
}

func (t *insightsTab) view(width int) string {
	st, p := t.a.e.st, t.a.e.p
	if t.report == nil {
		if t.err != "" {
			return wrap(st.Error.Render(sanitize.String(t.err)), width)
		}
		return st.Muted.Render(p.T("admin.insights.counting"))
	}
	r := t.report
	c := r.Coverage
	var b strings.Builder
	// The labels share a column as wide as the widest needs, at least 10.
	labelW := 10
	for _, id := range []string{"admin.insights.coverage", "admin.insights.methods", "admin.insights.saved", "admin.insights.expiry"} {
		labelW = max(labelW, ansi.StringWidth(p.T(id))+1)
	}
	label := func(id string) string { return st.Input.Label.Render(panelPad(p.T(id), labelW)) }

	// Coverage, with a meter.
	num := message.NewPrinter(p.Language().Tag)
	line := p.F("admin.insights.coverage_line", locale.Args{"Able": p.Number(c.AbleToReset), "Enabled": p.Number(c.Enabled),
		"Percent": num.Sprintf("%.1f", 100*c.Share)})
	meterW := width - labelW - ansi.StringWidth(line) - 2
	if meterW < 10 {
		b.WriteString(label("admin.insights.coverage") + components.WrapHanging(st.Body.Render(line), width, labelW))
	} else {
		b.WriteString(label("admin.insights.coverage") + st.Body.Render(line))
		meterW = min(meterW, 30)
		full := int(math.Round(c.Share * float64(meterW)))
		b.WriteString("  " + st.Success.Render(strings.Repeat(st.Glyphs.BarFull, full)) +
			st.StrengthEmpty.Render(strings.Repeat(st.Glyphs.BarEmpty, meterW-full)))
	}
	b.WriteString("\n")

	// Users per method, in the order methods are offered.
	var per []string
	for _, m := range policy.AllMethods() {
		per = append(per, p.F("admin.insights.method_count", locale.Args{"Method": methodShortName(t.a.e, m),
			"Count": p.Number(c.UsersPerKind[string(m)])}))
	}
	b.WriteString(label("admin.insights.methods") + components.WrapHanging(st.Body.Render(strings.Join(per, " · ")), width, labelW) + "\n")

	// Calls avoided.
	savedArgs := locale.Args{"Days": p.Number(insightsDays)}
	saved := p.N("admin.insights.saved_line", r.Resets, savedArgs)
	if r.CostPerCall > 0 {
		savedArgs["Cost"], savedArgs["Saved"] = money(num, r.CostPerCall, r.Currency), money(num, r.EstimatedSaved, r.Currency)
		saved = p.N("admin.insights.saved_cost", r.Resets, savedArgs)
	}
	b.WriteString(label("admin.insights.saved") + components.WrapHanging(st.Body.Render(saved), width, labelW) + "\n")
	if t.expiry != nil {
		b.WriteString(label("admin.insights.expiry") + components.WrapHanging(expiryLine(p, *t.expiry, st.Body, st.Warning), width, labelW) + "\n")
	}
	b.WriteString("\n")

	// Activity per day.
	series := []struct {
		name  string
		total int
		style lipgloss.Style
		value func(flows.DayActivity) int
	}{
		{"admin.insights.series.resets", r.Resets, st.Success, func(d flows.DayActivity) int { return d.Resets }},
		{"admin.insights.series.changes", r.Changes, st.Subtitle, func(d flows.DayActivity) int { return d.Changes }},
		{"admin.insights.series.failures", r.Failures, st.Warning, func(d flows.DayActivity) int { return d.Failures }},
		{"admin.insights.series.blocks", r.Blocks, st.Error, func(d flows.DayActivity) int { return d.Blocks }},
	}
	// Two rows per chart when the window has room for them under what is
	// above (a title and two rows each, and the line of dates) and the
	// panel's tab bar and frame, which take four rows; one otherwise.
	rows := 2
	if h := t.a.e.bodyHeight; h > 0 && (h < 22 || lipgloss.Height(b.String())-1+len(series)*3+1 > h-4) {
		rows = 1
	}
	cell := 1
	if width-2 >= 2*len(r.Days) {
		cell = 2
	}
	for _, s := range series {
		values := make([]int, len(r.Days))
		most := 0
		for i, d := range r.Days {
			values[i] = s.value(d)
			most = max(most, values[i])
		}
		// The series' name in bold, what follows it muted.
		b.WriteString(st.Body.Bold(true).Render(p.T(s.name)) + st.Muted.Render(p.F("admin.insights.series_totals",
			locale.Args{"Total": p.Number(s.total), "Most": p.Number(most)})) + "\n")
		b.WriteString(s.style.Render(barChart(values, rows, cell)) + "\n")
	}
	if len(r.Days) > 0 {
		first, last := r.Days[0].Day, r.Days[len(r.Days)-1].Day
		span := len(r.Days) * cell
		if span >= len(first)+len(last)+1 {
			b.WriteString(st.Muted.Render(first + strings.Repeat(" ", span-len(first)-len(last)) + last))
		}
	}
	return b.String()
}

// expiryLine says how many passwords expire soon and who no reminder can
// reach, the names sanitised.
func expiryLine(p *locale.Printer, ov flows.ExpiryOverview, body, warn lipgloss.Style) string {
	if !ov.Expires {
		return body.Render(p.T("admin.insights.expiry_never"))
	}
	args := locale.Args{"Next7": p.Number(ov.Next7), "Next30": p.Number(ov.Next30), "Expired": p.Number(ov.Expired)}
	line := body.Render(p.F("admin.insights.expiry_soon", args))
	if ov.Expired > 0 {
		line = body.Render(p.F("admin.insights.expiry_soon_expired", args))
	}
	if ov.Unreachable > 0 {
		names := make([]string, len(ov.UnreachableNames))
		for i, n := range ov.UnreachableNames {
			names[i] = sanitize.String(n)
		}
		list := strings.Join(names, p.T("admin.list.comma"))
		if ov.Unreachable > len(names) {
			list += "…"
		}
		line += warn.Render(" · " + p.N("admin.insights.unreachable", ov.Unreachable, locale.Args{"Names": list}))
	}
	return line
}

// barEighths are the glyphs of a bar cell from empty to full, in eighths.
var barEighths = []string{" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}

// barChart draws values as vertical bars rows high, each value cell cells
// wide, scaled to the largest value; any value above zero shows at least an
// eighth, so a quiet day is told apart from none.
func barChart(values []int, rows, cell int) string {
	most := 0
	for _, v := range values {
		most = max(most, v)
	}
	levels := rows * 8
	heights := make([]int, len(values))
	for i, v := range values {
		if most > 0 && v > 0 {
			heights[i] = max(int(math.Round(float64(v)*float64(levels)/float64(most))), 1)
		}
	}
	lines := make([]string, rows)
	for r := range rows {
		// r counts from the top row; the bottom row holds the first eight levels.
		base := (rows - 1 - r) * 8
		var b strings.Builder
		for _, h := range heights {
			fill := min(max(h-base, 0), 8)
			b.WriteString(strings.Repeat(barEighths[fill], cell))
		}
		lines[r] = b.String()
	}
	return strings.Join(lines, "\n")
}

// methodShortName names a method in a crowded line.
func methodShortName(e *env, m policy.Method) string { return e.p.T(m.Describe().Short) }

// money writes an amount with two decimals and the language's separators:
// 7,800.00 EUR, 7.800,00 EUR.
func money(num *message.Printer, v float64, currency string) string {
	s := num.Sprintf("%.2f", math.Round(v*100)/100)
	if currency != "" {
		s += " " + currency
	}
	return s
}
