package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
)

// Reading a store beside the process that owns it: the load tool and the end
// to end tests open the file of a running sspr read-only to see what it
// wrote (the code it sent, the resets it logged). Those reads live here, so
// that no SQL is written outside this package and a schema change breaks
// them at compile time, not at run time.

// ReadOnly is a store file opened for reading only. It is a Handler for this
// package's read functions; SQLite refuses any write through it.
type ReadOnly struct {
	*sql.DB
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
	return &ReadOnly{DB: db}, nil
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
