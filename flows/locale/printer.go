package locale

import (
	"errors"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Args are a message's named placeholders: {{.Name}} in the catalogue.
type Args map[string]any

// Printer writes sspr's messages, numbers, dates and durations in one
// language. It is immutable and safe to share between sessions.
type Printer struct {
	lang Language
	loc  *i18n.Localizer
	// plain holds this language's own messages without placeholders or
	// plural forms, rendered once: most of what a screen draws is a map
	// lookup.
	plain map[string]string
	// own holds the IDs this language's file translates.
	own    map[string]bool
	num    *message.Printer
	source *Printer
}

func newPrinter(bundle *i18n.Bundle, tag language.Tag, ids []string) *Printer {
	p := &Printer{
		lang:  Language{Tag: tag, Code: tag.String()},
		loc:   i18n.NewLocalizer(bundle, tag.String()),
		plain: make(map[string]string, len(ids)),
		own:   make(map[string]bool, len(ids)),
		num:   message.NewPrinter(tag),
	}
	for _, id := range ids {
		p.own[id] = true
		s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id})
		if err == nil && !strings.Contains(s, "{{") {
			p.plain[id] = s
		}
	}
	p.lang.Name = p.plain[nameKey]
	if p.lang.Name == "" {
		p.lang.Name = p.lang.Code
	}
	return p
}

// Language is the language this Printer writes.
func (p *Printer) Language() Language { return p.lang }

// Has reports whether this language's own catalogue holds the message,
// rather than falling back to the source language.
func (p *Printer) Has(id string) bool { return p.own[id] }

// T returns a message without placeholders.
func (p *Printer) T(id string) string {
	if s, ok := p.plain[id]; ok {
		return s
	}
	return p.F(id, nil)
}

// F returns a message with its named placeholders filled in.
func (p *Printer) F(id string, args Args) string {
	return p.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: p.data(args, nil)})
}

// N returns a message in the plural form the count needs in this language
// ("1 Weg", "2 Wege"; Polish has three forms). The count is in the
// placeholders as {{.Count}}, written with this language's digit grouping.
func (p *Printer) N(id string, count int, args Args) string {
	return p.localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: p.data(args, &count)})
}

func (p *Printer) data(args Args, count *int) map[string]any {
	d := make(map[string]any, len(args)+1)
	for k, v := range args {
		d[k] = v
	}
	if count != nil {
		d["Count"] = p.Number(*count)
	}
	return d
}

func (p *Printer) localize(lc *i18n.LocalizeConfig) string {
	if !p.own[lc.MessageID] && p.source != nil && p.source != p {
		return p.source.localize(lc)
	}
	s, err := p.loc.Localize(lc)
	var notFound *i18n.MessageNotFoundErr
	if err != nil && s == "" && errors.As(err, &notFound) {
		// A message no catalogue has: the ID at least says which, and
		// the catalogue test fails before such a build ships.
		return lc.MessageID
	}
	return s
}

// Number writes an integer with this language's digit grouping:
// "1,204", "1.204", "1 204".
func (p *Printer) Number(n int) string { return p.num.Sprintf("%d", n) }

// Time writes a time of day as this language writes it.
func (p *Printer) Time(t time.Time) string { return t.Format(p.T("format.time")) }

// Date writes a calendar day as this language writes it.
func (p *Printer) Date(t time.Time) string { return t.Format(p.T("format.date")) }

// DateTime writes a day and a time of day as this language writes them.
func (p *Printer) DateTime(t time.Time) string { return t.Format(p.T("format.datetime")) }

// Duration writes a span in whole units, rounded up, the largest unit that
// fits: "45 seconds", "3 minutes", "2 hours", "5 days". Waits are rounded
// up so a person is never told a wait is over before it is.
func (p *Printer) Duration(d time.Duration) string {
	switch {
	case d <= time.Minute:
		return p.N("duration.seconds", ceil(d, time.Second), nil)
	case d <= time.Hour:
		return p.N("duration.minutes", ceil(d, time.Minute), nil)
	case d <= 48*time.Hour:
		return p.N("duration.hours", ceil(d, time.Hour), nil)
	default:
		return p.N("duration.days", ceil(d, 24*time.Hour), nil)
	}
}

func ceil(d, unit time.Duration) int { return int((d + unit - 1) / unit) }
