package store

import (
	"context"
	"fmt"
)

// Serialising work across processes. On SQLite a write transaction holds
// the whole database from BEGIN, so what follows is already one at a time
// and these functions do nothing. On PostgreSQL transactions on other
// connections run beside each other, and a rule that counts rows before it
// adds one (five failures block an account) would let two replicas each
// count four; the rule takes a transaction-scoped advisory lock on what it
// counts first, so that the second waits for the first to commit and then
// counts its row.

// LockThrottle holds the throttle counts of one scope and key for the rest
// of tx. Callers that lock several keys lock them in one order (the
// account before the source), so that two transactions never wait on each
// other.
func LockThrottle(ctx context.Context, tx *Tx, scope, key string) error {
	if tx.db.sql.engine != Postgres {
		return nil
	}
	// The lock goes out with the statement that counts, in one round trip:
	// the server takes it before that statement reads anything.
	if _, err := tx.ExecContext(sendLater(ctx), `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`,
		"sspr:throttle:"+scope+":"+key); err != nil {
		return fmt.Errorf("lock throttle: %w", err)
	}
	return nil
}

// TryExclusive takes the named lock for the rest of tx if no other
// transaction holds it, and reports whether it did: work that one process
// at a time should do (the hourly tidy) is skipped by the others.
func TryExclusive(ctx context.Context, tx *Tx, name string) (bool, error) {
	if tx.db.sql.engine != Postgres {
		return true, nil
	}
	var got bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0))`,
		"sspr:exclusive:"+name).Scan(&got); err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	return got, nil
}
