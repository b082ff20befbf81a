package tui

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// testLanguage is a catalogue of English plus a made-up translation of a
// few journey messages, in a language ("ja") whose words are two cells
// wide: enough to see a screen change language and keep its width.
func testLanguage(t *testing.T) *locale.Catalogue {
	t.Helper()
	en, err := fs.ReadFile(assets.Locales(), "en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ja := `language.name: 日本語
identify.title.reset: "パスワードの再設定 · どなたですか？"
identify.placeholder: ユーザー名を入力
field.username: ユーザー名
signin.placeholder.username: ユーザー名
signin.placeholder.password: 現在のパスワード
journey.reset.paused: 再設定は一時停止中
strength.very_weak: とても弱いパスワードです
strength.very_strong: とても強い
code.expires_in: "コードの有効期限まで {{.Clock}}"
helpdesk.contact: "ヘルプデスクにご連絡ください（{{.Contact}}）。"
`
	c, err := locale.Load(fstest.MapFS{"en.yaml": {Data: en}, "ja.yaml": {Data: []byte(ja)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestJourneyFollowsLanguageChange proves the journey screens write their
// words when drawn, not when built: a screen opened in English shows the
// other language as soon as the visit's language changes (the picker, or
// a person's stored preference once they prove who they are), its field
// hints and the heading of a dead end included.
func TestJourneyFollowsLanguageChange(t *testing.T) {
	ja := testLanguage(t).Printer("ja")
	h := newHarness(t)
	d := kiosk(t, h)
	d.keys("enter")
	at[*identify](d)
	d.see("Reset your password · Who are you?", "[your username]")

	d.m.env.p = ja
	d.see("パスワードの再設定 · どなたですか？", "[ユーザー名を入力]", "ユーザー名")
	d.notSee("Who are you?", "[your username]")

	si := newSignIn(d.m.env, purposeChange)
	if v := ansi.Strip(si.view(76)); !strings.Contains(v, "[ユーザー名]") || !strings.Contains(v, "[現在のパスワード]") {
		t.Errorf("sign-in field hints are not in the visit's language:\n%s", v)
	}
	de := &deadEndScreen{e: d.m.env, heading: journeyPaused(journeyReset)}
	if got := de.title(); got != "再設定は一時停止中" {
		t.Errorf("dead end heading = %q", got)
	}
	// The contact sits where the language puts it, in its own style.
	line := ansi.Strip(helpdeskLine(d.m.env, "help@example.com", 76))
	if line != "ヘルプデスクにご連絡ください（help@example.com）。" {
		t.Errorf("helpdesk line = %q", line)
	}
}

// TestComponentsInWideLanguage checks the countdown and strength meter
// in a language of wide characters: the meter keeps its bar the same
// length whichever word shows, and never draws past its width.
func TestComponentsInWideLanguage(t *testing.T) {
	ja := testLanguage(t).Printer("ja")
	st := styles.New(true)
	if got := ansi.Strip(components.Countdown(9*time.Minute, flows.CodeLifetime, &st, ja)); got != "コードの有効期限まで 9:00" {
		t.Errorf("countdown = %q", got)
	}
	weak := ansi.Strip(components.StrengthMeter(0, 40, &st, ja))
	strong := ansi.Strip(components.StrengthMeter(4, 40, &st, ja))
	bar := func(s string) int { return ansi.StringWidth(s[:strings.LastIndex(s, " ")]) }
	if bar(weak) != bar(strong) {
		t.Errorf("the bar changes length with the word:\n%q\n%q", weak, strong)
	}
	for score := range 5 {
		for w := 1; w <= 40; w++ {
			if got := ansi.StringWidth(components.StrengthMeter(score, w, &st, ja)); got > w {
				t.Errorf("score %d at width %d draws %d cells", score, w, got)
			}
		}
	}
}
