package storetest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// TestReads: the counts and the timestamp are the store's, read back after
// writes through the store's own functions.
func TestReads(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "sspr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, state := range []string{store.OutboxQueued, store.OutboxSent, store.OutboxFailed} {
		m := store.OutboxMessage{Kind: "notification", Channel: "email", Destination: "a@example.com", State: state}
		if _, err := store.EnqueueOutbox(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	n, err := storetest.CountTidyable(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != (storetest.Tidyable{OutboxDone: 2, OutboxQueued: 1}) {
		t.Fatalf("counted %+v; want 2 done and 1 queued message", n)
	}
	if err := store.SetPolicyValue(ctx, db, "reconfirm_days", "30", 123); err != nil {
		t.Fatal(err)
	}
	if at, err := storetest.PolicyUpdatedAt(ctx, db, "reconfirm_days"); err != nil || at != 123 {
		t.Fatalf("updated_at %d, %v; want 123", at, err)
	}
	if _, err := storetest.PolicyUpdatedAt(ctx, db, "no_such_key"); err == nil {
		t.Fatal("a missing setting has a timestamp")
	}
}
