package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
)

// importUsers makes n users named user0000…, every third in staff and
// every fifth in staff and ops.
func importUsers(n int) []store.ImportUser {
	out := make([]store.ImportUser, n)
	for i := range out {
		u := store.ImportUser{User: store.User{Username: fmt.Sprintf("user%04d", i), DisplayName: fmt.Sprintf("User %d", i),
			Email: fmt.Sprintf("user%04d@example.com", i), IsAdmin: i%100 == 0, CreatedAt: 1, UpdatedAt: 1}}
		if i%3 == 0 {
			u.Groups = append(u.Groups, "staff")
		}
		if i%5 == 0 {
			// staff twice is one membership.
			u.Groups = append(u.Groups, "staff", "ops", "staff")
		}
		out[i] = u
	}
	return out
}

func importIn(db *store.DB, users []store.ImportUser, progress func(int)) error {
	ctx := context.Background()
	return db.WithTx(ctx, func(tx *store.Tx) error { return store.ImportUsers(ctx, tx, users, progress) })
}

// TestImportUsersChunks imports more users than one statement writes, and
// checks every user's row and memberships on both engines.
func TestImportUsersChunks(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, g := range []string{"staff", "ops"} {
			if _, err := store.CreateGroup(ctx, db, g, 1); err != nil {
				t.Fatal(err)
			}
		}
		addUser(t, db, "before")
		users := importUsers(2345)
		var calls []int
		if err := importIn(db, users, func(done int) { calls = append(calls, done) }); err != nil {
			t.Fatal(err)
		}
		if want := []int{1000, 2000, 2345}; fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Fatalf("progress %v, want %v", calls, want)
		}
		if n := countRows(t, db, "users"); n != 2346 {
			t.Fatalf("%d users, want 2346", n)
		}
		for _, i := range []int{0, 1, 3, 5, 499, 500, 1500, 2344} {
			want := users[i]
			u, err := store.UserByName(ctx, db, want.Username)
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != want.Email || u.DisplayName != want.DisplayName || u.IsAdmin != want.IsAdmin {
				t.Fatalf("user %d: %+v, want %+v", i, u, want.User)
			}
			for _, g := range []string{"staff", "ops"} {
				in, err := store.IsMember(ctx, db, g, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.Contains(strings.Join(want.Groups, ","), g); in != want {
					t.Fatalf("user %d in %s: %v, want %v", i, g, in, want)
				}
			}
		}
		staff := 0
		for _, u := range users {
			if len(u.Groups) > 0 {
				staff++
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships m JOIN groups g ON g.id = m.group_id
			WHERE g.name = 'staff'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != staff {
			t.Fatalf("%d staff memberships, want %d", n, staff)
		}
	})
}

// TestImportUsersRefusals: a taken name, a name twice in the file (in one
// chunk or across two) and an unknown group each import nothing and name
// the first user at fault, on both engines.
func TestImportUsersRefusals(t *testing.T) {
	onEngines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := store.CreateGroup(ctx, db, "staff", 1); err != nil {
			t.Fatal(err)
		}
		addUser(t, db, "user0700")
		for _, tc := range []struct {
			name  string
			edit  func(us []store.ImportUser) []store.ImportUser
			want  error
			names string
		}{
			{"taken", func(us []store.ImportUser) []store.ImportUser { return us }, store.ErrDuplicate, `"user0700"`},
			{"twice in a chunk", func(us []store.ImportUser) []store.ImportUser {
				us[700].Username = "again"
				us[710].Username = "again"
				return us
			}, store.ErrDuplicate, `"again"`},
			{"twice across chunks", func(us []store.ImportUser) []store.ImportUser {
				us[700].Username = "again"
				us[100].Username = "again"
				return us
			}, store.ErrDuplicate, `"again"`},
			{"unknown group first", func(us []store.ImportUser) []store.ImportUser {
				us[650].Groups = []string{"staff", "nosuch"}
				return us
			}, store.ErrNotFound, `"user0650": group "nosuch"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				users := importUsers(1200)
				for i := range users {
					users[i].Groups = nil
				}
				err := importIn(db, tc.edit(users), nil)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.names) {
					t.Fatalf("import: %v, want %v naming %s", err, tc.want, tc.names)
				}
				if n := countRows(t, db, "users"); n != 1 {
					t.Fatalf("a refused import left %d users", n-1)
				}
			})
		}
	})
}
