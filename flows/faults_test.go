package flows_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// faultLog is a server log in memory.
type faultLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *faultLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *faultLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the log lines holding every one of want.
func (l *faultLog) lines(want ...string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		ok := line != ""
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// expect fails t unless exactly n lines hold every one of want.
func (l *faultLog) expect(t *testing.T, n int, want ...string) {
	t.Helper()
	if got := l.lines(want...); len(got) != n {
		t.Errorf("%d log lines with %q; want %d. The log:\n%s", len(got), want, n, l)
	}
}

// holdsNone fails t if the log holds any of secrets or an 8-digit code.
func (l *faultLog) holdsNone(t *testing.T, secrets ...string) {
	t.Helper()
	s := l.String()
	for _, secret := range secrets {
		if secret != "" && strings.Contains(s, secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, s)
		}
	}
	if code := regexp.MustCompile(`\b\d{8}\b`).FindString(s); code != "" {
		t.Errorf("the log holds a code-like %q:\n%s", code, s)
	}
}

// newFaults returns a fault log on clk writing to a faultLog, blanking
// secrets.
func newFaults(clk clock.Clock, secrets ...string) (*flows.Faults, *faultLog) {
	out := &faultLog{}
	f := flows.NewFaults(clk, secrets...)
	f.SetLogger(slog.New(slog.NewTextHandler(out, nil)))
	return f, out
}

func TestFaultsOncePerCausePerMinute(t *testing.T) {
	clk := clock.NewFake(flowstest.Start)
	f, out := newFaults(clk)
	down := errors.New("ldap: directory unavailable: connection refused")
	for range 5 {
		f.Report("directory look up user", down)
	}
	f.Report("store", errors.New("database or disk is full (13)"))
	f.Report("store", nil)
	out.expect(t, 1, `msg="directory look up user failed"`, `cause="ldap: directory unavailable: connection refused"`)
	out.expect(t, 1, `msg="store failed"`, "disk is full")
	if n := len(out.lines()); n != 2 {
		t.Errorf("%d lines; want 2:\n%s", n, out)
	}
	clk.Advance(flows.FaultEvery - time.Second)
	f.Report("directory group members", down) // the same cause, another step
	out.expect(t, 1, "connection refused")
	clk.Advance(time.Second)
	f.Report("directory look up user", down)
	out.expect(t, 2, "connection refused")
	out.expect(t, 1, "connection refused", "repeats=5")

	// Without a logger, or as nil, reports go nowhere and nothing breaks.
	var none *flows.Faults
	none.Report("store", down)
	flows.NewFaults(clk).Report("store", down)
	none.Hook("delivery")(down)
}

func TestFaultsBounded(t *testing.T) {
	clk := clock.NewFake(flowstest.Start)
	f, out := newFaults(clk)
	for i := range 10 * flows.MaxFaultCauses {
		f.Report("delivery", fmt.Errorf("smtp: 550 no such mailbox <user%d@example.com>", i))
	}
	if n := f.FaultCauses(); n != flows.MaxFaultCauses {
		t.Errorf("%d causes remembered; want at most %d", n, flows.MaxFaultCauses)
	}
	out.expect(t, flows.MaxFaultCauses, `msg="delivery failed"`)
	out.expect(t, 1, "more failures than the log tells apart")
	if n := len(out.lines()); n != flows.MaxFaultCauses+1 {
		t.Errorf("%d lines for %d distinct causes in a minute; want %d", n, 10*flows.MaxFaultCauses, flows.MaxFaultCauses+1)
	}
	// A minute on, the old causes make room for new ones.
	clk.Advance(flows.FaultEvery)
	f.Report("delivery", errors.New("smtp: 421 try later"))
	out.expect(t, 1, "421 try later")
	if n := f.FaultCauses(); n > flows.MaxFaultCauses {
		t.Errorf("%d causes remembered", n)
	}
}

func TestFaultsBlankSecrets(t *testing.T) {
	const password = "Sm7p-Secret-Horse"
	f, out := newFaults(clock.NewFake(flowstest.Start), password)
	f.Report("delivery", errors.New("535 bad credentials "+password+" / "+
		base64.StdEncoding.EncodeToString([]byte(password))+" for code 12345678\r\nInjected: line"))
	out.holdsNone(t, password, base64.StdEncoding.EncodeToString([]byte(password)), "\r", "Injected: line\n")
	out.expect(t, 1, "[secret]", "[redacted]")
}

// TestFaultsDirectoryDown: with the directory gone, every reset and sign-in
// fails, and the log says so once a minute, with the cause.
func TestFaultsDirectoryDown(t *testing.T) {
	srv := slapdtest.Start(t)
	clk := clock.NewFake(time.Now())
	faults, out := newFaults(clk, slapdtest.ServicePassword)
	h := ldapHarness(t, srv, clk, faults, slapdtest.ServicePassword)
	ctx := context.Background()
	// A sign-in that works leaves a bound connection in the pool.
	if _, err := h.Svc.SignIn(ctx, "alice", slapdtest.Users["alice"].Password, "kiosk-1"); err != nil {
		t.Fatal(err)
	}
	srv.Down()
	for range 10 {
		if _, err := h.Svc.StartReset(ctx, "alice", "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
			t.Fatalf("reset with the directory down: %v", err)
		}
		clk.Advance(time.Second)
	}
	out.expect(t, 1, `msg="directory look up user failed"`, "directory unavailable")
	clk.Advance(flows.FaultEvery)
	if _, err := h.Svc.SignIn(ctx, "bob", slapdtest.Users["bob"].Password, "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Fatalf("sign in with the directory down: %v", err)
	}
	out.expect(t, 2, "failed", "directory unavailable")
	out.holdsNone(t, slapdtest.ServicePassword, slapdtest.Users["alice"].Password, slapdtest.Users["bob"].Password)
}

// TestFaultsDirectoryRefusesBind: a wrong service password is logged once
// a minute, naming the bind DN, never the password.
func TestFaultsDirectoryRefusesBind(t *testing.T) {
	srv := slapdtest.Start(t)
	clk := clock.NewFake(time.Now())
	const wrong = "Wrong-Service-Secret-88"
	faults, out := newFaults(clk, wrong)
	h := ldapHarness(t, srv, clk, faults, wrong)
	ctx := context.Background()
	for range 10 {
		if _, err := h.Svc.StartReset(ctx, "alice", "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
			t.Fatalf("reset: %v", err)
		}
		if _, err := h.Svc.SignIn(ctx, "bob", slapdtest.Users["bob"].Password, "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
			t.Fatalf("sign-in: %v", err)
		}
		clk.Advance(time.Second)
	}
	out.expect(t, 1, "failed", slapdtest.ServiceDN, "the DN or the password is wrong")
	clk.Advance(ldapdir.BindBackoff)
	if _, err := h.Svc.StartReset(ctx, "alice", "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Fatalf("reset: %v", err)
	}
	out.expect(t, 2, "failed", slapdtest.ServiceDN, "the DN or the password is wrong")
	out.holdsNone(t, wrong, slapdtest.Users["bob"].Password)
}

// ldapHarness is a Service on srv, binding with password, reporting to
// faults, on clk.
func ldapHarness(t *testing.T, srv *slapdtest.Server, clk clock.Clock, faults *flows.Faults, password string) *flowstest.Harness {
	t.Helper()
	client, err := ldapdir.New(ldapdir.Config{URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: slapdtest.ServiceDN, BindPassword: password, BaseDN: slapdtest.PeopleDN,
		GroupBaseDN: slapdtest.GroupsDN, AttrDisplayName: "displayName", Timeout: 5 * time.Second, PoolSize: 2,
		Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	dir := flows.NewLDAPDirectory(client, flows.LDAPOptions{Faults: faults})
	t.Cleanup(func() { _ = dir.Close() })
	return flowstest.New(t, flowstest.Options{Clock: clk, Directory: dir, Faults: faults})
}

// TestFaultsStoreFull: a store that cannot grow fails every write; the log
// says so once a minute.
func TestFaultsStoreFull(t *testing.T) {
	clk := clock.NewFake(flowstest.Start)
	faults, out := newFaults(clk)
	h := flowstest.New(t, flowstest.Options{Clock: clk, Faults: faults})
	if h.DB.Engine() != store.SQLite {
		t.Skip("a full SQLite file; PostgreSQL's faults are a server stopped, tested in store")
	}
	ctx := context.Background()
	// The file may not grow by a page: SQLite answers SQLITE_FULL, as on a
	// full disk.
	if _, err := h.DB.ExecContext(ctx, "PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	// Each failed sign-in writes a throttle event and an audit row, from a
	// name and a terminal of its own, so no throttle stops the writing.
	signIn := func(i int) error {
		_, err := h.Svc.SignIn(ctx, fmt.Sprintf("user%d", i), "a wrong password", fmt.Sprintf("kiosk-%d", i))
		return err
	}
	var full int
	for i := 0; i < 400 && full < 20; i++ {
		if err := signIn(i); store.IsFault(err) {
			full++
		}
		clk.Advance(50 * time.Millisecond)
	}
	if full < 20 {
		t.Fatalf("only %d sign-ins met a full store", full)
	}
	out.expect(t, 1, `msg="store failed"`, "full")
	clk.Advance(flows.FaultEvery)
	if err := signIn(1000); !store.IsFault(err) {
		t.Fatalf("sign-in after a minute: %v", err)
	}
	out.expect(t, 2, `msg="store failed"`, "full")
	out.expect(t, 1, `msg="store failed"`, "full", "repeats=")
	out.holdsNone(t, "a wrong password")
}

// TestFaultsDelivery: with the mail server refusing sspr's login (and
// quoting it back), a code that cannot be sent and a notification that
// cannot be delivered are each logged once a minute, without the SMTP
// password, the code or the new password.
func TestFaultsDelivery(t *testing.T) {
	const smtpPassword = "Mail-Relay-Secret-41"
	addr := flowstest.RefusingMailServer(t)
	clk := clock.NewFake(flowstest.Start)
	faults, out := newFaults(clk, smtpPassword)
	h := flowstest.New(t, flowstest.Options{Clock: clk, Faults: faults,
		Channels: func(*store.DB, clock.Clock) map[string]dispatch.Channel {
			ch, err := dispatch.NewSMTPChannel(dispatch.SMTPConfig{Host: addr.IP.String(), Port: addr.Port,
				TLS: dispatch.TLSNone, Username: "sspr", Password: smtpPassword, From: "sspr@example.org",
				AllowInsecureAuth: true, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return map[string]dispatch.Channel{dispatch.ChannelEmail: ch}
		}})
	h.AddUser(t, "alice", false)
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	secret := h.RegisterAuthenticator(t, "alice")
	ctx := context.Background()

	rs := h.StartReset(t, "alice")
	// A reset's code goes out behind the screen: the send answers as for
	// anyone, and the failure reaches the log once delivery gives up.
	sendCode := func() {
		t.Helper()
		if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
			t.Fatalf("send: %v", err)
		}
		h.Settle()
	}
	// Two failures within the minute are one line; the next minute's, another.
	sendCode()
	clk.Advance(flows.ResendCooldown)
	sendCode()
	out.expect(t, 1, `msg="delivery failed"`, "send code by email", "535")
	clk.Advance(flows.FaultEvery - flows.ResendCooldown)
	sendCode()
	out.expect(t, 2, `msg="delivery failed"`, "send code by email", "535")
	out.expect(t, 1, `msg="delivery failed"`, "send code by email", "repeats=1")

	clk.Advance(time.Minute) // a fresh authenticator step
	p, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, h.TOTP(t, secret, clk.Now()))
	if err != nil || !p.Done {
		t.Fatalf("verify: %+v, %v", p, err)
	}
	const next = "Velvet Tangerine Harbour 42"
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, next); err != nil {
		t.Fatal(err)
	}
	// Attempts 30 s apart (the first backoff) are one line; the next, a
	// minute after the first (the backoff doubles), another.
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 0} {
		if _, failed, err := h.Dispatcher.DeliverDue(ctx); err != nil || failed == 0 {
			t.Fatalf("attempt %d: %d failed, %v", i, failed, err)
		}
		if i == 1 {
			out.expect(t, 1, `msg="delivery failed"`, "deliver notification by email", "535")
		}
		clk.Advance(wait)
	}
	out.expect(t, 2, `msg="delivery failed"`, "deliver notification by email", "535")
	out.expect(t, 1, `msg="delivery failed"`, "deliver notification by email", "repeats=")
	out.holdsNone(t, smtpPassword, base64.StdEncoding.EncodeToString([]byte("\x00sspr\x00"+smtpPassword)), next)
}
