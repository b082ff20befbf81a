package ldapdir

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

const wrongServicePassword = "not-the-service-password"

// countDials makes c count the connections it opens.
func countDials(c *Client) *atomic.Int64 {
	var n atomic.Int64
	d := net.Dialer{Timeout: c.cfg.Timeout}
	c.dialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	return &n
}

// failedBinds is how many failed binds slapd's ppolicy holds against the
// service account: one pwdFailureTime value each.
func failedBinds(t *testing.T, srv *slapdtest.Server) int {
	t.Helper()
	v, err := srv.Values(slapdtest.ServiceDN, "pwdFailureTime")
	if err != nil {
		t.Fatal(err)
	}
	return len(v)
}

// serviceLocked reports whether ppolicy has locked the service account.
func serviceLocked(t *testing.T, srv *slapdtest.Server) bool {
	t.Helper()
	v, err := srv.Values(slapdtest.ServiceDN, "pwdAccountLockedTime")
	if err != nil {
		t.Fatal(err)
	}
	return len(v) > 0
}

// TestRefusedServiceBindBacksOff: with a wrong service password, many
// lookups within a minute cost the service account one failed bind, and
// fail at once, without connecting; after the minute sspr tries again. The
// account stays below ppolicy's lockout threshold and keeps working.
func TestRefusedServiceBindBacksOff(t *testing.T) {
	srv := slapdtest.Start(t)
	clk := &fakeClock{now: time.Now()}
	c := newClient(t, srv, func(cfg *Config) { cfg.BindPassword = wrongServicePassword; cfg.Clock = clk })
	dials := countDials(c)
	ctx := context.Background()

	const lookups = 4 * slapdtest.MaxFailure
	for i := range lookups {
		_, err := c.Lookup(ctx, "alice")
		if !errors.Is(err, ErrServiceBind) {
			t.Fatalf("lookup %d: %v; want ErrServiceBind", i, err)
		}
		if !strings.Contains(err.Error(), slapdtest.ServiceDN) || strings.Contains(err.Error(), wrongServicePassword) {
			t.Fatalf("lookup %d: %q should name the bind DN and never the password", i, err)
		}
		clk.advance(4 * time.Second)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d lookups within a minute opened %d connections; want 1", lookups, n)
	}
	if n := failedBinds(t, srv); n != 1 {
		t.Errorf("%d lookups within a minute made %d failed binds; want 1", lookups, n)
	}
	// Groups and resets need the service account too; they wait as well.
	if _, err := c.GroupMembers(ctx, "staff"); !errors.Is(err, ErrServiceBind) {
		t.Errorf("group members: %v", err)
	}
	if err := c.reset(ctx, Entry{DN: slapdtest.Users["alice"].DN()}, PasswordChange{New: "Velvet Tangerine 42"}); !errors.Is(err, ErrServiceBind) {
		t.Errorf("reset: %v", err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections after a group lookup and a reset in the pause; want 1", n)
	}

	// After the minute, the next lookup binds again, once.
	clk.advance(BindBackoff - time.Duration(lookups)*4*time.Second + time.Second)
	for range 3 {
		if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, ErrServiceBind) {
			t.Fatalf("lookup after the pause: %v", err)
		}
	}
	if n := failedBinds(t, srv); n != 2 {
		t.Errorf("%d failed binds after the pause; want 2", n)
	}
	if serviceLocked(t, srv) {
		t.Fatal("ppolicy locked the service account")
	}
	good := newClient(t, srv)
	if _, err := good.Lookup(ctx, "alice"); err != nil {
		t.Errorf("the service account with its right password: %v", err)
	}
}

// TestRefusedServiceBindConcurrent: lookups racing on a client that has no
// bound connection yet cost the account one failed bind, not one each.
func TestRefusedServiceBindConcurrent(t *testing.T) {
	srv := slapdtest.Start(t)
	clk := &fakeClock{now: time.Now()}
	c := newClient(t, srv, func(cfg *Config) {
		cfg.BindPassword, cfg.Clock, cfg.PoolSize = wrongServicePassword, clk, 8
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Lookup(context.Background(), "alice"); !errors.Is(err, ErrServiceBind) {
				t.Errorf("lookup: %v", err)
			}
		})
	}
	wg.Wait()
	if n := failedBinds(t, srv); n != 1 {
		t.Errorf("8 lookups at once made %d failed binds; want 1", n)
	}
}

// TestServiceBindRecovers: once the directory accepts the service account
// again, the first bind after the pause works and lookups go on.
func TestServiceBindRecovers(t *testing.T) {
	srv := slapdtest.Start(t)
	clk := &fakeClock{now: time.Now()}
	const next = "service-secret-next-77"
	c := newClient(t, srv, func(cfg *Config) { cfg.BindPassword = next; cfg.Clock = clk })
	ctx := context.Background()
	if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, ErrServiceBind) {
		t.Fatalf("before the directory has the password: %v", err)
	}
	// The directory's admin sets the password sspr was given.
	admin(t, srv, func(conn *ldap.Conn) error {
		mod := ldap.NewModifyRequest(slapdtest.ServiceDN, nil)
		mod.Replace("userPassword", []string{next})
		if err := conn.Modify(mod); err != nil {
			return err
		}
		clear := ldap.NewModifyRequest(slapdtest.ServiceDN, nil)
		clear.Delete("pwdReset", nil)
		if err := conn.Modify(clear); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
			return err
		}
		return nil
	})
	if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, ErrServiceBind) {
		t.Errorf("within the pause: %v; want the refusal again, without a bind", err)
	}
	clk.advance(BindBackoff)
	for range 2 {
		if e, err := c.Lookup(ctx, "alice"); err != nil || e.Username != "alice" {
			t.Fatalf("after the pause: %+v, %v", e, err)
		}
	}
}

// TestCheckBind: the start check says what is wrong, naming the bind DN and
// never the password; a refusal starts the pause.
func TestCheckBind(t *testing.T) {
	srv := slapdtest.Start(t)
	ctx := context.Background()
	if err := newClient(t, srv).CheckBind(ctx); err != nil {
		t.Errorf("right password: %v", err)
	}
	clk := &fakeClock{now: time.Now()}
	c := newClient(t, srv, func(cfg *Config) { cfg.BindPassword = wrongServicePassword; cfg.Clock = clk })
	dials := countDials(c)
	err := c.CheckBind(ctx)
	if !errors.Is(err, ErrServiceBind) || !strings.Contains(err.Error(), slapdtest.ServiceDN) ||
		!strings.Contains(err.Error(), "the DN or the password is wrong") || strings.Contains(err.Error(), wrongServicePassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, ErrServiceBind) || dials.Load() != 1 {
		t.Errorf("a lookup right after a refused check: %v, %d connections; want the refusal and 1", err, dials.Load())
	}
	srv.Down()
	if err := newClient(t, srv).CheckBind(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("directory down: %v; want ErrUnavailable", err)
	}
}
