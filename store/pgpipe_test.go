package store_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// roundTrips counts what a store sends to PostgreSQL: a statement alone, or
// a pipeline of several, is one round trip.
type roundTrips struct {
	mu sync.Mutex
	n  int
	// pipelined holds the last statement of each pipeline.
	pipelined []string
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	r.mu.Lock()
	r.n++
	if q := d.Batch.QueuedQueries; len(q) > 0 {
		r.pipelined = append(r.pipelined, q[len(q)-1].SQL)
	}
	r.mu.Unlock()
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// take returns the round trips counted since the last take.
func (r *roundTrips) take() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.n
	r.n = 0
	return n
}

func openTraced(t *testing.T) (*store.DB, *roundTrips) {
	t.Helper()
	trips := &roundTrips{}
	db, err := store.OpenPostgres(context.Background(), pgtest.DSN(t), store.PostgresOptions{Tracer: trips})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, trips
}

// TestPostgresTransactionRoundTrips: a transaction's BEGIN goes with its
// first statement, a throttle's lock with the count it guards, the audit
// append with the COMMIT; a transaction that sends nothing costs nothing.
// What is written is all there afterwards.
func TestPostgresTransactionRoundTrips(t *testing.T) {
	db, trips := openTraced(t)
	ctx := context.Background()
	trips.take()
	inTx(t, db, func(tx *store.Tx) error { return nil })
	if n := trips.take(); n != 0 {
		t.Fatalf("an empty transaction made %d round trips", n)
	}
	var added bool
	inTx(t, db, func(tx *store.Tx) (err error) {
		if err := store.LockThrottle(ctx, tx, store.ScopeAccount, "alice"); err != nil {
			return err
		}
		if added, err = store.AddThrottleEventUnder(ctx, tx, store.ScopeAccount, "alice", store.EventSend, 10, 0, 3); err != nil {
			return err
		}
		return store.AppendAuditRow(ctx, tx, store.AuditRow{ID: 1, At: 10, Event: "test", PrevHash: "p", Hash: "h1"},
			store.AuditHead{LastID: 1, LastHash: "h1", Rows: 1, MAC: "m1"})
	})
	// BEGIN, the lock and the count; the append and COMMIT.
	if n := trips.take(); n != 2 || !added {
		t.Fatalf("%d round trips (added %v), want 2", n, added)
	}
	if n, _ := store.CountThrottleEvents(ctx, db, store.ScopeAccount, "alice", store.EventSend, 0); n != 1 {
		t.Fatalf("%d sends recorded, want 1", n)
	}
	if hd, err := store.AuditHeadOf(ctx, db); err != nil || hd.LastID != 1 {
		t.Fatalf("head %+v %v", hd, err)
	}
}

// TestPostgresHeldWriteFails: a held write that fails is reported by the
// transaction's next statement, nothing of the transaction stays, and the
// connection serves the next transaction.
func TestPostgresHeldWriteFails(t *testing.T) {
	db, _ := openTraced(t)
	ctx := context.Background()
	row := store.AuditRow{ID: 1, At: 5, Event: "test", PrevHash: "p", Hash: "h1"}
	hd := store.AuditHead{LastID: 1, LastHash: "h1", Rows: 1, MAC: "m1"}
	inTx(t, db, func(tx *store.Tx) error { return store.AppendAuditRow(ctx, tx, row, hd) })
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.ClearKey(ctx, tx, store.ScopeAccount, "alice"); err != nil {
			return err
		}
		if err := store.AppendAuditRow(ctx, tx, row, store.AuditHead{LastID: 1, LastHash: "x", Rows: 2}); err != nil {
			return err
		}
		// The taken id is found here, by the read that follows.
		_, err := store.AuditHeadOf(ctx, tx)
		return err
	})
	if err == nil {
		t.Fatal("a transaction whose held write failed committed")
	}
	if got, _ := store.AuditHeadOf(ctx, db); got != hd {
		t.Fatalf("head %+v after a failed append", got)
	}
	for range 3 {
		inTx(t, db, func(tx *store.Tx) error {
			return store.AddThrottleEvent(ctx, tx, store.ScopeAccount, "bob", store.EventFail, 1)
		})
	}
	if n, _ := store.CountThrottleEvents(ctx, db, store.ScopeAccount, "bob", store.EventFail, 0); n != 3 {
		t.Fatalf("%d events after the failed transaction, want 3", n)
	}
}

// TestPostgresPipelinedRead: rows read in the round trip that carries held
// writes are those read alone: integers, text, bytes and NULLs, several
// rows, and they see the held writes.
func TestPostgresPipelinedRead(t *testing.T) {
	db, trips := openTraced(t)
	ctx := context.Background()
	u := addUser(t, db, "alice")
	for _, m := range []store.Method{
		{UserID: u.ID, Kind: "email", Destination: "a@example.com", CreatedAt: 1, ConfirmedAt: 2},
		{UserID: u.ID, Kind: "authenticator", Secret: []byte{0, 1, 2, 255}, LastStep: 7, CreatedAt: 3, ConfirmedAt: 4},
	} {
		if err := store.UpsertMethod(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	alone, voucherAlone, err := store.MethodsAndVoucher(ctx, db, u.Username, 0)
	if err != nil || len(alone) != 2 || voucherAlone {
		t.Fatalf("read alone: %+v %v %v", alone, voucherAlone, err)
	}
	trips.take()
	var piped []store.Method
	var added bool
	inTx(t, db, func(tx *store.Tx) (err error) {
		if err := store.CreateVoucher(ctx, tx, u.ID, "hash", "helpdesk", 1, 100); err != nil {
			return err
		}
		// Held, so the read goes in its round trip.
		if err := store.LockThrottle(ctx, tx, store.ScopeAccount, "alice"); err != nil {
			return err
		}
		var voucher bool
		if piped, voucher, err = store.MethodsAndVoucher(ctx, tx, u.Username, 50); err != nil {
			return err
		}
		added = voucher
		return nil
	})
	if len(piped) != len(alone) || !added {
		t.Fatalf("piped %+v (voucher %v), alone %+v", piped, added, alone)
	}
	for i := range alone {
		a, p := alone[i], piped[i]
		if a.ID != p.ID || a.Kind != p.Kind || a.Destination != p.Destination || !bytes.Equal(a.Secret, p.Secret) ||
			(a.Secret == nil) != (p.Secret == nil) || a.LastStep != p.LastStep || a.ConfirmedAt != p.ConfirmedAt {
			t.Errorf("method %d: piped %+v, alone %+v", i, p, a)
		}
	}
	trips.mu.Lock()
	defer trips.mu.Unlock()
	if !slices.ContainsFunc(trips.pipelined, func(q string) bool { return strings.Contains(q, "FROM vouchers") }) {
		t.Fatalf("the read was not sent with the held lock: pipelines ending %q", trips.pipelined)
	}
}
