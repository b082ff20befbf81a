package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Errors Copy returns; test with errors.Is.
var (
	// ErrNotEmpty means the target store already holds data: a copy into
	// it would mix two stores' users, ids and audit chains.
	ErrNotEmpty = errors.New("the target store is not empty")
	// ErrSchemaMismatch means the two stores are not at the same migration,
	// or a table of one is not in the other or unknown to the copy.
	ErrSchemaMismatch = errors.New("the stores' schemas differ")
)

// copyTable is a table Copy moves.
type copyTable struct {
	name string
	// seeded matches the rows a migration puts in a new store (SQL, true
	// for them): they do not make a target non-empty, and the source's
	// rows replace them.
	seeded string
}

// copyTables are every table of the schema but schema_migrations, parents
// before the tables whose foreign keys name them. A migration that adds a
// table adds it here; TestCopyKnowsEveryTable fails until it does.
var copyTables = []copyTable{
	{name: "users"},
	{name: "groups"},
	{name: "memberships"},
	{name: "policy"},
	{name: "methods"},
	{name: "ssh_keys"},
	{name: "question_answers"},
	{name: "recovery_codes"},
	{name: "vouchers"},
	{name: "challenges"},
	{name: "throttle_events"},
	{name: "blocks"},
	{name: "password_history"},
	{name: "lockouts"},
	{name: "lockout_passwords"},
	{name: "expiry_reminders"},
	{name: "audit"},
	// Migration 0003 gives an empty log its head, so that writers have a
	// row to serialise on.
	{name: "audit_head", seeded: "last_id = 0 AND rows = 0"},
	{name: "outbox"},
	// A target opened by an sspr before the copy has recorded its key;
	// keyAgrees lets that stand only when it is the source's key.
	{name: "store_meta", seeded: "key = '" + metaKeyFingerprint + "'"},
}

// CopiedTables names the tables Copy moves, in the order it moves them.
func CopiedTables() []string {
	names := make([]string, len(copyTables))
	for i, t := range copyTables {
		names[i] = t.name
	}
	return names
}

// CopiedTable is how many rows Copy moved into one table.
type CopiedTable struct {
	Table string
	Rows  int64
}

// Copy moves every row of every table of from into to, ids and all, so that
// the target holds the same users, hashes, sealed secrets, history and audit
// chain as the source: a copy is how a store on SQLite moves to PostgreSQL.
// The target must be a PostgreSQL store at the same migration as the source
// and hold no rows (ErrNotEmpty, ErrSchemaMismatch otherwise, leaving it as
// it was).
//
// The source is read in one read transaction, so the copy is of one moment
// even if something writes to it meanwhile (though what is written after
// that moment is not copied). The target is written in one transaction, with
// COPY, and its id sequences are moved past the copied ids: the copy is all
// there or not at all, and new rows get new ids. done, if set, hears of each
// table as it is copied (the transaction commits after the last).
func Copy(ctx context.Context, from, to *DB, done func(CopiedTable)) ([]CopiedTable, error) {
	if to.sql.engine != Postgres {
		return nil, fmt.Errorf("copy store: the target must be a PostgreSQL store, not %s", to.sql.engine)
	}
	src, err := beginSnapshot(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("copy store: read source: %w", from.fault(err))
	}
	defer func() { _ = src.Rollback() }()
	conn, err := to.writer.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy store: %w", to.fault(err))
	}
	defer conn.Close()
	var copied []CopiedTable
	err = conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("target driver %T is not pgx", dc)
		}
		copied, err = copyInto(ctx, from.sql, src, pc.Conn.Conn(), done)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("copy store: %w", to.fault(err))
	}
	return copied, nil
}

// beginSnapshot starts a read transaction on the source: on SQLite its
// first read fixes the snapshot (WAL) that every later read in it sees; on
// PostgreSQL, repeatable read does the same.
func beginSnapshot(ctx context.Context, db *DB) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.sql.engine == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.reader.BeginTx(ctx, opts)
	if err != nil || db.sql.engine != Postgres {
		return tx, err
	}
	// Reading a big table takes longer than a screen's statement timeout.
	for _, q := range []string{`SET LOCAL statement_timeout = 0`, `SET LOCAL idle_in_transaction_session_timeout = 0`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
	}
	return tx, nil
}

// copyInto runs the copy's transaction on the target connection.
func copyInto(ctx context.Context, srcSQL *dialect, src *sql.Tx, dst *pgx.Conn, done func(CopiedTable)) ([]CopiedTable, error) {
	tx, err := dst.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// A big store takes longer than the store's statement timeout; a
	// writer that holds a table is waited for, but not for ever.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0;
		SET LOCAL lock_timeout = '30s'`); err != nil {
		return nil, err
	}
	// Nothing writes to the tables until this commits, so a second copy,
	// or a portal started early, cannot slip rows in after the check.
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(quotedTables(), ", ")+" IN EXCLUSIVE MODE"); err != nil {
		return nil, fmt.Errorf("lock the target's tables: %w", err)
	}
	if err := sameSchema(ctx, srcSQL, src, tx); err != nil {
		return nil, err
	}
	if err := notItself(ctx, srcSQL, src, tx); err != nil {
		return nil, err
	}
	if err := keyAgrees(ctx, src, tx); err != nil {
		return nil, err
	}
	if err := targetEmpty(ctx, tx); err != nil {
		return nil, err
	}
	var copied []CopiedTable
	for _, t := range copyTables {
		n, err := copyTableRows(ctx, src, tx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		c := CopiedTable{Table: t.name, Rows: n}
		copied = append(copied, c)
		if done != nil {
			done(c)
		}
	}
	if err := restartIdentities(ctx, tx); err != nil {
		return nil, err
	}
	// The planner's statistics are of the empty tables until autovacuum
	// comes round; the first screens should not pay for that.
	if _, err := tx.Exec(ctx, "ANALYZE "+strings.Join(quotedTables(), ", ")); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return copied, nil
}

func quotedTables() []string {
	out := make([]string, len(copyTables))
	for i, t := range copyTables {
		out[i] = pgx.Identifier{t.name}.Sanitize()
	}
	return out
}

// sameSchema refuses stores at different migrations, or with a table the
// copy does not know (a store written by a newer sspr).
func sameSchema(ctx context.Context, srcSQL *dialect, src *sql.Tx, dst pgx.Tx) error {
	var srcVersions []int64
	rows, err := src.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return fmt.Errorf("read source schema: %w", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read source schema: %w", err)
		}
		srcVersions = append(srcVersions, v)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("read source schema: %w", err)
	}
	dstRows, _ := dst.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	dstVersions, err := pgx.CollectRows(dstRows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("read target schema: %w", err)
	}
	if !slices.Equal(srcVersions, dstVersions) {
		return fmt.Errorf("%w: the source has migrations %s, the target %s; open both with the same sspr",
			ErrSchemaMismatch, versionList(srcVersions), versionList(dstVersions))
	}
	srcTables, err := sourceTables(ctx, srcSQL, src)
	if err != nil {
		return fmt.Errorf("read source schema: %w", err)
	}
	known := CopiedTables()
	for _, t := range srcTables {
		if t != "schema_migrations" && !slices.Contains(known, t) {
			return fmt.Errorf("%w: the source has a table %q that this sspr cannot copy", ErrSchemaMismatch, t)
		}
	}
	return nil
}

func versionList(vs []int64) string {
	if len(vs) == 0 {
		return "none"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("%04d", v)
	}
	return strings.Join(s, ", ")
}

// sourceTables lists the source's tables.
func sourceTables(ctx context.Context, d *dialect, src *sql.Tx) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if d.engine == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := src.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// notItself refuses to copy a PostgreSQL store into itself, as when the
// config already names the target as the store: the source's connection is
// then one of the target's sessions.
func notItself(ctx context.Context, srcSQL *dialect, src *sql.Tx, dst pgx.Tx) error {
	if srcSQL.engine != Postgres {
		return nil
	}
	var pid int64
	var started time.Time
	if err := src.QueryRowContext(ctx, `SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()`).
		Scan(&pid, &started); err != nil {
		return fmt.Errorf("read source: %w", err)
	}
	var same bool
	if err := dst.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		WHERE pid = $1 AND backend_start = $2 AND datname = current_database())`, pid, started).Scan(&same); err != nil {
		return fmt.Errorf("check the target: %w", err)
	}
	if same {
		return fmt.Errorf("the source and the target are the same database")
	}
	return nil
}

// keyAgrees refuses a target that recorded another key's fingerprint than
// the source's, or one where the source has none: the copy's secrets would
// be sealed with a key the target says is not its own.
func keyAgrees(ctx context.Context, src *sql.Tx, dst pgx.Tx) error {
	var theirs string
	err := dst.QueryRow(ctx, `SELECT value FROM store_meta WHERE key = $1`, metaKeyFingerprint).Scan(&theirs)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check the target's key: %w", err)
	}
	var ours string
	err = src.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE key = '`+metaKeyFingerprint+`'`).Scan(&ours)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read the source's key: %w", err)
	}
	if ours != theirs {
		if ours = shortFingerprint(ours); ours == "" {
			ours = "none recorded"
		}
		return fmt.Errorf("%w: it was first used with another key (fingerprint %s; the source's: %s)", ErrNotEmpty,
			shortFingerprint(theirs), ours)
	}
	return nil
}

// shortFingerprint is the start of a key fingerprint, enough to tell two
// apart, as sspr prints them.
func shortFingerprint(fp string) string {
	return fp[:min(len(fp), 12)]
}

// targetEmpty refuses a target with any row beyond those migrations seed,
// naming each table that has some.
func targetEmpty(ctx context.Context, tx pgx.Tx) error {
	var full []string
	for _, t := range copyTables {
		q := "SELECT COUNT(*) FROM " + pgx.Identifier{t.name}.Sanitize()
		if t.seeded != "" {
			q += " WHERE NOT (" + t.seeded + ")"
		}
		var n int64
		if err := tx.QueryRow(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("check the target is empty: %s: %w", t.name, err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s has %d", t.name, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w (%s); copy into a new, empty database", ErrNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// copyTableRows streams one table from the source into the target with
// COPY, replacing the rows migrations seeded, and returns the rows copied.
func copyTableRows(ctx context.Context, src *sql.Tx, dst pgx.Tx, t copyTable) (int64, error) {
	ident := pgx.Identifier{t.name}.Sanitize()
	if t.seeded != "" {
		if _, err := dst.Exec(ctx, "DELETE FROM "+ident+" WHERE "+t.seeded); err != nil {
			return 0, err
		}
	}
	targetCols, err := targetColumns(ctx, dst, ident)
	if err != nil {
		return 0, err
	}
	rows, err := src.QueryContext(ctx, "SELECT * FROM "+t.name)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	if err := sameColumns(cols, targetCols); err != nil {
		return 0, err
	}
	oids := make([]uint32, len(cols))
	for i, c := range cols {
		oids[i] = targetCols[c]
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n, err := dst.CopyFrom(ctx, pgx.Identifier{t.name}, cols, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = forColumn(v, oids[i])
		}
		return vals, nil
	}))
	if err != nil {
		return 0, err
	}
	return n, nil
}

// targetColumns maps the target table's columns to their types.
func targetColumns(ctx context.Context, dst pgx.Tx, ident string) (map[string]uint32, error) {
	rows, err := dst.Query(ctx, "SELECT * FROM "+ident+" LIMIT 0")
	if err != nil {
		return nil, err
	}
	fields := rows.FieldDescriptions()
	cols := make(map[string]uint32, len(fields))
	for _, f := range fields {
		cols[f.Name] = f.DataTypeOID
	}
	rows.Close()
	return cols, rows.Err()
}

// sameColumns refuses a table whose columns differ between the stores,
// which the same migrations never leave.
func sameColumns(src []string, dst map[string]uint32) error {
	var missing []string
	for _, c := range src {
		if _, ok := dst[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 || len(src) != len(dst) {
		target := make([]string, 0, len(dst))
		for c := range dst {
			target = append(target, c)
		}
		slices.Sort(target)
		return fmt.Errorf("%w: columns %s in the source, %s in the target", ErrSchemaMismatch,
			strings.Join(src, ", "), strings.Join(target, ", "))
	}
	return nil
}

// forColumn gives a value read from the source the Go type the target's
// column takes in COPY's binary format: SQLite hands back text or blob as
// it was stored, whatever the column was declared as.
func forColumn(v any, oid uint32) any {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case pgtype.ByteaOID:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	}
	return v
}

// restartIdentities moves every identity column's sequence past the ids
// copied, so the next row the store adds gets the next free id.
func restartIdentities(ctx context.Context, tx pgx.Tx) error {
	rows, _ := tx.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' AND table_name = ANY($1)`, CopiedTables())
	type identity struct{ table, column string }
	ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (identity, error) {
		var i identity
		err := r.Scan(&i.table, &i.column)
		return i, err
	})
	if err != nil {
		return fmt.Errorf("find identity columns: %w", err)
	}
	for _, id := range ids {
		col, table := pgx.Identifier{id.column}.Sanitize(), pgx.Identifier{id.table}.Sanitize()
		// is_called false: the next value handed out is this one.
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(`+col+`) FROM `+table+`), 0) + 1, false)`,
			table, id.column)
		if err != nil {
			return fmt.Errorf("restart the ids of %s: %w", id.table, err)
		}
	}
	return nil
}

// PostgresName names the database a PostgreSQL DSN points at, as
// host:port/database, without the user or password: for messages about a
// target given as a DSN, which may hold a password.
func PostgresName(dsn string) (string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL settings: %w", err)
	}
	return serverAddress(cfg) + "/" + cfg.Database, nil
}
