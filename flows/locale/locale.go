// Package locale gives sspr its languages: the message catalogues in
// assets/locales (go-i18n, one file per language, English the source), the
// choice of a language from a setting or a POSIX locale such as
// "de_DE.UTF-8", and a Printer per language that every screen, email and
// text message writes through.
//
// A Catalogue is loaded once and never changes, so one is shared by every
// session of a server. Message IDs are always written out whole where they
// are used, never assembled, so a test can find each one in the source.
package locale

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/sspr-kiosk/sspr/assets"
)

// Source is the language every catalogue translates from, and the one a
// missing message falls back to.
var Source = language.English

// nameKey is the message that names a language in itself ("Deutsch").
const nameKey = "language.name"

// Language is one language sspr speaks.
type Language struct {
	// Tag is the language's BCP 47 tag.
	Tag language.Tag
	// Code is the tag as written in settings and file names: "de", "pt-BR".
	Code string
	// Name is the language's name in itself: "Deutsch", "日本語".
	Name string
}

// Catalogue is every language sspr speaks, with a Printer for each.
type Catalogue struct {
	languages []Language
	printers  map[string]*Printer
	matcher   language.Matcher
	source    *Printer
}

// Load reads every "*.yaml" catalogue in fsys. The source language's file
// must be there.
func Load(fsys fs.FS) (*Catalogue, error) {
	bundle := i18n.NewBundle(Source)
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("load catalogues: %w", err)
	}
	ids := make(map[string][]string, len(files))
	for _, name := range files {
		mf, err := bundle.LoadMessageFileFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load catalogue %s: %w", name, err)
		}
		code := strings.TrimSuffix(path.Base(name), ".yaml")
		if mf.Tag.String() != code {
			return nil, fmt.Errorf("load catalogue %s: file name must be the tag %q", name, mf.Tag.String())
		}
		for _, m := range mf.Messages {
			ids[code] = append(ids[code], m.ID)
		}
	}
	c := &Catalogue{printers: make(map[string]*Printer, len(files))}
	if _, ok := ids[Source.String()]; !ok {
		return nil, fmt.Errorf("load catalogues: no %s.yaml, the source language", Source)
	}
	tags := bundle.LanguageTags()
	// The source comes first: the matcher's first tag is its fallback.
	slices.SortStableFunc(tags, func(a, b language.Tag) int {
		switch {
		case a == Source:
			return -1
		case b == Source:
			return 1
		}
		return strings.Compare(a.String(), b.String())
	})
	for _, tag := range tags {
		p := newPrinter(bundle, tag, ids[tag.String()])
		c.printers[tag.String()] = p
		c.languages = append(c.languages, p.lang)
	}
	c.source = c.printers[Source.String()]
	for _, p := range c.printers {
		p.source = c.source
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// embedded is the catalogue built into the binary, parsed on first use.
var embedded = sync.OnceValues(func() (*Catalogue, error) { return Load(assets.Locales()) })

// Embedded returns the catalogue built into the binary. It panics if the
// embedded files do not load, which the package's tests rule out.
func Embedded() *Catalogue {
	c, err := embedded()
	if err != nil {
		panic(err)
	}
	return c
}

// Languages lists the languages, the source first, then by tag.
func (c *Catalogue) Languages() []Language { return slices.Clone(c.languages) }

// Source returns the Printer of the source language.
func (c *Catalogue) Source() *Printer { return c.source }

// Printer returns the Printer for a language code ("de", "pt-BR"), or the
// source language's when sspr does not speak it.
func (c *Catalogue) Printer(code string) *Printer {
	if p, ok := c.printers[code]; ok {
		return p
	}
	if l, ok := c.Match(code); ok {
		return c.printers[l.Code]
	}
	return c.source
}

// ErrUnknownLanguage is returned for a language sspr does not speak.
var ErrUnknownLanguage = errors.New("unknown language")

// Lookup returns the language a setting names, by code ("de", "pt-BR") or
// locale ("de_DE.UTF-8"), or ErrUnknownLanguage.
func (c *Catalogue) Lookup(setting string) (Language, error) {
	if p, ok := c.printers[setting]; ok {
		return p.lang, nil
	}
	if l, ok := c.Match(setting); ok {
		return l, nil
	}
	return Language{}, fmt.Errorf("%q: %w (sspr speaks %s)", setting, ErrUnknownLanguage, strings.Join(c.codes(), ", "))
}

func (c *Catalogue) codes() []string {
	out := make([]string, len(c.languages))
	for i, l := range c.languages {
		out[i] = l.Code
	}
	return out
}

// Match finds the language for a POSIX locale ("de_DE.UTF-8", "pt_BR",
// "zh_CN.UTF-8") or a BCP 47 tag, as an SSH client's LANG or LC_ALL sends
// it. "C", "POSIX", an empty string and a language sspr does not speak
// report false, and the caller keeps its default.
func (c *Catalogue) Match(locale string) (Language, bool) {
	s := locale
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i] // the charset and modifier say nothing of the language
	}
	s = strings.ReplaceAll(s, "_", "-")
	if s == "" || s == "C" || s == "POSIX" || len(s) > 35 {
		return Language{}, false
	}
	tag, err := language.Parse(s)
	if err != nil {
		return Language{}, false
	}
	_, i, conf := c.matcher.Match(tag)
	// High: pt-PT may read pt-BR, but zh-TW is not served zh-Hans; and
	// never another language than the one asked for (the matcher offers
	// the first, English, for a language it does not know).
	asked, _ := tag.Base()
	got, _ := c.languages[i].Tag.Base()
	if conf < language.High || asked != got {
		return Language{}, false
	}
	return c.languages[i], true
}

// FromEnviron picks the language from an SSH session's environment as a
// POSIX program would: LC_ALL, then LC_MESSAGES, then LANG. The first one
// set decides; it reports false when that one names no language sspr
// speaks.
func (c *Catalogue) FromEnviron(environ []string) (Language, bool) {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := vars[k]; v != "" {
			return c.Match(v)
		}
	}
	return Language{}, false
}
