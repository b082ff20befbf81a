package store

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"net/url"
)

// Reading a store beside the process that owns it: the load tool and the end
// to end tests open the file of a running sspr read-only to see what it
// wrote (the code it sent, the resets it logged). Those reads live here, so
// that no SQL is written outside this package and a schema change breaks
// them at compile time, not at run time.

// ReadOnly is a store opened for reading only. It is a Handler for this
// package's read functions; the database refuses any write through it.
type ReadOnly struct {
	db  *sql.DB
	sql *dialect
}

// OpenReadOnly opens the store file at path without creating, migrating or
// changing it, for a process other than its owner. It waits on the owner's
// write lock as long as Open does.
func OpenReadOnly(path string) (*ReadOnly, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store read-only: %w", err)
	}
	db.SetMaxOpenConns(4)
	return &ReadOnly{db: db, sql: sqliteDialect}, nil
}

// OpenReadOnlyPostgres opens the PostgreSQL store dsn names in read-only
// transactions, without migrating it.
func OpenReadOnlyPostgres(dsn string) (*ReadOnly, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store read-only: %w", err)
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	return &ReadOnly{db: db, sql: newDialect(Postgres)}, nil
}

// Close closes the store.
func (r *ReadOnly) Close() error { return r.db.Close() }

// ExecContext runs a statement, which the store refuses if it writes.
func (r *ReadOnly) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.db.ExecContext(ctx, r.sql.query(query), r.sql.args(args)...)
}

// QueryContext runs a read.
func (r *ReadOnly) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, r.sql.query(query), r.sql.args(args)...)
}

// QueryRowContext runs a one-row read.
func (r *ReadOnly) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, r.sql.query(query), r.sql.args(args)...)
}

func (r *ReadOnly) dialect() *dialect { return r.sql }

// writeRow runs the statement, which the store refuses if it writes.
func (r *ReadOnly) writeRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.QueryRowContext(ctx, query, args...)
}

// OutboxTo returns the messages to destination, newest first.
func OutboxTo(ctx context.Context, h Handler, destination string) ([]OutboxMessage, error) {
	return queryOutbox(ctx, h, "outbox to", `SELECT `+outboxColumns+` FROM outbox WHERE destination = ? ORDER BY id DESC`,
		destination)
}

// CountAudit counts the rows f selects; its Limit and Offset are ignored.
func CountAudit(ctx context.Context, h Handler, f AuditFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit: %w", err)
	}
	return n, nil
}
