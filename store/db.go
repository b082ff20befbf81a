// Package store keeps sspr's state: users, groups, policy, method
// registrations, challenges, throttling, password history, the audit log and
// the notification outbox. It runs on SQLite, in one file that one host
// owns (the default), or on PostgreSQL, which any number of portals and
// kiosks share; every rule that must hold across processes is enforced by
// the database, not by a process's memory.
//
// Every method takes a Handler, which both *DB and *Tx satisfy, so a flow can
// run several of them in one transaction. Queries are written once, in
// SQLite's spelling; the dialect (engine.go) makes them PostgreSQL's.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // registers the pure-Go "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Typed errors returned by store methods; test with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a unique key is already taken.
	ErrDuplicate = errors.New("already exists")
	// ErrConflict means a row changed under the caller (already used, already consumed).
	ErrConflict = errors.New("changed concurrently")
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Handler runs statements. Both *DB (reads on the reader pool, writes on the
// writer) and *Tx satisfy it.
type Handler interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// dialect is the engine's SQL, for the few queries spelled differently.
	dialect() *dialect
	// writeRow runs a write that returns a row (INSERT ... RETURNING),
	// which a *DB must run on its writer.
	writeRow(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open store. On SQLite: one writer connection, because SQLite
// allows a single writer at a time, and a pool of readers that WAL mode lets
// run beside it. On PostgreSQL both are one pool.
type DB struct {
	writer *sql.DB
	reader *sql.DB
	sql    *dialect
	// timeout bounds each write, and txTimeout each transaction, so that a
	// database that stops answering never holds a screen; 0 is none. A
	// transaction may wait on more than the store (a directory's password
	// write), so it has longer.
	timeout, txTimeout time.Duration
	// Prepared statements, by query text, on each pool: SQLite spends as
	// long parsing a short statement as running it. PostgreSQL's driver
	// keeps its own per connection, so these are nil there.
	writerStmts *stmtCache
	readerStmts *stmtCache
	// onFault is Options.OnFault, or nil.
	onFault func(error)
	// lastFault is when a fault was last seen, in Unix nanoseconds, for
	// the pool's check of connections (PostgreSQL).
	lastFault atomic.Int64
}

// Tx is a write transaction on the writer connection.
type Tx struct {
	*sql.Tx
	db *DB
	// rowsOut holds the cached queries whose rows this transaction handed
	// out; see stmt.
	rowsOut map[string]struct{}
	// last holds the work to do just before commit (BeforeCommit).
	last []func(context.Context) error
	// committed holds what to tell once the transaction has committed
	// (AfterCommit).
	committed []func()
}

// BeforeCommit defers fn to the end of the transaction, after the work
// WithTx was given and just before it commits; fns run in the order given,
// and an error from one rolls the transaction back. It is for a write that
// locks what every transaction needs (the audit chain's head): taken last,
// the lock is held for the commit alone, not for the rest of the work, so
// transactions of other processes queue for no longer than that.
func (tx *Tx) BeforeCommit(fn func(ctx context.Context) error) {
	tx.last = append(tx.last, fn)
}

// AfterCommit defers fn until the transaction has committed; a
// transaction rolled back never runs it. It is for telling others of what
// the transaction wrote (a metric, a log line), which must not be told of
// writes that never happened.
func (tx *Tx) AfterCommit(fn func()) {
	tx.committed = append(tx.committed, fn)
}

// Options tune OpenWith; the zero Options is Open.
type Options struct {
	// OnLooseMode hears of each store file (the database, its -wal or -shm)
	// that others could read and that Open made private (0600), with the
	// mode it had, so that the caller can say so.
	OnLooseMode func(file string, was fs.FileMode)
	// OnFault hears of every failure of the database itself, as opposed to
	// an answer about the data: the disk full, the file locked past the busy
	// timeout, unreadable, read-only or corrupt (see IsFault). The error is
	// SQLite's, which never quotes the statement's values.
	OnFault func(err error)
}

// Open opens (creating if needed) the SQLite file at path and applies every
// migration not yet applied.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options. The file holds password hashes: it is
// created private, and a file that group or others can read (left so by a
// copy, a restore or an older version) is made private before use, with its
// -wal and -shm files.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	// SQLite gives the WAL and shared-memory files it creates the mode of
	// the database file.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		_ = f.Close()
	}
	if err := tightenModes(path, opts.OnLooseMode); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	writer, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	reader, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	reader.SetConnMaxIdleTime(0)
	reader.SetConnMaxLifetime(0)

	db := &DB{writer: writer, reader: reader, sql: sqliteDialect, writerStmts: newStmtCache(writer), readerStmts: newStmtCache(reader),
		onFault: opts.OnFault}
	if err := connectWriter(ctx, writer); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// tightenModes makes the store's files that group or others can access
// 0600, telling report of each.
func tightenModes(path string, report func(string, fs.FileMode)) error {
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		was := st.Mode().Perm()
		if was&0o077 == 0 {
			continue
		}
		if err := os.Chmod(f, 0o600); err != nil {
			return fmt.Errorf("%s has mode %#o and could not be made 0600: %w", f, was, err)
		}
		if report != nil {
			report(f, was)
		}
	}
	return nil
}

// connectWriter opens the writer connection, waiting while another process
// holds the file. The busy timeout covers every lock but one: the switch of
// a new file to WAL mode (a pragma run on connecting) fails with SQLITE_BUSY
// at once when another process is opening the same new file, as when two
// commands start together on a fresh data folder.
func connectWriter(ctx context.Context, writer *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := writer.PingContext(ctx)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// faultCodes are SQLite's primary result codes for a database that failed,
// rather than a statement that was refused (a constraint, a missing row).
var faultCodes = map[int]bool{
	sqlite3.SQLITE_PERM: true, sqlite3.SQLITE_BUSY: true, sqlite3.SQLITE_LOCKED: true, sqlite3.SQLITE_NOMEM: true,
	sqlite3.SQLITE_READONLY: true, sqlite3.SQLITE_IOERR: true, sqlite3.SQLITE_CORRUPT: true, sqlite3.SQLITE_FULL: true,
	sqlite3.SQLITE_CANTOPEN: true, sqlite3.SQLITE_PROTOCOL: true, sqlite3.SQLITE_NOTADB: true,
}

// IsFault reports whether err is a failure of the database itself: on
// SQLite the disk full, the file locked, unreadable, read-only or corrupt;
// on PostgreSQL the server unreachable, restarting or out of resources, or
// a statement cut by the timeout.
func IsFault(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return faultCodes[se.Code()&0xff]
	}
	return err != nil && isPostgresFault(err)
}

// fault passes err to the fault hook when it is a fault, and returns it.
func (db *DB) fault(err error) error {
	if err != nil && db != nil && IsFault(err) {
		db.lastFault.Store(time.Now().UnixNano())
		if db.onFault != nil {
			db.onFault(err)
		}
	}
	return err
}

// isBusy reports whether err is SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// dsn builds the connection string. The writer takes the write lock at BEGIN
// (immediate), so two writers queue on the busy timeout instead of failing
// when one upgrades a read lock.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.sql.engine != SQLite {
		return db.writer.Close()
	}
	db.writerStmts.close()
	db.readerStmts.close()
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// Engine is the database engine the store runs on.
func (db *DB) Engine() Engine { return db.sql.engine }

func (db *DB) dialect() *dialect { return db.sql }

func (tx *Tx) dialect() *dialect { return tx.db.sql }

func (db *DB) writeRow(ctx context.Context, query string, args ...any) *sql.Row {
	if db.sql.engine != SQLite {
		return db.reader.QueryRowContext(ctx, db.sql.query(query), db.sql.args(args)...)
	}
	if cs := db.writerStmts.get(ctx, query); cs != nil {
		defer db.writerStmts.release(cs)
		return cs.st.QueryRowContext(ctx, args...)
	}
	return db.writer.QueryRowContext(ctx, query, args...)
}

func (tx *Tx) writeRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.QueryRowContext(ctx, query, args...)
}

// insertID runs an INSERT ... RETURNING id and returns the id.
func insertID(ctx context.Context, h Handler, query string, args ...any) (int64, error) {
	var id int64
	err := h.writeRow(ctx, query, args...).Scan(&id)
	return id, err
}

// ExecContext runs a write on the writer connection.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.sql.engine != SQLite {
		ctx, cancel := bound(ctx, db.timeout)
		defer cancel()
		res, err := db.writer.ExecContext(ctx, db.sql.query(query), db.sql.args(args)...)
		return res, db.fault(err)
	}
	if cs := db.writerStmts.get(ctx, query); cs != nil {
		defer db.writerStmts.release(cs)
		res, err := cs.st.ExecContext(ctx, args...)
		return res, db.fault(err)
	}
	res, err := db.writer.ExecContext(ctx, query, args...)
	return res, db.fault(err)
}

// QueryContext runs a read on the reader pool.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.sql.engine != SQLite {
		rows, err := db.reader.QueryContext(ctx, db.sql.query(query), db.sql.args(args)...)
		return rows, db.fault(err)
	}
	// A cached statement is safe here: open rows hold their connection, so
	// no other query can step the same SQLite statement meanwhile.
	if cs := db.readerStmts.get(ctx, query); cs != nil {
		defer db.readerStmts.release(cs)
		rows, err := cs.st.QueryContext(ctx, args...)
		return rows, db.fault(err)
	}
	rows, err := db.reader.QueryContext(ctx, query, args...)
	return rows, db.fault(err)
}

// QueryRowContext runs a one-row read on the reader pool.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if db.sql.engine != SQLite {
		return db.reader.QueryRowContext(ctx, db.sql.query(query), db.sql.args(args)...)
	}
	if cs := db.readerStmts.get(ctx, query); cs != nil {
		defer db.readerStmts.release(cs)
		return cs.st.QueryRowContext(ctx, args...)
	}
	return db.reader.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a write in the transaction, on a cached prepared
// statement once the query has been seen before.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = tx.db.sql.query(query), tx.db.sql.args(args)
	ctx, cancel := bound(ctx, tx.db.timeout)
	defer cancel()
	if st := tx.stmt(ctx, query, false); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, tx.db.fault(err)
	}
	res, err := tx.Tx.ExecContext(ctx, query, args...)
	return res, tx.db.fault(err)
}

// QueryContext runs a read in the transaction, like ExecContext.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = tx.db.sql.query(query), tx.db.sql.args(args)
	if st := tx.stmt(ctx, query, true); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, tx.db.fault(err)
	}
	rows, err := tx.Tx.QueryContext(ctx, query, args...)
	return rows, tx.db.fault(err)
}

// QueryRowContext runs a one-row read in the transaction, like ExecContext.
// Callers scan the row at once (every store function does), which frees the
// statement for its next use.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = tx.db.sql.query(query), tx.db.sql.args(args)
	var row *sql.Row
	if st := tx.stmt(ctx, query, false); st != nil {
		row = st.QueryRowContext(ctx, args...)
	} else {
		row = tx.Tx.QueryRowContext(ctx, query, args...)
	}
	// A row that could not be asked for carries the failure; on
	// PostgreSQL the first statement of a transaction carries its BEGIN,
	// so this is where a server gone away shows first.
	_ = tx.db.fault(row.Err())
	return row
}

// stmt returns the transaction's own statement for query, made from the
// writer's cached one, or nil to run the query unprepared.
//
// Every statement of a transaction runs on its one connection, so result
// sets still open share it: a cached statement whose rows were handed out
// (withRows) may still be stepping them, and is not used again in this
// transaction. A query not cached yet cannot be prepared now, because the
// transaction holds the only writer connection; it is noted and prepared
// at the start of the next transaction (see WithTx).
func (tx *Tx) stmt(ctx context.Context, query string, withRows bool) *sql.Stmt {
	if tx.db.writerStmts == nil {
		return nil
	}
	if _, busy := tx.rowsOut[query]; busy {
		return nil
	}
	cs := tx.db.writerStmts.lookup(query, true)
	if cs == nil {
		return nil
	}
	defer tx.db.writerStmts.release(cs)
	if withRows {
		if tx.rowsOut == nil {
			tx.rowsOut = map[string]struct{}{}
		}
		tx.rowsOut[query] = struct{}{}
	}
	// The transaction's statement keeps the cached one open while it lives.
	return tx.Tx.StmtContext(ctx, cs.st)
}

// WithTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise, a panic included: a panic recovered further up
// would otherwise keep the only writer connection forever.
func (db *DB) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	txTimeout := db.txTimeout
	if ctx.Value(longRunningKey{}) != nil {
		txTimeout = 0
	}
	ctx, cancel := bound(ctx, txTimeout)
	defer cancel()
	if db.writerStmts != nil {
		// Prepare what earlier transactions ran for the first time; this
		// waits for the writer, as BeginTx would. A failure only means a
		// query stays unprepared until it is noted again.
		db.writerStmts.preparePending(ctx)
	}
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", db.fault(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	tx := &Tx{Tx: sqlTx, db: db}
	if err := fn(tx); err != nil {
		return err
	}
	for _, last := range tx.last {
		if err := last(ctx); err != nil {
			return err
		}
	}
	committed = true
	if err := sqlTx.Commit(); err != nil {
		if isUnique(err) {
			// A write held for the commit (sendLater) took a taken key.
			return fmt.Errorf("commit transaction: %w: %w", ErrDuplicate, err)
		}
		return fmt.Errorf("commit transaction: %w", db.fault(err))
	}
	for _, fn := range tx.committed {
		fn()
	}
	return nil
}

// migrationLockKey is the PostgreSQL advisory lock that migrating holds, so
// that processes starting together on a new database migrate it once: the
// others wait, then find every migration applied.
const migrationLockKey = 0x73737072_6d696772 // "ssprmigr"

// migrate applies the engine's migrations not applied yet, each in its own
// transaction with its row in schema_migrations, on one connection that
// holds the store against other processes meanwhile: SQLite's write lock,
// taken at BEGIN, or PostgreSQL's advisory lock.
func (db *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + string(db.sql.engine)
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", db.fault(err))
	}
	defer conn.Close()
	if db.sql.engine == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
			return fmt.Errorf("migrate: lock: %w", db.fault(err))
		}
		defer func() {
			// A session lock: released here, or by the server when the
			// connection ends, whichever comes first.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", db.fault(err))
	}
	for _, name := range names {
		base := path.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %q", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := db.applyMigration(ctx, conn, version, base, string(body)); err != nil {
			return fmt.Errorf("migrate: %w", db.fault(err))
		}
	}
	return nil
}

// applyMigration applies one migration on conn unless it is applied.
func (db *DB) applyMigration(ctx context.Context, conn *sql.Conn, version int, name, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, db.sql.query(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, db.sql.query(`INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`),
		version, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

type longRunningKey struct{}

// LongRunning marks ctx for a transaction that may rightly take longer than
// a screen would wait (an import of a million users): WithTx then sets no
// deadline of its own on the whole. Each statement keeps its timeout, so a
// database that stops answering still ends it.
func LongRunning(ctx context.Context) context.Context {
	return context.WithValue(ctx, longRunningKey{}, true)
}

// bound gives ctx a timeout, if d is one.
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// wrapNotFound turns sql.ErrNoRows into ErrNotFound.
func wrapNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
