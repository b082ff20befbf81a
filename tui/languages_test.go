package tui

import (
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
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
// to its ID, so a test that names a menu item or a sentence in English
// finds it in any language.
func englishIDs(t testing.TB) map[string]string {
	t.Helper()
	m, err := englishIDsOnce()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var englishIDsOnce = sync.OnceValues(func() (map[string]string, error) {
	raw, err := fs.ReadFile(assets.Locales(), "en.yaml")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for id, v := range doc {
		if s, ok := v.(string); ok && !strings.Contains(s, "{{") {
			m[s] = id
		}
	}
	return m, nil
})

// inVisitLanguage is an English message as the visit's language writes
// it; any other text is returned as it is.
func (d *driver) inVisitLanguage(s string) string {
	if d.m.env.p.Language().Code == "en" {
		return s
	}
	if id, ok := englishIDs(d.t)[s]; ok {
		return d.m.env.p.T(id)
	}
	return s
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
// or a path (an audit event, an email address), and one with digits is a
// code: data, not prose, so it is skipped whole.
func wordsOf(s string) []string {
	var out []string
	for _, tok := range strings.Fields(s) {
		tok = strings.TrimFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) })
		// Letters mixed with digits are a code ("2TTM4ARE8H"), not words.
		if strings.ContainsAny(tok, ".@_/:") || strings.ContainsAny(tok, "0123456789") {
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
func languageScreens(cat *locale.Catalogue, lang string) []pinnedScreen {
	person := func(t *testing.T) *driver {
		return newDriver(t, newHarness(t), Options{Mode: ModeKiosk, IdleTimeout: 120 * time.Second,
			Languages: cat, Language: lang})
	}
	admin := func(t *testing.T, tab string) *driver {
		d := panelDriver(t, newHarness(t), Options{Mode: ModeKiosk, Languages: cat, Language: lang,
			CostPerCall: 25, Currency: "USD"})
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
		for w := range screenData {
			own[w] = true
		}
		rows := slices.DeleteFunc(pinnedScreensIn(nil, l.Code), func(r pinnedScreen) bool { return r.open == nil })
		rows = append(rows, languageScreens(nil, l.Code)...)
		for _, r := range rows {
			t.Run(l.Code+"/"+r.name, func(t *testing.T) {
				d := r.open(t)
				if got := shownAs(d); !slices.Contains(got, reflect.TypeOf(r.want)) {
					t.Fatalf("on %v, want %v:\n%s", got, reflect.TypeOf(r.want), d.view())
				}
				if got := d.m.env.p.Language().Code; got != l.Code {
					t.Fatalf("the visit is in %s, want %s", got, l.Code)
				}
				allowed := withRandom(own, r, d)
				for _, size := range [][2]int{{80, 24}, {60, 20}} {
					d.resize(size[0], size[1])
					checkTranslatedScreen(t, d, size, english, allowed)
				}
			})
		}
	}
}

// withRandom adds to words those of the values a row says differ from run
// to run (an authenticator secret, a recovery code, a voucher): "WORK" in a
// secret's groups is not an English word left on the screen. The words a
// voucher is spelled with are not among them: those are the language's.
func withRandom(words map[string]bool, r pinnedScreen, d *driver) map[string]bool {
	out := make(map[string]bool, len(words))
	for w := range words {
		out[w] = true
	}
	var values []string
	if r.random != nil {
		values = append(values, r.random(d)...)
	}
	// A window too small for the QR code shows the secret to type instead.
	if s, ok := d.m.top().(*enrolAuthenticator); ok {
		values = append(values, enrolmentSecrets(s)...)
	}
	for _, v := range values {
		for _, w := range wordsOf(v) {
			out[w] = true
		}
	}
	return out
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

// pseudoMessage is one message of the pseudo language with nothing nested
// inside it; pseudoCut is a message cut at the window's edge, which lost
// its ⟧, so its ⟦ runs to the end of the line.
var (
	pseudoMessage = regexp.MustCompile(`⟦[^⟦⟧]*⟧`)
	pseudoCut     = regexp.MustCompile(`⟦[^\n]*`)
)

// fromCatalogue removes the pseudo language's messages from a screen,
// innermost first (a message may hold another in a placeholder), leaving
// what did not come from the catalogue.
func fromCatalogue(screen string) string {
	for {
		next := pseudoMessage.ReplaceAllString(screen, " ")
		if next == screen {
			return pseudoCut.ReplaceAllString(next, " ")
		}
		screen = next
	}
}

// screenData are words the test screens show that are data, not sspr's
// words: an operator's notice, what a test typed, and policy values, which
// are written as the CLI and config file take them.
var screenData = map[string]bool{}

func init() {
	for _, s := range []string{"The portal restarts at 18:00 for an update.", "car", "rex",
		"true false all email sms authenticator recovery_codes voucher questions ssh_key",
		// The audit log's outcomes and actors are the chain's own records.
		"ok failed system",
		// A voucher is read out in the ICAO spelling alphabet, which
		// helpdesks use in every language.
		"alfa bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa " +
			"quebec romeo sierra tango uniform victor whiskey xray yankee zulu"} {
		for _, w := range wordsOf(s) {
			screenData[w] = true
		}
	}
}

// TestEveryScreenFromTheCatalogue draws every screen in a language that
// writes each English message inside ⟦…⟧, and finds every word left
// outside: one written in the code rather than taken from the catalogue,
// which no translation could reach.
func TestEveryScreenFromTheCatalogue(t *testing.T) {
	cat := pseudoCatalogue(t)
	english := vocabulary(t, "en")
	rows := slices.DeleteFunc(pinnedScreensIn(cat, pseudoCode), func(r pinnedScreen) bool { return r.open == nil })
	rows = append(rows, languageScreens(cat, pseudoCode)...)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			d := r.open(t)
			allowed := withRandom(screenData, r, d)
			for _, size := range [][2]int{{80, 24}, {60, 20}} {
				d.resize(size[0], size[1])
				v := ansi.Strip(d.m.render())
				if left := englishLeft(fromCatalogue(v), english, allowed); len(left) > 0 {
					t.Errorf("%d×%d: words not from the catalogue: %v\n%s", size[0], size[1], left, v)
				}
			}
		})
	}
}

// TestPickedLanguageHoldsForTheVisit: a language chosen on the welcome
// screen holds while the person goes on, and the idle timeout forgets it
// with everything else, so the next person at the kiosk starts in the
// kiosk's own language.
func TestPickedLanguageHoldsForTheVisit(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	en := d.m.env.p
	d.keys("l")
	at[*languagePicker](d)
	for d.m.env.p.Language().Code != "de" {
		lp := at[*languagePicker](d)
		i := slices.Index(lp.codes, "de")
		if i < 0 {
			t.Fatalf("no German in the picker: %v", lp.codes)
		}
		d.keys(fmt.Sprint(i + 1))
	}
	de := d.m.env.p
	at[*welcome](d)
	d.see(de.T("welcome.reset"))
	d.keys("enter")
	at[*identify](d)
	d.see(de.T("identify.title.reset"))
	d.keys("esc")
	at[*welcome](d)
	d.see(de.T("welcome.intro"))

	// Idle on the welcome screen, in a language the last person chose.
	d.tick(119 * time.Second)
	d.see(de.T("welcome.reset"))
	d.tick(2 * time.Second)
	at[*welcome](d)
	if d.m.env.p != en {
		t.Fatalf("after the idle timeout the kiosk speaks %s", d.m.env.p.Language().Code)
	}
	d.see(en.T("welcome.reset"))
}
