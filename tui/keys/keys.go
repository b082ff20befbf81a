// Package keys is the single key map of the sspr TUI.
//
// Every screen matches keys against the same KeyMap, so a key means the same
// thing everywhere, and passes the bindings it uses to the help bar, so the
// help bar lists exactly the keys of the current screen.
package keys

import (
	"fmt"

	"charm.land/bubbles/v2/key"
)

// KeyMap holds every key binding of the app. A binding's help text is the
// catalogue ID of what it does ("key.back"): the screen writes it in the
// person's language when it draws the help bar. Disabled bindings neither match
// nor show in help, so a mode (kiosk, typing) is a KeyMap with some bindings
// switched off; see Kiosk and Typing.
type KeyMap struct {
	// Up and Down move through a list or between form fields.
	Up, Down key.Binding
	// Select activates the focused item or submits the form.
	Select key.Binding
	// Back goes back one step.
	Back key.Binding
	// Quit ends the program. Kiosk disables it.
	Quit key.Binding
	// NextField and PrevField move the focus between form fields.
	NextField, PrevField key.Binding
	// Resend asks for a new one-time code.
	Resend key.Binding
	// ToggleOutbox shows or hides the demo outbox panel.
	ToggleOutbox key.Binding
	// Help toggles the full help.
	Help key.Binding
	// PrevTab and NextTab cycle the admin tabs; Tab jumps to one by number
	// (use TabIndex to learn which).
	PrevTab, NextTab, Tab key.Binding
	// Confirm and Cancel answer a yes/no question.
	Confirm, Cancel key.Binding
	// Search focuses the search field of a list.
	Search key.Binding
	// PageUp and PageDown scroll long lists and the audit log.
	PageUp, PageDown key.Binding
	// Toggle flips an on/off setting. Typing disables it: space is text.
	Toggle key.Binding
	// AcceptSuggestion takes the suggestion shown under a field, and
	// NextSuggestion shows the next one. A form may also take → at the end
	// of the text (it cannot be bound here: → moves between admin tabs).
	AcceptSuggestion, NextSuggestion key.Binding
	// Language opens the language picker on the welcome screen.
	Language key.Binding
}

// tabKeys are the keys that jump to an admin tab, in tab order.
func tabKeys() []string { return []string{"1", "2", "3", "4", "5"} }

// Default returns the key map with every binding enabled.
func Default() KeyMap {
	return KeyMap{
		Up: key.NewBinding(
			key.WithKeys("up", "k"),
			key.WithHelp("↑/k", "key.up"),
		),
		Down: key.NewBinding(
			key.WithKeys("down", "j"),
			key.WithHelp("↓/j", "key.down"),
		),
		Select: key.NewBinding(
			key.WithKeys("enter"),
			key.WithHelp("enter", "key.select"),
		),
		Back: key.NewBinding(
			key.WithKeys("esc"),
			key.WithHelp("esc", "key.back"),
		),
		Quit: key.NewBinding(
			key.WithKeys("ctrl+c"),
			key.WithHelp("ctrl+c", "key.quit"),
		),
		NextField: key.NewBinding(
			key.WithKeys("tab"),
			key.WithHelp("tab", "key.next_field"),
		),
		PrevField: key.NewBinding(
			key.WithKeys("shift+tab"),
			key.WithHelp("shift+tab", "key.previous_field"),
		),
		Resend: key.NewBinding(
			key.WithKeys("ctrl+r"),
			key.WithHelp("ctrl+r", "key.resend"),
		),
		ToggleOutbox: key.NewBinding(
			key.WithKeys("ctrl+o"),
			key.WithHelp("ctrl+o", "key.outbox"),
		),
		Help: key.NewBinding(
			key.WithKeys("?"),
			key.WithHelp("?", "key.help"),
		),
		PrevTab: key.NewBinding(
			key.WithKeys("left"),
			key.WithHelp("←", "key.previous_tab"),
		),
		NextTab: key.NewBinding(
			key.WithKeys("right"),
			key.WithHelp("→", "key.next_tab"),
		),
		Tab: key.NewBinding(
			key.WithKeys(tabKeys()...),
			key.WithHelp("1-5", "key.tabs"),
		),
		Confirm: key.NewBinding(
			key.WithKeys("y"),
			key.WithHelp("y", "key.yes"),
		),
		Cancel: key.NewBinding(
			key.WithKeys("n"),
			key.WithHelp("n", "key.no"),
		),
		Search: key.NewBinding(
			key.WithKeys("/"),
			key.WithHelp("/", "key.search"),
		),
		PageUp: key.NewBinding(
			key.WithKeys("pgup"),
			key.WithHelp("pgup", "key.page_up"),
		),
		PageDown: key.NewBinding(
			key.WithKeys("pgdown"),
			key.WithHelp("pgdn", "key.page_down"),
		),
		Toggle: key.NewBinding(
			key.WithKeys("space"),
			key.WithHelp("space", "key.flip"),
		),
		AcceptSuggestion: key.NewBinding(
			key.WithKeys("ctrl+e"),
			key.WithHelp("→/ctrl+e", "key.use_suggestion"),
		),
		NextSuggestion: key.NewBinding(
			key.WithKeys("ctrl+n"),
			key.WithHelp("ctrl+n", "key.next_suggestion"),
		),
		Language: key.NewBinding(
			key.WithKeys("l"),
			key.WithHelp("l", "key.language"),
		),
	}
}

// Kiosk returns a copy of k for the walk-up terminal, where the next person
// must not be able to leave the app for the shell: Quit is disabled.
func (k KeyMap) Kiosk() KeyMap {
	k.Quit.SetEnabled(false)
	return k
}

// Typing returns a copy of k for a screen whose focus is in a text input.
// Every binding on a printable key is switched off, or stripped down to its
// non-printable keys, so that typing "?", "y", "n", "/", "j", "k" or a
// digit into a username or a password reaches the input instead of being
// taken as a command.
func (k KeyMap) Typing() KeyMap {
	k.Up.SetKeys("up")
	k.Up.SetHelp("↑", "key.up")
	k.Down.SetKeys("down")
	k.Down.SetHelp("↓", "key.down")
	// Left and right move the cursor inside the input.
	k.PrevTab.SetEnabled(false)
	k.NextTab.SetEnabled(false)
	for _, b := range []*key.Binding{&k.Help, &k.Tab, &k.Confirm, &k.Cancel, &k.Search, &k.Toggle, &k.Language} {
		b.SetEnabled(false)
	}
	return k
}

// TabIndex returns the admin tab (0-based) that msg jumps to, or false when
// msg is not one of the Tab keys or Tab is disabled. msg is usually a
// tea.KeyPressMsg.
func (k KeyMap) TabIndex(msg fmt.Stringer) (int, bool) {
	if !key.Matches(msg, k.Tab) {
		return 0, false
	}
	s := msg.String()
	for i, t := range tabKeys() {
		if s == t {
			return i, true
		}
	}
	return 0, false
}

// Bindings is the list of bindings one screen shows in its help bar, most
// important first; the same list, in Columns, drives the full help view.
type Bindings []key.Binding

// Help returns the bindings to show for a screen, in the order given.
// Disabled bindings and bindings without help text are left out.
func Help(bindings ...key.Binding) Bindings {
	out := make(Bindings, 0, len(bindings))
	for _, b := range bindings {
		if b.Enabled() && b.Help().Key != "" {
			out = append(out, b)
		}
	}
	return out
}

// Columns splits the bindings to show into columns of at most perColumn,
// in order, filled top to bottom; the full help picks how many columns fit
// the window.
func (b Bindings) Columns(perColumn int) [][]key.Binding {
	perColumn = max(perColumn, 1)
	enabled := Help(b...)
	var cols [][]key.Binding
	for len(enabled) > 0 {
		n := min(perColumn, len(enabled))
		cols = append(cols, enabled[:n:n])
		enabled = enabled[n:]
	}
	return cols
}

// Ranked returns the bindings with the keys that act first and the keys
// that only move through a list (up, down, page up, page down) last, each
// group in its order: a help bar too short for all keeps the ones that
// matter, and everyone knows the arrows.
func (b Bindings) Ranked() Bindings {
	acts := make(Bindings, 0, len(b))
	var moves Bindings
	for _, kb := range b {
		switch ks := kb.Keys(); {
		case len(ks) > 0 && (ks[0] == "up" || ks[0] == "down" || ks[0] == "pgup" || ks[0] == "pgdown"):
			moves = append(moves, kb)
		default:
			acts = append(acts, kb)
		}
	}
	return append(acts, moves...)
}

// SwitchTab is PrevTab and NextTab as one entry of a help bar ("←/→
// tabs"): one entry instead of two leaves room for the keys of the tab.
func (k KeyMap) SwitchTab() key.Binding {
	b := key.NewBinding(key.WithKeys(append(k.PrevTab.Keys(), k.NextTab.Keys()...)...), key.WithHelp("←/→", "key.tabs"))
	b.SetEnabled(k.PrevTab.Enabled() && k.NextTab.Enabled())
	return b
}

// MoreHelp is Help as the last entry of a help bar too short for every
// key: "? more keys" says where the rest are.
func (k KeyMap) MoreHelp() key.Binding {
	b := k.Help
	b.SetHelp(b.Help().Key, "key.more")
	return b
}
