package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Over a network each statement is a round trip, and a reset's statements
// are short: the trip costs more than the work. A PostgreSQL transaction's
// BEGIN, and the statements whose only answer is "done" (a lock taken, a
// row added), need not wait for their answer before the next statement
// goes: they are held and sent with the next one that needs its answer, in
// one pipeline. The server still runs them in order, each on its own, so
// nothing about what a statement sees changes; only when the client hears
// back does. pgConn does this under database/sql, which knows nothing of
// it.

// heldKey marks a context: the statement run with it may be held until the
// transaction's next statement, or its COMMIT.
type heldKey struct{}

// sendLater marks ctx so that a write in a transaction on PostgreSQL may go
// out with the transaction's next statement rather than on its own. A
// failure is then reported by that next statement (or by the commit),
// wrapped in its own words; so it is for writes whose only failures are
// the database's own, which no caller tells apart from others. Outside a
// transaction, and on SQLite, the write runs at once.
func sendLater(ctx context.Context) context.Context {
	return context.WithValue(ctx, heldKey{}, true)
}

// pgConnector makes the pool's connections pgConns.
type pgConnector struct {
	inner driver.Connector
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return dc, nil
	}
	return &pgConn{Conn: sc}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a connection of the PostgreSQL pool that holds a transaction's
// BEGIN, and the writes marked by sendLater, until a statement that needs
// its answer: they go out together, one round trip. A transaction that sends
// nothing costs nothing, and its last held write goes with its COMMIT.
// database/sql uses a connection from one goroutine at a time, so it needs
// no lock of its own.
type pgConn struct {
	*stdlib.Conn
	// inTx is set between BeginTx and the end of a transaction begun here,
	// and unbegun until its BEGIN is sent.
	inTx, unbegun bool
	// held are the writes not sent yet, in order, to go after any BEGIN.
	held []heldStmt
	// ahead are the answers to reads sent ahead in this transaction
	// (ReadAhead), until they are asked for or the transaction ends.
	ahead []aheadAnswer
}

// heldStmt is a statement held for the next round trip.
type heldStmt struct {
	sql  string
	args []any
}

var (
	errNotBegun   = errors.New("transaction not begun")
	errUnreadable = errors.New("a value database/sql cannot take")
)

// Begin is BeginTx with no options.
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a transaction without a round trip: its BEGIN goes out
// with its first statement. A transaction with options other than the
// defaults begins at once, as the driver does.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.Isolation != 0 || opts.ReadOnly {
		return c.Conn.BeginTx(ctx, opts)
	}
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	c.inTx, c.unbegun, c.held, c.ahead = true, true, c.held[:0], nil
	return &pgTx{c: c, ctx: ctx}, nil
}

// ExecContext holds a write marked by sendLater in a transaction, and sends
// any other with what is held and any reads ahead.
func (c *pgConn) ExecContext(ctx context.Context, query string, argsV []driver.NamedValue) (driver.Result, error) {
	later := c.inTx && ctx.Value(heldKey{}) != nil
	if !later && !c.pending(ctx) {
		return c.Conn.ExecContext(ctx, query, argsV)
	}
	args, ok, err := c.pipeArgs(ctx, argsV)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.Conn.ExecContext(ctx, query, argsV)
	}
	if later {
		c.held = append(c.held, heldStmt{sql: query, args: args})
		// Nobody may read a count that has not come back.
		return driver.ResultNoRows, nil
	}
	along := takeAhead(ctx)
	br, err := c.sendHeld(ctx, query, args, along)
	if err != nil {
		return nil, err
	}
	tag, err := br.Exec()
	if err := c.finish(ctx, br, along, err); err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

// QueryContext answers a read sent ahead from what came back, and sends
// any other with what is held and any reads ahead.
func (c *pgConn) QueryContext(ctx context.Context, query string, argsV []driver.NamedValue) (driver.Rows, error) {
	if a, ok := c.answered(ctx, query, argsV); ok {
		if a.err != nil {
			return nil, a.err
		}
		return a.rows, nil
	}
	if !c.pending(ctx) {
		return c.Conn.QueryContext(ctx, query, argsV)
	}
	args, ok, err := c.pipeArgs(ctx, argsV)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.Conn.QueryContext(ctx, query, argsV)
	}
	along := takeAhead(ctx)
	br, err := c.sendHeld(ctx, query, args, along)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		rows.Close()
		_ = br.Close()
		return nil, err
	}
	if along == nil {
		return &pipedRows{br: br, rows: rows}, nil
	}
	// The reads ahead come back after this one's rows, so these are read
	// whole first.
	kept, err := keepRows(rows)
	if err := c.finish(ctx, br, along, err); err != nil {
		return nil, err
	}
	return kept, nil
}

// pipeArgs returns the arguments for a pipeline, or false when one of them
// tells pgx how to run the query (batchArgs): what is held is then sent
// alone first, and the statement runs on its own.
func (c *pgConn) pipeArgs(ctx context.Context, argsV []driver.NamedValue) ([]any, bool, error) {
	if args, ok := batchArgs(argsV); ok {
		return args, true, nil
	}
	return nil, false, c.flush(ctx)
}

// finish ends a pipeline whose statement's own answer was read with err:
// if that succeeded, it keeps the answers to the reads sent along; then it
// closes the results, and returns the first failure.
func (c *pgConn) finish(ctx context.Context, br pgx.BatchResults, along []heldStmt, err error) error {
	if err == nil {
		c.keepAnswers(ctx, br, along)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// pending tells whether a statement run with ctx must go in a pipeline:
// a BEGIN or writes are held, or reads ahead wait to go.
func (c *pgConn) pending(ctx context.Context) bool {
	if c.inTx && (c.unbegun || len(c.held) > 0) {
		return true
	}
	return waiting(ctx)
}

// PrepareContext sends what is held first: a prepared statement runs on
// its own, past this connection's ExecContext and QueryContext.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.Conn.PrepareContext(ctx, query)
}

// Prepare is PrepareContext without a context.
func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// sendHeld sends the held statements, then query, then the reads along,
// in one round trip, and reads
// the held statements' answers: the first failure among them is the error.
// The caller reads query's answer from the results, then, if it succeeded,
// the reads' (keepAnswers), and closes the results.
func (c *pgConn) sendHeld(ctx context.Context, query string, args []any, along []heldStmt) (pgx.BatchResults, error) {
	held := c.held
	c.held = c.held[:0]
	b := &pgx.Batch{}
	if c.unbegun {
		c.unbegun = false
		held = append([]heldStmt{{sql: "begin"}}, held...)
	}
	for _, h := range held {
		b.Queue(h.sql, h.args...)
	}
	b.Queue(query, args...)
	for _, r := range along {
		b.Queue(r.sql, r.args...)
	}
	br := c.Conn.Conn().SendBatch(ctx, b)
	for range held {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	return br, nil
}

// flush sends what is held, alone.
func (c *pgConn) flush(ctx context.Context) error {
	if !c.inTx || !c.unbegun && len(c.held) == 0 {
		return nil
	}
	var last heldStmt
	if n := len(c.held); n > 0 {
		last, c.held = c.held[n-1], c.held[:n-1]
	} else {
		last, c.unbegun = heldStmt{sql: "begin"}, false
	}
	br, err := c.sendHeld(ctx, last.sql, last.args, nil)
	if err != nil {
		return err
	}
	_, err = br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// batchArgs returns the arguments for a batch, or false when one of them
// tells pgx how to run the query (a QueryExecMode), which a batch cannot
// take per query.
func batchArgs(argsV []driver.NamedValue) ([]any, bool) {
	args := make([]any, len(argsV))
	for i, v := range argsV {
		switch v.Value.(type) {
		case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
			return nil, false
		}
		args[i] = v.Value
	}
	return args, true
}

// pgTx is a transaction begun by pgConn.
type pgTx struct {
	c   *pgConn
	ctx context.Context
}

// Commit sends what is held with COMMIT; a transaction that sent nothing
// has nothing to commit. When a held write fails, or the server ends the
// transaction with a rollback (a statement failed and the caller went on),
// the transaction is rolled back and Commit fails.
func (tx *pgTx) Commit() error {
	c := tx.c
	if !c.inTx {
		return errNotBegun
	}
	c.inTx, c.ahead = false, nil
	if c.unbegun && len(c.held) == 0 {
		c.unbegun = false
		return nil
	}
	br, err := c.sendHeld(tx.ctx, "commit", nil, nil)
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil && tag.String() != "COMMIT" {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		// A held write that failed left the transaction open and
		// aborted: end it, so the connection goes back to the pool clean
		// (or, when it is broken, the pool drops it).
		if pc := c.Conn.Conn().PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
			_, _ = c.Conn.Conn().Exec(context.WithoutCancel(tx.ctx), "rollback")
		}
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rollback drops what is held and rolls back what was sent; a transaction
// that sent nothing has nothing to roll back.
func (tx *pgTx) Rollback() error {
	c := tx.c
	if !c.inTx {
		return errNotBegun
	}
	c.inTx, c.ahead = false, nil
	unbegun := c.unbegun
	c.unbegun, c.held = false, c.held[:0]
	if unbegun {
		return nil
	}
	if c.Conn.Conn().IsClosed() {
		return driver.ErrBadConn
	}
	_, err := c.Conn.Conn().Exec(tx.ctx, "rollback")
	return err
}

// pipedRows are the rows of a read sent in a pipeline, as database/sql
// takes them: the values pgx decodes, with integers and floats widened to
// the sizes database/sql converts from.
type pipedRows struct {
	br   pgx.BatchResults
	rows pgx.Rows
}

func (r *pipedRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names
}

func (r *pipedRows) Close() error {
	r.rows.Close()
	err := r.rows.Err()
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *pipedRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	return driverValues(dest, r.rows)
}

// driverValues puts the values of rows' current row in dest as
// database/sql takes them: integers and floats widened to the sizes it
// converts from.
func driverValues(dest []driver.Value, rows pgx.Rows) error {
	vals, err := rows.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		switch v := v.(type) {
		case int16:
			dest[i] = int64(v)
		case int32:
			dest[i] = int64(v)
		case float32:
			dest[i] = float64(v)
		default:
			if !driver.IsValue(v) {
				if dv, ok := v.(driver.Valuer); ok {
					if v, err := dv.Value(); err == nil && driver.IsValue(v) {
						dest[i] = v
						continue
					}
				}
				return fmt.Errorf("column %s: %w: %T", rows.FieldDescriptions()[i].Name, errUnreadable, v)
			}
			dest[i] = v
		}
	}
	return nil
}

// Reads ahead. A read whose query and arguments are known before an
// earlier statement goes out can go with that statement: its answer is
// kept and handed over when the read is made, with no round trip of its
// own. Outside a transaction the answer is kept in the context that named
// the read, for a read made with it on any connection of the pool; in a
// transaction, on the connection, for that transaction alone. Either way a
// read is answered only where it was sent: an answer from outside a
// transaction never stands for a read in one.

// aheadKey marks a context with the reads to send ahead (readsAhead).
type aheadKey struct{}

// readsAhead are the reads a context names, in PostgreSQL's spelling, and
// what came back for those sent outside a transaction.
type readsAhead struct {
	mu      sync.Mutex
	reads   []heldStmt
	gone    bool
	answers []aheadAnswer
}

// aheadAnswer is what came back for a read sent ahead.
type aheadAnswer struct {
	sql  string
	args []any
	rows *keptRows
	err  error
}

// takeAhead returns the reads ctx names that have not gone yet, and notes
// them gone.
func takeAhead(ctx context.Context) []heldStmt {
	ra, _ := ctx.Value(aheadKey{}).(*readsAhead)
	if ra == nil {
		return nil
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.gone {
		return nil
	}
	ra.gone = true
	return ra.reads
}

// waiting tells whether ctx names reads that have not gone yet.
func waiting(ctx context.Context) bool {
	ra, _ := ctx.Value(aheadKey{}).(*readsAhead)
	if ra == nil {
		return false
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return !ra.gone
}

// keepAnswers reads the answers to the reads sent along from br and keeps
// them where they may be asked for: in the transaction, or in the context
// that named them.
func (c *pgConn) keepAnswers(ctx context.Context, br pgx.BatchResults, along []heldStmt) {
	if len(along) == 0 {
		return
	}
	answers := make([]aheadAnswer, len(along))
	for i, r := range along {
		answers[i] = aheadAnswer{sql: r.sql, args: r.args}
		rows, err := br.Query()
		if err == nil {
			answers[i].rows, err = keepRows(rows)
		} else {
			rows.Close()
		}
		answers[i].err = err
	}
	if c.inTx {
		c.ahead = append(c.ahead, answers...)
		return
	}
	ra := ctx.Value(aheadKey{}).(*readsAhead)
	ra.mu.Lock()
	ra.answers = append(ra.answers, answers...)
	ra.mu.Unlock()
}

// answered returns, and forgets, the answer kept for the read query with
// argsV, if it went ahead where it is asked for now.
func (c *pgConn) answered(ctx context.Context, query string, argsV []driver.NamedValue) (aheadAnswer, bool) {
	if c.inTx {
		return takeAnswer(&c.ahead, query, argsV)
	}
	ra, _ := ctx.Value(aheadKey{}).(*readsAhead)
	if ra == nil {
		return aheadAnswer{}, false
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return takeAnswer(&ra.answers, query, argsV)
}

// takeAnswer removes from answers, and returns, the first for query with
// argsV.
func takeAnswer(answers *[]aheadAnswer, query string, argsV []driver.NamedValue) (aheadAnswer, bool) {
	for i, a := range *answers {
		if a.sql != query || len(a.args) != len(argsV) {
			continue
		}
		same := true
		for j, v := range argsV {
			if !reflect.DeepEqual(a.args[j], v.Value) {
				same = false
				break
			}
		}
		if same {
			*answers = append((*answers)[:i], (*answers)[i+1:]...)
			return a, true
		}
	}
	return aheadAnswer{}, false
}

// keptRows are rows read whole, handed out later.
type keptRows struct {
	columns []string
	values  [][]driver.Value
}

// keepRows reads rows whole and closes them.
func keepRows(rows pgx.Rows) (*keptRows, error) {
	defer rows.Close()
	fds := rows.FieldDescriptions()
	k := &keptRows{columns: make([]string, len(fds))}
	for i, fd := range fds {
		k.columns[i] = fd.Name
	}
	for rows.Next() {
		row := make([]driver.Value, len(fds))
		if err := driverValues(row, rows); err != nil {
			return nil, err
		}
		k.values = append(k.values, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *keptRows) Columns() []string { return k.columns }

func (k *keptRows) Close() error { return nil }

func (k *keptRows) Next(dest []driver.Value) error {
	if len(k.values) == 0 {
		return io.EOF
	}
	copy(dest, k.values[0])
	k.values = k.values[1:]
	return nil
}
