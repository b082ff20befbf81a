package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// answerLeave takes the key while a screen asks "leave and lose this?":
// y leaves, n or Esc stays, and anything else keeps the question up. It
// reports whether to leave, and clears *asking once answered.
func answerLeave(e *env, msg tea.KeyPressMsg, asking *bool) bool {
	switch {
	case key.Matches(msg, e.keys.Confirm):
		*asking = false
		return true
	case key.Matches(msg, e.keys.Cancel), key.Matches(msg, e.keys.Back):
		*asking = false
	}
	return false
}
