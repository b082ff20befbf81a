package tui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// messages runs a command tree and returns the messages it yields, leaving
// out clock ticks, which a rest test does not care about.
func messages(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if v := reflect.ValueOf(msg); v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		var out []tea.Msg
		for i := range v.Len() {
			out = append(out, messages(v.Index(i).Interface().(tea.Cmd))...)
		}
		return out
	}
	switch msg.(type) {
	case nil, tickMsg:
		return nil
	}
	return []tea.Msg{msg}
}

// restChecks picks the rest checks out of what a command yields.
func restChecks(t *testing.T, cmd tea.Cmd) []restCheckMsg {
	t.Helper()
	var out []restCheckMsg
	for _, msg := range messages(cmd) {
		if c, ok := msg.(restCheckMsg); ok {
			out = append(out, c)
		}
	}
	return out
}

func restingModel(t *testing.T, mode Mode) *Model {
	t.Helper()
	h := newHarness(t)
	m := New(Options{Service: h.Svc, Source: "ssh:192.0.2.1", Mode: mode, IdleTimeout: time.Minute,
		RestAfter: time.Millisecond, Tick: time.Millisecond})
	// The welcome screen hears back what it asked first (it does not rest
	// before); the check that then arms is let fire, as a quiet host would.
	var armed []restCheckMsg
	for _, msg := range messages(m.Init()) {
		armed = append(armed, restChecks(t, update(m, msg))...)
	}
	for _, c := range armed {
		update(m, c)
	}
	return m
}

func update(m *Model, msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	return cmd
}

// TestRestAfterQuietWelcome: on the welcome screen, RestAfter of nothing
// at all yields RestMsg; any message in between starts the quiet again.
func TestRestAfterQuietWelcome(t *testing.T) {
	m := restingModel(t, ModeSSH)
	checks := restChecks(t, update(m, tea.WindowSizeMsg{Width: 80, Height: 24}))
	if len(checks) != 1 {
		t.Fatalf("want one rest check armed on the welcome screen, got %d", len(checks))
	}
	// Something happens before the check fires: the check is stale, and a
	// new one is armed for the new stretch of quiet.
	if cmd := update(m, tea.KeyPressMsg{Code: tea.KeyDown}); len(restChecks(t, cmd)) != 0 {
		t.Fatal("a second check was armed while one was pending")
	}
	got := messages(update(m, checks[0]))
	if len(got) != 1 {
		t.Fatalf("a stale check yields %v; want only a new check", got)
	}
	fresh, ok := got[0].(restCheckMsg)
	if !ok {
		t.Fatalf("a stale check yields %T; want a new check", got[0])
	}
	rest := messages(update(m, fresh))
	if len(rest) != 1 || rest[0] != (RestMsg{}) {
		t.Fatalf("a check after quiet yields %v; want RestMsg", rest)
	}
	// A host that does not rest sends RestMsg back: the model arms again.
	if again := restChecks(t, update(m, RestMsg{})); len(again) != 1 {
		t.Fatal("RestMsg coming back did not arm a new check")
	}
	if !m.AtRest() {
		t.Fatal("the welcome screen is not at rest")
	}
}

// TestNoRestBeforeWelcomeHearsBack: a welcome screen still waiting for
// what it asked (whether this terminal is blocked, whether unlocking is
// offered) is not at rest: a program put to rest would drop the answer, and
// the menu would stay without "Unlock my account".
func TestNoRestBeforeWelcomeHearsBack(t *testing.T) {
	h := newHarness(t)
	m := New(Options{Service: h.Svc, Source: "ssh:192.0.2.1", Mode: ModeSSH, IdleTimeout: time.Minute,
		RestAfter: time.Millisecond, Tick: time.Millisecond})
	var answers []tea.Msg
	for _, msg := range messages(m.Init()) {
		switch msg.(type) {
		case sourceStateMsg, unlockAllowedMsg:
			answers = append(answers, msg)
		}
	}
	if len(answers) != welcomeQuestions {
		t.Fatalf("the welcome screen asked %d questions, want %d", len(answers), welcomeQuestions)
	}
	if m.AtRest() || len(restChecks(t, update(m, tea.WindowSizeMsg{Width: 80, Height: 24}))) != 0 {
		t.Fatal("the welcome screen may rest before it heard back")
	}
	for _, msg := range answers {
		update(m, msg)
	}
	if !m.AtRest() {
		t.Fatal("the welcome screen is not at rest once it heard back")
	}
	if !strings.Contains(m.View().Content, "Unlock my account") {
		t.Fatal("the menu does not offer unlocking")
	}
}

// TestNoRestAwayFromWelcome: a journey has an idle countdown, and the demo
// polls its outbox, so neither ever rests; without RestAfter nothing does.
func TestNoRestAwayFromWelcome(t *testing.T) {
	m := restingModel(t, ModeSSH)
	checks := restChecks(t, update(m, tea.WindowSizeMsg{Width: 80, Height: 24}))
	for _, msg := range messages(update(m, keyMsg("1"))) {
		update(m, msg)
	}
	if m.AtRest() {
		t.Fatalf("the %T screen is at rest", m.top())
	}
	if got := messages(update(m, checks[0])); len(got) != 0 {
		t.Fatalf("the check on the username screen yields %v; want nothing", got)
	}

	demo := restingModel(t, ModeDemo)
	if demo.AtRest() || len(restChecks(t, update(demo, tea.WindowSizeMsg{Width: 80, Height: 24}))) != 0 {
		t.Fatal("the demo arms a rest check")
	}

	h := newHarness(t)
	never := New(Options{Service: h.Svc, Mode: ModeSSH})
	never.Init()
	if len(restChecks(t, update(never, tea.WindowSizeMsg{Width: 80, Height: 24}))) != 0 {
		t.Fatal("a model without RestAfter arms a rest check")
	}
}

// TestInitForgetsTheLastProgramsTimers: a model run again in a new program
// arms a fresh check, though the last one was pending when its program
// ended, and starts the clock again when it needs it.
func TestInitForgetsTheLastProgramsTimers(t *testing.T) {
	m := restingModel(t, ModeSSH)
	if len(restChecks(t, update(m, tea.WindowSizeMsg{Width: 80, Height: 24}))) != 1 {
		t.Fatal("no check armed")
	}
	// The program ends with the check pending; a new one starts.
	m.Init()
	if len(restChecks(t, update(m, tea.WindowSizeMsg{Width: 80, Height: 24}))) != 1 {
		t.Fatal("the new program's model arms no check")
	}
	for _, msg := range messages(update(m, keyMsg("1"))) {
		update(m, msg)
	}
	if !ticks(m.Init()) {
		t.Fatal("Init on the username screen does not start the clock")
	}
	for _, msg := range messages(update(m, keyMsg("esc"))) {
		update(m, msg)
	}
	if ticks(m.Init()) {
		t.Fatal("Init on the welcome screen starts the clock, which nothing there needs")
	}
}

// ticks says whether a command tree yields a clock tick.
func ticks(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	msg := cmd()
	if v := reflect.ValueOf(msg); v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := range v.Len() {
			if ticks(v.Index(i).Interface().(tea.Cmd)) {
				return true
			}
		}
		return false
	}
	_, ok := msg.(tickMsg)
	return ok
}
