package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// TestReadOnlyPeek: a second process's read-only view sees what the owner
// wrote (the messages to one address, newest first; the audit rows a filter
// selects), cannot write, and leaves a missing file uncreated.
func TestReadOnlyPeek(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	for i, m := range []store.OutboxMessage{
		{Kind: "code", Destination: "a@example.com", Body: "first"},
		{Kind: "code", Destination: "b@example.com", Body: "other"},
		{Kind: "notification", Destination: "a@example.com", Body: "second"},
	} {
		m.Channel, m.State, m.CreatedAt = "email", store.OutboxSent, int64(i+1)
		if _, err := store.EnqueueOutbox(ctx, db, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range []store.AuditRow{
		{Event: "password.reset", Target: "alice"},
		{Event: "password.reset", Target: "bob"},
		{Event: "signin.failed", Target: "alice"},
	} {
		r.ID, r.At, r.Outcome = int64(i+1), int64(i+1), "ok"
		if err := store.InsertAudit(ctx, db, r); err != nil {
			t.Fatal(err)
		}
	}

	open := store.OpenReadOnly
	if storetest.Engine() == store.Postgres {
		open = store.OpenReadOnlyPostgres
	}
	ro, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	msgs, err := store.OutboxTo(ctx, ro, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Body != "second" || msgs[1].Body != "first" {
		t.Fatalf("messages to a@example.com: %+v; want second, then first", msgs)
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want int
	}{
		{store.AuditFilter{Events: []string{"password.reset"}}, 2},
		{store.AuditFilter{Events: []string{"password.reset"}, Target: "alice", Limit: 1, Offset: 5}, 1},
		{store.AuditFilter{}, 3},
	} {
		if n, err := store.CountAudit(ctx, ro, tc.f); err != nil || n != tc.want {
			t.Errorf("CountAudit(%+v) = %d, %v; want %d", tc.f, n, err, tc.want)
		}
	}
	if _, err := ro.ExecContext(ctx, `DELETE FROM audit`); err == nil {
		t.Fatal("a read-only store accepted a write")
	}

	if storetest.Engine() != store.SQLite {
		return // the rest is about files
	}
	missing := path + ".missing"
	if ro, err := store.OpenReadOnly(missing); err == nil {
		_, _ = store.CountAudit(ctx, ro, store.AuditFilter{})
		ro.Close()
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a read-only open created %s (%v)", missing, err)
	}
}
