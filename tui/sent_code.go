package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// resentNote is told after a resend: the code sent before is void, so a
// person who finds both does not type the old one. It is a catalogue ID.
const resentNote = "code.resent"

// sentCode is what a screen knows of a code it had sent: where it went,
// how long it lives and when another may be asked for. The reset code
// screen and the registration of an address share it, so a resend is
// refused, announced and counted down the same way on both.
type sentCode struct {
	sent *flows.CodeSent
	now  time.Time
	// note says what a resend did, until the next key: a catalogue ID,
	// written in the visit's language when drawn.
	note string
	// behind is on where delivery happens behind the screen (reset
	// codes): the same words show whether the send worked or not, so the
	// screen says when another code may be asked for and what to do when
	// nothing comes. Registration is told at once when a send fails and
	// needs neither.
	behind bool
}

// active says whether a code is out, so the screen takes it.
func (c *sentCode) active() bool { return c.sent != nil }

// got records a code just sent. A code that replaces another is announced
// as such. The screen's time was read before the send: it catches up, so a
// fresh code shows its whole lifetime.
func (c *sentCode) got(sent flows.CodeSent, now time.Time) {
	if c.sent != nil {
		c.note = resentNote
	}
	c.sent, c.now = &sent, now
}

// drop forgets the code, as when a person goes back to change the address.
func (c *sentCode) drop() { c.sent = nil }

// keyed puts the resend note away: it is read by the time a key is pressed.
func (c *sentCode) keyed() { c.note = "" }

// help lists a code screen's keys: the resend key shows while a code is
// out.
func (c *sentCode) help(choose, resend, back key.Binding) []key.Binding {
	if c.sent == nil {
		return []key.Binding{choose, back}
	}
	return []key.Binding{choose, resend, back}
}

// early says whether it is too soon to ask for another code.
func (c *sentCode) early() bool { return c.sent != nil && c.now.Before(c.sent.ResendAt) }

// wait is how many seconds, rounded, are left before another code may be
// asked for.
func (c *sentCode) wait() int {
	return int(c.sent.ResendAt.Sub(c.now).Round(time.Second) / time.Second)
}

// refusal is what a resend asked for too soon is told, or "" when one may
// be sent. Where the screen counts the seconds down, the refusal names
// them too.
func (c *sentCode) refusal(p *locale.Printer) string {
	switch {
	case !c.early():
		return ""
	case c.behind:
		return p.N("code.resend_in", c.wait(), nil)
	default:
		return p.T("code.wait_resend")
	}
}

// header says where the code went and how long it lives, or nothing when
// no code is out.
func (c *sentCode) header(p *locale.Printer, st *styles.Styles, width int) string {
	if c.sent == nil {
		return ""
	}
	return styledF(p, "code.sent_to", nil, "Destination", sanitize.Line(c.sent.Destination, max(width-20, 8)),
		st.Body, st.Code) + "\n" +
		components.Countdown(c.sent.ExpiresAt.Sub(c.now), flows.CodeLifetime, st, p) + "\n\n"
}

// hint says, where delivery is behind the screen, when another code may be
// asked for and what to do when none comes; it starts with a new line.
func (c *sentCode) hint(p *locale.Printer, st *styles.Styles) string {
	if c.sent == nil || !c.behind {
		return ""
	}
	var b strings.Builder
	if c.early() {
		b.WriteString("\n" + st.Muted.Render(p.N("code.no_code_wait", c.wait(), nil)))
	} else {
		b.WriteString("\n" + st.Muted.Render(p.T("code.no_code_resend")))
	}
	b.WriteString("\n" + st.Muted.Render(p.T("code.still_nothing")))
	return b.String()
}
