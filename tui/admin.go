package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

type adminSignedInMsg struct {
	info flows.SessionInfo
	err  error
}

// completeAdminSignIn turns a proven admin journey into the admin screen.
func completeAdminSignIn(e *env, j *journey) tea.Cmd {
	return func() tea.Msg {
		info, err := e.svc.CompleteAdminSignIn(e.ctx, j.flowID)
		return adminSignedInMsg{info: info, err: err}
	}
}

// adminHome is what a signed-in administrator sees.
type adminHome struct {
	e    *env
	info flows.SessionInfo
	menu menu
}

func newAdminHome(e *env, info flows.SessionInfo) *adminHome {
	s := &adminHome{e: e, info: info}
	s.menu.items = []string{"Sign out"}
	if e.mode == ModeKiosk {
		s.menu.items = append(s.menu.items, "Leave kiosk mode")
	}
	return s
}

func (s *adminHome) title() string { return "Administration" }

func (s *adminHome) help() []key.Binding {
	return []key.Binding{s.e.keys.Up, s.e.keys.Down, s.e.keys.Select}
}

func (s *adminHome) close() { s.e.svc.SignOut(s.info.ID) }

func (s *adminHome) update(msg tea.Msg) (screen, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	if key.Matches(k, s.e.keys.Back) {
		return s, home
	}
	i, chosen := s.menu.update(s.e, k)
	if !chosen {
		return s, nil
	}
	switch s.menu.items[i] {
	case "Leave kiosk mode":
		return s, func() tea.Msg { return leaveMsg{} }
	}
	return s, home
}

func (s *adminHome) view(width int) string {
	var b strings.Builder
	b.WriteString(s.e.st.Success.Render("Signed in as "+sanitize.Line(s.info.Username, 40)+".") + "\n\n")
	b.WriteString(s.e.st.Muted.Render("Manage users, policy and the audit log with the sspr command line "+
		"(sspr user, sspr policy, sspr audit).") + "\n\n")
	b.WriteString(s.menu.view(s.e, width))
	return wrap(b.String(), width)
}
