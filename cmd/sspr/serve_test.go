package main

// End to end: the built binary serves the demo over SSH, and the OpenSSH
// client, under a real PTY, walks a reset through it. TestMain (cli_test.go)
// builds the binary.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/tui/termtest"
)

const (
	e2eWait           = 15 * time.Second
	msgNoCommandsLine = "sspr runs no commands: connect with ssh -t and no command"
)

// sshClient returns the OpenSSH client, or skips the test without one
// (unless SSPR_REQUIRE_INTEGRATION=1, as in CI, where that is a failure).
func sshClient(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("SSPR_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("the OpenSSH client is required: %v", err)
		}
		t.Skip("no OpenSSH client (apt-get install openssh-client)")
	}
	return path
}

// freePort returns a loopback port nobody listens on, for now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer is a bytes.Buffer safe for one writer and many readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// portalProcess is `sspr demo --listen` running in the background.
type portalProcess struct {
	cmd     *exec.Cmd
	addr    string
	port    int
	hostKey string
	stderr  *lockedBuffer
	exited  chan error
	// done is closed once the process has been waited for, whoever took
	// its exit from exited.
	done chan struct{}
}

// startDemoPortal starts the demo on a fresh data folder and waits until it
// listens.
func startDemoPortal(t *testing.T, data string) *portalProcess {
	t.Helper()
	return startPortalProcess(t, cleanEnv(), "demo", "--data", data)
}

// startPortalProcess starts the binary with args and --listen on a free
// port, and waits until it prints its address and host key.
func startPortalProcess(t *testing.T, env []string, args ...string) *portalProcess {
	t.Helper()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(binary, append(args, "--listen", addr)...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &portalProcess{cmd: cmd, addr: addr, port: port, stderr: &lockedBuffer{}, exited: make(chan error, 1),
		done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill fails harmlessly on a process that has ended; ProcessState is
	// not read here, as Wait writes it in another goroutine.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.exited <- cmd.Wait()
		close(p.done)
	}()
	deadline := time.After(60 * time.Second)
	for p.hostKey == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("sspr %s exited before listening; stderr:\n%s", args[0], p.stderr)
			}
			if rest, ok := strings.CutPrefix(line, "listening on "); ok && rest != addr {
				t.Errorf("printed %q; want listening on %s", line, addr)
			}
			if rest, ok := strings.CutPrefix(line, "host key "); ok {
				p.hostKey = rest
			}
		case <-deadline:
			t.Fatalf("sspr %s did not print its address and host key; stderr:\n%s", args[0], p.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

// sshArgs are the options of a throwaway client: no config, no known hosts,
// no keys, no agent, no password prompt. It gets in as people without a key
// do, by keyboard-interactive with no question (BatchMode would turn that
// off too).
func (p *portalProcess) sshArgs(extra ...string) []string {
	return p.sshArgsWith([]string{"-o", "PubkeyAuthentication=no"}, extra...)
}

// sshArgsWith is sshArgs with options of its own, such as a key to use.
func (p *portalProcess) sshArgsWith(opts []string, extra ...string) []string {
	args := append([]string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=yes",
		"-o", "IdentityAgent=none", "-o", "ConnectTimeout=10"}, opts...)
	return append(append(args, "-p", fmt.Sprint(p.port), "reset@127.0.0.1"), extra...)
}

// stop sends SIGTERM and waits for the process to exit 0.
func (p *portalProcess) stop(t *testing.T) {
	t.Helper()
	p.signalAndWait(t, syscall.SIGTERM)
}

// signalAndWait sends sig and waits for the process to exit 0.
func (p *portalProcess) signalAndWait(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("sspr exited with %v after %v; stderr:\n%s", err, sig, p.stderr)
		}
	case <-time.After(e2eWait):
		t.Fatalf("sspr did not exit after %v; stderr:\n%s", sig, p.stderr)
	}
}

// startReset connects with OpenSSH, starts a reset and enters username.
func (p *portalProcess) startReset(t *testing.T, sshPath, username string) *ptyClient {
	t.Helper()
	c := startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
	c.waitFor("Reset a forgotten password")
	c.send("1")
	c.waitFor("Enter your username")
	c.typeText(username)
	c.send("\r")
	return c
}

// ptyClient is a program (`ssh -tt`, the kiosk, the demo) running under a
// PTY of our own, its screen read through a terminal emulator.
type ptyClient struct {
	t    *testing.T
	term *termtest.Terminal
	done chan error
}

func startPTYClient(t *testing.T, sshPath string, args []string) *ptyClient {
	t.Helper()
	return startOn(t, append(cleanEnv(), "TERM=xterm-256color"), 30, 120, sshPath, args...)
}

// quit ends the session with ctrl+c and waits for ssh to exit.
func (c *ptyClient) quit() {
	c.t.Helper()
	c.send("\x03")
	select {
	case <-c.done:
	case <-time.After(e2eWait):
		c.t.Fatal("ssh did not exit after ctrl+c")
	}
}

func squashSpace(s string) string { return strings.Join(strings.Fields(s), "") }

// waitFor waits until the screen shows text.
func (c *ptyClient) waitFor(text string) {
	c.t.Helper()
	if err := c.term.WaitFor(e2eWait, text); err != nil {
		c.t.Fatal(err)
	}
}

func (c *ptyClient) send(keys string) {
	c.t.Helper()
	if err := c.term.Send(keys); err != nil {
		c.t.Fatal(err)
	}
}

func (c *ptyClient) typeText(text string) {
	c.t.Helper()
	if err := c.term.Type(text, 2*time.Millisecond); err != nil {
		c.t.Fatal(err)
	}
}

var eightDigits = regexp.MustCompile(`\b\d{8}\b`)

// outboxCode reads the newest 8-digit code sent to an address from the
// demo's outbox.
func outboxCode(t *testing.T, dbPath, to string) string {
	t.Helper()
	code := outboxCodeOrEmpty(t, dbPath, to)
	if code == "" {
		t.Fatalf("no code in the outbox for %s", to)
	}
	return code
}

// outboxCodeOrEmpty is outboxCode for a code that may not be there yet.
func outboxCodeOrEmpty(t *testing.T, dbPath, to string) string {
	t.Helper()
	db, err := store.OpenReadOnly(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msgs, err := store.OutboxTo(context.Background(), db, to)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if code := eightDigits.FindString(m.Body); code != "" {
			return code
		}
	}
	return ""
}

func TestServeOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	data := filepath.Join(t.TempDir(), "d")
	p := startDemoPortal(t, data)

	// The printed fingerprint is the host key's, kept 0600 in the data folder.
	keyPath := filepath.Join(data, "ssh_host_ed25519")
	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v; want 0600", st.Mode().Perm())
	}
	pem, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	if fp := gossh.FingerprintSHA256(signer.PublicKey()); fp != p.hostKey {
		t.Errorf("printed host key %s; the key file's is %s", p.hostKey, fp)
	}

	t.Run("reset", func(t *testing.T) {
		c := p.startReset(t, sshPath, "alice")
		c.waitFor("Email me a code")
		c.send("\r")
		c.waitFor("We sent a code to")
		code := outboxCode(t, filepath.Join(data, "sspr.db"), "alice@example.com")
		c.typeText(code)
		c.send("\r")
		c.waitFor("Type it again")
		const pw = "Saffron kettle orbit 71 pines"
		c.typeText(pw)
		c.send("\r")
		c.typeText(pw)
		c.waitFor("Both entries match")
		time.Sleep(200 * time.Millisecond)
		c.send("\r")
		c.waitFor("Your password has been changed")

		// ctrl+c ends the session; ssh exits 0.
		c.send("\x03")
		select {
		case err := <-c.done:
			if err != nil {
				t.Fatalf("ssh exited with %v", err)
			}
		case <-time.After(e2eWait):
			t.Fatal("ssh did not exit after ctrl+c")
		}

		// The reset is in the audit log, from the client's address.
		db, err := store.OpenReadOnly(filepath.Join(data, "sspr.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := store.ListAudit(context.Background(), db, store.AuditFilter{Events: []string{"password.reset"},
			Target: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rows {
			if r.Source == "ssh:127.0.0.1" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d password.reset rows for alice from ssh:127.0.0.1; want 1", n)
		}
	})

	t.Run("command refused", func(t *testing.T) {
		cmd := exec.Command(sshPath, p.sshArgs("ls")...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); got != msgNoCommandsLine {
			t.Fatalf("ssh … ls printed %q; want %q", got, msgNoCommandsLine)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("ssh … ls: %v; want exit status 1", err)
		}
	})

	// SIGTERM drains: a connected person is told, and once they leave the
	// server exits 0.
	c := startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
	c.waitFor("Reset a forgotten password")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitFor("The portal is restarting")
	select {
	case err := <-p.exited:
		t.Fatalf("sspr demo exited (%v) with a session still open", err)
	case <-time.After(300 * time.Millisecond):
	}
	c.send("\x03")
	select {
	case <-c.done:
	case <-time.After(e2eWait):
		t.Fatal("ssh did not exit after ctrl+c")
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("sspr demo exited with %v after SIGTERM; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("sspr demo did not exit after SIGTERM; stderr:\n%s", p.stderr)
	}
	if strings.Contains(p.stderr.String(), alicePasswordLeak) {
		t.Fatal("the server log holds a password")
	}
}

// alicePasswordLeak is the new password typed above: it must never reach a log.
const alicePasswordLeak = "Saffron kettle orbit"

// TestServeRestsOverOpenSSH: `sspr serve` lets a session on the welcome
// screen rest, and the next key from a real OpenSSH client wakes it.
func TestServeRestsOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	data := filepath.Join(t.TempDir(), "d")
	p := startPortalProcess(t, cleanEnv("SSPR_SSH_REST_AFTER=100ms"), "serve", "--data", data)

	c := startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
	c.waitFor("Reset a forgotten password")
	// The rest check runs 100 ms after the last message, or after the
	// 250 ms grace for input (the terminal's answers), whichever is later.
	time.Sleep(time.Second)
	c.send("1")
	c.waitFor("Enter your username")
	c.quit()
	p.stop(t)
	log := p.stderr.String()
	if !regexp.MustCompile(`session remote=127\.0\.0\.1:\d+ duration=\S+ outcome=left rests=[1-9]`).MatchString(log) {
		t.Fatalf("the log does not show a session that rested and was left:\n%s", log)
	}
}

// sshN is `ssh -N` with keepalives every second: it authenticates and asks
// for no session.
type sshN struct {
	cmd    *exec.Cmd
	exited chan error
}

// startSSHN starts ssh -N from the loopback address src (empty: any) and
// waits until it has authenticated or ended; it reports which.
func startSSHN(t *testing.T, sshPath string, p *portalProcess, src string) (*sshN, bool) {
	t.Helper()
	// ssh keeps the first value it gets for an option: these come before
	// sshArgs' LogLevel=ERROR, and VERBOSE says when it has authenticated.
	args := []string{"-N", "-o", "LogLevel=VERBOSE", "-o", "ServerAliveInterval=1"}
	if src != "" {
		args = append(args, "-b", src)
	}
	cmd := exec.Command(sshPath, append(args, p.sshArgs()...)...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &sshN{cmd: cmd, exited: make(chan error, 1)}
	authenticated := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			if !said && strings.HasPrefix(sc.Text(), "Authenticated to ") {
				said = true
				authenticated <- true
			}
		}
		if !said {
			authenticated <- false
		}
		c.exited <- cmd.Wait()
	}()
	// Kill fails harmlessly on a process that has ended; ProcessState is
	// not read here, as Wait writes it in another goroutine.
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case ok := <-authenticated:
		return c, ok
	case <-time.After(e2eWait):
		t.Fatal("ssh -N neither authenticated nor ended")
		return nil, false
	}
}

// silentFrom opens a TCP connection to the portal from src that never
// speaks, and says whether the portal kept it (it sent its version line)
// or closed it.
func silentFrom(t *testing.T, p *portalProcess, src string) bool {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", p.addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetReadDeadline(time.Now().Add(e2eWait))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the portal neither answered nor closed a connection from %s", src)
		}
		return false
	}
	return string(buf) == "SSH-"
}

// TestServeDoorOverOpenSSH: one address holds what it can of `sspr serve`,
// with OpenSSH clients that authenticate and ask for no session (ssh -N,
// with keepalives) and with silent TCP connections, and a person at
// another address still reaches the welcome screen. The log says why the
// first address was turned away.
func TestServeDoorOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	data := filepath.Join(t.TempDir(), "d")
	p := startPortalProcess(t, cleanEnv("SSPR_SSH_MAX_UNAUTHENTICATED=8", "SSPR_SSH_MAX_CONNECTIONS=16",
		"SSPR_SSH_MAX_HANDSHAKES_PER_ADDRESS=3", "SSPR_SSH_MAX_CONNECTIONS_PER_ADDRESS=5",
		"SSPR_SSH_HANDSHAKE_TIMEOUT=5m", "SSPR_SSH_SESSION_REQUEST_TIMEOUT=5m"), "serve", "--data", data)
	const attacker = "127.0.0.2"
	held := 0
	for range 3 {
		if _, ok := startSSHN(t, sshPath, p, attacker); ok {
			held++
		}
	}
	silent := 0
	for range 10 {
		if silentFrom(t, p, attacker) {
			silent++
		}
	}
	for range 7 {
		if _, ok := startSSHN(t, sshPath, p, attacker); ok {
			held++
		}
	}
	t.Logf("%s holds %d of 10 ssh -N and %d of 10 silent connections", attacker, held, silent)

	c := startPTYClient(t, sshPath, append([]string{"-tt", "-b", "127.0.0.3"}, p.sshArgs()...))
	c.waitFor("Reset a forgotten password")
	c.send("1")
	c.waitFor("Enter your username")

	// Three ssh -N and two silent connections fill the address's five
	// places; the rest were turned away.
	if held != 3 || silent != 2 {
		t.Errorf("one address holds %d ssh -N and %d silent connections; want 3 and 2 (the cap is 5 in all)",
			held, silent)
	}
	deadline := time.Now().Add(e2eWait)
	want := `refused address=127.0.0.2 reason="per-address connection cap"`
	for !strings.Contains(squashSpace(p.stderr.String()), squashSpace(want)) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say %s:\n%s", want, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(p.stderr.String(), "refused address=127.0.0.2"); n != 1 {
		t.Errorf("%d refusal lines for one address within a minute; want 1:\n%s", n, p.stderr)
	}
}

// TestServeKeepalivesAreNotActivityOverOpenSSH: `ssh -N` with keepalives
// every second is closed at the session-request deadline, and a terminal
// session whose client sends only keepalives at the idle timeout.
func TestServeKeepalivesAreNotActivityOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	data := filepath.Join(t.TempDir(), "d")
	p := startPortalProcess(t, cleanEnv("SSPR_SSH_SESSION_REQUEST_TIMEOUT=2s", "SSPR_SSH_IDLE_TIMEOUT=10s"),
		"serve", "--data", data)
	start := time.Now()
	quiet, ok := startSSHN(t, sshPath, p, "")
	if !ok {
		t.Fatalf("ssh -N did not authenticate; server log:\n%s", p.stderr)
	}
	idle := startPTYClient(t, sshPath, append([]string{"-tt", "-o", "ServerAliveInterval=1"}, p.sshArgs()...))
	idle.waitFor("Reset a forgotten password")

	select {
	case <-quiet.exited:
		if d := time.Since(start); d < 2*time.Second {
			t.Fatalf("ssh -N was closed after %s, before the 2s deadline", d)
		}
	case <-time.After(e2eWait):
		t.Fatalf("ssh -N with keepalives is open after %s; the deadline is 2s", time.Since(start))
	}
	select {
	case <-idle.done:
		if d := time.Since(start); d < 10*time.Second {
			t.Fatalf("the idle session was closed after %s, before the 10s idle timeout", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("a session sending only keepalives is open after %s; the idle timeout is 10s", time.Since(start))
	}
	if !strings.Contains(p.stderr.String(), `reason="session-request timeout"`) {
		t.Fatalf("the log does not say why ssh -N was closed:\n%s", p.stderr)
	}
}

// TestDemoRemovesItsFolderOnSIGHUP: the demo's throwaway folder holds a
// store and a key file; a hang-up (a closed terminal, a dropped SSH login)
// removes it as SIGTERM does.
func TestDemoRemovesItsFolderOnSIGHUP(t *testing.T) {
	tmp := t.TempDir()
	p := startPortalProcess(t, cleanEnv("TMPDIR="+tmp), "demo")
	folders, err := filepath.Glob(filepath.Join(tmp, "sspr-demo-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(folders) != 1 {
		t.Fatalf("the demo made %d folders in TMPDIR (%v); want 1", len(folders), folders)
	}
	for _, name := range []string{"sspr.db", "sspr.key"} {
		if _, err := os.Stat(filepath.Join(folders[0], name)); err != nil {
			t.Fatalf("the demo folder has no %s: %v", name, err)
		}
	}
	p.signalAndWait(t, syscall.SIGHUP)
	if _, err := os.Stat(folders[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after SIGHUP the demo folder %s is still there (%v)", folders[0], err)
	}
}
