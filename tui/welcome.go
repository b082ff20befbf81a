package tui

import (
	"slices"
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
	// choices are what the menu's items lead to, in its order: unlocking
	// comes last, once the policy is known to offer it, so that the items
	// before it keep their numbers.
	choices []int
	// answers counts what init asked for and heard back: until both are
	// in, the screen may still change, and the session must not rest
	// (a program put to rest would drop the answer on its way).
	answers int
}

// welcomeQuestions is how many answers init waits for.
const welcomeQuestions = 2

// sourceStateMsg carries what holds this source back, for the welcome screen.
type sourceStateMsg struct{ st flows.SourceState }

// unlockAllowedMsg says whether the policy offers unlocking without a reset.
type unlockAllowedMsg bool

func (w *welcome) init() tea.Cmd {
	e := w.e
	return tea.Batch(func() tea.Msg {
		st, err := e.svc.SourceState(e.ctx, e.source)
		if err != nil {
			return sourceStateMsg{} // the flows say it again when someone starts
		}
		return sourceStateMsg{st: st}
	}, func() tea.Msg {
		ok, err := e.svc.UnlockAllowed(e.ctx)
		if err != nil {
			return unlockAllowedMsg(false) // the flows refuse it again if someone asks
		}
		return unlockAllowedMsg(ok)
	})
}

const (
	choiceReset = iota
	choiceChange
	choiceInfo
	choiceAdmin
	choiceUnlock
)

func newWelcome(e *env, banner string) *welcome {
	return &welcome{e: e, banner: banner, menu: menu{
		items: []string{"Reset a forgotten password", "Change my password", "My security info", "Administration"},
		hints: []string{"", "I know my current one", "Ways to prove it's me", ""},
	}, choices: []int{choiceReset, choiceChange, choiceInfo, choiceAdmin}}
}

// offerUnlock adds or removes "Unlock my account" at the end of the menu.
func (w *welcome) offerUnlock(on bool) {
	n := len(w.choices)
	has := w.choices[n-1] == choiceUnlock
	switch {
	case on && !has:
		w.menu.items = append(w.menu.items, "Unlock my account")
		w.menu.hints = append(w.menu.hints, "I know my password")
		w.choices = append(w.choices, choiceUnlock)
	case !on && has:
		w.menu.items, w.menu.hints, w.choices = w.menu.items[:n-1], w.menu.hints[:n-1], w.choices[:n-1]
		w.menu.cursor = min(w.menu.cursor, n-2)
	}
}

// settled says whether everything the screen shows is in.
func (w *welcome) settled() bool { return w.answers >= welcomeQuestions }

func (w *welcome) title() string { return "Password self-service" }

func (w *welcome) help() []key.Binding {
	return []key.Binding{w.e.keys.Up, w.e.keys.Down, w.e.keys.Select}
}

func (w *welcome) update(msg tea.Msg) (screen, tea.Cmd) {
	switch m := msg.(type) {
	case sourceStateMsg:
		w.blocked = m.st.Blocked
		w.answers++
		return w, nil
	case unlockAllowedMsg:
		w.offerUnlock(bool(m))
		w.answers++
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
	switch w.choices[choice] {
	case choiceReset:
		return w, push(newIdentify(w.e, journeyReset))
	case choiceUnlock:
		return w, push(newIdentify(w.e, journeyUnlock))
	case choiceChange, choiceInfo:
		purpose := purposeChange
		if w.choices[choice] == choiceInfo {
			purpose = purposeInfo
		}
		si := newSignIn(w.e, purpose)
		si.unlockOffered = slices.Contains(w.choices, choiceUnlock)
		return w, push(si)
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
