package components

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// en is the source language: the components draw their words through it.
var en = locale.Embedded().Source()

const hostile = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2J\r\u202Eevil\x9b31m"

// allStyles returns the style sets the components must handle.
func allStyles() map[string]*styles.Styles {
	light := styles.New(false)
	return map[string]*styles.Styles{"dark": dark(), "light": &light, "ascii": ascii()}
}

func dark() *styles.Styles {
	st := styles.New(true)
	return &st
}

func ascii() *styles.Styles {
	st := styles.New(true).ASCII()
	return &st
}

// assertWithin fails when any line of s is wider than width.
func assertWithin(t *testing.T, s string, width int) {
	t.Helper()
	for i, l := range strings.Split(s, "\n") {
		if w := ansi.StringWidth(l); w > width {
			t.Fatalf("line %d is %d cells wide, limit %d: %q", i, w, width, l)
		}
	}
	if w := lipgloss.Width(s); w > width {
		t.Fatalf("lipgloss.Width = %d, limit %d", w, width)
	}
}

// assertNoInjection fails when s holds a sequence that did not come from a
// style: an OSC (hyperlink, title), a screen clear, a CR or a bidi override.
func assertNoInjection(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\r", "\u202e", "\x9b", "\u009b", "evil.example"} {
		if strings.Contains(s, bad) {
			t.Fatalf("output holds %q: %q", bad, s)
		}
	}
}

func TestFrameSize(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {40, 12}, {39, 11}, {39, 12}, {40, 11}, {1, 1}, {2, 1}, {1, 5}, {10, 3}, {300, 100}}
	tallBody := strings.Repeat("line of body text that is quite long indeed, longer than most windows are wide, really\n", 120)
	for name, st := range allStyles() {
		for _, sz := range sizes {
			w, h := sz[0], sz[1]
			t.Run(fmt.Sprintf("%s/%dx%d", name, w, h), func(t *testing.T) {
				help := HelpBar(bindings(), w, st)
				for _, body := range []string{"", "short body", tallBody, hostile} {
					out := Frame("Reset password "+hostile, body, help+"\nsecond line", w, h, st, en)
					lines := strings.Split(out, "\n")
					if len(lines) != h {
						t.Fatalf("%d lines, want %d", len(lines), h)
					}
					for i, l := range lines {
						if lw := ansi.StringWidth(l); lw != w {
							t.Fatalf("line %d is %d wide, want exactly %d: %q", i, lw, w, l)
						}
					}
					if gw, gh := lipgloss.Size(out); gw != w || gh != h {
						t.Fatalf("lipgloss.Size = %dx%d, want %dx%d", gw, gh, w, h)
					}
					assertNoInjection(t, out)
				}
			})
		}
	}
}

func TestFrameLayout(t *testing.T) {
	st := dark()
	help := HelpBar(bindings(), 78, st)
	out := ansi.Strip(Frame("Reset password", "Body line one\nBody line two", help, 80, 24, st, en))
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "Reset password") {
		t.Errorf("title not on the first line: %q", lines[0])
	}
	if !strings.HasPrefix(lines[2], " Body line one") || !strings.HasPrefix(lines[3], " Body line two") {
		t.Errorf("body not below the title: %q", lines[2:4])
	}
	if !strings.Contains(lines[23], "enter select") {
		t.Errorf("help not on the last line: %q", lines[23])
	}
}

func TestFrameGivesUpSpacersForTallBodies(t *testing.T) {
	st := dark()
	body := func(n int) string {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = fmt.Sprintf("row %02d", i+1)
		}
		return strings.Join(lines, "\n")
	}
	for _, tt := range []struct {
		rows, firstAt, shown int
	}{
		{20, 2, 20}, // fits with the blank lines
		{21, 1, 21}, // needs one of them: both go, the layout stays regular
		{22, 1, 22},
		{30, 1, 22}, // clipped to the maximum
	} {
		lines := strings.Split(ansi.Strip(Frame("QR", body(tt.rows), "help", 80, 24, st, en)), "\n")
		if !strings.HasPrefix(lines[tt.firstAt], " row 01") {
			t.Errorf("%d rows: first body row not at line %d: %q", tt.rows, tt.firstAt, lines[:3])
		}
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, " row ") {
				n++
			}
		}
		if n != tt.shown {
			t.Errorf("%d rows: %d shown, want %d", tt.rows, n, tt.shown)
		}
		if !strings.HasPrefix(lines[23], " help") {
			t.Errorf("%d rows: help not on the last line: %q", tt.rows, lines[23])
		}
	}
}

func TestFrameTooSmall(t *testing.T) {
	st := dark()
	const msg = "Please make the window larger (at least 40×12)"
	for _, sz := range [][2]int{{39, 24}, {80, 11}, {39, 11}, {60, 5}} {
		out := ansi.Strip(Frame("Title", "body", "help", sz[0], sz[1], st, en))
		words := strings.Join(strings.Fields(out), " ")
		if words != msg {
			t.Errorf("%dx%d: got %q, want %q", sz[0], sz[1], words, msg)
		}
		if strings.Contains(out, "body") {
			t.Errorf("%dx%d: body drawn in a window that is too small", sz[0], sz[1])
		}
	}
	// The message is centred.
	out := ansi.Strip(Frame("", "", "", 60, 9, st, en))
	lines := strings.Split(out, "\n")
	if strings.TrimSpace(lines[4]) == "" || strings.TrimSpace(lines[0]) != "" {
		t.Errorf("message not vertically centred: %q", lines)
	}
	if !strings.HasPrefix(lines[4], "       Please") {
		t.Errorf("message not horizontally centred: %q", lines[4])
	}
	// Tiny windows get a shorter message rather than a cut one.
	if got := strings.TrimSpace(ansi.Strip(Frame("", "", "", 12, 1, st, en))); got != "Too small" {
		t.Errorf("12x1: got %q", got)
	}
	if got := Frame("", "", "", 0, 0, st, en); got != "" {
		t.Errorf("0x0: got %q", got)
	}
}

func TestChecklist(t *testing.T) {
	items := []CheckItem{
		{Label: "At least 12 characters", Met: true},
		{Label: "Not a common password", Met: false},
		{Label: "Does not contain your username or any part of your display name, in any letter case", Met: false},
		{Label: "日本語のルールはとても長いのでここで折り返す必要があります", Met: true},
		{Label: hostile, Met: false},
	}
	for name, st := range allStyles() {
		for _, w := range []int{1, 2, 3, 4, 5, 8, 20, 40, 80, 120} {
			out := Checklist(items, st, w)
			assertWithin(t, out, w)
			assertNoInjection(t, out)
			if lipgloss.Height(out) < len(items) {
				t.Fatalf("%s width %d: %d lines for %d items", name, w, lipgloss.Height(out), len(items))
			}
		}
		out := ansi.Strip(Checklist(items[:2], st, 80))
		want := st.Glyphs.Met + " At least 12 characters\n" + st.Glyphs.Unmet + " Not a common password"
		if name == "ascii" {
			want = "[x] At least 12 characters\n[ ] Not a common password"
		}
		if out != want {
			t.Errorf("%s: got %q, want %q", name, out, want)
		}
	}
	// A wrapped label continues under itself, not under the mark.
	out := ansi.Strip(Checklist(items[2:3], dark(), 30))
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "  ") || strings.HasPrefix(lines[1], "   ") {
		t.Errorf("bad wrap: %q", lines)
	}
	if Checklist(nil, dark(), 80) != "" || Checklist(items, dark(), 0) != "" {
		t.Error("want empty output for no items or no width")
	}
}

func TestStrengthMeter(t *testing.T) {
	words := []string{"Very weak", "Weak", "Fair", "Strong", "Very strong"}
	st := ascii()
	for score, word := range words {
		out := ansi.Strip(StrengthMeter(score, 40, st, en))
		if !strings.HasSuffix(out, " "+word) {
			t.Errorf("score %d: %q does not end with %q", score, out, word)
		}
		bar := strings.TrimSuffix(out, " "+word)
		filled := strings.Count(bar, "#")
		if want := len(bar) * (score + 1) / 5; filled != want || len(bar) != filled+strings.Count(bar, "-") {
			t.Errorf("score %d: bar %q has %d filled, want %d", score, bar, filled, want)
		}
	}
	// The bar keeps its length whatever the score.
	for score := range words {
		bar := ansi.StringWidth(StrengthMeter(score, 40, st, en)) - len(words[score]) - 1
		if bar != 40-1-len("Very strong") {
			t.Errorf("score %d: bar is %d cells, want %d", score, bar, 40-1-len("Very strong"))
		}
	}
	for _, tt := range []struct {
		score int
		word  string
	}{{-5, "Very weak"}, {99, "Very strong"}} {
		if got := ansi.Strip(StrengthMeter(tt.score, 40, st, en)); !strings.HasSuffix(got, tt.word) {
			t.Errorf("score %d: got %q, want %q", tt.score, got, tt.word)
		}
	}
	for name, st := range allStyles() {
		for w := 0; w <= 120; w++ {
			for score := range 5 {
				out := StrengthMeter(score, w, st, en)
				assertWithin(t, out, w)
				if w > 0 && ansi.Strip(out) == "" {
					t.Fatalf("%s: empty meter at width %d", name, w)
				}
			}
		}
	}
	// Too narrow for a bar: just the word.
	if got := ansi.Strip(StrengthMeter(3, 15, st, en)); got != "Strong" {
		t.Errorf("narrow: got %q", got)
	}
}

func TestCountdown(t *testing.T) {
	st := dark()
	tests := []struct {
		d      time.Duration
		want   string
		urgent bool
	}{
		{9*time.Minute + 41*time.Second, "Code expires in 9:41", false},
		{9*time.Minute + 40*time.Second + 200*time.Millisecond, "Code expires in 9:41", false},
		{10 * time.Minute, "Code expires in 10:00", false},
		{60 * time.Second, "Code expires in 1:00", false},
		{59*time.Second + 500*time.Millisecond, "Code expires in 1:00", false},
		{59 * time.Second, "Code expires in 0:59", true},
		{time.Millisecond, "Code expires in 0:01", true},
		{0, "Code expired", true},
		{-time.Hour, "Code expired", true},
		{time.Hour, "Code expires in 1:00:00", false},
		{time.Hour + 2*time.Minute + 3*time.Second, "Code expires in 1:02:03", false},
	}
	for _, tt := range tests {
		got := Countdown(tt.d, 2*time.Hour, st, en)
		if ansi.Strip(got) != tt.want {
			t.Errorf("Countdown(%v) = %q, want %q", tt.d, ansi.Strip(got), tt.want)
		}
		style := st.Countdown.Normal
		if tt.urgent {
			style = st.Countdown.Urgent
		}
		if got != style.Render(tt.want) {
			t.Errorf("Countdown(%v): wrong style (urgent=%v)", tt.d, tt.urgent)
		}
	}
}

// TestCountdownNeverAboveLifetime checks a fresh code read by a screen
// whose clock is behind the send: "10:00", not "10:01" or more.
func TestCountdownNeverAboveLifetime(t *testing.T) {
	st := dark()
	for _, d := range []time.Duration{10 * time.Minute, 10*time.Minute + time.Millisecond, 10*time.Minute + 999*time.Millisecond,
		10*time.Minute + 5*time.Second} {
		if got := ansi.Strip(Countdown(d, 10*time.Minute, st, en)); got != "Code expires in 10:00" {
			t.Errorf("Countdown(%v, 10m) = %q", d, got)
		}
	}
	if got := ansi.Strip(Countdown(9*time.Minute+59*time.Second+1, 10*time.Minute, st, en)); got != "Code expires in 10:00" {
		t.Errorf("just under the lifetime: %q", got)
	}
}

func bindings() []key.Binding {
	disabled := key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "hidden"), key.WithDisabled())
	noHelp := key.NewBinding(key.WithKeys("z"))
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select")),
		disabled,
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		noHelp,
		key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "resend code")),
		key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

func TestHelpBar(t *testing.T) {
	for name, st := range allStyles() {
		sep := st.Glyphs.Separator
		full := "enter select" + sep + "esc back" + sep + "ctrl+r resend code" + sep + "ctrl+c quit"
		if got := ansi.Strip(HelpBar(bindings(), 200, st)); got != full {
			t.Errorf("%s: got %q, want %q", name, got, full)
		}
		for w := 0; w <= 80; w++ {
			out := HelpBar(bindings(), w, st)
			assertWithin(t, out, w)
			plain := ansi.Strip(out)
			if strings.Contains(plain, "hidden") {
				t.Fatalf("disabled binding shown")
			}
			// Entries are whole and in order: the output is a prefix of
			// the full bar, possibly followed by an ellipsis.
			trimmed := strings.TrimSuffix(plain, " "+st.Glyphs.Ellipsis)
			if !strings.HasPrefix(full, trimmed) {
				t.Fatalf("%s width %d: %q is not a prefix of the full bar", name, w, plain)
			}
			if trimmed != "" && trimmed != full && !strings.HasPrefix(full[len(trimmed):], sep) {
				t.Fatalf("%s width %d: entry cut in the middle: %q", name, w, plain)
			}
		}
	}
	st := dark()
	if got := ansi.Strip(HelpBar(bindings(), 25, st)); got != "enter select • esc back …" {
		t.Errorf("got %q", got)
	}
	if got := HelpBar(nil, 80, st); got != "" {
		t.Errorf("no bindings: got %q", got)
	}
}

func TestGroupSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"JBSWY3DPEHPK3PXP", "JBSW Y3DP EHPK 3PXP"},
		{"jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP"},
		{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"},
		{"JBSWY3DPEH", "JBSW Y3DP EH"},
		{"JBSW Y3DP-EHPK 3PXP====", "JBSW Y3DP EHPK 3PXP"},
		{"", ""},
		{"JBSW\x1b[2JY3DP\r", "JBSW Y3DP"},
	}
	for _, tt := range tests {
		got := GroupSecret(tt.in)
		if got != tt.want {
			t.Errorf("GroupSecret(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("invalid UTF-8: %q", got)
		}
	}
}

func benchItems() []CheckItem {
	return []CheckItem{
		{Label: "At least 12 characters", Met: true},
		{Label: "No more than 128 characters", Met: true},
		{Label: "Not a common password", Met: false},
		{Label: "Does not contain your username or your name", Met: true},
		{Label: "Not one of your last 5 passwords", Met: false},
		{Label: "Strong enough (zxcvbn score 3 or more)", Met: false},
	}
}

func BenchmarkChecklist120x40(b *testing.B) {
	st := dark()
	items := benchItems()
	b.ReportAllocs()
	for b.Loop() {
		_ = Checklist(items, st, 118)
	}
}

func BenchmarkFrame120x40(b *testing.B) {
	st := dark()
	help := HelpBar(bindings(), 118, st)
	body := lipgloss.JoinVertical(lipgloss.Left,
		st.Subtitle.Render("Choose a new password"),
		"",
		strings.Repeat("•", 14),
		"",
		StrengthMeter(2, 60, st, en),
		"",
		Checklist(benchItems(), st, 118),
	)
	b.ReportAllocs()
	for b.Loop() {
		_ = Frame("sspr · Reset password", body, help, 120, 40, st, en)
	}
}

// BenchmarkNewPasswordView120x40 is the whole view of the busiest screen,
// built from scratch each frame as a screen's View would.
func BenchmarkNewPasswordView120x40(b *testing.B) {
	st := dark()
	items := benchItems()
	bs := bindings()
	b.ReportAllocs()
	for b.Loop() {
		body := lipgloss.JoinVertical(lipgloss.Left,
			st.Subtitle.Render("Choose a new password"),
			"",
			st.Input.Focused.Render(strings.Repeat("•", 14)),
			"",
			StrengthMeter(2, 60, st, en),
			"",
			Checklist(items, st, 118),
			"",
			Countdown(9*time.Minute, 10*time.Minute, st, en),
		)
		_ = Frame("sspr · Reset password", body, HelpBar(bs, 118, st), 120, 40, st, en)
	}
}
