package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
)

// welcome is the first screen: what sspr does and the four ways in. When
// this terminal or address is blocked it says so before anyone types.
type welcome struct {
	e       *env
	banner  string
	menu    menu
	blocked *flows.BlockedError
}

// sourceStateMsg carries what holds this source back, for the welcome screen.
type sourceStateMsg struct{ st flows.SourceState }

func (w *welcome) init() tea.Cmd {
	e := w.e
	return func() tea.Msg {
		st, err := e.svc.SourceState(e.ctx, e.source)
		if err != nil {
			return nil // the flows say it again when someone starts
		}
		return sourceStateMsg{st: st}
	}
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
	if m, ok := msg.(sourceStateMsg); ok {
		w.blocked = m.st.Blocked
		return w, nil
	}
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
	if w.blocked != nil && w.e.now().Before(w.blocked.Until) {
		b.WriteString(w.e.st.Warning.Render(sourceBlocked(w.blocked)+" Administrators can still sign in.") + "\n\n")
	}
	b.WriteString(w.e.st.Body.Render("Forgot your password? Prove it's you with a method you set up earlier, "+
		"and choose a new one. No helpdesk call needed.") + "\n\n")
	b.WriteString(w.menu.view(w.e, width))
	return wrap(b.String(), width)
}
