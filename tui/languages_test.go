package tui

import (
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"
	"gopkg.in/yaml.v3"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// catalogueTexts reads a language's catalogue as written: each message's
// texts, plural forms included.
func catalogueTexts(t testing.TB, code string) map[string][]string {
	t.Helper()
	raw, err := fs.ReadFile(assets.Locales(), code+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s.yaml: %v", code, err)
	}
	out := map[string][]string{}
	for id, v := range doc {
		switch v := v.(type) {
		case string:
			out[id] = []string{v}
		case map[string]any:
			for _, f := range v {
				if s, ok := f.(string); ok {
					out[id] = append(out[id], s)
				}
			}
		}
	}
	return out
}

// englishIDs maps the English text of each message without placeholders
// to its ID, so a test that names a menu item in English finds it in any
// language.
func englishIDs(t testing.TB) map[string]string {
	t.Helper()
	m := map[string]string{}
	for id, texts := range catalogueTexts(t, "en") {
		if len(texts) == 1 && !strings.Contains(texts[0], "{{") {
			m[texts[0]] = id
		}
	}
	return m
}

var placeholderPattern = regexp.MustCompile(`\{\{[^}]*\}\}`)

// vocabulary is the set of words of a catalogue, lower-cased, placeholders
// left out.
func vocabulary(t testing.TB, code string) map[string]bool {
	words := map[string]bool{}
	for _, texts := range catalogueTexts(t, code) {
		for _, s := range texts {
			for _, w := range wordsOf(placeholderPattern.ReplaceAllString(s, " ")) {
				words[w] = true
			}
		}
	}
	return words
}

// wordsOf splits text into lower-cased words of letters. A token with
// '.', '@', '_', '/' or ':' between letters is an identifier, an address
// or a path (an audit event, an email address): data, not prose, so it
// is skipped whole.
func wordsOf(s string) []string {
	var out []string
	for _, tok := range strings.Fields(s) {
		tok = strings.TrimFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) })
		if strings.ContainsAny(tok, ".@_/:") {
			continue
		}
		for _, w := range strings.FieldsFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) }) {
			if len([]rune(w)) >= 3 {
				out = append(out, strings.ToLower(w))
			}
		}
	}
	return out
}

// notEnglish are words an English screen shares with translated ones on
// purpose: product and key names, and the harness's data.
var notEnglish = map[string]bool{
	"sspr": true, "ssh": true, "ctrl": true, "enter": true, "esc": true, "tab": true, "shift": true,
	"pgup": true, "pgdn": true, "space": true, "ldap": true, "smtp": true, "sms": true, "totp": true, "otp": true,
	"english": true, "alice": true, "bob": true, "carol": true, "dave": true, "erin": true, "ada": true,
	"admin": true, "example": true, "corp": true, "usd": true, "qr": true,
}

// englishLeft lists the words of a screen that are English and not also
// words of the language's own catalogue.
func englishLeft(screen string, english, own map[string]bool) []string {
	set := map[string]bool{}
	for _, w := range wordsOf(screen) {
		if english[w] && !own[w] && !notEnglish[w] {
			set[w] = true
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// languageScreens are the screens the every-screen table pins through
// another test's golden, opened here so they too are drawn in every
// language.
func languageScreens(lang string) []pinnedScreen {
	person := func(t *testing.T) *driver {
		return newDriver(t, newHarness(t), Options{Mode: ModeKiosk, IdleTimeout: 120 * time.Second, Language: lang})
	}
	admin := func(t *testing.T, tab string) *driver {
		d := panelDriver(t, newHarness(t), Options{Mode: ModeKiosk, Language: lang, CostPerCall: 25, Currency: "USD"})
		d.keys(tab)
		return d
	}
	return []pinnedScreen{
		{name: "method picker", want: (*methods)(nil), open: func(t *testing.T) *driver {
			d := person(t)
			d.startReset("carol")
			return d
		}},
		{name: "code entry", want: (*codeEntry)(nil), open: func(t *testing.T) *driver {
			d := person(t)
			d.startReset("carol")
			d.keys("enter")
			return d
		}},
		{name: "new password", want: (*newPassword)(nil), open: func(t *testing.T) *driver {
			d := person(t)
			d.signIn(2, "alice")
			d.typeText("Tangerine velvet")
			return d
		}},
		{name: "security info", want: (*overview)(nil), open: func(t *testing.T) *driver {
			d := person(t)
			d.signIn(3, "erin")
			return d
		}},
		{name: "admin users", want: (*usersTab)(nil), open: func(t *testing.T) *driver { return admin(t, "2") }},
		{name: "admin audit", want: (*auditTab)(nil), open: func(t *testing.T) *driver { return admin(t, "3") }},
		{name: "admin insights", want: (*insightsTab)(nil), open: func(t *testing.T) *driver { return admin(t, "4") }},
		{name: "admin blocks", want: (*blocksTab)(nil), open: func(t *testing.T) *driver { return admin(t, "5") }},
	}
}

// TestEveryScreenInEveryLanguage draws every screen in every language
// sspr speaks, at 80×24 and 60×20: no line is wider than the window, the
// help bar shows, and no English word is left on a translated screen.
func TestEveryScreenInEveryLanguage(t *testing.T) {
	langs := locale.Embedded().Languages()
	if len(langs) < 2 {
		t.Skip("only the source language")
	}
	english := vocabulary(t, "en")
	for _, l := range langs[1:] {
		own := vocabulary(t, l.Code)
		rows := slices.DeleteFunc(pinnedScreensIn(l.Code), func(r pinnedScreen) bool { return r.open == nil })
		rows = append(rows, languageScreens(l.Code)...)
		for _, r := range rows {
			t.Run(l.Code+"/"+r.name, func(t *testing.T) {
				d := r.open(t)
				if got := shownAs(d); !slices.Contains(got, reflect.TypeOf(r.want)) {
					t.Fatalf("on %v, want %v:\n%s", got, reflect.TypeOf(r.want), d.view())
				}
				if got := d.m.env.p.Language().Code; got != l.Code {
					t.Fatalf("the visit is in %s, want %s", got, l.Code)
				}
				for _, size := range [][2]int{{80, 24}, {60, 20}} {
					d.resize(size[0], size[1])
					checkTranslatedScreen(t, d, size, english, own)
				}
			})
		}
	}
}

func checkTranslatedScreen(t *testing.T, d *driver, size [2]int, english, own map[string]bool) {
	t.Helper()
	v := d.m.render()
	lines := strings.Split(v, "\n")
	if len(lines) > size[1] {
		t.Errorf("%d×%d: %d lines:\n%s", size[0], size[1], len(lines), v)
	}
	for i, line := range lines {
		if w := ansi.StringWidth(line); w > size[0] {
			t.Errorf("%d×%d: line %d is %d wide: %q", size[0], size[1], i, w, ansi.Strip(line))
		}
	}
	bar := strings.TrimSpace(ansi.Strip(lines[len(lines)-1]))
	if bar == "" {
		t.Errorf("%d×%d: no help bar:\n%s", size[0], size[1], ansi.Strip(v))
	}
	if left := englishLeft(ansi.Strip(v), english, own); len(left) > 0 {
		t.Errorf("%d×%d: English left on the screen: %v\n%s", size[0], size[1], left, ansi.Strip(v))
	}
}

// TestEnglishLeftIsFound proves the check finds an English sentence on a
// screen drawn in another language, and lets data through.
func TestEnglishLeftIsFound(t *testing.T) {
	english := map[string]bool{"prove": true, "password": true, "reset": true}
	own := map[string]bool{"passwort": true}
	got := englishLeft("Passwort zurücksetzen: prove it alice@example.com password.reset", english, own)
	if fmt.Sprint(got) != "[prove]" {
		t.Fatalf("englishLeft = %v", got)
	}
}
