package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestUserSearchIndexPostgres: a PostgreSQL store has the trigram index the
// admin panel's user search needs over many users, and the planner uses it
// for the search's condition.
func TestUserSearchIndexPostgres(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, pgtest.DSN(t), store.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'users' AND indexname = 'users_search'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatal("no users_search index")
	}
	seedAdminUsers(t, db, 2000)
	if _, err := db.ExecContext(ctx, `ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	// 2,000 users are few enough for a scan to be cheaper; what is checked is
	// that the index can serve the condition.
	var plan []string
	err = db.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `EXPLAIN SELECT id FROM users WHERE username ILIKE ? OR display_name ILIKE ? OR email ILIKE ?`,
			"%nobody%", "%nobody%", "%nobody%")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "users_search") {
		t.Fatalf("the search does not use users_search:\n%s", strings.Join(plan, "\n"))
	}
	page, err := store.ListUserPage(ctx, db, store.UserPageFilter{Search: "PERSON 1999", Limit: 12})
	if err != nil || len(page.Rows) != 1 || page.Rows[0].Username != "user001999" {
		t.Fatalf("search for PERSON 1999: %+v %v", page.Rows, err)
	}
}
