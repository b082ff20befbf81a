package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestPostgresMigratesOnceWhenStartedTogether: processes that start
// together on a new database (replicas after a deploy) all start, and the
// schema is migrated once: every migration recorded exactly once.
func TestPostgresMigratesOnceWhenStartedTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	const n = 6
	dbs := make([]*store.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = store.OpenPostgres(ctx, dsn, store.PostgresOptions{})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	files, err := fs.Glob(os.DirFS(filepath.Join("migrations", "postgres")), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	rows, err := dbs[0].QueryContext(ctx, `SELECT version, COUNT(*) FROM schema_migrations GROUP BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	versions := 0
	for rows.Next() {
		var v, c int
		if err := rows.Scan(&v, &c); err != nil {
			t.Fatal(err)
		}
		if c != 1 {
			t.Errorf("migration %d recorded %d times", v, c)
		}
		versions++
	}
	if versions != len(files) {
		t.Fatalf("%d migrations recorded, %d files", versions, len(files))
	}
}

// TestPostgresTypedErrors: PostgreSQL's answers become the store's typed
// errors, as SQLite's do.
func TestPostgresTypedErrors(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, pgtest.DSN(t), store.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Engine() != store.Postgres {
		t.Fatalf("engine %q", db.Engine())
	}
	u := store.User{Username: "alice", CreatedAt: 1, UpdatedAt: 1, IsAdmin: true}
	if err := store.CreateUser(ctx, db, &u); err != nil || u.ID == 0 {
		t.Fatalf("create: %v (id %d)", err, u.ID)
	}
	again := store.User{Username: "alice", CreatedAt: 1, UpdatedAt: 1}
	if err := store.CreateUser(ctx, db, &again); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second alice: %v, want ErrDuplicate", err)
	}
	if _, err := store.UserByName(ctx, db, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob: %v, want ErrNotFound", err)
	}
	got, err := store.UserByName(ctx, db, "alice")
	if err != nil || !got.IsAdmin || got.ID != u.ID {
		t.Fatalf("alice read back as %+v, %v", got, err)
	}
}
