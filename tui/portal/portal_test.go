package portal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/portal"
	"github.com/sspr-kiosk/sspr/tui/termtest"
)

// The one-line messages a refused client reads (copied, not imported, so a
// change to them is a visible change to these tests).
const (
	msgNeedPTY    = "sspr needs a terminal: connect with ssh -t"
	msgNoCommands = "sspr runs no commands: connect with ssh -t and no command"
	msgBusy       = "sspr is busy, try again in a minute"
)

const newPassword = "Tangerine velvet harbour 93 lamps"

// newHarness is a real flows.Service on a temporary SQLite file, on the real
// clock (the portal's timers are real), with alice, who has a verified email
// address.
func newHarness(t testing.TB) *flowstest.Harness {
	t.Helper()
	h := flowstest.New(t, flowstest.Options{Clock: clock.Real{}})
	h.AddUser(t, "alice", false)
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	return h
}

// portalServer is a running portal on a loopback port.
type portalServer struct {
	srv     *portal.Server
	addr    string
	keyPath string
	served  chan error
}

func defaultSSH() config.SSH {
	return config.SSH{Listen: "127.0.0.1:0", MaxConnections: 20, MaxUnauthenticated: 10,
		HandshakeTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxSessionTime: 2 * time.Minute,
		ShutdownGrace: 5 * time.Second, MaxWidth: 300, MaxHeight: 100,
		// Sessions rest between most steps of every test, as they would
		// between a person's keys.
		RestAfter: 50 * time.Millisecond}
}

func startPortal(t testing.TB, h *flowstest.Harness, tune func(*portal.Options)) *portalServer {
	t.Helper()
	opts := portal.Options{SSH: defaultSSH(), HostKeyPath: filepath.Join(t.TempDir(), "ssh_host_ed25519"),
		Service: h.Svc, Mode: tui.ModeSSH, DoneTimeout: time.Minute, RatePerSecond: 100, RateBurst: 100}
	if tune != nil {
		tune(&opts)
	}
	return serveOn(t, opts)
}

func serveOn(t testing.TB, opts portal.Options) *portalServer {
	t.Helper()
	srv, err := portal.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &portalServer{srv: srv, addr: l.Addr().String(), keyPath: opts.HostKeyPath, served: make(chan error, 1)}
	go func() { p.served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case err := <-p.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return p
}

// dial connects without authenticating, as anyone may.
func dial(t testing.TB, addr string) *gossh.Client {
	t.Helper()
	c, err := dialErr(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func dialErr(addr string) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            "reset",
		Auth:            portal.Anyone(),
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	})
}

// terminal is an interactive PTY session, its output read through a
// terminal emulator.
type terminal struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	out    *termtest.Terminal
	done   chan error
}

var ptyModes = gossh.TerminalModes{gossh.ECHO: 0, gossh.TTY_OP_ISPEED: 38400, gossh.TTY_OP_OSPEED: 38400}

// The emulated screen is no larger than the portal clamps a window to:
// tests that ask for a huge window must not build a screen of that size.
const maxScreenRows, maxScreenCols = 100, 300

// openTerminal opens a session with an xterm PTY of the given size and a
// shell.
func openTerminal(t testing.TB, c *gossh.Client, rows, cols int) *terminal {
	t.Helper()
	return openTerminalAs(t, c, "xterm-256color", rows, cols)
}

// openTerminalAs opens a session with a PTY of terminal type termType and
// the given size, and a shell.
func openTerminalAs(t testing.TB, c *gossh.Client, termType string, rows, cols int) *terminal {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := termtest.New(min(cols, maxScreenCols), min(rows, maxScreenRows), termtest.WithInput(in),
		termtest.WithResize(func(cols, rows int) error { return sess.WindowChange(rows, cols) }))
	sess.Stdout, sess.Stderr = out, out
	if err := sess.RequestPty(termType, rows, cols, ptyModes); err != nil {
		t.Fatalf("pty: %v", err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	term := &terminal{t: t, client: c, sess: sess, in: in, out: out, done: make(chan error, 1)}
	go func() {
		err := sess.Wait()
		_ = out.Close()
		term.done <- err
	}()
	return term
}

// waitFor waits until the screen shows text.
func (term *terminal) waitFor(text string, timeout time.Duration) {
	term.t.Helper()
	if err := term.out.WaitFor(timeout, text); err != nil {
		term.t.Fatal(err)
	}
}

// send marks the output and types keys.
func (term *terminal) send(keys string) {
	term.t.Helper()
	term.out.Mark()
	if err := term.out.Send(keys); err != nil {
		term.t.Fatalf("typing: %v", err)
	}
}

// typeText types text a character at a time, as a person would, so no
// terminal mistakes it for a paste.
func (term *terminal) typeText(text string) {
	term.t.Helper()
	term.out.Mark()
	if err := term.out.Type(text, time.Millisecond); err != nil {
		term.t.Fatalf("typing: %v", err)
	}
}

// ended waits for the session to end and returns its exit error.
func (term *terminal) ended(timeout time.Duration) error {
	term.t.Helper()
	select {
	case err := <-term.done:
		return err
	case <-time.After(timeout):
		term.t.Fatalf("the session did not end within %s; it shows:\n%s", timeout, term.out.Screen())
		return nil
	}
}

const wait = 10 * time.Second

// leave ends the session with ctrl+c, as a person would, and hangs up.
func (term *terminal) leave() {
	term.t.Helper()
	term.send("\x03")
	if err := term.ended(wait); err != nil {
		term.t.Fatalf("session: %v", err)
	}
	term.client.Close()
}

// waitShutdown waits for a Shutdown running in the background to return
// without an error.
func waitShutdown(t testing.TB, shut <-chan error) {
	t.Helper()
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown did not return after the last client left")
	}
}

// toUsername waits for the welcome screen and opens the reset, leaving
// the session on the username screen.
func (term *terminal) toUsername() {
	term.t.Helper()
	term.waitFor("Reset a forgotten password", wait)
	term.send("1")
	term.waitFor("Enter your username", wait)
}

// walkToCode opens the reset for user and asks for an email code, leaving
// the session on the code entry screen.
func walkToCode(t testing.TB, term *terminal, user string) {
	t.Helper()
	term.toUsername()
	term.askCode(user)
}

// askCode enters user on the username screen and asks for an email code,
// leaving the session on the code entry screen.
func (term *terminal) askCode(user string) {
	term.t.Helper()
	term.typeText(user)
	term.send("\r")
	term.waitFor("Email me a code", wait)
	term.send("\r")
	term.waitFor("We sent a code to", wait)
}

// TestResetOverSSH walks a whole reset through a real SSH client with a PTY.
func TestResetOverSSH(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := openTerminal(t, dial(t, p.addr), 30, 100)

	walkToCode(t, term, "alice")
	code := h.Inbox.LastCode(t, "alice@example.com")
	term.typeText(code)
	term.send("\r")
	term.waitFor("Type it again", wait)
	term.typeText(newPassword)
	term.send("\r")
	term.typeText(newPassword)
	// The checklist shows both entries match once the second is typed.
	term.waitFor("Both entries match", wait)
	time.Sleep(100 * time.Millisecond) // let the rule evaluation land
	term.send("\r")
	term.waitFor("Your password has been changed", wait)

	// The new password works, the old one does not, and the reset is in the
	// audit log with the SSH client's address as its source.
	ctx := context.Background()
	if _, err := h.Svc.SignIn(ctx, "alice", newPassword, "test"); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	rows, err := store.ListAudit(ctx, h.DB, store.AuditFilter{Events: []string{string(audit.EventPasswordReset)}})
	if err != nil {
		t.Fatal(err)
	}
	n, source := len(rows), ""
	for _, r := range rows {
		source = max(source, r.Source)
	}
	if n != 1 || source != "ssh:127.0.0.1" {
		t.Fatalf("audit: %d password.reset rows, source %q; want 1 from ssh:127.0.0.1", n, source)
	}

	// ctrl+c ends the session cleanly.
	term.send("\x03")
	if err := term.ended(wait); err != nil {
		t.Fatalf("session ended with %v after ctrl+c", err)
	}
}

// exitStatus returns the exit status of a finished remote command or shell.
func exitStatus(err error) int {
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestNoPTYRefused(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	sess, err := dial(t, p.addr).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	sess.Stdout, sess.Stderr = &out, &out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	if got := strings.TrimSpace(out.raw()); got != msgNeedPTY {
		t.Fatalf("a shell without a PTY printed %q; want %q", got, msgNeedPTY)
	}
	if exitStatus(err) != 1 {
		t.Fatalf("exit: %v; want status 1", err)
	}
}

func TestExecRefused(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	c := dial(t, p.addr)
	for _, withPTY := range []bool{false, true} {
		t.Run(fmt.Sprintf("pty=%v", withPTY), func(t *testing.T) {
			// One session per connection: a fresh connection each time.
			if withPTY {
				c = dial(t, p.addr)
			}
			sess, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			if withPTY {
				if err := sess.RequestPty("xterm", 24, 80, ptyModes); err != nil {
					t.Fatal(err)
				}
			}
			out, err := sess.CombinedOutput("cat /etc/passwd")
			if got := strings.TrimSpace(string(out)); got != msgNoCommands {
				t.Fatalf("exec printed %q; want %q", got, msgNoCommands)
			}
			if exitStatus(err) != 1 {
				t.Fatalf("exit: %v; want status 1", err)
			}
		})
	}
}

func TestSubsystemRefused(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	sess, err := dial(t, p.addr).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	// RequestSubsystem starts no copying: read the channel directly.
	stderr, err := sess.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if err := sess.RequestSubsystem("sftp"); err != nil {
		// Refusing the request outright is as good as a message.
		return
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(stderr)
		got <- b
	}()
	select {
	case b := <-got:
		if s := strings.TrimSpace(string(b)); s != msgNoCommands {
			t.Fatalf("sftp printed %q; want %q", s, msgNoCommands)
		}
	case <-time.After(wait):
		t.Fatal("the sftp subsystem stayed open")
	}
}

func TestPortForwardingRefused(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	// A target the forward would reach if it were allowed.
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	c := dial(t, p.addr)

	if conn, err := c.Dial("tcp", target.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("direct-tcpip (ssh -L) was accepted")
	} else if !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("direct-tcpip: %v; want a rejected channel", err)
	}
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("tcpip-forward (ssh -R) was accepted")
	}
	// Refusals leave the connection usable for its one terminal session.
	term := openTerminal(t, c, 24, 80)
	term.waitFor("Reset a forgotten password", wait)
}

func TestAgentAndX11ForwardingRefused(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	c := dial(t, p.addr)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	ok, err := sess.SendRequest("auth-agent-req@openssh.com", true, nil)
	if err != nil || ok {
		t.Fatalf("agent forwarding: ok=%v err=%v; want refused", ok, err)
	}
	x11 := gossh.Marshal(struct {
		Single   bool
		Protocol string
		Cookie   string
		Screen   uint32
	}{false, "MIT-MAGIC-COOKIE-1", "0123456789abcdef0123456789abcdef", 0})
	ok, err = sess.SendRequest("x11-req", true, x11)
	if err != nil || ok {
		t.Fatalf("X11 forwarding: ok=%v err=%v; want refused", ok, err)
	}
	// No agent channel can be opened back either.
	sess.Close()
}

func TestSecondSessionRefused(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	c := dial(t, p.addr)
	term := openTerminal(t, c, 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	second, err := c.NewSession()
	if err == nil {
		second.Close()
		t.Fatal("a second session on one connection was accepted")
	}
	var oce *gossh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != gossh.Prohibited {
		t.Fatalf("second session: %v; want a prohibited channel", err)
	}
	// The first session carries on.
	term.send("1")
	term.waitFor("Enter your username", wait)
}

func TestHostKeyCreatedAndReused(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh_host_ed25519")
	opts := portal.Options{SSH: defaultSSH(), HostKeyPath: path, Service: h.Svc, Mode: tui.ModeSSH}
	first, err := portal.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("host key not created: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v; want 0600", st.Mode().Perm())
	}
	fp := first.HostKeyFingerprint()
	if !strings.HasPrefix(fp, "SHA256:") {
		t.Fatalf("fingerprint %q", fp)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte("PRIVATE KEY")) {
		t.Fatal("host key file holds no private key")
	}
	key, err := gossh.ParsePrivateKey(body)
	if err != nil {
		t.Fatal(err)
	}
	if key.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Fatalf("host key type %s; want ed25519", key.PublicKey().Type())
	}

	// A restart keeps the key; one made readable by others is tightened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	p := serveOn(t, opts)
	if got := p.srv.HostKeyFingerprint(); got != fp {
		t.Fatalf("fingerprint after restart %s; want %s", got, fp)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode after restart %v; want 0600", st.Mode().Perm())
	}
	// Clients see that key.
	var seen string
	c, err := gossh.Dial("tcp", p.addr, &gossh.ClientConfig{User: "reset", Timeout: 5 * time.Second, Auth: portal.Anyone(),
		HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
			seen = gossh.FingerprintSHA256(k)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if seen != fp {
		t.Fatalf("the server presented %s; want %s", seen, fp)
	}
}

// goroutineDump is every goroutine's stack, for a failure message.
func goroutineDump() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	return b.String()
}

// upstreamStuck marks the one goroutine the portal cannot end: Bubble
// Tea's terminal reader (ultraviolet's TerminalReader.sendEvents) sends
// the events it parsed on a channel without watching its context, so when
// a program ends with keys just parsed, its reader waits on that send for
// good. It is rare (a disconnect in the middle of typing) and not the
// portal's to fix; every other goroutine is counted.
const upstreamStuck = "ultraviolet.(*TerminalReader).sendEvents"

// countGoroutines counts the running goroutines but upstreamStuck ones.
func countGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.TrimSpace(g) != "" && !strings.Contains(g, upstreamStuck) {
			count++
		}
	}
	return count
}

// settleGoroutines polls until at most want goroutines run (upstreamStuck
// ones aside), or timeout.
func settleGoroutines(want int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := countGoroutines()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDisconnectMidFlowLeavesNoGoroutine(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	// One full session first, so anything started once per process (the
	// rate limiter's cache, lazy pools) is there before counting.
	warm := openTerminal(t, dial(t, p.addr), 24, 80)
	warm.waitFor("Reset a forgotten password", wait)
	warm.client.Close()
	before := settleGoroutines(0, 2*time.Second)

	for _, stage := range []string{"welcome", "code", "typing"} {
		c, err := dialErr(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		term := openTerminal(t, c, 24, 80)
		switch stage {
		case "welcome":
			term.waitFor("Reset a forgotten password", wait)
		case "code":
			walkToCode(t, term, "alice")
		case "typing":
			walkToCode(t, term, "alice")
			term.typeText("1234")
		}
		// The client vanishes without a word.
		_ = c.Close()
	}
	if n := settleGoroutines(before, 10*time.Second); n > before {
		t.Fatalf("%d goroutines after the clients left; %d before:\n%s", n, before, goroutineDump())
	}
}

func TestShutdownDrains(t *testing.T) {
	t.Run("client leaves", func(t *testing.T) {
		h := newHarness(t)
		p := startPortal(t, h, nil)
		term := openTerminal(t, dial(t, p.addr), 24, 100)
		term.waitFor("Reset a forgotten password", wait)
		term.out.Mark()

		const grace = 20 * time.Second
		start := time.Now()
		shut := make(chan error, 1)
		go func() { shut <- p.srv.Shutdown(context.Background(), grace) }()
		term.waitFor("The portal is restarting", wait)

		// New clients are turned away while draining.
		if c, err := dialErr(p.addr); err == nil {
			c.Close()
			t.Fatal("a new connection was accepted while draining")
		}
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned (%v) with a session still open", err)
		case <-time.After(200 * time.Millisecond):
		}
		// The person finishes and leaves; Shutdown returns at once.
		term.leave()
		waitShutdown(t, shut)
		if d := time.Since(start); d > grace/2 {
			t.Fatalf("Shutdown took %s; it should not wait out the grace period", d)
		}
		select {
		case err := <-p.served:
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			p.served <- nil // for the cleanup
		case <-time.After(wait):
			t.Fatal("Serve did not return after Shutdown")
		}
	})
	t.Run("grace period ends", func(t *testing.T) {
		h := newHarness(t)
		p := startPortal(t, h, nil)
		before := settleGoroutines(0, time.Second)
		term := openTerminal(t, dial(t, p.addr), 24, 100)
		walkToCode(t, term, "alice")
		term.out.Mark()

		const grace = 700 * time.Millisecond
		start := time.Now()
		shut := make(chan error, 1)
		go func() { shut <- p.srv.Shutdown(context.Background(), grace) }()
		term.waitFor("The portal is restarting", wait)
		select {
		case err := <-shut:
			if err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		case <-time.After(wait):
			t.Fatal("Shutdown did not return after the grace period")
		}
		if d := time.Since(start); d < grace {
			t.Fatalf("Shutdown returned after %s, before the grace period of %s", d, grace)
		}
		// It returned once every session it closed had ended.
		if st := p.srv.Stats(); st.Open != 0 {
			t.Fatalf("Shutdown returned with sessions still open: %+v", st)
		}
		// The lingering client was disconnected.
		term.ended(wait)
		term.client.Close()
		if n := settleGoroutines(before, 10*time.Second); n > before {
			t.Fatalf("%d goroutines after Shutdown; %d before:\n%s", n, before, goroutineDump())
		}
	})
}

func TestConnectionCap(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.MaxConnections = 2 })
	var held []*terminal
	for range 2 {
		term := openTerminal(t, dial(t, p.addr), 24, 80)
		term.waitFor("Reset a forgotten password", wait)
		held = append(held, term)
	}
	// The next client gets the busy line, whatever it asked for.
	c, err := dialErr(p.addr)
	if err != nil {
		t.Fatalf("over the cap, the connection should still be told why: %v", err)
	}
	defer c.Close()
	term := openTerminal(t, c, 24, 80)
	err = term.ended(wait)
	if got := strings.TrimSpace(ansi.Strip(term.out.Raw())); got != msgBusy {
		t.Fatalf("over the cap: %q; want %q", got, msgBusy)
	}
	if exitStatus(err) != 1 {
		t.Fatalf("exit: %v; want status 1", err)
	}
	c.Close()

	// When someone leaves, a new client gets in (once the server has noticed).
	held[0].client.Close()
	deadline := time.Now().Add(wait)
	for {
		c, err := dialErr(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		term := openTerminal(t, c, 24, 80)
		busy := false
		for !busy && !term.out.Contains("Reset a forgotten password") {
			select {
			case <-term.done:
				busy = true
			case <-time.After(10 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no screen: %q", term.out.Screen())
			}
		}
		c.Close()
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still busy after a client left")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHalfOpenConnectionsDoNotLockOut: connections that close before they
// open a session (port scanners, ssh-keyscan, failed handshakes) must not
// count against the limit of unauthenticated connections for ever.
func TestHalfOpenConnectionsDoNotLockOut(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.MaxUnauthenticated = 3 })
	for range 10 {
		// A handshake and then nothing: like ssh-keyscan. Over the limit
		// of connections waiting for a session, the server drops it at
		// once; it notices a close a moment after the client, so retry.
		deadline := time.Now().Add(wait)
		for {
			c, err := dialErr(p.addr)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after closed connections, a client cannot connect: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A TCP connect that never speaks SSH.
		raw, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		raw.Close()
	}
	deadline := time.Now().Add(wait)
	for {
		c, err := dialErr(p.addr)
		if err == nil {
			term := openTerminal(t, c, 24, 80)
			term.waitFor("Reset a forgotten password", wait)
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 half-open connections a real client cannot connect: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// csiPosition matches cursor positioning sequences: CUP (row;col H), CHA
// (col G), HPA (col `), VPA (row d).
var csiPosition = regexp.MustCompile(`\x1b\[(\d*)(?:;(\d*))?([HfG` + "`" + `d])`)

// maxExtent reads the largest row and column the output moves the cursor to.
func maxExtent(raw string) (rows, cols int) {
	for _, m := range csiPosition.FindAllStringSubmatch(raw, -1) {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		switch m[3] {
		case "H", "f":
			rows, cols = max(rows, a), max(cols, b)
		case "G", "`":
			cols = max(cols, a)
		case "d":
			rows = max(rows, a)
		}
	}
	return rows, cols
}

// longestRun is the widest run of text printed without a cursor move or a
// line break in between.
func longestRun(raw string) int {
	longest := 0
	for _, line := range regexp.MustCompile(`\r|\n|\x1b\[[0-9;?]*[A-HJKSTdfr@`+"`"+`]`).Split(raw, -1) {
		longest = max(longest, ansi.StringWidth(line))
	}
	return longest
}

func TestHugeWindowClamped(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	c := dial(t, p.addr)
	term := openTerminal(t, c, 100000, 100000)
	term.waitFor("Reset a forgotten password", wait)
	// A window change after the start is clamped too, even one Bubble Tea
	// itself would accept.
	for _, size := range [][2]int{{100000, 100000}, {1000, 4000}} {
		if err := term.sess.WindowChange(size[0], size[1]); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	term.send("1")
	term.waitFor("Enter your username", wait)
	term.typeText("alice")
	term.send("\r")
	term.waitFor("Email me a code", wait)

	raw := term.out.Raw()
	rows, cols := maxExtent(raw)
	if rows > 100 || cols > 300 {
		t.Fatalf("the output reaches row %d, column %d; want within 100×300", rows, cols)
	}
	if w := longestRun(raw); w > 300 {
		t.Fatalf("a line %d cells wide was drawn; want at most 300", w)
	}
	if len(raw) > 1<<20 {
		t.Fatalf("%d bytes for three screens", len(raw))
	}
}

// TestCtrlZDoesNotSuspend: ctrl+z is filtered, the session carries on.
func TestCtrlZDoesNotSuspend(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, nil)
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	term.send("\x1a")
	time.Sleep(100 * time.Millisecond)
	term.send("1")
	term.waitFor("Enter your username", wait)
}

// TestIdleTimeout: a session nobody types in is closed after the SSH idle
// timeout, even while its screen has a ticking countdown.
func TestIdleTimeout(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.IdleTimeout = 1500 * time.Millisecond })
	t.Run("welcome", func(t *testing.T) {
		term := openTerminal(t, dial(t, p.addr), 24, 80)
		term.waitFor("Reset a forgotten password", wait)
		start := time.Now()
		term.ended(wait)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("closed after %s idle; want about 1.5s", d)
		}
	})
	t.Run("keepalives", func(t *testing.T) {
		// Keepalives, on the connection and on the session, and window
		// changes are not keys.
		term := openTerminal(t, dial(t, p.addr), 24, 80)
		term.waitFor("Reset a forgotten password", wait)
		start := time.Now()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-term.done:
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("closed after %s of keepalives; want about 1.5s", d)
				}
				return
			case <-tick.C:
				_, _, _ = term.client.SendRequest("keepalive@openssh.com", true, nil)
				_, _ = term.sess.SendRequest("keepalive@openssh.com", true, nil)
				_ = term.sess.WindowChange(24+i%2, 80)
			}
			if time.Since(start) > wait {
				t.Fatal("a session sending only keepalives outlived the idle timeout")
			}
		}
	})
	t.Run("countdown", func(t *testing.T) {
		term := openTerminal(t, dial(t, p.addr), 24, 80)
		term.waitFor("Reset a forgotten password", wait)
		term.send("1")
		term.waitFor("Enter your username", wait)
		term.typeText("alice")
		term.send("\r")
		term.waitFor("Email me a code", wait)
		term.send("\r")
		term.waitFor("We sent a code to", wait)
		start := time.Now()
		term.ended(wait)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("closed after %s idle; want about 1.5s", d)
		}
	})
}

// TestMaxSessionTime: a session ends at the absolute limit, however busy.
func TestMaxSessionTime(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.MaxSessionTime = 2 * time.Second })
	start := time.Now()
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	for {
		select {
		case <-term.done:
			if d := time.Since(start); d < 2*time.Second || d > 6*time.Second {
				t.Fatalf("closed after %s; want about 2s", d)
			}
			return
		case <-time.After(200 * time.Millisecond):
			_, _ = io.WriteString(term.in, "j")
		}
		if time.Since(start) > wait {
			t.Fatal("the session outlived its maximum time")
		}
	}
}

// TestRateLimitPerAddress: one address gets RateBurst sessions in a burst;
// another address is not affected.
func TestRateLimitPerAddress(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.RatePerSecond, o.RateBurst = 0.01, 2 })
	from := func(src string) *terminal { return terminalFrom(t, src, p.addr) }
	for range 2 {
		from("127.0.0.1").waitFor("Reset a forgotten password", wait)
	}
	limited := from("127.0.0.1")
	if err := limited.ended(wait); exitStatus(err) != 1 {
		t.Fatalf("third session in a burst: %v; want refused with status 1", err)
	}
	if got := ansi.Strip(limited.out.Raw()); !strings.Contains(got, "rate limit") {
		t.Fatalf("third session in a burst printed %q", got)
	}
	from("127.0.0.2").waitFor("Reset a forgotten password", wait)
}
