package tui

import (
	"maps"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
)

// wrap fits text to the body width at word boundaries, so long sentences
// re-flow on resize and are never cut mid-word.
func wrap(s string, width int) string {
	return components.Wrap(s, width)
}

// codePlaceholder is the empty code field's hint for a method: "8-digit code".
func codePlaceholder(e *env, m policy.Method) string {
	d := m.Describe()
	return e.p.F(d.Placeholder, locale.Args{"Digits": d.CodeLength})
}

// styledF writes a message one of whose placeholders, name, is drawn in its
// own style (an address, a contact) and the words around it in the
// sentence's: the language decides where the value goes, so the sentence
// is cut where the value landed rather than built from fragments.
func styledF(p *locale.Printer, id string, args locale.Args, name, value string, outer, inner lipgloss.Style) string {
	const mark = "\x00"
	a := maps.Clone(args)
	if a == nil {
		a = locale.Args{}
	}
	a[name] = mark
	before, after, ok := strings.Cut(p.F(id, a), mark)
	if !ok {
		return outer.Render(p.F(id, a))
	}
	var b strings.Builder
	if before != "" {
		b.WriteString(outer.Render(before))
	}
	b.WriteString(inner.Render(value))
	if after != "" {
		b.WriteString(outer.Render(after))
	}
	return b.String()
}
