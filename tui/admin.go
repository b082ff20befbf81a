package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
)

type adminSignedInMsg struct {
	info flows.SessionInfo
	err  error
}

// completeAdminSignIn turns a proven admin journey into the admin panel
// (newAdminHome, in panel.go).
func completeAdminSignIn(e *env, j *journey) tea.Cmd {
	return func() tea.Msg {
		info, err := e.svc.CompleteAdminSignIn(e.ctx, j.flowID)
		return adminSignedInMsg{info: info, err: err}
	}
}
