package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// languagePicker lists the languages sspr speaks, each named in itself, so
// a person finds theirs whatever language the screen is in. The choice
// holds for this visit; the idle timeout forgets it with everything else.
// Opened from a signed-in person's security info (sessionID set), the
// choice is also stored as their preferred language.
type languagePicker struct {
	e    *env
	menu menu
	// codes are the languages in the menu's order.
	codes []string
	// sessionID, when set, is the signed-in person whose preference the
	// choice is saved as; req and err are that save's.
	sessionID string
	req       request
	err       string
}

func newLanguagePicker(e *env) *languagePicker {
	lp := &languagePicker{e: e}
	for i, l := range e.languages.Languages() {
		lp.menu.items = append(lp.menu.items, l.Name)
		lp.codes = append(lp.codes, l.Code)
		if l.Code == e.p.Language().Code {
			lp.menu.cursor = i
		}
	}
	return lp
}

func (lp *languagePicker) title() string { return lp.e.p.T("picker.title") }

func (lp *languagePicker) help() []key.Binding {
	return []key.Binding{lp.e.keys.Up, lp.e.keys.Down, lp.e.keys.Select, lp.e.keys.Back}
}

func (lp *languagePicker) update(msg tea.Msg) (screen, tea.Cmd) {
	if saved, ok := msg.(languageSavedMsg); ok {
		return lp, lp.saved(saved)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return lp, nil
	}
	if key.Matches(k, lp.e.keys.Back) {
		return lp, pop
	}
	i, chosen := lp.menu.update(lp.e, k)
	if !chosen {
		return lp, nil
	}
	if lp.sessionID != "" {
		return lp, lp.save(lp.codes[i])
	}
	lp.e.p = lp.e.languages.Printer(lp.codes[i])
	return lp, pop
}

func (lp *languagePicker) view(width int) string {
	var b strings.Builder
	intro := lp.e.p.T("picker.intro")
	if lp.sessionID != "" {
		// From security info the choice is stored, for later visits and
		// for the messages sent to the person.
		intro = lp.e.p.T("picker.intro.stored")
	}
	b.WriteString(wrap(lp.e.st.Body.Render(intro), width) + "\n\n")
	b.WriteString(lp.menu.view(lp.e, width))
	if lp.err != "" {
		b.WriteString("\n" + lp.e.st.Error.Render(lp.err))
	}
	return wrap(b.String(), width)
}
