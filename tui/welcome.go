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

// welcomeItems are the menu's items and hints by choice, as catalogue IDs:
// the menu is written in the visit's language each time it is drawn.
var welcomeItems = map[int][2]string{
	choiceReset:  {"welcome.reset", ""},
	choiceChange: {"welcome.change", "welcome.change.hint"},
	choiceInfo:   {"welcome.info", "welcome.info.hint"},
	choiceAdmin:  {"welcome.admin", ""},
	choiceUnlock: {"welcome.unlock", "welcome.unlock.hint"},
}

func newWelcome(e *env, banner string) *welcome {
	return &welcome{e: e, banner: banner, choices: []int{choiceReset, choiceChange, choiceInfo, choiceAdmin}}
}

// offerUnlock adds or removes "Unlock my account" at the end of the menu.
func (w *welcome) offerUnlock(on bool) {
	n := len(w.choices)
	has := w.choices[n-1] == choiceUnlock
	switch {
	case on && !has:
		w.choices = append(w.choices, choiceUnlock)
	case !on && has:
		w.choices = w.choices[:n-1]
		w.menu.cursor = min(w.menu.cursor, n-2)
	}
	w.labelMenu()
}

// labelMenu writes the menu in the visit's language.
func (w *welcome) labelMenu() {
	w.menu.items, w.menu.hints = w.menu.items[:0], w.menu.hints[:0]
	for _, c := range w.choices {
		item := welcomeItems[c]
		hint := ""
		if item[1] != "" {
			hint = w.e.p.T(item[1])
		}
		w.menu.items = append(w.menu.items, w.e.p.T(item[0]))
		w.menu.hints = append(w.menu.hints, hint)
	}
}

// settled says whether everything the screen shows is in.
func (w *welcome) settled() bool { return w.answers >= welcomeQuestions }

func (w *welcome) title() string { return w.e.p.T("welcome.title") }

func (w *welcome) help() []key.Binding {
	return []key.Binding{w.e.keys.Up, w.e.keys.Down, w.e.keys.Select, w.e.keys.Language}
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
	if key.Matches(k, w.e.keys.Language) {
		return w, push(newLanguagePicker(w.e))
	}
	w.labelMenu()
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
		b.WriteString(w.e.st.Warning.Render(sourceBlocked(w.e, w.blocked)+" "+w.e.p.T("welcome.blocked.admins")) + "\n\n")
	}
	b.WriteString(w.e.st.Body.Render(w.e.p.T("welcome.intro")) + "\n\n")
	w.labelMenu()
	b.WriteString(w.menu.view(w.e, width))
	return wrap(b.String(), width)
}
