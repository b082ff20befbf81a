package tui

import (
	"charm.land/lipgloss/v2"
)

// wrap fits text to the body width, so long sentences re-flow on resize.
func wrap(s string, width int) string {
	return lipgloss.Wrap(s, max(width, 1), " ")
}
