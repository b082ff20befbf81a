package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows/locale"
)

// speakStored switches the visit to a person's stored preferred language
// once they have proved who they are; with none stored, the visit keeps
// the language it is in. The root's wipe puts the visit's start language
// back when the person leaves.
func speakStored(e *env, code string) {
	if code != "" {
		e.p = e.languages.Printer(code)
	}
}

// newPreferredLanguage is the language picker opened from security info:
// the choice is stored as the person's preferred language, for this visit
// and every later one, and for the emails and texts sent to them.
func newPreferredLanguage(e *env, sessionID string) *languagePicker {
	lp := newLanguagePicker(e)
	lp.sessionID = sessionID
	return lp
}

// languageSavedMsg reports a preferred language stored (or not).
type languageSavedMsg struct {
	seq  int
	code string
	err  error
}

// save stores code as the signed-in person's preferred language.
func (lp *languagePicker) save(code string) tea.Cmd {
	e, id, seq := lp.e, lp.sessionID, lp.req.next(lp.e)
	lp.err = ""
	return func() tea.Msg {
		return languageSavedMsg{seq: seq, code: code, err: e.svc.SetLanguage(e.ctx, id, code)}
	}
}

// saved speaks the stored language from now on and goes back to security
// info, which says so in it.
func (lp *languagePicker) saved(msg languageSavedMsg) tea.Cmd {
	if !lp.req.current(msg.seq) {
		return nil
	}
	if msg.err != nil {
		lp.err = sentence(lp.e, msg.err)
		return nil
	}
	lp.e.p = lp.e.languages.Printer(msg.code)
	return backToOverview(say("overview.language.saved", locale.Args{"Language": lp.e.p.Language().Name}))
}
