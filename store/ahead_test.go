package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestReadAhead: reads named ahead come back with the statement before
// them, in its round trip on PostgreSQL, and answer exactly what the same
// reads made alone answer, on both engines; a read with other arguments, or
// made a second time, goes to the database.
func TestReadAhead(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		alice, bob := addUser(t, db, "alice"), addUser(t, db, "bob")
		registerMethods(t, db, alice)
		wantUser, _ := store.UserByName(ctx, db, "alice")
		wantMethods, wantVoucher, _ := store.MethodsAndVoucher(ctx, db, "alice", 10)

		ahead := store.ReadAhead(ctx, db, store.UserByNameRead("alice"), store.MethodsAndVoucherRead("alice", 10),
			store.UserByNameRead("nobody"))
		if _, _, err := store.PolicyValuesAndBlocked(ahead, db, 10); err != nil {
			t.Fatal(err)
		}
		u, err := store.UserByName(ahead, db, "alice")
		if err != nil || !reflect.DeepEqual(u, wantUser) {
			t.Fatalf("user read ahead: %+v %v, want %+v", u, err, wantUser)
		}
		methods, voucher, err := store.MethodsAndVoucher(ahead, db, "alice", 10)
		if err != nil || voucher != wantVoucher || !reflect.DeepEqual(methods, wantMethods) {
			t.Fatalf("methods read ahead: %+v %v %v, want %+v %v", methods, voucher, err, wantMethods, wantVoucher)
		}
		if _, err := store.UserByName(ahead, db, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a name nobody has, read ahead: %v", err)
		}
		// Other arguments: not the answer kept for alice.
		if u, err := store.UserByName(ahead, db, "bob"); err != nil || u.ID != bob.ID {
			t.Fatalf("another user with the context of a read ahead: %+v %v", u, err)
		}
		// A second read of the same: the database's answer now.
		if err := store.SetUserLanguage(ctx, db, alice.ID, "de", 5); err != nil {
			t.Fatal(err)
		}
		if u, err := store.UserByName(ahead, db, "alice"); err != nil || u.Language != "de" {
			t.Fatalf("a read made again was answered from before: %+v %v", u, err)
		}
	})
}

// TestReadAheadRoundTrips: on PostgreSQL, reads named ahead cost no round
// trip of their own, outside a transaction and in one.
func TestReadAheadRoundTrips(t *testing.T) {
	db, trips := openTraced(t)
	ctx := context.Background()
	addUser(t, db, "alice")
	trips.take()
	ahead := store.ReadAhead(ctx, db, store.UserByNameRead("alice"), store.MethodsAndVoucherRead("alice", 10))
	if _, _, err := store.PolicyValuesAndBlocked(ahead, db, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UserByName(ahead, db, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.MethodsAndVoucher(ahead, db, "alice", 10); err != nil {
		t.Fatal(err)
	}
	if n := trips.take(); n != 1 {
		t.Fatalf("three reads, two of them ahead, made %d round trips, want 1", n)
	}

	inTx(t, db, func(tx *store.Tx) error {
		if _, err := store.AddThrottleEventUnder(store.ReadAhead(ctx, tx, store.AuditHeadRead()), tx,
			store.ScopeAccount, "alice", store.EventSend, 10, 0, 5); err != nil {
			return err
		}
		_, _, err := store.LockAuditHead(ctx, tx)
		return err
	})
	// BEGIN with the count and the head; COMMIT.
	if n := trips.take(); n != 2 {
		t.Fatalf("a transaction with the audit head read ahead made %d round trips, want 2", n)
	}
}

// TestReadAheadStaysWhereItWasRead: an answer read outside a transaction
// never answers a read in one, which sees the transaction's own writes; an
// answer read in a transaction that did not ask for it is gone with the
// transaction, and the next one on the same connection reads afresh.
func TestReadAheadStaysWhereItWasRead(t *testing.T) {
	db, err := store.OpenPostgres(context.Background(), pgtest.DSN(t), store.PostgresOptions{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	alice := addUser(t, db, "alice")

	ahead := store.ReadAhead(ctx, db, store.UserByNameRead("alice"))
	if _, _, err := store.PolicyValuesAndBlocked(ahead, db, 10); err != nil {
		t.Fatal(err)
	}
	inTx(t, db, func(tx *store.Tx) error {
		if err := store.SetUserLanguage(ctx, tx, alice.ID, "fr", 5); err != nil {
			return err
		}
		u, err := store.UserByName(ahead, tx, "alice")
		if err == nil && u.Language != "fr" {
			t.Errorf("a read in a transaction was answered from outside it: language %q", u.Language)
		}
		return err
	})

	appendRow := func(id int64) {
		inTx(t, db, func(tx *store.Tx) error {
			return store.AppendAuditRow(ctx, tx, store.AuditRow{ID: id, At: id, Event: "test", PrevHash: "p", Hash: "h"},
				store.AuditHead{LastID: id, LastHash: "h", Rows: id, MAC: "m"})
		})
	}
	appendRow(1)
	// A transaction reads the head ahead, never asks for it, and ends.
	inTx(t, db, func(tx *store.Tx) error {
		_, err := store.AddThrottleEventUnder(store.ReadAhead(ctx, tx, store.AuditHeadRead()), tx,
			store.ScopeAccount, "alice", store.EventSend, 10, 0, 5)
		return err
	})
	appendRow(2)
	inTx(t, db, func(tx *store.Tx) error {
		hd, _, err := store.LockAuditHead(ctx, tx)
		if err == nil && hd.LastID != 2 {
			t.Errorf("the head read ahead in an earlier transaction answered a later one: last id %d, want 2", hd.LastID)
		}
		return err
	})
}

// TestWrongTriesNeverVoidAVerifiedCode: a code's challenge is read before
// the transaction that checks a try, so wrong tries may be counted after
// the right code verified it elsewhere; they count, and the proof stands.
func TestWrongTriesNeverVoidAVerifiedCode(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := store.Challenge{ID: "c1", FlowID: "f1", Purpose: "reset", Kind: "email", CodeHash: "h", CreatedAt: 1, ExpiresAt: 1000}
		if err := store.CreateChallenge(ctx, db, c); err != nil {
			t.Fatal(err)
		}
		if err := store.MarkChallengeVerified(ctx, db, c.ID, 2); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := store.RecordChallengeFailure(ctx, db, c.ID, 5, 3); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.ConsumeChallenge(ctx, db, c.ID, 4); err != nil {
			t.Fatalf("a verified code could not be used after five wrong tries: %v", err)
		}
		// An open challenge is still voided by its fifth wrong try.
		c.ID = "c2"
		if err := store.CreateChallenge(ctx, db, c); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := store.RecordChallengeFailure(ctx, db, c.ID, 5, 3); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := store.ChallengeByID(ctx, db, c.ID); got.VoidedAt == 0 {
			t.Fatal("an open challenge was not voided by its fifth wrong try")
		}
	})
}
