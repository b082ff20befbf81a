package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// menu is a vertical list of choices, shared by the welcome screen and the
// method pickers.
type menu struct {
	items  []string
	hints  []string
	cursor int
}

func (mn *menu) update(e *env, msg tea.KeyPressMsg) (chosen int, ok bool) {
	switch {
	case key.Matches(msg, e.keys.Up):
		mn.cursor = (mn.cursor + len(mn.items) - 1) % len(mn.items)
	case key.Matches(msg, e.keys.Down), key.Matches(msg, e.keys.NextField):
		mn.cursor = (mn.cursor + 1) % len(mn.items)
	case key.Matches(msg, e.keys.Select):
		return mn.cursor, true
	default:
		// Digits pick an item directly: quick at a kiosk.
		if s := msg.String(); len(s) == 1 && s[0] >= '1' && s[0] <= '9' {
			if i := int(s[0] - '1'); i < len(mn.items) {
				mn.cursor = i
				return i, true
			}
		}
	}
	return 0, false
}

func (mn *menu) view(e *env, width int) string {
	var b strings.Builder
	for i, it := range mn.items {
		line := sanitize.Line(it, max(width-4, 1))
		if i == mn.cursor {
			b.WriteString(e.st.Item.Selected.Render(e.st.Glyphs.Pointer + " " + line))
		} else {
			b.WriteString(e.st.Item.Unselected.Render("  " + line))
		}
		if i < len(mn.hints) && mn.hints[i] != "" {
			b.WriteString("  " + e.st.Muted.Render(sanitize.Line(mn.hints[i], max(width-len(it)-8, 1))))
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// welcome is the first screen: what sspr does and the four ways in.
type welcome struct {
	e      *env
	banner string
	menu   menu
}

const (
	choiceReset = iota
	choiceChange
	choiceInfo
	choiceAdmin
)

func newWelcome(e *env, banner string) *welcome {
	return &welcome{e: e, banner: banner, menu: menu{
		items: []string{"Reset a forgotten password", "Change my password", "My security info", "Administration"},
		hints: []string{"", "I know my current one", "Ways to prove it's me", ""},
	}}
}

func (w *welcome) title() string { return "Password self-service" }

func (w *welcome) help() []key.Binding {
	return []key.Binding{w.e.keys.Up, w.e.keys.Down, w.e.keys.Select}
}

func (w *welcome) update(msg tea.Msg) (screen, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return w, nil
	}
	choice, chosen := w.menu.update(w.e, k)
	if !chosen {
		return w, nil
	}
	switch choice {
	case choiceReset:
		return w, push(newIdentify(w.e))
	case choiceChange:
		return w, push(newSignIn(w.e, purposeChange))
	case choiceInfo:
		return w, push(newSignIn(w.e, purposeInfo))
	case choiceAdmin:
		return w, push(newSignIn(w.e, purposeAdmin))
	}
	return w, nil
}

func (w *welcome) view(width int) string {
	var b strings.Builder
	if w.banner != "" && width >= 40 {
		b.WriteString(w.e.st.Title.UnsetBackground().UnsetPadding().Foreground(w.e.st.Palette.Accent).Render(w.banner))
		b.WriteString("\n\n")
	}
	b.WriteString(w.e.st.Body.Render("Forgot your password? Prove it's you with a method you set up earlier, "+
		"and choose a new one. No helpdesk call needed.") + "\n\n")
	b.WriteString(w.menu.view(w.e, width))
	return wrap(b.String(), width)
}
