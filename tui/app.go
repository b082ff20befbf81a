// Package tui is sspr's terminal user interface: one Bubble Tea model whose
// screens walk people through resetting or changing a password and keeping
// their security info, served on the local terminal (kiosk, demo) or over SSH.
package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/keys"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// Mode says where the TUI runs, which changes how it may be left and what it shows.
type Mode int

const (
	// ModeLocal is an ordinary terminal: ctrl+c quits.
	ModeLocal Mode = iota
	// ModeKiosk is a walk-up terminal: nothing but an admin or SIGTERM leaves it.
	ModeKiosk
	// ModeDemo is the seeded demo with the on-screen outbox.
	ModeDemo
	// ModeSSH is a session of the SSH portal: ctrl+c ends the session.
	ModeSSH
)

// Size limits. A client may claim any window size; the renderer's memory
// grows with it, so it is clamped.
const (
	MaxWidth  = 300
	MaxHeight = 100
	// outboxWidth is the width of the demo outbox panel beside the screen.
	outboxWidth = 38
	// sideBySide is the narrowest window that shows the outbox beside the screen.
	// Below it (an 80-column terminal included) the screen gets the whole
	// width and ctrl+o switches to the outbox.
	sideBySide = 60 + outboxWidth + 2
	// idleWarning is how long before the idle wipe the countdown shows.
	idleWarning = 15 * time.Second
	// MaxPaste is the longest paste, in bytes, any field takes; longer ones
	// are refused.
	MaxPaste = 4096
)

// Options configure a Model.
type Options struct {
	// Context bounds every call into flows; cancel it to end the session.
	Context context.Context
	// Service runs the flows.
	Service *flows.Service
	// Source names where people are, for the audit log and per-source
	// throttling: a kiosk's terminal id or an SSH client's address.
	Source string
	// Mode is where the TUI runs.
	Mode Mode
	// IdleTimeout wipes every journey and returns to the welcome screen
	// after this long without a key; 0 turns it off.
	IdleTimeout time.Duration
	// DoneTimeout returns from the "done" screen to the welcome screen.
	DoneTimeout time.Duration
	// Banner is drawn on the welcome screen.
	Banner string
	// Dark says whether to start with the dark palette, until the terminal
	// reports its background.
	Dark bool
	// Tick is how often the clock-driven parts (countdowns, idle, outbox)
	// refresh; default one second.
	Tick time.Duration
	// CostPerCall and Currency price one helpdesk call for the admin panel's
	// insights (self-service resets × cost), as `sspr report activity` does.
	CostPerCall float64
	Currency    string
	// RestAfter sends RestMsg once the model has been at rest this long;
	// 0 never does.
	RestAfter time.Duration
	// Theme holds the palettes; nil builds them for this model alone. A
	// server with many sessions shares one.
	Theme *styles.Theme
	// ClientKey is the public key an SSH session was verified with, after
	// the handshake; nil at a kiosk and for a session without a key. It
	// can prove "Your SSH key" and be registered in one keypress.
	ClientKey gossh.PublicKey
	// Languages are the catalogues the TUI speaks from; nil is the
	// embedded set.
	Languages *locale.Catalogue
	// Language is the language a visit starts in (a code such as "de" or
	// a locale such as "de_DE.UTF-8"): the kiosk's ui.language, or the SSH
	// client's LANG. One sspr does not speak falls back to English.
	Language string
}

// Model is the root Bubble Tea model, the only tea.Model of sspr. It owns a
// stack of screens and the things every screen shares: the window, the
// idle timer, the outbox panel of the demo.
type Model struct {
	env    *env
	opts   Options
	width  int
	height int
	stack  []screen

	lastActivity time.Time
	notice       string
	// ticking is set while a clock tick is scheduled.
	ticking bool
	// banner is a server notice shown on every screen (NoticeMsg).
	banner string

	// baseKeys and typingKeys are the key map for screens without and with a
	// focused text field; env.keys is set to one of them before each key.
	baseKeys   keys.KeyMap
	typingKeys keys.KeyMap

	outbox     []flows.OutboxMessage
	showOutbox bool
	// outboxOnly is the outbox taking the whole window, at widths too
	// narrow for both; the screen shows until the person asks for it.
	outboxOnly bool
	// outboxLoaded is set once the outbox was first read: what was there
	// before the demo started is not news.
	outboxLoaded bool

	// fullHelp is set while the full help of the current screen shows,
	// until the next key.
	fullHelp bool

	// restSeq counts messages, so a rest check can tell whether anything
	// happened since it was armed; restArmed is set while one is pending.
	restSeq   uint64
	restArmed bool

	// homeLanguage is the language every visit starts in; a choice in the
	// picker or a person's stored preference holds until the visit ends.
	homeLanguage *locale.Printer
}

// New builds the root model.
func New(opts Options) *Model {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.DoneTimeout <= 0 {
		opts.DoneTimeout = 30 * time.Second
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	km := keys.Default()
	if opts.Mode == ModeKiosk {
		km = km.Kiosk()
	}
	if opts.Mode != ModeDemo {
		km.ToggleOutbox.SetEnabled(false)
	}
	if opts.Theme == nil {
		opts.Theme = styles.NewTheme()
	}
	if opts.Languages == nil {
		opts.Languages = locale.Embedded()
	}
	home := opts.Languages.Printer(opts.Language)
	e := &env{ctx: opts.Context, svc: opts.Service, source: opts.Source, clientKey: opts.ClientKey, mode: opts.Mode,
		st: opts.Theme.For(opts.Dark), keys: km, doneTimeout: opts.DoneTimeout,
		costPerCall: opts.CostPerCall, currency: opts.Currency, p: home, languages: opts.Languages}
	if opts.Mode == ModeDemo {
		e.outbox = flows.NewOutboxView()
	}
	m := &Model{env: e, opts: opts, width: 80, height: 24, showOutbox: opts.Mode == ModeDemo,
		baseKeys: km, typingKeys: km.Typing(), homeLanguage: home}
	m.stack = []screen{newWelcome(e, opts.Banner)}
	m.lastActivity = e.now()
	return m
}

type tickMsg time.Time

func (m *Model) tick() tea.Cmd {
	m.ticking = true
	return tea.Tick(m.opts.Tick, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Init starts the clock and asks the terminal for its background colour.
// A host may run the same model again in a new program (see RestMsg), so
// Init forgets the timers of the last one.
func (m *Model) Init() tea.Cmd {
	m.restArmed = false
	cmds := []tea.Cmd{tea.RequestBackgroundColor, initScreen(m.stack[0])}
	m.ticking = false
	if m.needsTick() {
		cmds = append(cmds, m.tick())
	}
	if m.opts.Mode == ModeDemo {
		cmds = append(cmds, m.fetchOutbox())
	}
	return tea.Batch(cmds...)
}

// top returns the current screen.
func (m *Model) top() screen { return m.stack[len(m.stack)-1] }

// Update routes a message: window and clock to the root, keys through the
// global bindings, everything else to the current screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	// RestMsg comes back only when the host chose not to rest (input was on
	// its way); the rest check below tries again later.
	if _, ok := msg.(RestMsg); !ok {
		_, cmd = m.update(msg)
		m.selectKeys()
		if !m.ticking && m.needsTick() {
			cmd = tea.Batch(cmd, m.tick())
		}
	}
	if rest := m.restAfterUpdate(msg); rest != nil {
		cmd = tea.Batch(cmd, rest)
	}
	return m, cmd
}

// needsTick says whether anything on screen depends on the clock. An idle
// session on the welcome screen has nothing to count down, so it does not
// redraw every second: a portal holding a thousand of them stays quiet.
func (m *Model) needsTick() bool {
	return m.opts.Mode == ModeDemo || m.visiting()
}

// visiting says whether someone is in the middle of a visit: past the
// welcome screen, or on it in a language they chose. The idle timeout ends
// a visit and forgets both.
func (m *Model) visiting() bool {
	return len(m.stack) > 1 || m.env.p != m.homeLanguage
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = min(max(msg.Width, 1), MaxWidth)
		m.height = min(max(msg.Height, 1), MaxHeight)
		return m, nil
	case tea.BackgroundColorMsg:
		m.env.st = m.opts.Theme.For(msg.IsDark())
		return m, nil
	case restCheckMsg:
		return m, nil
	case tickMsg:
		m.ticking = false
		cmd := m.onTick()
		if m.needsTick() {
			return m, tea.Batch(cmd, m.tick())
		}
		return m, cmd
	case NoticeMsg:
		m.banner = msg.Text
		return m, nil
	case outboxMsg:
		if len(msg.items) > 0 {
			m.outbox = append(m.outbox, msg.items...)
			if len(m.outbox) > 50 {
				m.outbox = m.outbox[len(m.outbox)-50:]
			}
			if m.outboxLoaded && m.width < sideBySide && !m.outboxOnly {
				m.notice = m.env.p.T("notice.outbox")
			}
		}
		m.outboxLoaded = true
		return m, nil
	case pushMsg:
		m.stack = append(m.stack, msg.s)
		return m, initScreen(msg.s)
	case replaceMsg:
		closeScreen(m.top())
		m.stack[len(m.stack)-1] = msg.s
		return m, initScreen(msg.s)
	case journeyMsg:
		// The finished steps hand their flow on to msg.s, so they are
		// dropped without closing.
		m.stack = []screen{m.stack[0], msg.s}
		return m, initScreen(msg.s)
	case popMsg:
		m.back()
		if len(m.stack) == 1 {
			// Back on the welcome screen: what it says of this place may
			// have changed (a block began or was cleared meanwhile).
			return m, initScreen(m.top())
		}
		return m, nil
	case homeMsg:
		m.wipe()
		return m, initScreen(m.top())
	case waitMsg:
		m.env.waitUntil = msg.until
		return m, nil
	case leaveMsg:
		m.wipe()
		return m, tea.Quit
	case tea.PasteMsg:
		m.touch()
		if len(msg.Content) > MaxPaste {
			m.notice = m.env.p.T("notice.paste_too_long")
			return m, nil
		}
		msg.Content = sanitize.Input(msg.Content)
		if !m.pasteFits(msg.Content) {
			m.notice = m.env.p.T("notice.paste_too_long")
			return m, nil
		}
		return m.forward(msg)
	case tea.KeyPressMsg:
		m.touch()
		// Typed text passes the same sanitiser as pastes: a terminal or an
		// input method can deliver bidi controls as key text.
		msg.Text = sanitize.Typed(msg.Text)
		return m.onKey(msg)
	}
	return m.forward(msg)
}

// touch records activity for the idle timer and clears a stale notice.
func (m *Model) touch() {
	m.lastActivity = m.env.now()
	m.notice = ""
}

func (m *Model) onKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	m.selectKeys()
	k := m.env.keys
	switch msg.String() {
	case "ctrl+z", "ctrl+\\":
		// Never suspend or quit on these: at a kiosk the shell is behind them.
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.wipe()
		return m, tea.Quit
	case m.fullHelp:
		// Any key closes the full help, and does nothing else: the
		// person is reading, not acting on the screen behind it.
		m.fullHelp = false
		return m, nil
	case key.Matches(msg, k.Help):
		m.fullHelp = true
		return m, nil
	case key.Matches(msg, k.ToggleOutbox):
		if m.width < sideBySide {
			m.outboxOnly = !m.outboxOnly
		} else {
			m.showOutbox = !m.showOutbox
		}
		return m, nil
	}
	return m.forward(msg)
}

func (m *Model) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.top().update(msg)
	m.stack[len(m.stack)-1] = next
	m.selectKeys()
	return m, cmd
}

// selectKeys picks the key map for the current screen: with a text field
// focused, letters and digits are text, not commands.
func (m *Model) selectKeys() {
	if t, ok := m.top().(typingScreen); ok && t.typing() {
		m.env.keys = m.typingKeys
		return
	}
	m.env.keys = m.baseKeys
}

// back leaves the current screen; on the welcome screen it does nothing.
func (m *Model) back() {
	if len(m.stack) <= 1 {
		return
	}
	closeScreen(m.top())
	m.stack = m.stack[:len(m.stack)-1]
}

// wipe ends every journey: flows and sessions are forgotten by the service,
// and every screen (with every typed value) is dropped.
func (m *Model) wipe() {
	for i := len(m.stack) - 1; i >= 0; i-- {
		closeScreen(m.stack[i])
	}
	m.stack = []screen{newWelcome(m.env, m.opts.Banner)}
	m.env.p = m.homeLanguage
	m.notice = ""
	m.env.waitUntil = time.Time{}
	m.fullHelp = false
	m.lastActivity = m.env.now()
}

// initer is a screen that loads something when it opens.
type initer interface{ init() tea.Cmd }

func initScreen(s screen) tea.Cmd {
	if i, ok := s.(initer); ok {
		return i.init()
	}
	return nil
}

// closer is a screen holding a flow or session to end when it is left.
type closer interface{ close() }

func closeScreen(s screen) {
	if c, ok := s.(closer); ok {
		c.close()
	}
}

// onTick drives the idle wipe and the demo outbox, and passes the time on.
func (m *Model) onTick() tea.Cmd {
	now := m.env.now()
	if m.opts.IdleTimeout > 0 && m.visiting() && now.Sub(m.lastActivity) >= m.opts.IdleTimeout {
		m.wipe()
		return initScreen(m.top())
	}
	var cmds []tea.Cmd
	if m.opts.Mode == ModeDemo {
		cmds = append(cmds, m.fetchOutbox())
	}
	_, cmd := m.forward(clockMsg(now))
	return tea.Batch(append(cmds, cmd)...)
}

// clockMsg tells the current screen the time, for countdowns.
type clockMsg time.Time

// idleLeft returns how long before the idle wipe, when it is close.
func (m *Model) idleLeft() (time.Duration, bool) {
	if m.opts.IdleTimeout <= 0 || !m.visiting() {
		return 0, false
	}
	left := m.opts.IdleTimeout - m.env.now().Sub(m.lastActivity)
	return left, left <= idleWarning
}

// View draws the current screen in the frame, the idle countdown, and the
// demo outbox beside or instead of it.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = m.opts.Mode != ModeLocal
	v.WindowTitle = sanitize.Line(m.env.svc.Organisation(), 64) + " · " + m.env.p.T("window.title")
	return v
}

func (m *Model) render() string {
	w, h := m.width, m.height
	outbox := m.opts.Mode == ModeDemo && m.showOutbox
	if m.opts.Mode == ModeDemo && w < sideBySide {
		// Too narrow for both: the outbox takes the whole window when
		// asked for, and the screen the rest of the time.
		outbox = false
		if m.outboxOnly && w >= components.MinWidth && h >= components.MinHeight {
			return m.outboxPanel(w, h, true)
		}
	}
	mainW := w
	if outbox {
		mainW = w - outboxWidth
	}
	s := m.top()
	banner := ""
	if m.banner != "" {
		banner = wrap(m.env.st.Warning.Render(sanitize.String(m.banner)), mainW-4) + "\n\n"
	}
	// The frame's title and help bar, and the server's notice, take their rows.
	m.env.bodyHeight = h - 2 - strings.Count(banner, "\n")
	var body string
	if !m.fullHelp {
		body = s.view(max(mainW-4, 1))
		if b, ok := s.(blocker); ok && b.blocking() {
			body = keepEnd(body, m.env.bodyHeight)
		}
	}
	// The keys after the view: a screen may offer keys by what it drew.
	bindings := s.help()
	if m.opts.Mode == ModeDemo {
		bindings = append(bindings, m.env.keys.ToggleOutbox)
	}
	if m.env.keys.Quit.Enabled() {
		bindings = append(bindings, m.env.keys.Quit)
	}
	bindings = translated(m.env.p, bindings)
	helpBar := components.ShortHelp(bindings, translated(m.env.p, []key.Binding{m.env.keys.MoreHelp()})[0], mainW-4, m.env.st)
	if m.fullHelp {
		body = m.helpView(bindings, mainW-4)
		helpBar = components.HelpBar(translated(m.env.p, []key.Binding{closeHelp()}), mainW-4, m.env.st)
	}
	if m.notice != "" {
		body = withFooter(body, wrap(m.env.st.Warning.Render(m.notice), mainW-4), m.env.bodyHeight)
	}
	body = banner + body
	if wait := waitLine(m.env); wait != "" && len(m.stack) > 1 {
		body = withFooter(body, wrap(m.env.st.Countdown.Urgent.Render(wait), mainW-4), h-2)
	}
	if left, ok := m.idleLeft(); ok {
		body = withFooter(body, wrap(m.env.st.Countdown.Urgent.Render(m.env.p.N("idle.countdown",
			int(left.Round(time.Second)/time.Second), nil)), mainW-4), h-2)
	}
	frame := components.Frame(s.title(), body, helpBar, mainW, h, m.env.st, m.env.p)
	if !outbox {
		return frame
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, frame, m.outboxPanel(outboxWidth, h, false))
}

// helpView is the full help of the current screen: every key it takes,
// in columns (bubbles/help's full view).
func (m *Model) helpView(bindings []key.Binding, width int) string {
	st := m.env.st
	return st.Subtitle.Render(m.env.p.T("help.title")) + "\n\n" + components.FullHelp(bindings, width, st) +
		"\n\n" + wrap(st.Muted.Render(m.env.p.T("help.close")), width)
}

// closeHelp is the help bar's one entry while the full help shows.
func closeHelp() key.Binding {
	return key.NewBinding(key.WithKeys("?"), key.WithHelp("key.any", "key.close_help"))
}

// translated returns copies of bindings with their help written in the
// visit's language. Key names are translated too where the catalogue
// names them ("key.any"); the rest ("enter", "esc") are printed on keys.
func translated(p *locale.Printer, bindings []key.Binding) []key.Binding {
	out := make([]key.Binding, len(bindings))
	for i, b := range bindings {
		h := b.Help()
		k := h.Key
		if strings.HasPrefix(k, "key.") {
			k = p.T(k)
		}
		b.SetHelp(k, p.T(h.Desc))
		out[i] = b
	}
	return out
}

// withFooter puts a message under the body after a blank line. When the
// window has no room for both, the body's last lines make way: a notice or
// the idle countdown under a tall screen (the QR code) must be seen.
func withFooter(body, footer string, rows int) string {
	lines := strings.Split(body, "\n")
	foot := strings.Split(footer, "\n")
	if keep := max(rows-len(foot)-1, 0); len(lines) > keep {
		lines = lines[:keep]
	}
	return strings.Join(append(append(lines, ""), foot...), "\n")
}

// outboxMsg carries new outbox messages for the demo panel.
type outboxMsg struct{ items []flows.OutboxMessage }

// fetchOutbox reads what is new in the outbox for the people this session
// looked up: a demo served over SSH shows each session its own codes only.
func (m *Model) fetchOutbox() tea.Cmd {
	svc, ctx, view := m.env.svc, m.env.ctx, m.env.outbox
	return func() tea.Msg {
		items, err := svc.Outbox(ctx, view, 50)
		if err != nil {
			return nil
		}
		return outboxMsg{items: items}
	}
}

// outboxPanel draws the demo's outbox: each code or notification as it is
// "sent", newest first. Taking the whole window, it says how to go back.
func (m *Model) outboxPanel(w, h int, whole bool) string {
	st, p := m.env.st, m.env.p
	inner := max(w-4, 1)
	var b strings.Builder
	b.WriteString(st.PanelTitle.Render(p.T("outbox.title")) + "\n")
	sub := wrap(p.T("outbox.subtitle"), inner)
	b.WriteString(st.Muted.Render(sub) + "\n")
	lines := 1 + strings.Count(sub, "\n") + 1
	if whole {
		b.WriteString(st.Muted.Render(sanitize.Line(p.T("outbox.back"), inner)) + "\n")
		lines++
	}
	if len(m.outbox) == 0 {
		b.WriteString("\n" + st.Muted.Render(p.T("outbox.empty")))
	}
	for i := len(m.outbox) - 1; i >= 0 && lines < h-4; i-- {
		o := m.outbox[i]
		icon := "✉"
		if o.Channel == "sms" {
			icon = "☎"
		}
		head := fmt.Sprintf("%s %s  %s", icon, o.At.Format(p.T("outbox.time_layout")), o.To)
		b.WriteString("\n" + st.Body.Bold(true).Render(sanitize.Line(head, inner)) + "\n")
		lines += 2
		text := o.Subject
		if code := findCode(o.Body); code != "" {
			text = p.F("outbox.code", locale.Args{"Code": code})
		}
		b.WriteString(st.Code.Render(sanitize.Line(text, inner)) + "\n")
		lines++
	}
	return st.Panel.Width(w).Height(h).MaxHeight(h).Render(b.String())
}

// findCode picks a one-time code (a run of exactly 8 digits) out of a message.
func findCode(body string) string {
	run := 0
	for i := 0; i <= len(body); i++ {
		if i < len(body) && body[i] >= '0' && body[i] <= '9' {
			run++
			continue
		}
		if run == flows.CodeDigits {
			return body[i-run : i]
		}
		run = 0
	}
	return ""
}
