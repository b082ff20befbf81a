package tui

import (
	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/components"
)

// wrap fits text to the body width at word boundaries, so long sentences
// re-flow on resize and are never cut mid-word.
func wrap(s string, width int) string {
	return components.Wrap(s, width)
}

// counted writes a count with its noun in the right number: "1 row",
// "1,204 rows".
func counted(n int, one, many string) string { return flows.Count(n, one, many) }

// codePlaceholder is the empty code field's hint for a method: "8-digit code".
func codePlaceholder(e *env, m policy.Method) string {
	d := m.Describe()
	return e.p.F(d.Placeholder, locale.Args{"Digits": d.CodeLength})
}
