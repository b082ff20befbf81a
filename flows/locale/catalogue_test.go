package locale_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// catalogueFile is one language's file as written: plain messages and
// messages with plural forms.
type catalogueFile struct {
	plain  map[string]string
	plural map[string]map[string]string
}

func (c catalogueFile) ids() []string {
	var out []string
	for id := range c.plain {
		out = append(out, id)
	}
	for id := range c.plural {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// texts returns every text of a message, each plural form included.
func (c catalogueFile) texts(id string) []string {
	if s, ok := c.plain[id]; ok {
		return []string{s}
	}
	var out []string
	for _, s := range c.plural[id] {
		out = append(out, s)
	}
	return out
}

func readCatalogues(t *testing.T) map[string]catalogueFile {
	t.Helper()
	files, err := fs.Glob(assets.Locales(), "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogues: %v", err)
	}
	out := map[string]catalogueFile{}
	for _, name := range files {
		raw, err := fs.ReadFile(assets.Locales(), name)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := catalogueFile{plain: map[string]string{}, plural: map[string]map[string]string{}}
		for id, v := range doc {
			switch v := v.(type) {
			case string:
				c.plain[id] = v
			case map[string]any:
				forms := map[string]string{}
				for form, text := range v {
					s, ok := text.(string)
					if !ok {
						t.Errorf("%s: %s.%s is %T, not text", name, id, form, text)
					}
					forms[form] = s
				}
				c.plural[id] = forms
			default:
				t.Errorf("%s: %s is %T; a message is text or plural forms", name, id, v)
			}
		}
		out[strings.TrimSuffix(name, ".yaml")] = c
	}
	return out
}

// TestEveryCatalogueLoads proves the files parse as go-i18n catalogues,
// are named by their tag, and name their language in itself.
func TestEveryCatalogueLoads(t *testing.T) {
	c, err := locale.Load(assets.Locales())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range c.Languages() {
		if l.Name == "" || l.Name == l.Code {
			t.Errorf("%s: language.name is missing", l.Code)
		}
		if seen[l.Name] {
			t.Errorf("two languages are called %q", l.Name)
		}
		seen[l.Name] = true
	}
	if c.Languages()[0].Code != "en" {
		t.Errorf("English must come first, the source: %v", c.Languages())
	}
}

// TestCataloguesAgree proves every language has exactly the source's
// messages, with the same placeholders and the plural forms its language
// needs: a catalogue missing a key would show English in a translated
// screen, and one with a stray key holds text nothing shows.
func TestCataloguesAgree(t *testing.T) {
	all := readCatalogues(t)
	en, ok := all["en"]
	if !ok {
		t.Fatal("no en.yaml")
	}
	for code, c := range all {
		if code == "en" {
			continue
		}
		tag := language.MustParse(code)
		for _, id := range en.ids() {
			if _, ok := c.plain[id]; !ok && c.plural[id] == nil {
				t.Errorf("%s: %s is missing", code, id)
				continue
			}
			if want, got := placeholders(en.texts(id)), placeholders(c.texts(id)); !slices.Equal(want, got) {
				t.Errorf("%s: %s has placeholders %v, English has %v", code, id, got, want)
			}
			if _, plural := en.plural[id]; plural {
				forms := c.plural[id]
				if forms == nil {
					t.Errorf("%s: %s must have plural forms", code, id)
					continue
				}
				for _, form := range neededForms(tag) {
					if forms[form] == "" {
						t.Errorf("%s: %s lacks the %q form", code, id, form)
					}
				}
			} else if c.plural[id] != nil {
				t.Errorf("%s: %s has plural forms, English has none", code, id)
			}
			for _, s := range c.texts(id) {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: %s is empty", code, id)
				}
			}
		}
		for _, id := range c.ids() {
			if _, ok := en.plain[id]; !ok && en.plural[id] == nil {
				t.Errorf("%s: %s is not in the English catalogue", code, id)
			}
		}
	}
	for _, id := range en.ids() {
		for _, s := range en.texts(id) {
			if strings.TrimSpace(s) == "" {
				t.Errorf("en: %s is empty", id)
			}
		}
		if forms := en.plural[id]; forms != nil && (forms["one"] == "" || forms["other"] == "") {
			t.Errorf("en: %s needs the one and other forms", id)
		}
	}
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders lists the named placeholders of a message's texts, sorted
// and without repeats.
func placeholders(texts []string) []string {
	set := map[string]bool{}
	for _, s := range texts {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// neededForms are the CLDR plural forms a language uses for whole numbers,
// found by asking the rules about the counts a screen can show.
func neededForms(tag language.Tag) []string {
	names := map[plural.Form]string{plural.Other: "other", plural.Zero: "zero", plural.One: "one",
		plural.Two: "two", plural.Few: "few", plural.Many: "many"}
	set := map[string]bool{}
	counts := []int{1_000_000, 2_000_000}
	for n := range 2000 {
		counts = append(counts, n)
	}
	for _, n := range counts {
		set[names[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)]] = true
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// TestEveryMessageIsUsed proves no catalogue holds a message nothing
// shows: every ID is written whole, in quotes, somewhere in the source
// (Go files and message templates, tests excluded).
func TestEveryMessageIsUsed(t *testing.T) {
	root := filepath.Join("..", "..")
	var source strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() || strings.HasSuffix(name, "_test.go") ||
			!(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".tmpl")) {
			return nil
		}
		b, err := os.ReadFile(path)
		source.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	text := source.String()
	en := readCatalogues(t)["en"]
	for _, id := range en.ids() {
		if !strings.Contains(text, `"`+id+`"`) {
			t.Errorf("%s: nothing uses it", id)
		}
	}
}
