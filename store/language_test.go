package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
)

// A person's preferred language starts empty (the organisation's default),
// is stored and read back, survives an update of the rest of the row, and
// goes with a queued message.
func TestUserLanguage(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	u := addUser(t, db, "alice")
	if got, err := store.UserLanguage(ctx, db, "alice"); err != nil || got != "" {
		t.Fatalf("new user's language = %q, %v; want empty", got, err)
	}
	if err := store.SetUserLanguage(ctx, db, u.ID, "ja", 5); err != nil {
		t.Fatal(err)
	}
	if got, err := store.UserLanguage(ctx, db, "alice"); err != nil || got != "ja" {
		t.Fatalf("language = %q, %v; want ja", got, err)
	}
	back, err := store.UserByID(ctx, db, u.ID)
	if err != nil || back.Language != "ja" {
		t.Fatalf("UserByID language = %q, %v", back.Language, err)
	}
	back.DisplayName = "Alice A."
	if err := store.UpdateUser(ctx, db, back); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.UserLanguage(ctx, db, "alice"); got != "ja" {
		t.Fatalf("language after UpdateUser = %q", got)
	}
	if err := store.SetUserLanguage(ctx, db, 9999, "de", 5); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no such user: %v", err)
	}
	if _, err := store.UserLanguage(ctx, db, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no such user: %v", err)
	}
	id, err := store.EnqueueOutbox(ctx, db, store.OutboxMessage{Kind: "notification", Channel: "email",
		Destination: "a@example.org", Body: "b", Language: "ja"})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := store.ListOutbox(ctx, db, id-1, 1)
	if err != nil || len(msgs) != 1 || msgs[0].Language != "ja" {
		t.Fatalf("outbox = %+v, %v", msgs, err)
	}
}
