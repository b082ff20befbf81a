package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// pgHandles opens n handles, each with its own pool, on one fresh
// PostgreSQL database, as n sspr processes sharing it would have; these
// tests are about PostgreSQL whatever SSPR_TEST_STORE says.
func pgHandles(t *testing.T, n int) []*store.DB {
	t.Helper()
	dsn := pgtest.DSN(t)
	dbs := make([]*store.DB, n)
	for i := range dbs {
		dbs[i] = storetest.OpenAt(t, dsn)
	}
	return dbs
}

// once checks that exactly one of errs is nil and the others are
// ErrConflict.
func once(t *testing.T, what string, errs []error) {
	t.Helper()
	storetest.ExactlyOnce(t, what, errs, store.ErrConflict)
}

// TestOnceAcrossProcesses: a code's challenge, verified and then consumed,
// a recovery code and a helpdesk voucher, each submitted through two
// processes' handles at the same moment, are each accepted exactly once, in
// each of 200 rounds. The conditional UPDATEs decide it in the database.
func TestOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dbs := pgHandles(t, 2)
	a, b := dbs[0], dbs[1]
	u := addUser(t, a, "alice")
	for round := range 200 {
		id := newChallenge(t, a, u.ID, false)
		once(t, fmt.Sprintf("round %d: verify challenge", round), storetest.AtOnce(
			func() error { return store.MarkChallengeVerified(ctx, a, id, 10) },
			func() error { return store.MarkChallengeVerified(ctx, b, id, 11) }))
		once(t, fmt.Sprintf("round %d: consume challenge", round), storetest.AtOnce(
			func() error {
				return a.WithTx(ctx, func(tx *store.Tx) error { return store.ConsumeChallenge(ctx, tx, id, 20) })
			},
			func() error {
				return b.WithTx(ctx, func(tx *store.Tx) error { return store.ConsumeChallenge(ctx, tx, id, 21) })
			}))

		hash := fmt.Sprintf("recovery-%d", round)
		if err := store.ReplaceRecoveryCodes(ctx, a, u.ID, []string{hash}, 1); err != nil {
			t.Fatal(err)
		}
		rid, err := store.UnusedRecoveryCode(ctx, b, u.ID, hash)
		if err != nil {
			t.Fatal(err)
		}
		once(t, fmt.Sprintf("round %d: recovery code", round), storetest.AtOnce(
			func() error { return store.UseRecoveryCode(ctx, a, rid, 30) },
			func() error { return store.UseRecoveryCode(ctx, b, rid, 31) }))

		vhash := fmt.Sprintf("voucher-%d", round)
		if err := store.CreateVoucher(ctx, a, u.ID, vhash, "helpdesk", 1, 1<<40); err != nil {
			t.Fatal(err)
		}
		v, err := store.ValidVoucher(ctx, b, u.ID, vhash, 2)
		if err != nil {
			t.Fatal(err)
		}
		once(t, fmt.Sprintf("round %d: voucher", round), storetest.AtOnce(
			func() error { return store.UseVoucher(ctx, a, v.ID, 40) },
			func() error { return store.UseVoucher(ctx, b, v.ID, 41) }))
	}
}
