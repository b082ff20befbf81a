package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// AuditRow is a row of the audit table. Rows are written only through the
// flows' audit chain, which computes the keyed links (PrevHash, Hash);
// writing them any other way breaks the chain, and its Verify says so.
type AuditRow struct {
	ID       int64
	At       int64
	Event    string
	Actor    string
	Target   string
	Source   string
	Outcome  string
	Detail   string
	PrevHash string
	Hash     string
}

// AuditHead is the newest row of the chain and the number of rows, kept
// apart from the rows so that cutting off the end of the log is noticed.
// MAC authenticates the other three; it is empty in a log not keyed yet.
type AuditHead struct {
	LastID   int64
	LastHash string
	Rows     int64
	MAC      string
}

const auditColumns = `audit.id, audit.at, audit.event, audit.actor, audit.target, audit.source, audit.outcome,
	audit.detail, audit.prev_hash, audit.hash`

func scanAudit(row interface{ Scan(...any) error }) (AuditRow, error) {
	var r AuditRow
	err := row.Scan(&r.ID, &r.At, &r.Event, &r.Actor, &r.Target, &r.Source, &r.Outcome, &r.Detail, &r.PrevHash, &r.Hash)
	return r, err
}

// AuditHeadOf returns the chain head; ErrNotFound when there is none (a
// store older than the head that never had a row, or a head deleted).
func AuditHeadOf(ctx context.Context, h Handler) (AuditHead, error) {
	var hd AuditHead
	err := h.QueryRowContext(ctx, `SELECT last_id, last_hash, rows, mac FROM audit_head WHERE id = 1`).
		Scan(&hd.LastID, &hd.LastHash, &hd.Rows, &hd.MAC)
	if err != nil {
		return AuditHead{}, fmt.Errorf("audit head: %w", wrapNotFound(err))
	}
	return hd, nil
}

// LockAuditHead reads, for an append in tx, the chain head and the highest
// id in the table (the head's, unless rows were slipped in after it), in
// one statement; tx then holds the head until it commits: every append reads
// and replaces the one head row, so appends from any number of processes
// form one chain. SQLite needs no row lock for that (the store's write
// transactions take the database's write lock at BEGIN, so they run one at a
// time); on PostgreSQL this is the place for SELECT ... FOR UPDATE, which
// the head row that every store has from its first migration on makes
// possible. Without a head the error is ErrNotFound, and maxID is still
// read. The head's MAC is not read: an append replaces it.
func LockAuditHead(ctx context.Context, tx *Tx) (hd AuditHead, maxID int64, err error) {
	err = tx.QueryRowContext(ctx, lockAuditHeadQuery(tx.dialect())).Scan(&hd.LastID, &hd.LastHash, &hd.Rows, &maxID)
	if errors.Is(err, sql.ErrNoRows) {
		maxID, err = MaxAuditID(ctx, tx)
		if err != nil {
			return AuditHead{}, 0, err
		}
		return AuditHead{}, maxID, fmt.Errorf("audit head: %w", ErrNotFound)
	}
	if err != nil {
		return AuditHead{}, 0, fmt.Errorf("audit head: %w", err)
	}
	return hd, maxID, nil
}

func lockAuditHeadQuery(d *dialect) string {
	return `SELECT last_id, last_hash, rows, (SELECT COALESCE(MAX(id), 0) FROM audit)
		FROM audit_head WHERE id = 1` + d.forUpdate()
}

// AuditHeadRead is LockAuditHead's read, named ahead (ReadAhead), for an
// append later in the transaction: it locks the head when it goes, so name
// it with the transaction's last statement before the append that needs an
// answer. The head is then still locked after every other row the
// transaction locks, and appends from many processes cannot deadlock.
func AuditHeadRead() Read {
	return Read{query: lockAuditHeadQuery}
}

// MaxAuditID returns the highest id in the audit table, 0 when it is empty.
func MaxAuditID(ctx context.Context, h Handler) (int64, error) {
	var id int64
	if err := h.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit`).Scan(&id); err != nil {
		return 0, fmt.Errorf("max audit id: %w", err)
	}
	return id, nil
}

// InsertAudit writes r with its id as given.
func InsertAudit(ctx context.Context, h Handler, r AuditRow) error {
	_, err := h.ExecContext(ctx, `INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.At, r.Event, r.Actor, r.Target, r.Source, r.Outcome, r.Detail, r.PrevHash, r.Hash)
	if isUnique(err) {
		return fmt.Errorf("insert audit row %d: %w", r.ID, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert audit row: %w", err)
	}
	return nil
}

// SetAuditHead replaces the chain head.
func SetAuditHead(ctx context.Context, h Handler, hd AuditHead) error {
	_, err := h.ExecContext(ctx, `INSERT INTO audit_head (id, last_id, last_hash, rows, mac) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, rows = excluded.rows,
			mac = excluded.mac`,
		hd.LastID, hd.LastHash, hd.Rows, hd.MAC)
	if err != nil {
		return fmt.Errorf("set audit head: %w", err)
	}
	return nil
}

// AppendAuditRow writes r and then hd, the head that names it: on
// PostgreSQL in one statement, so that an append costs two round trips with
// LockAuditHead. A row whose id is taken is ErrDuplicate.
func AppendAuditRow(ctx context.Context, tx *Tx, r AuditRow, hd AuditHead) error {
	if tx.dialect().engine != Postgres {
		if err := InsertAudit(ctx, tx, r); err != nil {
			return err
		}
		return SetAuditHead(ctx, tx, hd)
	}
	// The append is the transaction's last write (BeforeCommit): it goes
	// out with the COMMIT, and a failure fails the commit.
	_, err := tx.ExecContext(sendLater(ctx), `WITH added AS (INSERT INTO audit (id, at, event, actor, target, source, outcome, detail,
		prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))
		INSERT INTO audit_head (id, last_id, last_hash, rows, mac) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, rows = excluded.rows,
			mac = excluded.mac`,
		r.ID, r.At, r.Event, r.Actor, r.Target, r.Source, r.Outcome, r.Detail, r.PrevHash, r.Hash,
		hd.LastID, hd.LastHash, hd.Rows, hd.MAC)
	if isUnique(err) {
		return fmt.Errorf("insert audit row %d: %w", r.ID, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	return nil
}

// AuditRowAt returns the row with this id; ErrNotFound when there is none.
func AuditRowAt(ctx context.Context, h Handler, id int64) (AuditRow, error) {
	r, err := scanAudit(h.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit WHERE id = ?`, id))
	if err != nil {
		return AuditRow{}, fmt.Errorf("audit row %d: %w", id, wrapNotFound(err))
	}
	return r, nil
}

// AuditRowsAfter returns at most limit rows with an id above after, oldest
// first: a walk over the whole log in batches, for work that writes as it
// goes and so cannot hold a result set open.
func AuditRowsAfter(ctx context.Context, h Handler, after int64, limit int) ([]AuditRow, error) {
	out, err := queryAudit(ctx, h, `SELECT `+auditColumns+` FROM audit WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	return out, nil
}

// queryAudit runs q, which selects auditColumns, and returns its rows.
func queryAudit(ctx context.Context, h Handler, q string, args ...any) ([]AuditRow, error) {
	rows, err := h.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetAuditLinks replaces the chain links of one row; only re-keying a log
// written before the chain had a key does that.
func SetAuditLinks(ctx context.Context, h Handler, id int64, prevHash, hash string) error {
	res, err := h.ExecContext(ctx, `UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?`, prevHash, hash, id)
	if err != nil {
		return fmt.Errorf("set audit links of row %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("set audit links of row %d: %w", id, ErrNotFound)
	}
	return nil
}

// AuditFilter narrows ListAudit. Zero values mean no filter.
type AuditFilter struct {
	Target string
	Actor  string
	Events []string
	// Since keeps rows at or after this Unix time; 0 means no bound.
	Since int64
	// Until keeps rows before this Unix time; 0 means no bound.
	Until int64
	// Limit caps the rows; 0 means no cap.
	Limit  int
	Offset int
}

func (f AuditFilter) where() (string, []any) {
	var where []string
	var args []any
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if len(f.Events) > 0 {
		where = append(where, "event IN (?"+strings.Repeat(", ?", len(f.Events)-1)+")")
		for _, e := range f.Events {
			args = append(args, e)
		}
	}
	if f.Since != 0 {
		where = append(where, "at >= ?")
		args = append(args, f.Since)
	}
	if f.Until != 0 {
		where = append(where, "at < ?")
		args = append(args, f.Until)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListAudit returns the rows f selects, newest first.
func ListAudit(ctx context.Context, h Handler, f AuditFilter) ([]AuditRow, error) {
	where, args := f.where()
	q := `SELECT ` + auditColumns + ` FROM audit` + where + ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += h.dialect().limitOffset(f.Limit, f.Offset)
	} else if f.Offset > 0 {
		q += h.dialect().limitOffset(-1, f.Offset)
	}
	out, err := queryAudit(ctx, h, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

// EachAudit calls fn for every row, oldest first, one row at a time so an
// export never holds the log in memory. An error from fn stops the walk and
// is returned as is.
func EachAudit(ctx context.Context, h Handler, fn func(AuditRow) error) error {
	rows, err := h.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return fmt.Errorf("read audit: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	return nil
}

// AuditSnapshot reads every row, oldest first, with the head joined on, in
// one statement: SQLite runs a statement on one snapshot, so an append that
// commits meanwhile cannot make the head and the rows disagree. onHead is
// called once, before any row, with ok false when there is no head; onRow is
// then called for each row. An error from either stops the walk and is
// returned as is.
func AuditSnapshot(ctx context.Context, h Handler, onHead func(hd AuditHead, ok bool) error, onRow func(AuditRow) error) error {
	n, err := auditSnapshot(ctx, h, onHead, onRow)
	if err != nil || n > 0 {
		return err
	}
	// An empty log has no row to carry the head, so read it on its own. If
	// there is one, rows may have been appended since the statement above:
	// take a fresh snapshot, which then sees them (or still sees none, and
	// the head is the one to report).
	hd, err := AuditHeadOf(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return onHead(AuditHead{}, false)
	}
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	n, err = auditSnapshot(ctx, h, onHead, onRow)
	if err != nil || n > 0 {
		return err
	}
	return onHead(hd, true)
}

func auditSnapshot(ctx context.Context, h Handler, onHead func(AuditHead, bool) error, onRow func(AuditRow) error) (int, error) {
	// Scanning audit first, in rowid order, streams without a sort.
	rows, err := h.QueryContext(ctx, `SELECT `+auditColumns+`, hd.last_id, hd.last_hash, hd.rows, hd.mac
		FROM audit LEFT JOIN audit_head AS hd ON hd.id = 1
		ORDER BY audit.id`)
	if err != nil {
		return 0, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			r        AuditRow
			lastID   sql.NullInt64
			lastHash sql.NullString
			count    sql.NullInt64
			mac      sql.NullString
		)
		if err := rows.Scan(&r.ID, &r.At, &r.Event, &r.Actor, &r.Target, &r.Source, &r.Outcome, &r.Detail,
			&r.PrevHash, &r.Hash, &lastID, &lastHash, &count, &mac); err != nil {
			return n, fmt.Errorf("read audit: %w", err)
		}
		if n == 0 {
			hd := AuditHead{LastID: lastID.Int64, LastHash: lastHash.String, Rows: count.Int64, MAC: mac.String}
			if err := onHead(hd, lastID.Valid); err != nil {
				return n, err
			}
		}
		n++
		if err := onRow(r); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read audit: %w", err)
	}
	return n, nil
}

// AuditDayCount is how many rows of one event fell on one UTC day.
type AuditDayCount struct {
	// Day is the UTC date, "2006-01-02".
	Day   string
	Event string
	Count int
}

// CountAuditByDay counts rows per UTC day and event with since <= at < until.
// No events means every event.
func CountAuditByDay(ctx context.Context, h Handler, events []string, since, until int64) ([]AuditDayCount, error) {
	where, args := AuditFilter{Events: events}.where()
	if where == "" {
		where = " WHERE "
	} else {
		where += " AND "
	}
	where += "at >= ? AND at < ?"
	args = append(args, since, until)
	rows, err := h.QueryContext(ctx, `SELECT `+h.dialect().utcDay("at")+` AS day, event, COUNT(*)
		FROM audit`+where+` GROUP BY day, event ORDER BY day, event`, args...)
	if err != nil {
		return nil, fmt.Errorf("count audit by day: %w", err)
	}
	defer rows.Close()
	var out []AuditDayCount
	for rows.Next() {
		var c AuditDayCount
		if err := rows.Scan(&c.Day, &c.Event, &c.Count); err != nil {
			return nil, fmt.Errorf("count audit by day: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count audit by day: %w", err)
	}
	return out, nil
}
