package flows_test

import (
	"context"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// midReset is a person half-way through two resets: one flow proven with an
// authenticator, ready for the new password, and one not proven yet.
type midReset struct {
	proven, open string
	secret       string
	hash         string // the password hash before any reset
}

func startMidReset(t *testing.T, h *flowstest.Harness) midReset {
	t.Helper()
	ctx := context.Background()
	h.AddUser(t, "frank", false)
	m := midReset{secret: h.RegisterAuthenticator(t, "frank")}
	h.Clock.Advance(time.Minute) // past the step the enrolment used
	m.proven, m.open = h.StartReset(t, "frank").FlowID, h.StartReset(t, "frank").FlowID
	if _, err := h.Svc.VerifyCode(ctx, m.proven, policy.Authenticator, h.TOTP(t, m.secret, h.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	u, err := store.UserByName(ctx, h.DB, "frank")
	if err != nil {
		t.Fatal(err)
	}
	m.hash = u.PasswordHash
	return m
}

// unavailable checks that err is the store failing, as the person's screen
// is told.
func unavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !flows.StoreUnavailable(err) {
		t.Fatalf("%s: %v; want the store unavailable", what, err)
	}
}

// untouched checks that nothing of the failed attempts reached the store:
// no throttle event, no new password, no reset audited.
func untouched(t *testing.T, h *flowstest.Harness, m midReset) {
	t.Helper()
	ctx := context.Background()
	n, err := storetest.CountTidyable(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	if n.ThrottleEvents != 0 {
		t.Errorf("%d throttle events counted against the person while the store failed", n.ThrottleEvents)
	}
	u, err := store.UserByName(ctx, h.DB, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != m.hash {
		t.Error("the password changed in a reset that failed")
	}
	if n := h.CountEvents(t, audit.EventPasswordReset); n != 0 {
		t.Errorf("%d password.reset rows for a reset that failed", n)
	}
}

// TestDatabaseLostMidReset: PostgreSQL goes away while a person is half-way
// through. Each step they take is told the store is unavailable, nothing is
// counted against them and nothing is half-written; when the server is back
// the same store handle (its pool reconnects) finishes their reset.
func TestDatabaseLostMidReset(t *testing.T) {
	c := pgtest.NewCluster(t)
	h := flowstest.New(t, flowstest.Options{DSN: c.CreateDB(t)})
	ctx := context.Background()
	m := startMidReset(t, h)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := h.Svc.VerifyCode(ctx, m.open, policy.Authenticator, wrongTOTP(t, h, m.secret))
	unavailable(t, "a wrong code while the database is away", err)
	unavailable(t, "the new password while the database is away", h.Svc.CompleteReset(ctx, m.proven, "a brand new "+goodPassword))
	_, err = h.Svc.StartReset(ctx, "frank", flowstest.Source)
	unavailable(t, "a new reset while the database is away", err)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	untouched(t, h, m)
	if err := h.Svc.CompleteReset(ctx, m.proven, "a brand new "+goodPassword); err != nil {
		t.Fatalf("the reset after the database came back: %v", err)
	}
	if n := h.CountEvents(t, audit.EventPasswordReset); n != 1 {
		t.Fatalf("%d password.reset rows, want 1", n)
	}
}

// TestDatabaseHangsMidReset: another connection holds the audit chain's head
// (a stuck transaction), which every reset and every counted failure needs.
// The person's steps are cut by the statement timeout and told the store is
// unavailable, instead of hanging; nothing is counted or half-written, and
// once the head is free the reset completes.
func TestDatabaseHangsMidReset(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Engine: store.Postgres, StatementTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	m := startMidReset(t, h)
	stuck := storetest.OpenAt(t, h.DSN())
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- stuck.WithTx(context.Background(), func(tx *store.Tx) error {
			if _, _, err := store.LockAuditHead(ctx, tx); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatal(err)
	}
	began := time.Now()
	_, err := h.Svc.VerifyCode(ctx, m.open, policy.Authenticator, wrongTOTP(t, h, m.secret))
	unavailable(t, "a wrong code while the head is held", err)
	unavailable(t, "the new password while the head is held", h.Svc.CompleteReset(ctx, m.proven, "a brand new "+goodPassword))
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("two steps took %v with a 300ms statement timeout", took)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	untouched(t, h, m)
	if err := h.Svc.CompleteReset(ctx, m.proven, "a brand new "+goodPassword); err != nil {
		t.Fatalf("the reset once the head was free: %v", err)
	}
}

// TestTableLockedMidVerify: a table a proof is read from is held by another
// connection (as a migration's ALTER TABLE holds it), so the read waits out
// the lock timeout. The person is told the store is unavailable, and the
// voucher they typed is not counted as a wrong one.
func TestTableLockedMidVerify(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Engine: store.Postgres, StatementTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	h.AddUser(t, "frank", false)
	v, err := h.Svc.IssueVoucher(ctx, h.Admin, "frank")
	if err != nil {
		t.Fatal(err)
	}
	rs := h.StartReset(t, "frank")
	stuck := storetest.OpenAt(t, h.DSN())
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- stuck.WithTx(context.Background(), func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `LOCK TABLE vouchers IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatal(err)
	}
	_, err = h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	unavailable(t, "a voucher while its table is locked", err)
	n, err := storetest.CountTidyable(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	if n.ThrottleEvents != 0 {
		t.Fatalf("%d failures counted for a voucher nobody could check", n.ThrottleEvents)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); err != nil {
		t.Fatalf("the voucher once the table was free: %v", err)
	}
}
