// Package storetest holds the reads tests make of a store to check what the
// code under test left in it: how many rows the tidy-up keeps, when a
// setting last changed. They are kept beside the schema so that no test
// writes SQL outside store, and a schema change breaks them at compile time.
// Tests that edit the database as an attacker would (audit tampering, planted
// hidden characters) keep their raw SQL: that is their point.
//
// It is a test helper: import it only from _test.go files.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// Tidyable counts the rows that tidying prunes once no rule needs them.
type Tidyable struct {
	// ThrottleEvents are the failures and sends the throttles count.
	ThrottleEvents int
	// Challenges are codes and other challenges, spent or not.
	Challenges int
	// OutboxDone are messages sent or given up on.
	OutboxDone int
	// OutboxQueued are messages still waiting to be sent, which tidying
	// never deletes.
	OutboxQueued int
}

// CountTidyable counts the rows tidying looks at.
func CountTidyable(ctx context.Context, h store.Handler) (Tidyable, error) {
	var n Tidyable
	for _, c := range []struct {
		into *int
		q    string
	}{
		{&n.ThrottleEvents, `SELECT COUNT(*) FROM throttle_events`},
		{&n.Challenges, `SELECT COUNT(*) FROM challenges`},
		{&n.OutboxDone, `SELECT COUNT(*) FROM outbox WHERE state <> 'queued'`},
		{&n.OutboxQueued, `SELECT COUNT(*) FROM outbox WHERE state = 'queued'`},
	} {
		if err := h.QueryRowContext(ctx, c.q).Scan(c.into); err != nil {
			return Tidyable{}, fmt.Errorf("count tidyable: %w", err)
		}
	}
	return n, nil
}

// PolicyUpdatedAt is when the stored setting key last changed, as Unix
// seconds.
func PolicyUpdatedAt(ctx context.Context, h store.Handler, key string) (int64, error) {
	var at int64
	if err := h.QueryRowContext(ctx, `SELECT updated_at FROM policy WHERE key = ?`, key).Scan(&at); err != nil {
		return 0, fmt.Errorf("policy updated_at of %s: %w", key, err)
	}
	return at, nil
}

// StoreEnv names the environment variable that runs the tests of the store,
// and of everything built on it, on PostgreSQL ("postgres"); otherwise they
// run on SQLite files. A package whose tests open a store this way runs
// pgtest.Main from its TestMain.
const StoreEnv = "SSPR_TEST_STORE"

// Engine is the engine tests run the store on.
func Engine() store.Engine {
	if os.Getenv(StoreEnv) == string(store.Postgres) {
		return store.Postgres
	}
	return store.SQLite
}

// Open opens a fresh, empty store for t on Engine(): a SQLite file in a
// temporary folder, or a new database on the test PostgreSQL cluster. It
// returns where the store is (the file's path or the database's DSN), for
// OpenAt. The store is closed when t ends.
func Open(t testing.TB) (*store.DB, string) {
	t.Helper()
	loc := filepath.Join(t.TempDir(), "sspr.db")
	if Engine() == store.Postgres {
		loc = pgtest.DSN(t)
	}
	return OpenAt(t, loc), loc
}

// OpenAt opens another handle on the store at loc, as another process would:
// its own connections, sharing nothing with the others in memory. It is
// closed when t ends.
func OpenAt(t testing.TB, loc string) *store.DB {
	t.Helper()
	ctx := context.Background()
	var db *store.DB
	var err error
	if strings.HasPrefix(loc, "postgres://") {
		db, err = store.OpenPostgres(ctx, loc, store.PostgresOptions{})
	} else {
		db, err = store.Open(ctx, loc)
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// SkipUnlessSQLite skips t on PostgreSQL, saying why: what it tests exists on
// SQLite alone.
func SkipUnlessSQLite(t testing.TB, why string) {
	t.Helper()
	if Engine() != store.SQLite {
		t.Skipf("SQLite only: %s", why)
	}
}
