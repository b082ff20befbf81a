// Package styles holds the look of sspr: one palette that adapts to light and
// dark terminals, and the Lip Gloss styles built from it.
//
// Styles is a plain value built by New; a Theme holds the dark and the
// light one, built once and shared read-only by every session of a server,
// each picking the one for its own terminal background. Nothing here is
// global. Colours are given in true colour; Lip Gloss v2 downsamples them
// per program to what the terminal supports, down to no colour at all on
// an ASCII profile, so every style here must still read correctly without
// colour: focus and selection are also shown by a border or a glyph, never
// by colour alone.
package styles

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Palette is the set of colours the styles are built from, already resolved
// for the terminal's background. Screens that style something this package
// does not cover take their colours from here rather than inventing new ones.
type Palette struct {
	Accent   color.Color    // brand purple: focus, selection, titles
	Subtle   color.Color    // secondary accent for subtitles
	Text     color.Color    // emphasised body text
	Muted    color.Color    // secondary text, hints
	Faint    color.Color    // separators, empty meter segments
	Border   color.Color    // panel and inactive borders
	Error    color.Color    // failures, unmet rules, expired codes
	Warning  color.Color    // blocks ahead, codes about to expire
	Success  color.Color    // met rules, completed steps
	Strength [5]color.Color // zxcvbn scores 0 (very weak) to 4 (very strong)
	OnBright color.Color    // text on a Success or Warning background
	OnAccent color.Color    // text on an Accent or Error background
}

// Glyphs are the symbols the components draw. Styles carries them so that a
// terminal with a poor font can switch them all at once with ASCII.
type Glyphs struct {
	Met       string // a satisfied checklist item
	Unmet     string // an unsatisfied checklist item
	BarFull   string // a filled strength meter cell
	BarEmpty  string // an empty strength meter cell
	Separator string // between help bar entries
	Ellipsis  string // marks dropped help entries
	Pointer   string // in front of the selected list item
}

// UnicodeGlyphs returns the default glyphs.
func UnicodeGlyphs() Glyphs {
	return Glyphs{
		Met:       "✓",
		Unmet:     "✗",
		BarFull:   "█",
		BarEmpty:  "░",
		Separator: " • ",
		Ellipsis:  "…",
		Pointer:   "›",
	}
}

// ASCIIGlyphs returns glyphs that any terminal and font can draw.
func ASCIIGlyphs() Glyphs {
	return Glyphs{
		Met:       "[x]",
		Unmet:     "[ ]",
		BarFull:   "#",
		BarEmpty:  "-",
		Separator: " | ",
		Ellipsis:  "...",
		Pointer:   ">",
	}
}

// Styles is every style the TUI uses. Build it with New; change it only by
// building a new one (for example when the terminal reports its background
// colour), never by mutating a shared instance.
type Styles struct {
	// IsDark records the background the styles were built for.
	IsDark bool
	// Palette is the resolved colour palette.
	Palette Palette
	// Glyphs are the symbols components draw.
	Glyphs Glyphs

	// App is the outer frame of every screen. components.Frame uses only
	// its size (margins, border and padding) and draws that as blank space.
	App lipgloss.Style
	// Title is the screen title, drawn as a label on the first line.
	Title lipgloss.Style
	// Subtitle introduces a section or a step ("Step 2 of 3").
	Subtitle lipgloss.Style
	// Body is ordinary text.
	Body lipgloss.Style
	// Muted is secondary text: hints, explanations, timestamps.
	Muted lipgloss.Style
	// Code is a value the user must read or type: a secret, a code, a URI.
	Code lipgloss.Style

	// Help styles the help bar at the bottom of the screen.
	Help struct {
		Key, Desc, Separator lipgloss.Style
	}

	// Error, Warning and Success are one-line status messages.
	Error, Warning, Success lipgloss.Style

	// Input frames a text input. The focused one has a thick bar on the
	// left; the blurred one keeps the same width with an invisible bar, so
	// that moving the focus does not shift the layout.
	Input struct {
		Focused, Blurred lipgloss.Style
		// Label is the field name above or before the input.
		Label, FocusedLabel lipgloss.Style
	}

	// Item styles the rows of a menu or a list.
	Item struct {
		Selected, Unselected lipgloss.Style
	}

	// Badge is a short status label, such as a user's registration state.
	Badge struct {
		OK, Warn, Bad lipgloss.Style
	}

	// Panel is a bordered side panel, such as the demo outbox.
	Panel lipgloss.Style
	// PanelTitle is the heading inside a Panel.
	PanelTitle lipgloss.Style

	// Check styles the password rules checklist: the mark and the label of
	// satisfied and unsatisfied rules.
	Check struct {
		Met, Unmet, MetLabel, UnmetLabel lipgloss.Style
	}

	// Strength colours the strength meter, indexed by zxcvbn score 0–4.
	Strength [5]lipgloss.Style
	// StrengthEmpty styles the unfilled part of the meter.
	StrengthEmpty lipgloss.Style

	// Countdown styles the time left on a code; Urgent applies in the last
	// minute.
	Countdown struct {
		Normal, Urgent lipgloss.Style
	}
}

// New returns the styles for a terminal with a dark background when hasDark
// is true, and for a light one otherwise. In Bubble Tea, learn the
// background from tea.BackgroundColorMsg (msg.IsDark()) and assume dark until
// it arrives: most terminals are dark, and the light palette is the one that
// suffers more on the wrong background.
func New(hasDark bool) Styles {
	ld := lipgloss.LightDark(hasDark)
	hex := lipgloss.Color

	p := Palette{
		Accent:   ld(hex("#6B50FF"), hex("#7D62FF")),
		Subtle:   ld(hex("#5B45D6"), hex("#A495FF")),
		Text:     ld(hex("#201F26"), hex("#F1EFEF")),
		Muted:    ld(hex("#6E6C78"), hex("#8E8C99")),
		Faint:    ld(hex("#BFBCC8"), hex("#4A4953")),
		Border:   ld(hex("#CFCBD6"), hex("#56545F")),
		Error:    ld(hex("#D3264C"), hex("#FF5F7E")),
		Warning:  ld(hex("#B45309"), hex("#FFB86C")),
		Success:  ld(hex("#0A8A62"), hex("#12C78F")),
		OnBright: hex("#201F26"),
		OnAccent: hex("#FFFAF1"),
	}
	p.Strength = [5]color.Color{
		p.Error,
		ld(hex("#C2410C"), hex("#FF8A4C")),
		ld(hex("#A16207"), hex("#F2D15C")),
		ld(hex("#4D8C1F"), hex("#9BE07A")),
		p.Success,
	}

	var s Styles
	s.IsDark = hasDark
	s.Palette = p
	s.Glyphs = UnicodeGlyphs()

	s.App = lipgloss.NewStyle().Padding(0, 1)
	s.Title = lipgloss.NewStyle().
		Bold(true).
		Foreground(p.OnAccent).
		Background(p.Accent).
		Padding(0, 1)
	s.Subtitle = lipgloss.NewStyle().Bold(true).Foreground(p.Subtle)
	s.Body = lipgloss.NewStyle()
	s.Muted = lipgloss.NewStyle().Foreground(p.Muted)
	s.Code = lipgloss.NewStyle().Bold(true).Foreground(p.Text)

	s.Help.Key = lipgloss.NewStyle().Foreground(ld(hex("#4A4953"), hex("#BFBCC8")))
	s.Help.Desc = lipgloss.NewStyle().Foreground(p.Muted)
	s.Help.Separator = lipgloss.NewStyle().Foreground(p.Faint)

	s.Error = lipgloss.NewStyle().Foreground(p.Error)
	s.Warning = lipgloss.NewStyle().Foreground(p.Warning)
	s.Success = lipgloss.NewStyle().Foreground(p.Success)

	s.Input.Focused = lipgloss.NewStyle().
		Border(lipgloss.ThickBorder(), false, false, false, true).
		BorderForeground(p.Accent).
		PaddingLeft(1)
	s.Input.Blurred = lipgloss.NewStyle().
		Border(lipgloss.HiddenBorder(), false, false, false, true).
		PaddingLeft(1)
	s.Input.Label = lipgloss.NewStyle().Foreground(p.Muted)
	s.Input.FocusedLabel = lipgloss.NewStyle().Bold(true).Foreground(p.Subtle)

	s.Item.Selected = lipgloss.NewStyle().
		Border(lipgloss.NormalBorder(), false, false, false, true).
		BorderForeground(p.Accent).
		Foreground(p.Accent).
		Bold(true).
		PaddingLeft(1)
	// Two columns of padding stand in for the border and its padding, so
	// that selected and unselected rows line up.
	s.Item.Unselected = lipgloss.NewStyle().PaddingLeft(2)

	badge := lipgloss.NewStyle().Bold(true).Padding(0, 1)
	s.Badge.OK = badge.Foreground(p.OnBright).Background(p.Success)
	s.Badge.Warn = badge.Foreground(p.OnBright).Background(p.Warning)
	s.Badge.Bad = badge.Foreground(p.OnAccent).Background(p.Error)

	s.Panel = lipgloss.NewStyle().
		Border(lipgloss.RoundedBorder()).
		BorderForeground(p.Border).
		Padding(0, 1)
	s.PanelTitle = lipgloss.NewStyle().Bold(true).Foreground(p.Subtle)

	s.Check.Met = lipgloss.NewStyle().Foreground(p.Success)
	s.Check.Unmet = lipgloss.NewStyle().Foreground(p.Error)
	// A satisfied rule fades so that the eye goes to what is left to do.
	s.Check.MetLabel = lipgloss.NewStyle().Foreground(p.Muted)
	s.Check.UnmetLabel = lipgloss.NewStyle()

	for i, c := range p.Strength {
		s.Strength[i] = lipgloss.NewStyle().Foreground(c)
	}
	s.StrengthEmpty = lipgloss.NewStyle().Foreground(p.Faint)

	s.Countdown.Normal = lipgloss.NewStyle().Foreground(p.Muted)
	s.Countdown.Urgent = lipgloss.NewStyle().Bold(true).Foreground(p.Warning)
	return s
}

// ASCII returns a copy of s that draws only ASCII: glyphs and borders. Use it
// for terminals whose font lacks box drawing and check marks (a Linux
// console, some serial terminals), or when the user asks for it.
func (s Styles) ASCII() Styles {
	s.Glyphs = ASCIIGlyphs()
	ascii := lipgloss.ASCIIBorder()
	s.Input.Focused = s.Input.Focused.BorderStyle(ascii)
	s.Item.Selected = s.Item.Selected.BorderStyle(ascii)
	s.Panel = s.Panel.BorderStyle(ascii)
	return s
}

// HelpStyles returns styles for a bubbles help.Model (the full help view)
// that match the help bar.
func (s Styles) HelpStyles() help.Styles {
	return help.Styles{
		Ellipsis:       s.Help.Separator,
		ShortKey:       s.Help.Key,
		ShortDesc:      s.Help.Desc,
		ShortSeparator: s.Help.Separator,
		FullKey:        s.Help.Key,
		FullDesc:       s.Help.Desc,
		FullSeparator:  s.Help.Separator,
	}
}

// TextInput returns styles for a bubbles textinput.Model that match the
// rest of the app.
func (s Styles) TextInput() textinput.Styles {
	placeholder := lipgloss.NewStyle().Foreground(s.Palette.Faint)
	var t textinput.Styles
	t.Focused = textinput.StyleState{
		Text:        lipgloss.NewStyle(),
		Placeholder: placeholder,
		Suggestion:  placeholder,
		Prompt:      lipgloss.NewStyle().Foreground(s.Palette.Accent),
	}
	t.Blurred = textinput.StyleState{
		Text:        lipgloss.NewStyle().Foreground(s.Palette.Muted),
		Placeholder: placeholder,
		Suggestion:  placeholder,
		// Only the focused field has the "›" before it: on a terminal
		// without colour that is what tells which field takes the keys.
		Prompt: lipgloss.NewStyle().Foreground(s.Palette.Muted).Transform(func(p string) string {
			return strings.ReplaceAll(p, FieldMarker, strings.Repeat(" ", ansi.StringWidth(FieldMarker)))
		}),
	}
	t.Cursor = textinput.CursorStyle{
		Color: s.Palette.Accent,
		Shape: tea.CursorBlock,
		// A steady cursor: blinking redraws every half second, for every
		// SSH session, and adds nothing on a kiosk.
		Blink: false,
	}
	return t
}

// FieldMarker is the prompt of a text field: shown before the focused
// field only (see TextInput), so the field that takes the keys is told
// apart without colour.
const FieldMarker = "›"

// Placeholder marks a field's hint as a hint: in brackets, so that on a
// terminal without colour, where its faint colour is lost, it is not taken
// for something typed ("› [your username]", not "› your username").
func Placeholder(hint string) string {
	if hint == "" {
		return ""
	}
	return "[" + hint + "]"
}

// Theme is both palettes, built once and only read afterwards, so every
// session of a server can share it instead of holding its own copy.
type Theme struct {
	dark, light *Styles
}

// NewTheme builds the dark and the light styles.
func NewTheme() *Theme {
	dark, light := New(true), New(false)
	return &Theme{dark: &dark, light: &light}
}

// For returns the styles for a dark background when dark is true, and for a
// light one otherwise. Callers must not change them: they are shared.
func (t *Theme) For(dark bool) *Styles {
	if dark {
		return t.dark
	}
	return t.light
}
