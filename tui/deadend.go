package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// deadEndScreen says in one sentence what happened and who can help. The
// heading is a catalogue ID, written in the visit's language when drawn.
type deadEndScreen struct {
	e        *env
	heading  string
	message  string
	helpdesk string
}

// helpdeskMsg carries the helpdesk contact, loaded in a command.
type helpdeskMsg string

func loadHelpdesk(e *env) tea.Cmd {
	return func() tea.Msg { return helpdeskMsg(e.svc.HelpdeskContact(e.ctx)) }
}

// showDeadEnd replaces the current screen with a dead end.
func showDeadEnd(e *env, heading, message string) tea.Cmd {
	return replace(&deadEndScreen{e: e, heading: heading, message: message})
}

func (d *deadEndScreen) init() tea.Cmd { return loadHelpdesk(d.e) }

func (d *deadEndScreen) title() string { return d.e.p.T(d.heading) }

func (d *deadEndScreen) help() []key.Binding {
	return []key.Binding{d.e.keys.Select}
}

func (d *deadEndScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case helpdeskMsg:
		d.helpdesk = string(msg)
	case tea.KeyPressMsg:
		if key.Matches(msg, d.e.keys.Select) || key.Matches(msg, d.e.keys.Back) {
			return d, home
		}
	}
	return d, nil
}

func (d *deadEndScreen) view(width int) string {
	var b strings.Builder
	b.WriteString(d.e.st.Error.Render(d.message) + "\n\n")
	b.WriteString(helpdeskLine(d.e, d.helpdesk, width))
	b.WriteString("\n\n" + d.e.st.Muted.Render(d.e.p.T("deadend.press")))
	return wrap(b.String(), width)
}

// helpdeskLine is the contact sentence shown at every dead end.
func helpdeskLine(e *env, contact string, width int) string {
	if contact == "" {
		return e.st.Body.Render(e.p.T("helpdesk.none"))
	}
	// The contact gets the width the sentence around it leaves, and two
	// cells to spare.
	around := ansi.StringWidth(e.p.F("helpdesk.contact", locale.Args{"Contact": ""}))
	return styledF(e.p, "helpdesk.contact", nil, "Contact", sanitize.Line(contact, max(width-around-2, 10)), e.st.Body, e.st.Code)
}
