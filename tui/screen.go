package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/keys"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// screen is one step of a journey. Screens are sub-models of the root model:
// they never block, and they ask for I/O by returning commands that call
// flows and come back as messages.
type screen interface {
	// update handles a message and returns the screen to keep.
	update(msg tea.Msg) (screen, tea.Cmd)
	// view draws the body at the given width; the root draws the frame.
	view(width int) string
	// title names the screen in the frame.
	title() string
	// help lists the keys of this screen, for the help bar.
	help() []key.Binding
}

// typingScreen is a screen with a focused text field, where single-letter
// keys are text, not commands.
type typingScreen interface {
	typing() bool
}

// env is what every screen shares: the flows, where the person is, styles
// and keys. It holds no state of any journey.
type env struct {
	ctx    context.Context
	svc    *flows.Service
	source string
	// clientKey is the key the SSH connection was verified with, or nil.
	clientKey gossh.PublicKey
	mode      Mode
	st        *styles.Styles
	keys      keys.KeyMap
	// p writes every word in the language of this visit; languages is
	// what else the picker offers.
	p         *locale.Printer
	languages *locale.Catalogue
	// doneTimeout is how long the "done" screen stays before clearing itself.
	doneTimeout time.Duration
	// bodyHeight is how many rows a screen's body may take; the root sets
	// it before each view, for screens that choose a layout by height.
	bodyHeight int
	// requests numbers the requests of every screen (see request.next).
	requests int
	// costPerCall and currency price a helpdesk call in the admin insights.
	costPerCall float64
	currency    string
	// outbox is the demo's view of the outbox: the messages to the people
	// this session looked up (nil outside the demo; Watch on nil is a no-op).
	outbox *flows.OutboxView
	// waitUntil is when this source's next proof is taken, after failures
	// (see waitMsg): a fact of the place, not of anyone's journey.
	waitUntil time.Time
}

func (e *env) now() time.Time { return e.svc.Clock().Now() }

// origin is where this session's journeys come from, with the key its SSH
// connection was verified with.
func (e *env) origin() flows.Origin { return flows.Origin{Source: e.source, Key: e.clientKey} }

// waiting reports whether proofs must wait: a screen then sends none, and
// the root counts the wait down.
func (e *env) waiting() bool { return e.now().Before(e.waitUntil) }

// Transition messages between screens, returned as commands.
type (
	// pushMsg opens a screen on top of the current one.
	pushMsg struct{ s screen }
	// replaceMsg swaps the current screen for another.
	replaceMsg struct{ s screen }
	// popMsg goes back one step.
	popMsg struct{}
	// homeMsg clears every journey and returns to the welcome screen.
	homeMsg struct{}
	// leaveMsg ends the program (an admin leaving kiosk mode, or quit).
	leaveMsg struct{}
)

func push(s screen) tea.Cmd    { return func() tea.Msg { return pushMsg{s} } }
func replace(s screen) tea.Cmd { return func() tea.Msg { return replaceMsg{s} } }
func pop() tea.Msg             { return popMsg{} }
func home() tea.Msg            { return homeMsg{} }

// Field limits on screen inputs. A paste longer than the field is refused.
const (
	limitUsername = flows.MaxUsernameLength
	limitPassword = flows.MaxPasswordLength
	limitCode     = 64
	limitAnswer   = flows.MaxAnswerLength * 2
	limitQuestion = flows.MaxQuestionLength
	limitContact  = flows.MaxEmailLength
)

// newInput builds a text field in the app's style. Clipboard paste through
// the input's own key is off: on a server it would read the server's
// clipboard; terminals deliver pastes as bracketed paste instead.
func newInput(e *env, placeholder string, limit int, secret bool) textinput.Model {
	ti := textinput.New()
	ti.Prompt = styles.FieldMarker + " "
	ti.Placeholder = styles.Placeholder(placeholder)
	ti.CharLimit = limit
	ti.SetStyles(e.st.TextInput())
	ti.KeyMap.Paste.SetEnabled(false)
	ti.SetWidth(40)
	if secret {
		ti.EchoMode = textinput.EchoPassword
		ti.EchoCharacter = '•'
	}
	return ti
}

// request numbers async results, so a result that arrives after the person
// went back (Esc during a send) is recognised as stale and dropped.
// Numbers are unique across all screens: several screens take the same
// message type (a resend's sentMsg reaching the method picker after Esc),
// and a per-screen count would let one screen take another's result.
type request struct{ seq int }

// next starts a new request and returns its number. Numbers come from the
// model's env, so they are unique across every screen of a session: a late
// result can never be taken for a newer request of another screen.
func (r *request) next(e *env) int {
	e.requests++
	r.seq = e.requests
	return r.seq
}

func (r *request) current(seq int) bool { return seq == r.seq }

// twoFields handles the keys of a two-field form: tab, shift+tab and the
// arrow towards the other field move the focus, and enter on the first field
// moves to the second. It reports whether it took the key, and whether enter
// on the second field asks for the form to be submitted.
func twoFields(e *env, msg tea.KeyPressMsg, first, second *textinput.Model, focus *int) (taken, submit bool) {
	switch {
	case key.Matches(msg, e.keys.NextField), key.Matches(msg, e.keys.PrevField),
		key.Matches(msg, e.keys.Down) && *focus == 0, key.Matches(msg, e.keys.Up) && *focus == 1:
	case key.Matches(msg, e.keys.Select):
		if *focus == 1 {
			return true, true
		}
	default:
		return false, false
	}
	if *focus == 0 {
		first.Blur()
		second.Focus()
		*focus = 1
	} else {
		second.Blur()
		first.Focus()
		*focus = 0
	}
	return true, false
}
