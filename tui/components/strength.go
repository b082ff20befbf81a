package components

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// maxMeterBar caps the bar of the strength meter: past this, a wider bar
// says nothing more and only pushes the word away from it.
const maxMeterBar = 30

// minMeterBar is the narrowest bar still worth drawing: one cell per score.
const minMeterBar = 5

// strengthLabels are the catalogue IDs of the words for zxcvbn scores 0–4.
var strengthLabels = [5]string{"strength.very_weak", "strength.weak", "strength.fair", "strength.strong",
	"strength.very_strong"}

// StrengthLabel returns the word for a zxcvbn score, clamped to 0–4.
func StrengthLabel(score int, p *locale.Printer) string {
	return p.T(strengthLabels[clampScore(score)])
}

// StrengthMeter draws a bar filled in proportion to a zxcvbn score (0–4,
// clamped), coloured for the score, followed by the score's word, within
// width cells. A very weak password still fills one fifth of the bar so that
// the meter visibly reacts to the first keystroke. When the bar does not
// fit, only the word is drawn.
func StrengthMeter(score int, width int, st *styles.Styles, p *locale.Printer) string {
	if width < 1 {
		return ""
	}
	score = clampScore(score)
	style := st.Strength[score]
	word := StrengthLabel(score, p)

	// Reserve room for the longest word so that the bar keeps its length
	// while the word changes under the user's typing. The longest is not
	// "very strong" in every language, and wide characters take two cells.
	wordRoom := 0
	for i := range strengthLabels {
		wordRoom = max(wordRoom, ansi.StringWidth(StrengthLabel(i, p)))
	}
	full, empty := st.Glyphs.BarFull, st.Glyphs.BarEmpty
	cell := max(ansi.StringWidth(full), ansi.StringWidth(empty), 1)
	cells := min(width-1-wordRoom, maxMeterBar) / cell
	if cells < minMeterBar {
		return style.Render(ansi.Truncate(word, width, "…"))
	}
	filled := cells * (score + 1) / 5
	return style.Render(strings.Repeat(full, filled)) +
		st.StrengthEmpty.Render(strings.Repeat(empty, cells-filled)) +
		" " + style.Render(word)
}

func clampScore(score int) int { return min(max(score, 0), 4) }
