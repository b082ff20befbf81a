package main

// End to end: the built binary serves the demo over SSH, and the OpenSSH
// client, under a real PTY, walks a reset through it. TestMain (cli_test.go)
// builds the binary.

import (
	"bufio"
	"bytes"
	"database/sql"
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

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
	_ "modernc.org/sqlite"
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
	p := &portalProcess{cmd: cmd, addr: addr, port: port, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.exited <- cmd.Wait()
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
// no keys, no agent.
func (p *portalProcess) sshArgs(extra ...string) []string {
	return append([]string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentityAgent=none", "-o", "ConnectTimeout=10",
		"-p", fmt.Sprint(p.port), "reset@127.0.0.1"}, extra...)
}

// ptyClient is `ssh -tt` running under a PTY of our own.
type ptyClient struct {
	t    *testing.T
	tty  *os.File
	out  *lockedBuffer
	mark int
	done chan error
}

func startPTYClient(t *testing.T, sshPath string, args []string) *ptyClient {
	t.Helper()
	return startOn(t, append(cleanEnv(), "TERM=xterm-256color"), 30, 120, sshPath, args...)
}

func (c *ptyClient) since() string {
	s := c.out.String()
	return ansi.Strip(s[min(c.mark, len(s)):])
}

func squashSpace(s string) string { return strings.Join(strings.Fields(s), "") }

func (c *ptyClient) waitFor(text string) {
	c.t.Helper()
	want := squashSpace(text)
	deadline := time.Now().Add(e2eWait)
	for !strings.Contains(squashSpace(c.since()), want) {
		if time.Now().After(deadline) {
			c.t.Fatalf("waited for %q; the screen since the last key shows:\n%s", text, c.since())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *ptyClient) send(keys string) {
	c.t.Helper()
	c.mark = c.out.Len()
	if _, err := io.WriteString(c.tty, keys); err != nil {
		c.t.Fatal(err)
	}
}

func (c *ptyClient) typeText(text string) {
	c.t.Helper()
	c.mark = c.out.Len()
	for _, r := range text {
		if _, err := io.WriteString(c.tty, string(r)); err != nil {
			c.t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var eightDigits = regexp.MustCompile(`\b\d{8}\b`)

// outboxCode reads the newest 8-digit code sent to an address from the
// demo's outbox table.
func outboxCode(t *testing.T, dbPath, to string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT body FROM outbox WHERE destination = ? ORDER BY id DESC`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		if code := eightDigits.FindString(body); code != "" {
			return code
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no code in the outbox for %s", to)
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
		c := startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
		c.waitFor("Reset a forgotten password")
		c.send("1")
		c.waitFor("Enter your username")
		c.typeText("alice")
		c.send("\r")
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
		db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "sspr.db")+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM audit WHERE event = 'password.reset' AND target = 'alice'
			AND source = 'ssh:127.0.0.1'`).Scan(&n); err != nil {
			t.Fatal(err)
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
	c.mark = c.out.Len()
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
	c.mark = c.out.Len()
	c.send("1")
	c.waitFor("Enter your username")
	c.send("\x03")
	select {
	case <-c.done:
	case <-time.After(e2eWait):
		t.Fatal("ssh did not exit after ctrl+c")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("sspr serve exited with %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(e2eWait):
		t.Fatalf("sspr serve did not exit after SIGTERM; stderr:\n%s", p.stderr)
	}
	log := p.stderr.String()
	if !regexp.MustCompile(`session remote=127\.0\.0\.1:\d+ duration=\S+ outcome=left rests=[1-9]`).MatchString(log) {
		t.Fatalf("the log does not show a session that rested and was left:\n%s", log)
	}
}
