package store_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
)

// The reads a reset makes together, one round trip each, answer what the
// reads they stand for answer, on both engines.

func TestBlockedAndLastEvent(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := []store.BlockKey{{Scope: store.ScopeAccount, Key: "alice"}, {Scope: store.ScopeSource, Key: "kiosk"}}
		check := func(wantBlocked bool, wantN int, wantLast int64) {
			t.Helper()
			blocked, n, last, err := store.BlockedAndLastEvent(ctx, db, 100, keys, store.ScopeSource, "kiosk",
				store.EventFail, 50)
			if err != nil || blocked != wantBlocked || n != wantN || last != wantLast {
				t.Fatalf("blocked %v, %d events, last %d, %v; want %v, %d, %d", blocked, n, last, err,
					wantBlocked, wantN, wantLast)
			}
		}
		check(false, 0, 0)
		for _, at := range []int64{40, 60, 70} { // the first is before the window
			if err := store.AddThrottleEvent(ctx, db, store.ScopeSource, "kiosk", store.EventFail, at); err != nil {
				t.Fatal(err)
			}
		}
		check(false, 2, 70)
		// A block that ended does not count; one in force does.
		if err := store.SetBlock(ctx, db, store.Block{Scope: store.ScopeAccount, Key: "alice", Reason: "t", CreatedAt: 1, Until: 90}); err != nil {
			t.Fatal(err)
		}
		check(false, 2, 70)
		if err := store.SetBlock(ctx, db, store.Block{Scope: store.ScopeSource, Key: "kiosk", Reason: "t", CreatedAt: 1, Until: 200}); err != nil {
			t.Fatal(err)
		}
		check(true, 2, 70)
	})
}

func TestPolicyValuesAndBlocked(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := []store.BlockKey{{Scope: store.ScopeAccount, Key: "alice"}}
		values, blocked, err := store.PolicyValuesAndBlocked(ctx, db, 100, keys...)
		want, _ := store.PolicyValues(ctx, db)
		if err != nil || blocked || !maps.Equal(values, want) {
			t.Fatalf("%v %v %v, want %v", values, blocked, err, want)
		}
		// Values that need quoting in JSON come back as they were.
		for k, v := range map[string]string{"banned_words": "a,b\n\"c\"\\d é", "min_length": "12"} {
			if err := store.SetPolicyValue(ctx, db, k, v, 5); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.SetBlock(ctx, db, store.Block{Scope: store.ScopeAccount, Key: "alice", Reason: "t", CreatedAt: 1, Until: 200}); err != nil {
			t.Fatal(err)
		}
		values, blocked, err = store.PolicyValuesAndBlocked(ctx, db, 100, keys...)
		want, _ = store.PolicyValues(ctx, db)
		if err != nil || !blocked || !maps.Equal(values, want) || values["banned_words"] != "a,b\n\"c\"\\d é" {
			t.Fatalf("%q %v %v, want %q", values, blocked, err, want)
		}
	})
}

func TestUserPolicyHistory(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := addUser(t, db, "alice")
		addUser(t, db, "bob")
		if err := store.SetPolicyValue(ctx, db, "password_history", "3", 5); err != nil {
			t.Fatal(err)
		}
		if err := store.SetUserLanguage(ctx, db, u.ID, "de", 2); err != nil {
			t.Fatal(err)
		}
		got, values, history, err := store.UserPolicyHistory(ctx, db, u.ID, 4)
		want, _ := store.UserByID(ctx, db, u.ID)
		if err != nil || got != want || values["password_history"] != "3" || len(history) != 0 {
			t.Fatalf("%+v %v %v %v, want %+v", got, values, history, err, want)
		}
		for i, h := range []string{"h1", "h2", "h3", "h4", "h5", "h6"} {
			if err := store.AddPasswordHistory(ctx, db, u.ID, h, int64(i), 10); err != nil {
				t.Fatal(err)
			}
		}
		_, _, history, err = store.UserPolicyHistory(ctx, db, u.ID, 4)
		wantHistory, _ := store.PasswordHistory(ctx, db, u.ID, 4)
		if err != nil || !slices.Equal(history, wantHistory) || !slices.Equal(history, []string{"h6", "h5", "h4", "h3"}) {
			t.Fatalf("history %v %v, PasswordHistory %v", history, err, wantHistory)
		}
		if _, _, _, err := store.UserPolicyHistory(ctx, db, u.ID+100, 4); err == nil {
			t.Fatal("a missing user was found")
		}
	})
}

// registerMethods gives u an email, an authenticator, and a voucher valid
// until 100.
func registerMethods(t *testing.T, db *store.DB, u store.User) {
	t.Helper()
	ctx := context.Background()
	for _, m := range []store.Method{
		{UserID: u.ID, Kind: "email", Destination: "a@example.com", CreatedAt: 1, ConfirmedAt: 2},
		{UserID: u.ID, Kind: "authenticator", Secret: []byte{1, 2}, LastStep: 7, CreatedAt: 3, ConfirmedAt: 4},
	} {
		if err := store.UpsertMethod(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CreateVoucher(ctx, db, u.ID, "hash", "helpdesk", 1, 100); err != nil {
		t.Fatal(err)
	}
}

func TestMethodsAndVoucher(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := addUser(t, db, "alice")
		methods, voucher, err := store.MethodsAndVoucher(ctx, db, u.Username, 10)
		if err != nil || len(methods) != 0 || voucher {
			t.Fatalf("nothing registered: %+v %v %v", methods, voucher, err)
		}
		registerMethods(t, db, u)
		want, _ := store.MethodsOf(ctx, db, u.ID)
		for _, at := range []int64{50, 150} {
			methods, voucher, err = store.MethodsAndVoucher(ctx, db, u.Username, at)
			active, _ := store.HasActiveVoucher(ctx, db, u.ID, at)
			if err != nil || voucher != active || voucher != (at < 100) || len(methods) != len(want) {
				t.Fatalf("at %d: %+v voucher %v (HasActiveVoucher %v) %v", at, methods, voucher, active, err)
			}
			for i := range want {
				if methods[i].ID != want[i].ID || methods[i].Kind != want[i].Kind ||
					string(methods[i].Secret) != string(want[i].Secret) || methods[i].LastStep != want[i].LastStep {
					t.Fatalf("method %d: %+v, want %+v", i, methods[i], want[i])
				}
			}
		}
	})
}
