package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// openAt opens another handle on the store at loc (a SQLite file's path or
// a PostgreSQL DSN), as another process would.
func openAt(t *testing.T, loc string) *store.DB {
	t.Helper()
	return storetest.OpenAt(t, loc)
}

// openTemp opens a fresh store on the engine the tests run on (SQLite, or
// PostgreSQL with SSPR_TEST_STORE=postgres) and returns where it is.
func openTemp(t *testing.T) (*store.DB, string) {
	t.Helper()
	return storetest.Open(t)
}

// openSQLite opens a fresh SQLite store whatever engine the tests run on,
// for what is about SQLite files (a copy's source).
func openSQLite(t *testing.T) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sspr.db")
	return openAt(t, path), path
}

// reopen opens the store at loc again, returning the error.
func reopen(ctx context.Context, loc string) (*store.DB, error) {
	if storetest.Engine() == store.Postgres {
		return store.OpenPostgres(ctx, loc, store.PostgresOptions{})
	}
	return store.Open(ctx, loc)
}

func addUser(t *testing.T, h store.Handler, name string) store.User {
	t.Helper()
	u := store.User{Username: name, CreatedAt: 1, UpdatedAt: 1}
	if err := store.CreateUser(context.Background(), h, &u); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func countRows(t *testing.T, h store.Handler, table string) int {
	t.Helper()
	var n int
	if err := h.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	_, path := openTemp(t)
	db, err := reopen(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	versions := countRows(t, db, "schema_migrations")
	if versions < 2 {
		t.Fatalf("schema_migrations holds %d versions, want every migration file (at least 2)", versions)
	}
	addUser(t, db, "alice")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again applies nothing twice and keeps the data; the second
	// migration's INSERT into audit_head would fail on a re-run.
	for i := range 2 {
		db2, err := reopen(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got := countRows(t, db2, "schema_migrations"); got != versions {
			t.Fatalf("reopen %d: schema_migrations = %d, want %d", i, got, versions)
		}
		if _, err := store.UserByName(ctx, db2, "alice"); err != nil {
			t.Fatalf("reopen %d lost data: %v", i, err)
		}
		db2.Close()
	}
}

func TestMigrationsConcurrentOpen(t *testing.T) {
	// Processes starting together on a fresh data folder: none may fail
	// (the switch of a new file to WAL mode does not wait on the busy
	// timeout) and none may apply a migration twice. The race is narrow, so
	// it is run on many fresh files.
	// On PostgreSQL the race is between processes' migrations of a new
	// database, which the advisory lock serialises.
	ctx := context.Background()
	rounds := 15
	if storetest.Engine() == store.Postgres {
		rounds = 4 // a database each, which takes longer to make than a file
	}
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "sspr.db")
		if storetest.Engine() == store.Postgres {
			path = pgtest.DSN(t)
		}
		var wg sync.WaitGroup
		dbs := make([]*store.DB, 8)
		errs := make([]error, len(dbs))
		for i := range dbs {
			wg.Go(func() { dbs[i], errs[i] = reopen(ctx, path) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: open %d: %v", round, i, err)
			}
			t.Cleanup(func() { dbs[i].Close() })
		}
		var dup int
		if err := dbs[0].QueryRowContext(ctx, `SELECT COUNT(*) - COUNT(DISTINCT version) FROM schema_migrations`).Scan(&dup); err != nil {
			t.Fatal(err)
		}
		if dup != 0 {
			t.Fatalf("round %d: %d migrations applied twice", round, dup)
		}
	}
}

func TestPragmas(t *testing.T) {
	storetest.SkipUnlessSQLite(t, "pragmas are SQLite's settings")
	ctx := context.Background()
	db, _ := openTemp(t)
	check := func(where string, h store.Handler) {
		t.Helper()
		var mode string
		if err := h.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("%s: journal_mode = %q, want wal", where, mode)
		}
		var fk, busy int
		if err := h.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if fk != 1 {
			t.Errorf("%s: foreign_keys = %d, want 1", where, fk)
		}
		if err := h.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy < 1000 {
			t.Errorf("%s: busy_timeout = %d ms", where, busy)
		}
	}
	check("reader", db)
	if err := db.WithTx(ctx, func(tx *store.Tx) error { check("writer", tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestReaderIsReadOnly(t *testing.T) {
	storetest.SkipUnlessSQLite(t, "PostgreSQL's store has one pool, no read-only reader")
	ctx := context.Background()
	db, _ := openTemp(t)
	// QueryContext goes to the reader pool, which must refuse writes even
	// when a statement that writes is sent through it by mistake.
	rows, err := db.QueryContext(ctx, `INSERT INTO groups (name, created_at) VALUES ('x', 1) RETURNING id`)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatal("a write through the reader pool succeeded")
	}
	if n := countRows(t, db, "groups"); n != 0 {
		t.Fatalf("groups = %d after a refused write", n)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	g, err := store.CreateGroup(ctx, db, "staff", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddMember(ctx, db, g, 4242); err == nil {
		t.Fatal("membership of a user that does not exist was accepted")
	}
	u := addUser(t, db, "alice")
	if err := store.AddMember(ctx, db, g, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := store.AddPasswordHistory(ctx, db, u.ID, "h", 1, 5); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertMethod(ctx, db, store.Method{UserID: u.ID, Kind: "email", Destination: "a@example.com", CreatedAt: 1, ConfirmedAt: 1}); err != nil {
		t.Fatal(err)
	}
	// ON DELETE CASCADE works only with foreign keys on.
	if _, err := db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"memberships", "password_history", "methods"} {
		if n := countRows(t, db, table); n != 0 {
			t.Errorf("%s keeps %d rows of a deleted user", table, n)
		}
	}
}

func TestTypedErrors(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	u := addUser(t, db, "alice")
	g, err := store.CreateGroup(ctx, db, "staff", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddMember(ctx, db, g, u.ID); err != nil {
		t.Fatal(err)
	}

	dup := map[string]error{
		"user":   store.CreateUser(ctx, db, &store.User{Username: "alice", CreatedAt: 1, UpdatedAt: 1}),
		"member": store.AddMember(ctx, db, g, u.ID),
	}
	_, dup["group"] = store.CreateGroup(ctx, db, "staff", 1)
	for what, err := range dup {
		if !errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("duplicate %s: %v, want ErrDuplicate", what, err)
		}
	}

	notFound := map[string]error{}
	_, notFound["user by name"] = store.UserByName(ctx, db, "bob")
	_, notFound["user by id"] = store.UserByID(ctx, db, 999)
	_, notFound["group"] = store.GroupByName(ctx, db, "nobody")
	_, notFound["challenge"] = store.ChallengeByID(ctx, db, "nope")
	_, notFound["method"] = store.MethodOf(ctx, db, u.ID, "sms")
	_, notFound["block"] = store.ActiveBlock(ctx, db, store.ScopeAccount, "alice", 1)
	_, notFound["voucher"] = store.ValidVoucher(ctx, db, u.ID, "h", 1)
	notFound["remove member"] = store.RemoveMember(ctx, db, g, 999)
	notFound["update user"] = store.UpdateUser(ctx, db, store.User{ID: 999})
	notFound["delete method"] = store.DeleteMethod(ctx, db, u.ID, "sms")
	for what, err := range notFound {
		if !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDuplicate) {
			t.Errorf("missing %s: %v, want ErrNotFound", what, err)
		}
	}
	// Other failures are neither.
	_, err = db.ExecContext(ctx, `INSERT INTO nosuchtable VALUES (1)`)
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDuplicate) {
		t.Errorf("a syntax error is typed: %v", err)
	}
}

var challengeSeq atomic.Int64

func newChallenge(t *testing.T, db *store.DB, userID int64, verified bool) string {
	t.Helper()
	c := store.Challenge{ID: fmt.Sprintf("c-%d", challengeSeq.Add(1)), FlowID: "f", UserID: userID,
		Purpose: "reset", Kind: "email", CreatedAt: 1, ExpiresAt: 1 << 40}
	if verified {
		c.VerifiedAt = 2
	}
	if err := store.CreateChallenge(context.Background(), db, c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestConsumeChallengeExactlyOnce(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	// A second handle on the same file stands for a second process.
	other := openAt(t, path)
	u := addUser(t, db, "alice")
	for round := range 5 {
		id := newChallenge(t, db, u.ID, true)
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			h := db
			if i%2 == 1 {
				h = other
			}
			wg.Go(func() {
				results[i] = h.WithTx(ctx, func(tx *store.Tx) error {
					return store.ConsumeChallenge(ctx, tx, id, int64(100+i))
				})
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range results {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d goroutine %d: %v, want ErrConflict", round, i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d goroutines consumed the challenge, want exactly 1", round, ok)
		}
		c, err := store.ChallengeByID(ctx, db, id)
		if err != nil || c.ConsumedAt < 100 {
			t.Fatalf("round %d: consumed_at = %d, %v", round, c.ConsumedAt, err)
		}
	}
}

func TestConsumeChallengeNeedsVerifiedAndOpen(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	u := addUser(t, db, "alice")
	unverified := newChallenge(t, db, u.ID, false)
	if err := store.ConsumeChallenge(ctx, db, unverified, 5); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("consuming an unverified challenge: %v", err)
	}
	voided := newChallenge(t, db, u.ID, true)
	if _, err := db.ExecContext(ctx, `UPDATE challenges SET voided_at = 3 WHERE id = ?`, voided); err != nil {
		t.Fatal(err)
	}
	if err := store.ConsumeChallenge(ctx, db, voided, 5); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("consuming a voided challenge: %v", err)
	}
	if err := store.ConsumeChallenge(ctx, db, "missing", 5); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("consuming a missing challenge: %v", err)
	}
	// MarkChallengeVerified is once-only too.
	if err := store.MarkChallengeVerified(ctx, db, unverified, 4); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkChallengeVerified(ctx, db, unverified, 4); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("verifying twice: %v", err)
	}
}

func TestAdvanceTOTPStep(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	u := addUser(t, db, "alice")
	if err := store.UpsertMethod(ctx, db, store.Method{UserID: u.ID, Kind: "authenticator", Secret: []byte("sealed"),
		CreatedAt: 1, ConfirmedAt: 1}); err != nil {
		t.Fatal(err)
	}
	m, err := store.MethodOf(ctx, db, u.ID, "authenticator")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		step int64
		ok   bool
	}{{1000, true}, {1000, false}, {999, false}, {1, false}, {1001, true}, {1001, false}, {1000, false}, {5000, true}}
	for _, s := range steps {
		err := store.AdvanceTOTPStep(ctx, db, m.ID, s.step)
		if s.ok && err != nil {
			t.Fatalf("step %d refused: %v", s.step, err)
		}
		if !s.ok && !errors.Is(err, store.ErrConflict) {
			t.Fatalf("step %d: %v, want ErrConflict", s.step, err)
		}
	}
	m, _ = store.MethodOf(ctx, db, u.ID, "authenticator")
	if m.LastStep != 5000 {
		t.Fatalf("last_step = %d, want 5000", m.LastStep)
	}
	// Eight concurrent submissions of the same step: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			if store.AdvanceTOTPStep(ctx, db, m.ID, 5001) == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d concurrent acceptances of one step, want 1", won)
	}
}

func TestWithTxRollback(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	boom := errors.New("boom")
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		u := addUser(t, tx, "alice")
		g, err := store.CreateGroup(ctx, tx, "staff", 1)
		if err != nil {
			return err
		}
		if err := store.AddMember(ctx, tx, g, u.ID); err != nil {
			return err
		}
		if err := store.AddPasswordHistory(ctx, tx, u.ID, "h", 1, 5); err != nil {
			return err
		}
		// Inside the transaction the rows are visible.
		if n := countRows(t, tx, "users"); n != 1 {
			t.Errorf("users inside the transaction = %d", n)
		}
		return fmt.Errorf("later step: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx returned %v, want the callback's error", err)
	}
	for _, table := range []string{"users", "groups", "memberships", "password_history"} {
		if n := countRows(t, db, table); n != 0 {
			t.Errorf("%s keeps %d rows after a rollback", table, n)
		}
	}
	// The writer is free again.
	addUser(t, db, "bob")
}

func TestWithTxPanicReleasesWriter(t *testing.T) {
	// A panic inside a transaction, recovered further up (the SSH server's
	// recover middleware), must roll back and give the single writer
	// connection back; otherwise every later write waits forever.
	ctx := context.Background()
	db, _ := openTemp(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		_ = db.WithTx(ctx, func(tx *store.Tx) error {
			addUser(t, tx, "alice")
			panic("session bug")
		})
	}()
	done := make(chan error, 1)
	go func() {
		done <- db.WithTx(ctx, func(tx *store.Tx) error { addUser(t, tx, "bob"); return nil })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer is still held by the panicked transaction")
	}
	if _, err := store.UserByName(ctx, db, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the panicked transaction was committed: %v", err)
	}
}

func TestImportUsersAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	if _, err := store.CreateGroup(ctx, db, "staff", 1); err != nil {
		t.Fatal(err)
	}
	users := []store.ImportUser{
		{User: store.User{Username: "a", CreatedAt: 1, UpdatedAt: 1}, Groups: []string{"staff"}},
		{User: store.User{Username: "b", CreatedAt: 1, UpdatedAt: 1}, Groups: []string{"nosuch"}},
	}
	err := db.WithTx(ctx, func(tx *store.Tx) error { return store.ImportUsers(ctx, tx, users, nil) })
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("import with an unknown group: %v", err)
	}
	users[1] = store.ImportUser{User: store.User{Username: "a", CreatedAt: 1, UpdatedAt: 1}}
	err = db.WithTx(ctx, func(tx *store.Tx) error { return store.ImportUsers(ctx, tx, users, nil) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("import with a duplicate: %v", err)
	}
	if n := countRows(t, db, "users"); n != 0 {
		t.Fatalf("a failed import left %d users", n)
	}
}

// TestOpenTightensLooseModes: a store file others can read (sspr.db and its
// -wal and -shm, here left 0644 by another process that has it open) is
// made 0600 when opened, and each file tightened is reported.
func TestOpenTightensLooseModes(t *testing.T) {
	storetest.SkipUnlessSQLite(t, "file modes are those of SQLite's files")
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sspr.db")
	first := openAt(t, path)
	addUser(t, first, "alice") // the -wal and -shm exist while first is open
	files := []string{path, path + "-wal", path + "-shm"}
	for _, f := range files {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loose := map[string]fs.FileMode{}
	db, err := store.OpenWith(ctx, path, store.Options{OnLooseMode: func(file string, was fs.FileMode) {
		loose[file] = was
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %#o after open; want 0600", filepath.Base(f), st.Mode().Perm())
		}
		if loose[f] != 0o644 {
			t.Errorf("%s: reported %#o; want 0644 reported", filepath.Base(f), loose[f])
		}
	}
	if len(loose) != len(files) {
		t.Errorf("reported %v; want exactly %v", loose, files)
	}
	// A private store is opened without a word.
	clear(loose)
	again, err := store.OpenWith(ctx, path, store.Options{OnLooseMode: func(file string, was fs.FileMode) {
		loose[file] = was
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if len(loose) != 0 {
		t.Errorf("a private store reported %v", loose)
	}
	if n := countRows(t, again, "users"); n != 1 {
		t.Errorf("%d users after reopening; want 1", n)
	}
}
