package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Throttle scopes.
const (
	ScopeAccount = "account"
	ScopeSource  = "source"
)

// Throttle event kinds.
const (
	EventFail = "fail"
	EventSend = "send"
)

// AddThrottleEvent records a failure or a send for a scope and key.
func AddThrottleEvent(ctx context.Context, h Handler, scope, key, kind string, at int64) error {
	if _, err := h.ExecContext(ctx, `INSERT INTO throttle_events (scope, key, kind, at) VALUES (?, ?, ?, ?)`,
		scope, key, kind, at); err != nil {
		return fmt.Errorf("add throttle event: %w", err)
	}
	return nil
}

// AddThrottleEventUnder records an event as AddThrottleEvent does, unless
// the key already has limit events of the kind since a time, and reports
// whether it did: the count and the insert in one statement. The caller
// holds the key's throttle lock, so that no other count interleaves.
func AddThrottleEventUnder(ctx context.Context, h Handler, scope, key, kind string, at, since int64, limit int) (bool, error) {
	res, err := h.ExecContext(ctx, `INSERT INTO throttle_events (scope, key, kind, at) SELECT ?, ?, ?, ?
		WHERE (SELECT COUNT(*) FROM throttle_events WHERE scope = ? AND key = ? AND kind = ? AND at >= ?) < ?`,
		scope, key, kind, at, scope, key, kind, since, limit)
	if err != nil {
		return false, fmt.Errorf("add throttle event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add throttle event: %w", err)
	}
	return n > 0, nil
}

// CountThrottleEvents counts events of a kind since a time.
func CountThrottleEvents(ctx context.Context, h Handler, scope, key, kind string, since int64) (int, error) {
	var n int
	err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM throttle_events WHERE scope = ? AND key = ? AND kind = ? AND at >= ?`,
		scope, key, kind, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count throttle events: %w", err)
	}
	return n, nil
}

// LastThrottleEvent counts events of a kind since a time and returns the
// time of the newest of them (0 when there is none), in one statement: how
// many failures a source has had lately, and how long ago the last was.
func LastThrottleEvent(ctx context.Context, h Handler, scope, key, kind string, since int64) (n int, last int64, err error) {
	err = h.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(at), 0) FROM throttle_events
		WHERE scope = ? AND key = ? AND kind = ? AND at >= ?`, scope, key, kind, since).Scan(&n, &last)
	if err != nil {
		return 0, 0, fmt.Errorf("last throttle event: %w", err)
	}
	return n, last, nil
}

// ClearThrottleEvents forgets a key's events of a kind (all kinds if kind is empty).
func ClearThrottleEvents(ctx context.Context, h Handler, scope, key, kind string) error {
	q := `DELETE FROM throttle_events WHERE scope = ? AND key = ?`
	args := []any{scope, key}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, kind)
	}
	if _, err := h.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("clear throttle events: %w", err)
	}
	return nil
}

// ClearKey forgets every event of a key and its block, if it has one.
func ClearKey(ctx context.Context, h Handler, scope, key string) error {
	if h.dialect().engine == Postgres {
		// One statement, which in a transaction goes out with the next.
		if _, err := h.ExecContext(sendLater(ctx), `WITH events AS (DELETE FROM throttle_events WHERE scope = ? AND key = ?)
			DELETE FROM blocks WHERE scope = ? AND key = ?`, scope, key, scope, key); err != nil {
			return fmt.Errorf("clear %s: %w", scope, err)
		}
		return nil
	}
	if err := ClearThrottleEvents(ctx, h, scope, key, ""); err != nil {
		return err
	}
	if err := ClearBlock(ctx, h, scope, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// PurgeThrottleEvents deletes events older than a time.
func PurgeThrottleEvents(ctx context.Context, h Handler, before int64) error {
	if _, err := h.ExecContext(ctx, `DELETE FROM throttle_events WHERE at < ?`, before); err != nil {
		return fmt.Errorf("purge throttle events: %w", err)
	}
	return nil
}

// Block is an active or past block of an account or source.
type Block struct {
	Scope     string
	Key       string
	Reason    string
	CreatedAt int64
	Until     int64
}

// SetBlock blocks a scope and key until a time.
func SetBlock(ctx context.Context, h Handler, b Block) error {
	_, err := h.ExecContext(ctx, `INSERT INTO blocks (scope, key, reason, created_at, until) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (scope, key) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at, until = excluded.until`,
		b.Scope, b.Key, b.Reason, b.CreatedAt, b.Until)
	if err != nil {
		return fmt.Errorf("set block: %w", err)
	}
	return nil
}

// ActiveBlock returns the block in force for a scope and key at now.
func ActiveBlock(ctx context.Context, h Handler, scope, key string, now int64) (Block, error) {
	var b Block
	err := h.QueryRowContext(ctx, `SELECT scope, key, reason, created_at, until FROM blocks
		WHERE scope = ? AND key = ? AND until > ?`, scope, key, now).Scan(&b.Scope, &b.Key, &b.Reason, &b.CreatedAt, &b.Until)
	if err != nil {
		return Block{}, fmt.Errorf("block: %w", wrapNotFound(err))
	}
	return b, nil
}

// BlockKey names what a block applies to.
type BlockKey struct {
	Scope string
	Key   string
}

// AnyActiveBlock reports whether any of keys has a block in force at now,
// in one statement.
func AnyActiveBlock(ctx context.Context, h Handler, now int64, keys ...BlockKey) (bool, error) {
	if len(keys) == 0 {
		return false, nil
	}
	q, args := anyBlockExpr(now, keys)
	var blocked bool
	if err := h.QueryRowContext(ctx, `SELECT `+q, args...).Scan(&blocked); err != nil {
		return false, fmt.Errorf("blocks: %w", err)
	}
	return blocked, nil
}

// anyBlockExpr is the expression, and its arguments, that is true when any
// of keys has a block in force at now; false for no keys.
func anyBlockExpr(now int64, keys []BlockKey) (string, []any) {
	if len(keys) == 0 {
		return "(1 = 0)", nil
	}
	q := `EXISTS (SELECT 1 FROM blocks WHERE until > ? AND ((scope = ? AND key = ?)` +
		strings.Repeat(` OR (scope = ? AND key = ?)`, len(keys)-1) + `))`
	args := make([]any, 0, 1+2*len(keys))
	args = append(args, now)
	for _, k := range keys {
		args = append(args, k.Scope, k.Key)
	}
	return q, args
}

// BlockedAndLastEvent is AnyActiveBlock and LastThrottleEvent in one
// statement, one round trip: what every proof checks before it is tried
// (the blocks of its account and source, and the source's pace).
func BlockedAndLastEvent(ctx context.Context, h Handler, now int64, keys []BlockKey, scope, key, kind string,
	since int64) (blocked bool, n int, last int64, err error) {
	q, args := anyBlockExpr(now, keys)
	err = h.QueryRowContext(ctx, `SELECT `+q+`, COUNT(*), COALESCE(MAX(at), 0) FROM throttle_events
		WHERE scope = ? AND key = ? AND kind = ? AND at >= ?`, append(args, scope, key, kind, since)...).Scan(&blocked, &n, &last)
	if err != nil {
		return false, 0, 0, fmt.Errorf("blocks and last throttle event: %w", err)
	}
	return blocked, n, last, nil
}

// ClearBlock lifts a block; ErrNotFound if there was none.
func ClearBlock(ctx context.Context, h Handler, scope, key string) error {
	res, err := h.ExecContext(ctx, `DELETE FROM blocks WHERE scope = ? AND key = ?`, scope, key)
	if err != nil {
		return fmt.Errorf("clear block: %w", err)
	}
	return mustAffect(res, "clear block")
}

// ActiveBlocks lists the blocks in force at now, sources first and the
// newest first within each, at most limit of them (all when limit is 0),
// with how many are in force in all.
func ActiveBlocks(ctx context.Context, h Handler, now int64, limit int) ([]Block, int, error) {
	var total int
	if err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM blocks WHERE until > ?`, now).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("active blocks: %w", err)
	}
	if limit <= 0 {
		limit = -1 // no limit
	}
	rows, err := h.QueryContext(ctx, `SELECT scope, key, reason, created_at, until FROM blocks WHERE until > ?
		ORDER BY scope = 'account', created_at DESC, key`+h.dialect().limitOffset(limit, 0), now)
	if err != nil {
		return nil, 0, fmt.Errorf("active blocks: %w", err)
	}
	defer rows.Close()
	var out []Block
	for rows.Next() {
		var b Block
		if err := rows.Scan(&b.Scope, &b.Key, &b.Reason, &b.CreatedAt, &b.Until); err != nil {
			return nil, 0, fmt.Errorf("active blocks: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("active blocks: %w", err)
	}
	return out, total, nil
}
