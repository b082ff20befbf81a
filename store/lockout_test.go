package store_test

import (
	"context"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestLockoutStatements runs the lockout's statements on both engines: a
// wrong password counted once however often it is typed, the lock set once,
// an ended lockout starting the count afresh, and a clear that tells
// whether the account was locked.
func TestLockoutStatements(t *testing.T) {
	ctx := context.Background()
	engines := map[string]func(t *testing.T) *store.DB{
		"sqlite": func(t *testing.T) *store.DB { db, _ := openTemp(t); return db },
		"postgres": func(t *testing.T) *store.DB {
			db, err := store.OpenPostgres(ctx, pgtest.DSN(t), store.PostgresOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			u := addUser(t, db, "alice")
			count := func(mac string, want int) {
				t.Helper()
				err := db.WithTx(ctx, func(tx *store.Tx) error {
					n, err := store.CountWrongPassword(ctx, tx, u.ID, mac, 100)
					if err == nil && n != want {
						t.Errorf("count %s = %d, want %d", mac, n, want)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			count("a", 1)
			count("a", 1)
			count("b", 2)
			if ok, err := store.LockOut(ctx, db, u.ID, 100, 200); err != nil || !ok {
				t.Fatalf("lock out: %v, %v", ok, err)
			}
			if ok, err := store.LockOut(ctx, db, u.ID, 150, 900); err != nil || ok {
				t.Fatalf("lock out while locked: %v, %v", ok, err)
			}
			if l, err := store.LockoutOf(ctx, db, u.ID); err != nil || l != (store.Lockout{Failures: 2, LockedUntil: 200}) {
				t.Fatalf("lockout %+v, %v", l, err)
			}
			if ended, err := store.EndExpiredLockout(ctx, db, u.ID, 199); err != nil || ended {
				t.Fatalf("end before its time: %v, %v", ended, err)
			}
			if ended, err := store.EndExpiredLockout(ctx, db, u.ID, 200); err != nil || !ended {
				t.Fatalf("end at its time: %v, %v", ended, err)
			}
			count("a", 1)
			if ok, err := store.LockOut(ctx, db, u.ID, 300, 400); err != nil || !ok {
				t.Fatalf("lock out again: %v, %v", ok, err)
			}
			if was, err := store.ClearLockout(ctx, db, u.ID, 350); err != nil || !was {
				t.Fatalf("clear a lockout in force: %v, %v", was, err)
			}
			if l, err := store.LockoutOf(ctx, db, u.ID); err != nil || l != (store.Lockout{}) {
				t.Fatalf("after the clear %+v, %v", l, err)
			}
			count("a", 1)
			if was, err := store.ClearLockout(ctx, db, u.ID, 350); err != nil || was {
				t.Fatalf("clear with no lockout: %v, %v", was, err)
			}
		})
	}
}
