package portal_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/tui/portal"
)

// waitStats polls the portal until ok accepts its stats.
func waitStats(t testing.TB, p *portalServer, what string, ok func(portal.Stats) bool) portal.Stats {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		st := p.srv.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; stats: %+v", wait, what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func resting(st portal.Stats) bool { return st.Open == 1 && st.Drawing == 0 }

// restingTerminal opens the portal's only session and waits until it rests
// on the welcome screen.
func restingTerminal(t testing.TB, p *portalServer, rows, cols int) *terminal {
	t.Helper()
	term := openTerminal(t, dial(t, p.addr), rows, cols)
	term.waitFor("Reset a forgotten password", wait)
	waitStats(t, p, "the session to rest", resting)
	return term
}

// TestRestingSessionKeepsItsScreenAndWakes: a session left on the welcome
// screen lets go of its program without touching the terminal, and the
// next key is handled as if nothing had happened.
func TestRestingSessionKeepsItsScreenAndWakes(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	// The menu is whole once the policy has said unlocking is on.
	term.waitFor("Unlock my account", wait)
	term.out.Mark()
	st := waitStats(t, p, "the session to rest", resting)
	if st.Rests == 0 {
		t.Fatalf("no rest counted: %+v", st)
	}
	// Nothing reached the terminal on the way to rest: no leaving the
	// alternate screen, no cleared screen, no shown cursor.
	time.Sleep(100 * time.Millisecond)
	if got := ansi.Strip(term.out.RawSince()); got != "" {
		t.Fatalf("the terminal got %q while the session went to rest", got)
	}
	raw := term.out.Raw()
	if strings.Contains(raw, "\x1b[?1049l") {
		t.Fatalf("the session left the alternate screen on the way to rest: %q", raw)
	}

	// One key: the session wakes, repaints, and handles the key.
	term.send("1")
	term.waitFor("Enter your username", wait)
	// Away from the welcome screen it does not rest.
	time.Sleep(300 * time.Millisecond)
	if st := p.srv.Stats(); st.Drawing != 1 {
		t.Fatalf("a session on the username screen rested: %+v", st)
	}
	term.typeText("alice")
	term.send("\r")
	term.waitFor("Email me a code", wait)

	// Back home (Esc to the username, Esc to the start), it rests again;
	// ctrl+c then ends it cleanly, leaving the alternate screen.
	term.send("\x1b")
	term.waitFor("Who are you?", wait)
	term.send("\x1b")
	term.waitFor("Reset a forgotten password", wait)
	before := p.srv.Stats().Rests
	waitStats(t, p, "the session to rest again", func(st portal.Stats) bool { return resting(st) && st.Rests > before })
	term.send("\x03")
	if err := term.ended(wait); err != nil {
		t.Fatalf("session: %v", err)
	}
	if !strings.Contains(term.out.Raw(), "\x1b[?1049l") {
		t.Fatal("the session ended without leaving the alternate screen")
	}
}

// TestNoKeyLostAroundRest types at random moments around the point where
// the session goes to rest. Every key must count: the welcome menu's
// cursor, moved by tab, decides which screen enter opens.
func TestNoKeyLostAroundRest(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.RestAfter = 20 * time.Millisecond })
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	term.waitFor("Unlock my account", wait)
	screens := []string{"Reset your password · Who are you?", "Change your password · Sign in",
		"Your security info · Sign in", "Administration · Sign in", "Unlock your account · Who are you?"}
	rng := rand.New(rand.NewPCG(4, 2))
	cursor := 0
	start := p.srv.Stats().Rests
	for round := range 12 {
		tabs := 1 + rng.IntN(3)
		for range tabs {
			// Around the rest point: 20 ms of quiet arms it, the 250 ms
			// grace for recent input delays it.
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			term.send("\t")
		}
		cursor = (cursor + tabs) % len(screens)
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		term.send("\r")
		term.waitFor(screens[cursor], wait)
		term.send("\x1b")
		// The sign-in screens name "Reset a forgotten password" too; only
		// the welcome menu also offers "Change my password".
		term.waitFor("Reset a forgotten password", wait)
		term.waitFor("Change my password", wait)
		t.Logf("round %d: %d tabs, rests so far %d", round, tabs, p.srv.Stats().Rests-start)
	}
	if rests := p.srv.Stats().Rests - start; rests < 3 {
		t.Fatalf("only %d rests in 12 rounds: the test did not cross the rest point", rests)
	}
}

// TestRestingSessionWakesOnResize: a resize repaints at the new size.
func TestRestingSessionWakesOnResize(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := restingTerminal(t, p, 24, 80)
	term.out.Mark()
	if err := term.out.Resize(120, 30); err != nil {
		t.Fatal(err)
	}
	term.waitFor("Reset a forgotten password", wait)
	// The frame fills the window: its help bar is on the last row.
	deadline := time.Now().Add(wait)
	for {
		rows, _ := maxExtent(term.out.RawSince())
		if rows == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a resize to 30 rows the repaint reaches row %d", rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitStats(t, p, "the session to rest at the new size", resting)
}

// TestRestingSessionHearsShutdown: a session at rest still shows the
// restart notice, and the drain ends when its person leaves.
func TestRestingSessionHearsShutdown(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := restingTerminal(t, p, 24, 100)
	term.out.Mark()
	shut := make(chan error, 1)
	go func() { shut <- p.srv.Shutdown(context.Background(), 20*time.Second) }()
	term.waitFor("The portal is restarting", wait)
	// The notice is on screen; the session may rest again and still end
	// at the first key.
	waitStats(t, p, "the session to rest with the notice shown", resting)
	term.leave()
	waitShutdown(t, shut)
	<-p.served
	p.served <- nil
}

// TestClosedChannelEndsSession: a client that closes its session channel,
// or only its input, but keeps the connection, ends the session: nothing
// is left running for a screen nobody can use.
func TestClosedChannelEndsSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(*terminal) error
	}{
		{"channel", func(term *terminal) error { return term.sess.Close() }},
		{"input", func(term *terminal) error { return term.in.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := startPortal(t, h, nil)
			before := settleGoroutines(0, time.Second)
			c := dial(t, p.addr)
			term := openTerminal(t, c, 24, 80)
			term.waitFor("Reset a forgotten password", wait)
			term.send("1")
			term.waitFor("Enter your username", wait)
			if err := tc.close(term); err != nil {
				t.Fatal(err)
			}
			waitStats(t, p, "the session to end", func(st portal.Stats) bool { return st.Open == 0 })
			// The connection stays open, with nothing of the session left.
			if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
				t.Fatalf("the connection was closed too: %v", err)
			}
			c.Close()
			if n := settleGoroutines(before, 10*time.Second); n > before {
				t.Fatalf("%d goroutines after the session ended; %d before:\n%s", n, before, goroutineDump())
			}
		})
	}
}

// syncBuffer is a log destination safe for the portal's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) raw() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogSaysHowSessionsEnded: one line per session with the remote
// address and how it ended, and nothing the person typed.
func TestLogSaysHowSessionsEnded(t *testing.T) {
	h := newHarness(t)
	logs := &syncBuffer{}
	p := startPortal(t, h, func(o *portal.Options) { o.Logger = log.New(logs) })

	// Refused: a command.
	if sess, err := dial(t, p.addr).NewSession(); err != nil {
		t.Fatal(err)
	} else {
		_, _ = sess.CombinedOutput("id")
	}
	// Refused: no terminal.
	if sess, err := dial(t, p.addr).NewSession(); err != nil {
		t.Fatal(err)
	} else {
		_ = sess.Shell()
		_ = sess.Wait()
	}
	// Left with ctrl+c after typing a secret-looking name, having rested.
	term := restingTerminal(t, p, 24, 80)
	term.send("1")
	term.waitFor("Enter your username", wait)
	term.typeText("hunter2secret")
	term.send("\x03")
	term.ended(wait)
	// Closed its input.
	term = openTerminal(t, dial(t, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	_ = term.in.Close()
	term.ended(wait)

	want := []string{`outcome="refused: command"`, `outcome="refused: no terminal"`, "outcome=left rests=1",
		`outcome="input closed"`}
	deadline := time.Now().Add(wait)
	for {
		got := logs.raw()
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
			}
		}
		if missing == "" {
			if strings.Contains(got, "hunter2") {
				t.Fatalf("the log holds what was typed:\n%s", got)
			}
			if n := strings.Count(got, "remote=127.0.0.1:"); n != 4 {
				t.Fatalf("%d session lines with a remote address; want 4:\n%s", n, got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %s:\n%s", missing, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowTerminalDoesNotWakeForever: every program asks the terminal for
// its background colour. Over a link slower than the rest delay and the
// grace for recent input together, the answer arrives after the rest and
// wakes the session, whose new program asks again. The delay doubles with
// every rest, so this settles in a few rounds.
func TestSlowTerminalDoesNotWakeForever(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.RestAfter = 20 * time.Millisecond })
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	const query, answer, lag = "\x1b]11;?", "\x1b]11;rgb:0000/0000/0000\x07", 400 * time.Millisecond
	var mu sync.Mutex
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		asked := 0
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			for n := strings.Count(term.out.Raw(), query); asked < n; asked++ {
				time.AfterFunc(lag, func() {
					mu.Lock()
					defer mu.Unlock()
					_, _ = io.WriteString(term.in, answer)
				})
			}
		}
	}()
	term.waitFor("Reset a forgotten password", wait)
	time.Sleep(3 * time.Second)
	first := p.srv.Stats().Rests
	time.Sleep(2 * time.Second)
	if st := p.srv.Stats(); st.Rests != first || !resting(st) {
		t.Fatalf("still waking after 3s: %d rests by then, %d two seconds later (%+v)", first, st.Rests, st)
	}
	if first > 8 {
		t.Fatalf("%d rests before it settled", first)
	}
	t.Logf("settled after %d rests", first)
	// And the session still answers a key.
	term.send("1")
	term.waitFor("Enter your username", wait)
}

// TestHugePasteRefusedOverSSH: a 100 kB paste is refused at once with a
// notice, and the field still works after it.
func TestHugePasteRefusedOverSSH(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	term.toUsername()
	start := time.Now()
	term.send("\x1b[200~" + strings.Repeat("a", 100_000) + "\x1b[201~")
	term.waitFor("That paste is too long", wait)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the refusal took %s", d)
	}
	term.typeText("alice")
	term.send("\r")
	term.waitFor("Email me a code", wait)
}

// TestKeyFloodDroppedOverSSH: a megabyte of keys poured into a session is
// read and dropped as it comes instead of queued: the flood costs little,
// and the key the person presses after it is handled at once, not after
// the backlog (which at the input rate would take over half an hour).
func TestKeyFloodDroppedOverSSH(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)

	cpuBefore, haveCPU := cpuTime()
	start := time.Now()
	if _, err := term.in.Write(bytes.Repeat([]byte("z"), 1<<20)); err != nil {
		t.Fatalf("flood: %v", err)
	}
	sent := time.Since(start)

	// The person stops and presses a key, and again every half second
	// until the screen answers: the server may still be reading the flood
	// (slowly, under the race detector), and a key in the middle of it is
	// dropped with it.
	term.out.Mark()
	giveUp := time.After(2 * wait)
	press := time.NewTicker(500 * time.Millisecond)
	defer press.Stop()
	for !term.out.Contains("Enter your username") {
		select {
		case <-press.C:
			if _, err := io.WriteString(term.in, "1"); err != nil {
				t.Fatalf("typing: %v", err)
			}
		case <-term.out.Changed():
		case <-giveUp:
			t.Fatalf("%s after the flood, the screen has not answered a key", time.Since(start))
		}
	}
	t.Logf("1 MiB sent in %s; a key answered %s after the flood began", sent.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
	if cpuAfter, ok := cpuTime(); ok && haveCPU {
		// Handled key by key, 1 MiB would cost over a minute of CPU (and
		// several under the race detector); read and dropped, it costs the
		// burst and the encryption: well under a second, a few seconds
		// under the race detector.
		cpu := cpuAfter - cpuBefore
		t.Logf("CPU for the flood and the key, client and server: %s", cpu.Round(time.Millisecond))
		if cpu > 30*time.Second {
			t.Fatalf("the flood cost %s of CPU", cpu)
		}
	}
}

// TestResizeFloodCoalesced: thousands of window changes a second reach the
// screen a few times a second, and the last size wins.
func TestResizeFloodCoalesced(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.RestAfter = 0 })
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	term.out.Mark()
	start := time.Now()
	n := 0
	for ; time.Since(start) < time.Second; n++ {
		if err := term.out.Resize(60+n%100, 20+n%20); err != nil {
			t.Fatal(err)
		}
	}
	if err := term.out.Resize(100, 30); err != nil {
		t.Fatal(err)
	}
	// The frame fills the window it was last told of: its help bar is on
	// row 30. The screen says so; the last cursor move says so too unless
	// a later redraw touched only rows above (the banner taking the
	// palette the terminal reported), so either will do.
	deadline := time.Now().Add(wait)
	for helpBarRow(term.out.Screen()) != 30 && lastRowDrawn(term.out.RawSince()) != 30 {
		if time.Now().After(deadline) {
			t.Fatalf("the last size did not win: last row drawn %d, help bar on row %d:\n%s",
				lastRowDrawn(term.out.RawSince()), helpBarRow(term.out.Screen()), term.out.Screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Each redraw at a new size repaints the screen (about 1–3 kB); one per
	// window change would be megabytes.
	if got := len(term.out.RawSince()); got > 200_000 {
		t.Fatalf("%d window changes drew %d bytes", n, got)
	}
	t.Logf("%d window changes drew %d bytes", n, len(term.out.RawSince()))
}

// helpBarRow is the row (from 1) of the last line of screen that holds the
// help bar's quit key, or 0.
func helpBarRow(screen string) int {
	lines := strings.Split(screen, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "ctrl+c quit") {
			return i + 1
		}
	}
	return 0
}

// lastRowDrawn is the row of the last absolute cursor move in raw.
func lastRowDrawn(raw string) int {
	m := csiPosition.FindAllStringSubmatch(raw, -1)
	for i := len(m) - 1; i >= 0; i-- {
		if m[i][3] == "H" || m[i][3] == "f" {
			row := 0
			for _, c := range m[i][1] {
				row = row*10 + int(c-'0')
			}
			return row
		}
	}
	return 0
}
