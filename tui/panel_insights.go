package tui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows"
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

func (t *insightsTab) label() string { return "Insights" }
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
	refresh.SetHelp("enter", "refresh")
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
	st := t.a.e.st
	if t.report == nil {
		if t.err != "" {
			return wrap(st.Error.Render(sanitize.String(t.err)), width)
		}
		return st.Muted.Render("⋯ Counting…")
	}
	r := t.report
	c := r.Coverage
	var b strings.Builder
	label := func(s string) string { return st.Input.Label.Render(fmt.Sprintf("%-10s", s)) }

	// Coverage, with a meter.
	line := fmt.Sprintf("%s of %s enabled users can reset (%.1f%%)", panelThousands(c.AbleToReset),
		panelThousands(c.Enabled), 100*c.Share)
	meterW := width - 10 - len(line) - 2
	if meterW < 10 {
		b.WriteString(label("Coverage") + components.WrapHanging(st.Body.Render(line), width, 10))
	} else {
		b.WriteString(label("Coverage") + st.Body.Render(line))
		meterW = min(meterW, 30)
		full := int(math.Round(c.Share * float64(meterW)))
		b.WriteString("  " + st.Success.Render(strings.Repeat(st.Glyphs.BarFull, full)) +
			st.StrengthEmpty.Render(strings.Repeat(st.Glyphs.BarEmpty, meterW-full)))
	}
	b.WriteString("\n")

	// Users per method, in the order methods are offered.
	var per []string
	for _, m := range policy.AllMethods() {
		per = append(per, fmt.Sprintf("%s %s", methodShortName(t.a.e, m), panelThousands(c.UsersPerKind[string(m)])))
	}
	b.WriteString(label("Methods") + components.WrapHanging(st.Body.Render(strings.Join(per, " · ")), width, 10) + "\n")

	// Calls avoided.
	saved := fmt.Sprintf("%s in %d days", counted(r.Resets, "self-service reset", "self-service resets"), insightsDays)
	if r.CostPerCall > 0 {
		saved += fmt.Sprintf(" × %s = %s", money(r.CostPerCall, r.Currency), money(r.EstimatedSaved, r.Currency))
	}
	b.WriteString(label("Saved") + components.WrapHanging(st.Body.Render(saved), width, 10) + "\n")
	if t.expiry != nil {
		b.WriteString(label("Expiry") + components.WrapHanging(expiryLine(*t.expiry, st.Body, st.Warning), width, 10) + "\n")
	}
	b.WriteString("\n")

	// Activity per day.
	series := []struct {
		name  string
		total int
		style lipgloss.Style
		value func(flows.DayActivity) int
	}{
		{"Resets", r.Resets, st.Success, func(d flows.DayActivity) int { return d.Resets }},
		{"Changes", r.Changes, st.Subtitle, func(d flows.DayActivity) int { return d.Changes }},
		{"Failures", r.Failures, st.Warning, func(d flows.DayActivity) int { return d.Failures }},
		{"Blocks", r.Blocks, st.Error, func(d flows.DayActivity) int { return d.Blocks }},
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
		b.WriteString(st.Body.Bold(true).Render(s.name) + st.Muted.Render(fmt.Sprintf(" per day · %s in all · most %s",
			panelThousands(s.total), panelThousands(most))) + "\n")
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
func expiryLine(ov flows.ExpiryOverview, body, warn lipgloss.Style) string {
	if !ov.Expires {
		return body.Render("passwords don't expire (password_max_age_days is 0)")
	}
	line := body.Render(fmt.Sprintf("%s within 7 days · %s within 30", panelThousands(ov.Next7),
		panelThousands(ov.Next30)))
	if ov.Expired > 0 {
		line += body.Render(fmt.Sprintf(" · %s expired", panelThousands(ov.Expired)))
	}
	if ov.Unreachable > 0 {
		names := make([]string, len(ov.UnreachableNames))
		for i, n := range ov.UnreachableNames {
			names[i] = sanitize.String(n)
		}
		more := ""
		if ov.Unreachable > len(names) {
			more = "…"
		}
		line += warn.Render(fmt.Sprintf(" · %s no reminder can reach: %s%s",
			counted(ov.Unreachable, "person", "people"), strings.Join(names, ", "), more))
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

// money writes an amount with two decimals and comma separators: 7,800.00 EUR.
func money(v float64, currency string) string {
	cents := int(math.Round(v * 100))
	s := fmt.Sprintf("%s.%02d", panelThousands(cents/100), cents%100)
	if currency != "" {
		s += " " + currency
	}
	return s
}
