package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// engines opens a fresh store on each engine: SQLite, and PostgreSQL
// where it can run here.
func engines(t *testing.T) map[string]func(t *testing.T) *store.DB {
	return map[string]func(t *testing.T) *store.DB{
		"sqlite": func(t *testing.T) *store.DB {
			db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "sspr.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"postgres": func(t *testing.T) *store.DB {
			db, err := store.OpenPostgres(context.Background(), pgtest.DSN(t), store.PostgresOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
}

// addKey adds a key as flows do: the ssh_key method row, then the key, in
// one transaction.
func addKey(ctx context.Context, db *store.DB, userID int64, n, max int) error {
	return db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.UpsertMethod(ctx, tx, store.Method{UserID: userID, Kind: store.SSHKeyKind, CreatedAt: 1,
			ConfirmedAt: 1}); err != nil {
			return err
		}
		return store.AddSSHKey(ctx, tx, store.SSHKey{UserID: userID, Type: "ssh-ed25519", Bits: 256,
			Fingerprint: fmt.Sprintf("SHA256:key%d", n), PublicKey: []byte{0, 1, 2, byte(n), 0xff}, Comment: "c", CreatedAt: 1}, max)
	})
}

// TestSSHKeysBothEngines: on SQLite and PostgreSQL alike, keys hang off
// the ssh_key method row; a key is added once; the limit holds, also for
// additions at the same moment; the wire form reads back byte for byte;
// removing the last key, or the method, takes the rest with it.
func TestSSHKeysBothEngines(t *testing.T) {
	for name, open := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			u := store.User{Username: "alice", CreatedAt: 1, UpdatedAt: 1}
			if err := store.CreateUser(ctx, db, &u); err != nil {
				t.Fatal(err)
			}
			if err := addKey(ctx, db, u.ID, 0, 3); err != nil {
				t.Fatal(err)
			}
			if err := addKey(ctx, db, u.ID, 0, 3); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("the same key again: %v", err)
			}
			// Eight additions at once, two places left.
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() { errs[i] = addKey(ctx, db, u.ID, i+1, 3) })
			}
			wg.Wait()
			added := 0
			for _, err := range errs {
				switch {
				case err == nil:
					added++
				case !errors.Is(err, store.ErrLimit):
					t.Errorf("addition at once: %v", err)
				}
			}
			keys, err := store.SSHKeysOf(ctx, db, u.ID)
			if err != nil || added != 2 || len(keys) != 3 {
				t.Fatalf("%d added at once, %d keys stored (%v); want 2 and 3", added, len(keys), err)
			}
			if !bytes.Equal(keys[0].PublicKey, []byte{0, 1, 2, 0, 0xff}) || keys[0].Bits != 256 {
				t.Errorf("read back %+v", keys[0])
			}
			if k, err := store.SSHKeyByFingerprint(ctx, db, u.ID, "SHA256:key0"); err != nil || k.ID != keys[0].ID {
				t.Errorf("by fingerprint: %+v, %v", k, err)
			}
			for i, k := range keys[:2] {
				if left, err := store.DeleteSSHKey(ctx, db, u.ID, k.ID); err != nil || left != 2-i {
					t.Fatalf("delete %d: %d left, %v", i, left, err)
				}
			}
			if _, err := store.DeleteSSHKey(ctx, db, u.ID, keys[0].ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("delete again: %v", err)
			}
			if _, err := store.DeleteSSHKey(ctx, db, u.ID, keys[2].ID); err != nil {
				t.Fatal(err)
			}
			if _, err := store.MethodOf(ctx, db, u.ID, store.SSHKeyKind); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the method outlived its last key: %v", err)
			}
			if err := addKey(ctx, db, u.ID, 9, 3); err != nil {
				t.Fatal(err)
			}
			if err := store.DeleteMethod(ctx, db, u.ID, store.SSHKeyKind); err != nil {
				t.Fatal(err)
			}
			if keys, err := store.SSHKeysOf(ctx, db, u.ID); err != nil || len(keys) != 0 {
				t.Errorf("keys outlived their method: %d, %v", len(keys), err)
			}
		})
	}
}
