package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// onEngines runs a test on a fresh SQLite store and on a fresh PostgreSQL
// database.
func onEngines(t *testing.T, run func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "sspr.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		run(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := store.OpenPostgres(context.Background(), pgtest.DSN(t), store.PostgresOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		run(t, db)
	})
}

// inTx runs fn in a transaction and fails the test on its error.
func inTx(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.WithTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestAddThrottleEventUnder(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		add := func(at, since int64) bool {
			var added bool
			inTx(t, db, func(tx *store.Tx) (err error) {
				added, err = store.AddThrottleEventUnder(ctx, tx, store.ScopeAccount, "alice", store.EventSend, at, since, 2)
				return err
			})
			return added
		}
		if !add(10, 0) || !add(11, 0) {
			t.Fatal("the first two sends were refused")
		}
		if add(12, 0) {
			t.Fatal("a third send within the window was recorded")
		}
		// Another kind and another key do not count.
		if err := store.AddThrottleEvent(ctx, db, store.ScopeAccount, "alice", store.EventFail, 12); err != nil {
			t.Fatal(err)
		}
		if n, _ := store.CountThrottleEvents(ctx, db, store.ScopeAccount, "alice", store.EventSend, 0); n != 2 {
			t.Fatalf("%d sends recorded, want 2", n)
		}
		// Once the window has moved past the first, one more goes.
		if !add(20, 11) {
			t.Fatal("a send refused once the window moved on")
		}
	})
}

func TestClearKey(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, key := range []string{"alice", "bob"} {
			if err := store.AddThrottleEvent(ctx, db, store.ScopeAccount, key, store.EventFail, 5); err != nil {
				t.Fatal(err)
			}
			if err := store.SetBlock(ctx, db, store.Block{Scope: store.ScopeAccount, Key: key, Reason: "test", CreatedAt: 5, Until: 1 << 40}); err != nil {
				t.Fatal(err)
			}
		}
		inTx(t, db, func(tx *store.Tx) error { return store.ClearKey(ctx, tx, store.ScopeAccount, "alice") })
		if n, _ := store.CountThrottleEvents(ctx, db, store.ScopeAccount, "alice", store.EventFail, 0); n != 0 {
			t.Fatalf("alice keeps %d failures", n)
		}
		if _, err := store.ActiveBlock(ctx, db, store.ScopeAccount, "alice", 6); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("alice's block: %v", err)
		}
		if n, _ := store.CountThrottleEvents(ctx, db, store.ScopeAccount, "bob", store.EventFail, 0); n != 1 {
			t.Fatalf("bob keeps %d failures, want 1", n)
		}
		if _, err := store.ActiveBlock(ctx, db, store.ScopeAccount, "bob", 6); err != nil {
			t.Fatalf("bob's block: %v", err)
		}
		// A key with nothing to clear is no error.
		inTx(t, db, func(tx *store.Tx) error { return store.ClearKey(ctx, tx, store.ScopeAccount, "alice") })
	})
}

func TestAddPasswordHistoryKeeps(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := addUser(t, db, "alice")
		other := addUser(t, db, "bob")
		if err := store.AddPasswordHistory(ctx, db, other.ID, "bob-1", 1, 3); err != nil {
			t.Fatal(err)
		}
		for i, h := range []string{"h1", "h2", "h3", "h4", "h5"} {
			inTx(t, db, func(tx *store.Tx) error { return store.AddPasswordHistory(ctx, tx, u.ID, h, int64(i), 3) })
		}
		got, err := store.PasswordHistory(ctx, db, u.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0] != "h5" || got[1] != "h4" || got[2] != "h3" {
			t.Fatalf("history %v, want the newest three", got)
		}
		inTx(t, db, func(tx *store.Tx) error { return store.AddPasswordHistory(ctx, tx, u.ID, "h6", 9, 1) })
		if got, _ := store.PasswordHistory(ctx, db, u.ID, 10); len(got) != 1 || got[0] != "h6" {
			t.Fatalf("history %v, want only h6", got)
		}
		if got, _ := store.PasswordHistory(ctx, db, other.ID, 10); len(got) != 1 {
			t.Fatalf("bob's history %v was trimmed with alice's", got)
		}
	})
}

func TestReplaceOpenChallenges(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := addUser(t, db, "alice")
		ch := func(id, kind string) store.Challenge {
			return store.Challenge{ID: id, FlowID: "f", UserID: u.ID, Purpose: "reset", Kind: kind, CreatedAt: 1, ExpiresAt: 1 << 40}
		}
		for _, c := range []store.Challenge{ch("first", "email"), ch("text", "sms")} {
			if err := store.CreateChallenge(ctx, db, c); err != nil {
				t.Fatal(err)
			}
		}
		inTx(t, db, func(tx *store.Tx) error { return store.ReplaceOpenChallenges(ctx, tx, ch("second", "email"), 7) })
		want := map[string]int64{"first": 7, "text": 0, "second": 0}
		for id, voided := range want {
			c, err := store.ChallengeByID(ctx, db, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.VoidedAt != voided {
				t.Errorf("%s voided at %d, want %d", id, c.VoidedAt, voided)
			}
		}
	})
}

func TestConsumeChallengeRef(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := addUser(t, db, "alice")
		c := store.Challenge{ID: "c", FlowID: "f", UserID: u.ID, Purpose: "reset", Kind: "voucher", RefID: 42,
			CreatedAt: 1, ExpiresAt: 1 << 40, VerifiedAt: 2}
		if err := store.CreateChallenge(ctx, db, c); err != nil {
			t.Fatal(err)
		}
		var uid, ref int64
		inTx(t, db, func(tx *store.Tx) (err error) {
			uid, ref, err = store.ConsumeChallengeRef(ctx, tx, "c", 9)
			return err
		})
		if uid != u.ID || ref != 42 {
			t.Fatalf("consumed user %d ref %d, want %d and 42", uid, ref, u.ID)
		}
		for _, id := range []string{"c", "missing"} {
			err := db.WithTx(ctx, func(tx *store.Tx) error {
				_, _, err := store.ConsumeChallengeRef(ctx, tx, id, 10)
				return err
			})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("consuming %s again: %v, want ErrConflict", id, err)
			}
		}
		if got, _ := store.ChallengeByID(ctx, db, "c"); got.ConsumedAt != 9 {
			t.Fatalf("consumed at %d, want 9", got.ConsumedAt)
		}
	})
}

func TestSetPasswordHashByName(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addUser(t, db, "alice")
		addUser(t, db, "bob")
		inTx(t, db, func(tx *store.Tx) error { return store.SetPasswordHashByName(ctx, tx, "alice", "new", false, 50) })
		a, _ := store.UserByName(ctx, db, "alice")
		b, _ := store.UserByName(ctx, db, "bob")
		if a.PasswordHash != "new" || a.PasswordChangedAt != 50 || b.PasswordHash == "new" {
			t.Fatalf("alice %q at %d, bob %q", a.PasswordHash, a.PasswordChangedAt, b.PasswordHash)
		}
		err := db.WithTx(ctx, func(tx *store.Tx) error { return store.SetPasswordHashByName(ctx, tx, "nobody", "x", false, 1) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a missing user: %v", err)
		}
	})
}

func TestAppendAuditRow(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		row := store.AuditRow{ID: 1, At: 5, Event: "test", PrevHash: "p", Hash: "h1"}
		hd := store.AuditHead{LastID: 1, LastHash: "h1", Rows: 1, MAC: "m1"}
		inTx(t, db, func(tx *store.Tx) error { return store.AppendAuditRow(ctx, tx, row, hd) })
		got, err := store.AuditHeadOf(ctx, db)
		if err != nil || got != hd {
			t.Fatalf("head %+v %v, want %+v", got, err, hd)
		}
		if r, err := store.AuditRowAt(ctx, db, 1); err != nil || r.Hash != "h1" {
			t.Fatalf("row %+v %v", r, err)
		}
		// A taken id is ErrDuplicate, and the head stays as it was.
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			return store.AppendAuditRow(ctx, tx, row, store.AuditHead{LastID: 1, LastHash: "x", Rows: 2, MAC: "m2"})
		})
		if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("a taken id: %v, want ErrDuplicate", err)
		}
		if got, _ := store.AuditHeadOf(ctx, db); got != hd {
			t.Fatalf("head %+v after a failed append", got)
		}
	})
}
