package portal_test

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/tui/portal"
)

// dialFrom opens a TCP connection to addr from the loopback address src
// (127.0.0.2, 127.0.0.3, …: all of 127/8 is loopback on Linux). Where src
// cannot be bound the test is skipped, unless SSPR_REQUIRE_INTEGRATION=1.
func dialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" && strings.Contains(err.Error(), "bind") {
			if os.Getenv("SSPR_REQUIRE_INTEGRATION") == "1" {
				t.Fatalf("cannot bind %s: %v", src, err)
			}
			t.Skipf("cannot bind %s: %v", src, err)
		}
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// clientFrom authenticates to addr from src and opens nothing, like
// ssh -N; it fails when the portal turns the connection away.
func clientFrom(t testing.TB, src, addr string) (*gossh.Client, error) {
	t.Helper()
	conn := dialFrom(t, src, addr)
	cc, chans, reqs, err := gossh.NewClientConn(conn, addr, &gossh.ClientConfig{User: "reset", Auth: portal.Anyone(),
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	c := gossh.NewClient(cc, chans, reqs)
	t.Cleanup(func() { _ = c.Close() })
	return c, nil
}

// silentFrom opens a TCP connection from src that never speaks, and says
// whether the portal kept it (it sent its version line) or closed it.
func silentFrom(t testing.TB, src, addr string) (net.Conn, bool) {
	t.Helper()
	conn := dialFrom(t, src, addr)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4)
	_, err := io.ReadFull(conn, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
		t.Fatalf("silent connection from %s: %v", src, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, err == nil && string(buf) == "SSH-"
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// terminalFrom opens a terminal session from src.
func terminalFrom(t testing.TB, src, addr string) *terminal {
	t.Helper()
	c, err := clientFrom(t, src, addr)
	if err != nil {
		t.Fatalf("a client from %s was turned away: %v", src, err)
	}
	return openTerminal(t, c, 24, 80)
}

// TestOneAddressCannotHoldTheDoor: one address holds what it can, silent
// connections and authenticated ones that ask for no session, and clients
// from other addresses still reach the welcome screen. Without caps per
// address, the first address held every place.
func TestOneAddressCannotHoldTheDoor(t *testing.T) {
	h := newHarness(t)
	const handshakes, connections = 4, 6
	p := startPortal(t, h, func(o *portal.Options) {
		o.SSH.MaxUnauthenticated, o.SSH.MaxConnections = 10, 20
		o.SSH.MaxHandshakesPerAddress, o.SSH.MaxConnectionsPerAddress = handshakes, connections
		// Nothing times out while the test runs.
		o.SSH.HandshakeTimeout, o.SSH.SessionRequestTimeout = time.Minute, time.Minute
	})
	const attacker = "127.0.0.2"
	authed := 0
	for range 3 {
		if _, err := clientFrom(t, attacker, p.addr); err == nil {
			authed++
		}
	}
	var silent []net.Conn
	for range 30 {
		if conn, kept := silentFrom(t, attacker, p.addr); kept {
			silent = append(silent, conn)
		}
	}
	for range 10 {
		if _, err := clientFrom(t, attacker, p.addr); err == nil {
			authed++
		}
	}
	t.Logf("%s holds %d silent and %d authenticated connections", attacker, len(silent), authed)

	for _, src := range []string{"127.0.0.3", "127.0.0.4"} {
		term := terminalFrom(t, src, p.addr)
		term.waitFor("Reset a forgotten password", wait)
	}
	if len(silent) > handshakes || authed+len(silent) > connections {
		t.Fatalf("%s holds %d silent and %d authenticated connections; the caps are %d in the handshake, %d in all",
			attacker, len(silent), authed, handshakes, connections)
	}
	if authed < 3 || len(silent) == 0 {
		t.Fatalf("%s got only %d silent and %d authenticated connections in", attacker, len(silent), authed)
	}
	// The attacker's silent connections were held all along: reading what
	// the server sent them ends in a timeout, not in a close.
	for _, conn := range silent {
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := io.Copy(io.Discard, conn); !isTimeout(err) {
			t.Fatalf("a silent connection was closed: %v", err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestSessionRequestDeadline: a connection that authenticates and asks for
// no session (ssh -N) is closed at the session-request deadline, however
// many keepalives it sends, and the refusal is logged; one that asks in
// time is not.
func TestSessionRequestDeadline(t *testing.T) {
	h := newHarness(t)
	logs := &syncBuffer{}
	const deadline = 1500 * time.Millisecond
	p := startPortal(t, h, func(o *portal.Options) {
		o.SSH.SessionRequestTimeout = deadline
		o.Logger = log.New(logs)
	})
	start := time.Now()
	quiet := dial(t, p.addr)
	term := openTerminal(t, dial(t, p.addr), 24, 80)
	closed := make(chan error, 1)
	go func() { closed <- quiet.Wait() }()
	keepalive := time.NewTicker(100 * time.Millisecond)
	defer keepalive.Stop()
	giveUp := time.After(wait)
	for waiting := true; waiting; {
		select {
		case <-closed:
			waiting = false
		case <-keepalive.C:
			_, _, _ = quiet.SendRequest("keepalive@openssh.com", true, nil)
		case <-giveUp:
			t.Fatalf("a connection that asked for no session is open after %s", time.Since(start))
		}
	}
	if d := time.Since(start); d < deadline {
		t.Fatalf("closed after %s, before the deadline of %s", d, deadline)
	}
	// The session asked for in time carries on.
	term.waitFor("Reset a forgotten password", wait)
	term.send("1")
	term.waitFor("Enter your username", wait)
	if got := logs.raw(); !strings.Contains(got, `refused address=127.0.0.1 reason="session-request timeout" count=1`) {
		t.Fatalf("the log does not say why the connection was closed:\n%s", got)
	}
}

// TestRefusalsLoggedOncePerAddressPerMinute: connections turned away at the
// door are logged with their reason, once a minute per address, with how
// many refusals each line stands for.
func TestRefusalsLoggedOncePerAddressPerMinute(t *testing.T) {
	h := newHarness(t)
	logs := &syncBuffer{}
	clk := clock.NewFake(time.Now())
	p := startPortal(t, h, func(o *portal.Options) {
		o.Logger, o.Clock = log.New(logs), clk
		o.SSH.MaxHandshakesPerAddress, o.SSH.HandshakeTimeout = 1, time.Minute
	})
	refuse := func(src string, n int) {
		t.Helper()
		for range n {
			if _, kept := silentFrom(t, src, p.addr); kept {
				t.Fatalf("a second connection in its handshake from %s was kept", src)
			}
		}
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		if _, kept := silentFrom(t, src, p.addr); !kept {
			t.Fatalf("the first connection from %s was turned away", src)
		}
	}
	refuse("127.0.0.2", 5)
	refuse("127.0.0.3", 2)
	lines := func(src string) []string {
		var out []string
		for _, line := range strings.Split(logs.raw(), "\n") {
			if strings.Contains(line, "refused address="+src+" ") {
				out = append(out, strings.Join(strings.Fields(line), " "))
			}
		}
		return out
	}
	want := `WARN refused address=127.0.0.2 reason="per-address handshake cap" count=1`
	if got := lines("127.0.0.2"); len(got) != 1 || got[0] != want {
		t.Fatalf("five refusals within a minute were logged as %q; want one line %q", got, want)
	}
	if got := lines("127.0.0.3"); len(got) != 1 {
		t.Fatalf("another address's refusals were logged as %q; want one line", got)
	}
	clk.Advance(time.Minute)
	refuse("127.0.0.2", 1)
	want = `WARN refused address=127.0.0.2 reason="per-address handshake cap" count=5`
	if got := lines("127.0.0.2"); len(got) != 2 || got[1] != want {
		t.Fatalf("a minute later the log says %q; want a second line %q", got, want)
	}
}
