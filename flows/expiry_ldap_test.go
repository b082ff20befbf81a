package flows_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// ldapDirectory is a flows directory on srv, with the default policy named.
func ldapDirectory(t *testing.T, srv *slapdtest.Server) *flows.LDAPDirectory {
	t.Helper()
	client, err := ldapdir.New(ldapdir.Config{URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: slapdtest.ServiceDN, BindPassword: slapdtest.ServicePassword, BaseDN: slapdtest.PeopleDN,
		PasswordPolicyDN: slapdtest.DefaultPolicyDN, Timeout: 5 * time.Second, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	dir := flows.NewLDAPDirectory(client, flows.LDAPOptions{})
	t.Cleanup(func() { _ = dir.Close() })
	return dir
}

// TestLDAPRemindersOncePerThreshold reads expiry from a real slapd with
// ppolicy: nora's password, set 2020-01-01 under a 90-day policy, expires
// 2020-03-31. On a fake clock, 11 days before, she gets the 14-day
// reminder once; neither a second run nor a restart sends it again; 5 days
// before, the 7-day one. erin's password expired long ago and alice's
// never does: they get none.
func TestLDAPRemindersOncePerThreshold(t *testing.T) {
	srv := slapdtest.Start(t)
	h := flowstest.New(t, flowstest.Options{Start: time.Date(2020, 3, 20, 12, 0, 0, 0, time.UTC),
		Directory: ldapDirectory(t, srv)})
	ctx := context.Background()
	// People sspr has seen: the directory's address is where reminders go.
	for _, uid := range []string{"nora", "erin", "alice"} {
		u := store.User{Username: uid, DisplayName: slapdtest.Users[uid].CN, Email: slapdtest.Users[uid].Mail,
			CreatedAt: 1, UpdatedAt: 1}
		if err := store.CreateUser(ctx, h.DB, &u); err != nil {
			t.Fatal(err)
		}
	}
	rep, planned := remind(t, h.Svc, false)
	if rep.Due != 1 || rep.Messages != 1 || len(planned) != 1 || planned[0].Username != "nora" ||
		planned[0].Days != 14 || planned[0].DaysLeft != 11 {
		t.Fatalf("11 days before: %+v %+v", rep, planned)
	}
	msgs := queued(t, h.DB)
	if len(msgs) != 1 || msgs[0].Destination != "nora@example.org" ||
		msgs[0].Subject != "Your sspr password expires in 11 days" {
		t.Fatalf("outbox: %+v", msgs)
	}
	if rep, _ := remind(t, h.Svc, false); rep.AlreadySent != 1 || rep.Messages != 0 {
		t.Fatalf("second run: %+v", rep)
	}
	again, _ := replica(t, h, ldapDirectory(t, srv))
	if rep, _ := remind(t, again, false); rep.AlreadySent != 1 || rep.Messages != 0 {
		t.Fatalf("after a restart: %+v", rep)
	}
	h.Clock.Advance(6 * day)
	if rep, planned := remind(t, again, false); rep.Messages != 1 || planned[0].Days != 7 {
		t.Fatalf("5 days before: %+v %+v", rep, planned)
	}
	if rep, _ := remind(t, h.Svc, false); rep.Messages != 0 {
		t.Fatalf("5 days before, the first replica: %+v", rep)
	}
	if n := len(queued(t, h.DB)); n != 2 {
		t.Fatalf("%d reminders in all; want 2", n)
	}
	ov, err := h.Svc.ExpiryOverview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ov.Expires || ov.Next7 != 1 || ov.Expired != 1 || ov.Unreachable != 0 {
		t.Fatalf("overview: %+v", ov)
	}
}

// TestLDAPSessionExpirySoon: a directory password near expiry (olga's, on
// slapd's own clock) signs in and the session says it expires soon, so the
// kiosk offers the change; one that never expires says nothing.
func TestLDAPSessionExpirySoon(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{}, func(cfg *ldapdir.Config) { cfg.PasswordPolicyDN = slapdtest.DefaultPolicyDN })
	info := e.signIn(t, "olga")
	if !info.ExpirySoon || info.PasswordExpired || flows.DaysLeft(info.PasswordExpiresAt, e.Clock.Now()) != 3 {
		t.Fatalf("olga: soon %v, expired %v, expires %v", info.ExpirySoon, info.PasswordExpired, info.PasswordExpiresAt)
	}
	if info := e.signIn(t, "alice"); info.ExpirySoon || !info.PasswordExpiresAt.IsZero() {
		t.Fatalf("alice: %+v", info)
	}
}

// readsAtOnce is a real directory that notes how many expiry reads are
// under way at once. The first read waits, up to a while, for a second to
// begin: reads made one after the other never overlap.
type readsAtOnce struct {
	*flows.LDAPDirectory
	now, most atomic.Int32
	second    chan struct{}
	first     sync.Once
	met       sync.Once
}

func (d *readsAtOnce) PasswordExpiry(ctx context.Context, username string) (flows.PasswordExpiry, error) {
	n := d.now.Add(1)
	defer d.now.Add(-1)
	for m := d.most.Load(); n > m && !d.most.CompareAndSwap(m, n); m = d.most.Load() {
	}
	if n > 1 {
		d.met.Do(func() { close(d.second) })
	}
	d.first.Do(func() {
		select {
		case <-d.second:
		case <-time.After(10 * time.Second):
		}
	})
	return d.LDAPDirectory.PasswordExpiry(ctx, username)
}

// TestLDAPRemindersReadExpiriesAtOnce: a reminder run reads the accounts'
// expiries from the directory several at once (never more than the
// client's connections), and finds what reading them one by one finds.
func TestLDAPRemindersReadExpiriesAtOnce(t *testing.T) {
	srv := slapdtest.Start(t)
	dir := &readsAtOnce{LDAPDirectory: ldapDirectory(t, srv), second: make(chan struct{})}
	h := flowstest.New(t, flowstest.Options{Start: time.Date(2020, 3, 20, 12, 0, 0, 0, time.UTC), Directory: dir})
	ctx := context.Background()
	names := []string{"gone1", "gone2", "gone3"} // people the directory no longer has
	for uid := range slapdtest.Users {
		names = append(names, uid)
	}
	for _, uid := range names {
		u := store.User{Username: uid, Email: uid + "@example.org", CreatedAt: 1, UpdatedAt: 1}
		if err := store.CreateUser(ctx, h.DB, &u); err != nil {
			t.Fatal(err)
		}
	}
	rep, planned := remind(t, h.Svc, true)
	if got := dir.most.Load(); got < 2 || got > 4 {
		t.Errorf("%d expiry reads at once, want 2 to 4", got)
	}
	// One by one, as the run did before.
	expiring := 0
	for _, uid := range names {
		ex, err := dir.LDAPDirectory.PasswordExpiry(ctx, uid)
		if err == nil && ex.Expires() {
			expiring++
		}
	}
	if rep.Failed != 0 || rep.Checked != expiring || rep.Due != 1 || len(planned) != 1 ||
		planned[0].Username != "nora" || planned[0].Days != 14 {
		t.Fatalf("read at once: %+v %+v; %d of %d passwords expire", rep, planned, expiring, len(names))
	}
}

// TestLDAPRemindersStopWhenTheDirectoryIsDown: a run that cannot reach the
// directory fails, saying so, instead of finding nobody due.
func TestLDAPRemindersStopWhenTheDirectoryIsDown(t *testing.T) {
	srv := slapdtest.Start(t)
	h := flowstest.New(t, flowstest.Options{Start: time.Date(2020, 3, 20, 12, 0, 0, 0, time.UTC),
		Directory: ldapDirectory(t, srv)})
	ctx := context.Background()
	for uid := range slapdtest.Users {
		u := store.User{Username: uid, Email: uid + "@example.org", CreatedAt: 1, UpdatedAt: 1}
		if err := store.CreateUser(ctx, h.DB, &u); err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop()
	rep, err := h.Svc.RunReminders(ctx, flows.RemindOptions{DryRun: true})
	if !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Fatalf("a run with the directory down: %+v, %v", rep, err)
	}
}
