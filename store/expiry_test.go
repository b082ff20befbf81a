package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// onBothEngines runs fn on a fresh SQLite file and on a fresh PostgreSQL
// database; open opens the same store again, as a restart would.
func onBothEngines(t *testing.T, fn func(t *testing.T, open func() *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sspr.db")
		fn(t, func() *store.DB { return openAt(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		fn(t, func() *store.DB {
			db, err := store.OpenPostgres(context.Background(), dsn, store.PostgresOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

// TestExpiryReminderRecordedOnce: the second record of the same person,
// password and threshold reports false, from the same or a reopened store
// (a restart), while another threshold or a new password records anew.
func TestExpiryReminderRecordedOnce(t *testing.T) { onBothEngines(t, testExpiryReminderRecordedOnce) }

func testExpiryReminderRecordedOnce(t *testing.T, open func() *store.DB) {
	ctx := context.Background()
	db := open()
	u := store.User{Username: "ann", Email: "ann@example.org", PasswordHash: "x", PasswordChangedAt: 100, CreatedAt: 1, UpdatedAt: 1}
	if err := store.CreateUser(ctx, db, &u); err != nil {
		t.Fatal(err)
	}
	k := store.ExpiryReminderKey{UserID: u.ID, PasswordChangedAt: 100, Days: 7}
	if ok, err := store.RecordExpiryReminder(ctx, db, k, 1000); err != nil || !ok {
		t.Fatalf("first record: %v, %v", ok, err)
	}
	if ok, err := store.RecordExpiryReminder(ctx, db, k, 1001); err != nil || ok {
		t.Fatalf("second record: %v, %v; want false", ok, err)
	}
	_ = db.Close()
	db = open()
	if ok, err := store.RecordExpiryReminder(ctx, db, k, 1002); err != nil || ok {
		t.Fatalf("record after reopening: %v, %v; want false", ok, err)
	}
	for _, other := range []store.ExpiryReminderKey{{UserID: u.ID, PasswordChangedAt: 100, Days: 3},
		{UserID: u.ID, PasswordChangedAt: 200, Days: 7}} {
		if ok, err := store.RecordExpiryReminder(ctx, db, other, 1003); err != nil || !ok {
			t.Errorf("record %+v: %v, %v; want true", other, ok, err)
		}
	}
	sent, err := store.SentExpiryReminders(ctx, db)
	if err != nil || len(sent) != 3 || !sent[k] {
		t.Fatalf("sent = %v, %v", sent, err)
	}
	if err := store.PurgeExpiryReminders(ctx, db, 1001); err != nil {
		t.Fatal(err)
	}
	if sent, _ := store.SentExpiryReminders(ctx, db); len(sent) != 2 || sent[k] {
		t.Errorf("after purge: %v", sent)
	}
}

// TestEachPasswordAccount: one call per user, in id order, with the
// registered contacts of the kinds asked for and none of the others.
func TestEachPasswordAccount(t *testing.T) { onBothEngines(t, testEachPasswordAccount) }

func testEachPasswordAccount(t *testing.T, open func() *store.DB) {
	ctx := context.Background()
	db := open()
	var ids []int64
	for _, name := range []string{"ann", "bob", "cy"} {
		u := store.User{Username: name, PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
		if err := store.CreateUser(ctx, db, &u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	for _, m := range []store.Method{{UserID: ids[0], Kind: "email", Destination: "ann@example.org"},
		{UserID: ids[0], Kind: "sms", Destination: "+15550100001"}, {UserID: ids[0], Kind: "authenticator"},
		{UserID: ids[2], Kind: "authenticator"}} {
		if err := store.UpsertMethod(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	var got []store.PasswordAccount
	err := store.EachPasswordAccount(ctx, db, []string{"email", "sms"}, func(a store.PasswordAccount) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Username != "ann" || got[1].Username != "bob" || got[2].Username != "cy" {
		t.Fatalf("accounts: %+v", got)
	}
	if len(got[0].Contacts) != 2 || got[0].Contacts[0] != [2]string{"email", "ann@example.org"} ||
		len(got[1].Contacts) != 0 || len(got[2].Contacts) != 0 || !got[0].HasPassword {
		t.Errorf("contacts: %+v", got)
	}
}
