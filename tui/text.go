package tui

import (
	"github.com/sspr-kiosk/sspr/tui/components"
)

// wrap fits text to the body width at word boundaries, so long sentences
// re-flow on resize and are never cut mid-word.
func wrap(s string, width int) string {
	return components.Wrap(s, width)
}

// plural picks the word for a count: one for exactly 1, many otherwise
// ("0 rules", "1 rule", "2 rules").
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// counted writes a count with its noun in the right number: "1 row",
// "1,204 rows".
func counted(n int, one, many string) string {
	return panelThousands(n) + " " + plural(n, one, many)
}
