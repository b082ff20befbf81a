package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// seedAdminUsers creates n users named user000000… in one transaction; every
// third has an email method, every fifth an authenticator, and user000007 is
// blocked until 1000.
func seedAdminUsers(t testing.TB, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	users := make([]store.ImportUser, n)
	for i := range users {
		users[i] = store.ImportUser{User: store.User{Username: fmt.Sprintf("user%06d", i),
			DisplayName: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("user%06d@example.org", i), CreatedAt: 1, UpdatedAt: 1}}
	}
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.ImportUsers(ctx, tx, users, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO methods (user_id, kind, created_at, confirmed_at)
			SELECT id, 'email', 1, 1 FROM users WHERE id % 3 = 0`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO methods (user_id, kind, created_at, confirmed_at)
			SELECT id, 'authenticator', 1, 1 FROM users WHERE id % 5 = 0`); err != nil {
			return err
		}
		return store.SetBlock(ctx, tx, store.Block{Scope: store.ScopeAccount, Key: "user000007", Reason: "test", CreatedAt: 1, Until: 1000})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListUserPage(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	seedAdminUsers(t, db, 45)
	first, err := store.ListUserPage(ctx, db, store.UserPageFilter{Limit: 20, Now: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Rows) != 20 || first.HasPrev || !first.HasNext || first.Rows[0].Username != "user000000" {
		t.Fatalf("first page: %d rows, prev %v next %v", len(first.Rows), first.HasPrev, first.HasNext)
	}
	u7 := first.Rows[7]
	if u7.Username != "user000007" || u7.BlockedUntil != 1000 {
		t.Fatalf("user000007: %+v", u7)
	}
	// ids start at 1: user000014 has id 15, so email (15%3) and authenticator (15%5).
	if got := first.Rows[14].Kinds; !slices.Equal(got, []string{"authenticator", "email"}) {
		t.Fatalf("kinds of user000014: %v", got)
	}
	second, err := store.ListUserPage(ctx, db, store.UserPageFilter{Limit: 20, After: first.Rows[19].Username, Now: 500})
	if err != nil {
		t.Fatal(err)
	}
	third, err := store.ListUserPage(ctx, db, store.UserPageFilter{Limit: 20, After: second.Rows[19].Username, Now: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Rows) != 5 || !third.HasPrev || third.HasNext {
		t.Fatalf("third page: %d rows, prev %v next %v", len(third.Rows), third.HasPrev, third.HasNext)
	}
	back, err := store.ListUserPage(ctx, db, store.UserPageFilter{Limit: 20, Before: third.Rows[0].Username, Now: 500})
	if err != nil {
		t.Fatal(err)
	}
	if back.Rows[0].Username != second.Rows[0].Username || !back.HasPrev || !back.HasNext {
		t.Fatalf("back to second page: starts at %s, prev %v next %v", back.Rows[0].Username, back.HasPrev, back.HasNext)
	}
	back, err = store.ListUserPage(ctx, db, store.UserPageFilter{Limit: 20, Before: second.Rows[0].Username, Now: 500})
	if err != nil {
		t.Fatal(err)
	}
	if back.Rows[0].Username != "user000000" || back.HasPrev {
		t.Fatalf("back to first page: starts at %s, prev %v", back.Rows[0].Username, back.HasPrev)
	}
	// The block has ended by 1000.
	late, err := store.ListUserPage(ctx, db, store.UserPageFilter{Search: "user000007", Now: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(late.Rows) != 1 || late.Rows[0].BlockedUntil != 0 {
		t.Fatalf("expired block still shown: %+v", late.Rows)
	}
	// LIKE wildcards are literal.
	for _, s := range []string{"%", "_", `\`, "user00001_"} {
		p, err := store.ListUserPage(ctx, db, store.UserPageFilter{Search: s, Now: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) != 0 {
			t.Fatalf("search %q matched %d users", s, len(p.Rows))
		}
	}
}

func TestRegistrationFacts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	seedAdminUsers(t, db, 30)
	kinds := []string{"email", "sms", "authenticator"}
	facts, err := store.RegistrationFacts(ctx, db, kinds)
	if err != nil {
		t.Fatal(err)
	}
	regs, err := store.Registrations(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != len(regs) {
		t.Fatalf("%d facts, %d registrations", len(facts), len(regs))
	}
	byID := map[int64]store.RegistrationRow{}
	for _, r := range regs {
		byID[r.ID] = r
	}
	for i, f := range facts {
		r := byID[f.ID]
		var want uint64
		for _, k := range r.Kinds {
			want |= 1 << slices.Index(kinds, k)
		}
		if f.Kinds != want || f.IsAdmin != r.IsAdmin || f.Disabled != r.Disabled || f.LastConfirmedAt != r.LastConfirmedAt {
			t.Fatalf("row %d: %+v vs %+v", i, f, r)
		}
	}
	ids, err := store.UserIDsByName(ctx, db, []string{"user000003", "user000001", "nobody"})
	if err != nil || !slices.Equal(ids, []int64{2, 4}) {
		t.Fatalf("ids by name: %v %v", ids, err)
	}
}

// BenchmarkAdminQueries100k measures the admin panel's queries over 100,000
// users (a third with an email, a fifth with an authenticator), on SQLite
// and on PostgreSQL over loopback.
//
//	go test ./store/ -run '^$' -bench AdminQueries100k -benchtime 20x
func BenchmarkAdminQueries100k(b *testing.B) {
	ctx := context.Background()
	b.Run("engine=sqlite", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "sspr.db")
		db, err := store.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		seedAdminUsers(b, db, 100_000)
		// Reopen, as a store in use would be: the import's write-ahead log is
		// checkpointed away on close.
		db.Close()
		if db, err = store.Open(ctx, path); err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchAdminQueries(b, db)
	})
	b.Run("engine=postgres", func(b *testing.B) {
		db, err := store.OpenPostgres(ctx, pgtest.DSN(b), store.PostgresOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		seedAdminUsers(b, db, 100_000)
		// As autovacuum would, soon after an import: the planner's
		// statistics.
		if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
		benchAdminQueries(b, db)
	})
}

func benchAdminQueries(b *testing.B, db *store.DB) {
	ctx := context.Background()
	for _, bc := range []struct{ name, after, search string }{
		{"page-first", "", ""}, {"page-deep", "user090000", ""}, {"page-search-common", "", "person 9"},
		{"page-search-rare", "", "user099999"}, {"page-search-none", "", "nobody"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := store.ListUserPage(ctx, db, store.UserPageFilter{Search: bc.search, After: bc.after, Limit: 12, Now: 500}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("count-search", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.CountUserPage(ctx, db, "person 9"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("registration-facts", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.RegistrationFacts(ctx, db, []string{"email", "sms", "authenticator"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What the facts replace for the what-if and the insights: every column
	// of every user.
	b.Run("registrations", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.Registrations(ctx, db); err != nil {
				b.Fatal(err)
			}
		}
	})
}
