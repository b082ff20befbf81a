package tui

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// probe wraps the root model in a real Bubble Tea program (teatest) and
// keeps a copy of what it shows after every message, under a lock, so the
// test can wait for a screen without racing the program's goroutine.
type probe struct {
	m *Model

	mu    sync.Mutex
	view  string
	top   string
	stack int
}

func (p *probe) Init() tea.Cmd { return p.m.Init() }

func (p *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := p.m.Update(msg)
	v, top, n := ansi.Strip(p.m.render()), fmt.Sprintf("%T", p.m.top()), len(p.m.stack)
	p.mu.Lock()
	p.view, p.top, p.stack = v, top, n
	p.mu.Unlock()
	return p, cmd
}

func (p *probe) View() tea.View { return p.m.View() }

func (p *probe) snapshot() (string, string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.view, p.top, p.stack
}

// waitFor waits until the screen shows every string, on the screen type
// given (when not empty).
func (p *probe) waitFor(t *testing.T, top string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, got, _ := p.snapshot()
		words := strings.Join(strings.Fields(v), " ")
		ok := top == "" || got == top
		for _, w := range want {
			ok = ok && strings.Contains(words, w)
		}
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %s showing %q; on %s:\n%s", top, want, got, v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startProgram(t *testing.T, h *harness, opts Options) (*teatest.TestModel, *probe) {
	t.Helper()
	opts.Service, opts.Source, opts.Tick = h.Svc, "kiosk:program", 5*time.Millisecond
	p := &probe{m: New(opts)}
	tm := teatest.NewTestModel(t, p, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	return tm, p
}

func press(tm *teatest.TestModel, names ...string) {
	for _, n := range names {
		tm.Send(keyMsg(n))
	}
}

func TestProgramReset(t *testing.T) {
	h := newHarness(t)
	tm, p := startProgram(t, h, Options{Mode: ModeKiosk, IdleTimeout: 2 * time.Minute, DoneTimeout: 30 * time.Second})
	p.waitFor(t, "*tui.welcome", "Reset a forgotten password")
	press(tm, "enter")
	p.waitFor(t, "*tui.identify", "Who are you?")
	tm.Type("alice")
	press(tm, "enter")
	p.waitFor(t, "*tui.methods", "a•••e@example.com")
	press(tm, "enter")
	p.waitFor(t, "*tui.codeEntry", "Code expires in 10:00")
	h.Clock.Advance(90 * time.Second)
	p.waitFor(t, "*tui.codeEntry", "Code expires in 8:30", "Press ctrl+r to send a new one.")
	code := h.Inbox.LastCode(t, "alice@example.com")
	tm.Type(code[:4] + "-" + code[4:])
	press(tm, "enter")
	p.waitFor(t, "*tui.newPassword", "Choose a new password")
	tm.Type(newPass)
	p.waitFor(t, "*tui.newPassword", "✓ At least 12 characters", "✓ Strong enough")
	press(tm, "tab")
	tm.Type(newPass)
	p.waitFor(t, "*tui.newPassword", "✓ Both entries match")
	press(tm, "enter")
	p.waitFor(t, "*tui.done", "Your password has been changed.")
	h.Clock.Advance(30 * time.Second)
	p.waitFor(t, "*tui.welcome", "Reset a forgotten password")
	if !h.signInWorks("alice", newPass) {
		t.Fatal("the new password does not work")
	}
	// A kiosk does not quit on ctrl+c: only an explicit quit ends the test.
	press(tm, "ctrl+c", "ctrl+z", "ctrl+\\")
	p.waitFor(t, "*tui.welcome")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*probe)
	if where := findSecret(fm.m, newPass, code); where != "" {
		t.Fatal(where)
	}
	out, err := io.ReadAll(tm.FinalOutput(t))
	if err != nil {
		t.Fatal(err)
	}
	// The ASCII profile writes no colour at all.
	if bytes.Contains(out, []byte("\x1b[38;")) || bytes.Contains(out, []byte(newPass)) {
		t.Fatal("colour or the password in the program's output")
	}
}

func TestProgramIdleWipe(t *testing.T) {
	h := newHarness(t)
	tm, p := startProgram(t, h, Options{Mode: ModeKiosk, IdleTimeout: 2 * time.Minute})
	press(tm, "2")
	p.waitFor(t, "*tui.signIn")
	tm.Type("alice")
	press(tm, "tab")
	tm.Type(testPassword)
	// Every key must have landed before the clock moves, or a late one
	// would count as activity after it.
	p.waitFor(t, "*tui.signIn", strings.Repeat("•", utf8.RuneCountInString(testPassword)))
	h.Clock.Advance(106 * time.Second)
	p.waitFor(t, "*tui.signIn", "Still there? All is cleared in 14 seconds")
	h.Clock.Advance(14 * time.Second)
	p.waitFor(t, "*tui.welcome")
	if _, _, n := p.snapshot(); n != 1 {
		t.Fatalf("%d screens after the wipe", n)
	}
	tm.Quit()
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*probe)
	if where := findSecret(fm.m, testPassword, "alice"); where != "" {
		t.Fatal(where)
	}
}

// TestProgramLeaveKiosk: the program ends only when an admin chooses
// "Leave kiosk mode".
func TestProgramLeaveKiosk(t *testing.T) {
	h := newHarness(t)
	tm, p := startProgram(t, h, Options{Mode: ModeKiosk, IdleTimeout: 2 * time.Minute})
	press(tm, "ctrl+c", "ctrl+z", "ctrl+\\", "esc", "4")
	p.waitFor(t, "*tui.signIn", "Administration · Sign in")
	tm.Type("admin")
	press(tm, "tab")
	tm.Type(testPassword)
	press(tm, "enter")
	p.waitFor(t, "*tui.methods", "Step 1 of 2")
	press(tm, "enter")
	p.waitFor(t, "*tui.codeEntry", "We sent a code")
	tm.Type(h.Inbox.LastCode(t, "admin@example.com"))
	press(tm, "enter")
	p.waitFor(t, "*tui.methods", "Step 2 of 2")
	press(tm, "enter")
	p.waitFor(t, "*tui.codeEntry", "authenticator")
	tm.Type(h.totpNow(t, testSecret))
	press(tm, "enter")
	p.waitFor(t, "*tui.adminHome", "Signed in as admin.")
	press(tm, "ctrl+c", "esc")
	p.waitFor(t, "*tui.adminHome", "Leave kiosk mode")
	press(tm, "down", "down", "enter")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*probe)
	if len(fm.m.stack) != 1 {
		t.Fatalf("%d screens left when leaving", len(fm.m.stack))
	}
}
