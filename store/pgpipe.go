package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

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
	c.inTx, c.unbegun, c.held = true, true, c.held[:0]
	return &pgTx{c: c, ctx: ctx}, nil
}

// ExecContext holds a write marked by sendLater in a transaction, and sends
// any other with what is held.
func (c *pgConn) ExecContext(ctx context.Context, query string, argsV []driver.NamedValue) (driver.Result, error) {
	if !c.inTx || !c.unbegun && len(c.held) == 0 && ctx.Value(heldKey{}) == nil {
		return c.Conn.ExecContext(ctx, query, argsV)
	}
	args, ok := batchArgs(argsV)
	if !ok {
		if err := c.flush(ctx); err != nil {
			return nil, err
		}
		return c.Conn.ExecContext(ctx, query, argsV)
	}
	if ctx.Value(heldKey{}) != nil {
		c.held = append(c.held, heldStmt{sql: query, args: args})
		// Nobody may read a count that has not come back.
		return driver.ResultNoRows, nil
	}
	br, err := c.sendHeld(ctx, query, args)
	if err != nil {
		return nil, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

// QueryContext sends a read with what is held.
func (c *pgConn) QueryContext(ctx context.Context, query string, argsV []driver.NamedValue) (driver.Rows, error) {
	if !c.inTx || !c.unbegun && len(c.held) == 0 {
		return c.Conn.QueryContext(ctx, query, argsV)
	}
	args, ok := batchArgs(argsV)
	if !ok {
		if err := c.flush(ctx); err != nil {
			return nil, err
		}
		return c.Conn.QueryContext(ctx, query, argsV)
	}
	br, err := c.sendHeld(ctx, query, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		rows.Close()
		_ = br.Close()
		return nil, err
	}
	return &pipedRows{br: br, rows: rows}, nil
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

// sendHeld sends the held statements and then query, in one round trip,
// and reads the held statements' answers: the first failure among them is
// the error. The caller reads query's answer from the results and closes
// them.
func (c *pgConn) sendHeld(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
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
	br, err := c.sendHeld(ctx, last.sql, last.args)
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
	c.inTx = false
	if c.unbegun && len(c.held) == 0 {
		c.unbegun = false
		return nil
	}
	br, err := c.sendHeld(tx.ctx, "commit", nil)
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
	c.inTx = false
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
	vals, err := r.rows.Values()
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
				return fmt.Errorf("column %s: %w: %T", r.rows.FieldDescriptions()[i].Name, errUnreadable, v)
			}
			dest[i] = v
		}
	}
	return nil
}
