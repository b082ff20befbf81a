package store

import (
	"context"
	"fmt"
)

// Lockout is the lockout state of an account whose password sspr keeps.
type Lockout struct {
	// Failures counts the different wrong passwords since the last right one.
	Failures int
	// LockedUntil is when the lockout ends (Unix seconds); 0 when the
	// account is not locked out, and not after now once it has ended.
	LockedUntil int64
}

// LockoutOf returns a user's lockout state; a user with none has the zero
// Lockout.
func LockoutOf(ctx context.Context, h Handler, userID int64) (Lockout, error) {
	var l Lockout
	err := h.QueryRowContext(ctx, `SELECT failures, locked_until FROM lockouts WHERE user_id = ?`, userID).
		Scan(&l.Failures, &l.LockedUntil)
	if err = wrapNotFound(err); err != nil && err != ErrNotFound {
		return Lockout{}, fmt.Errorf("lockout: %w", err)
	}
	return l, nil
}

// EndExpiredLockout forgets a lockout that ended at or before now, with
// the wrong passwords it counted, so the count starts afresh. It reports
// whether there was one; the conditional update makes one writer do it.
func EndExpiredLockout(ctx context.Context, h Handler, userID, now int64) (bool, error) {
	res, err := h.ExecContext(ctx, `UPDATE lockouts SET failures = 0, locked_until = 0
		WHERE user_id = ? AND locked_until > 0 AND locked_until <= ?`, userID, now)
	if err != nil {
		return false, fmt.Errorf("end lockout: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("end lockout: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	if _, err := h.ExecContext(ctx, `DELETE FROM lockout_passwords WHERE user_id = ?`, userID); err != nil {
		return false, fmt.Errorf("end lockout: %w", err)
	}
	return true, nil
}

// CountWrongPassword counts a wrong password, given as its keyed MAC, and
// returns the failures counted since the last right one. A MAC already
// counted is not counted again: the same mistake typed twice is one.
func CountWrongPassword(ctx context.Context, h Handler, userID int64, mac string, at int64) (int, error) {
	res, err := h.ExecContext(ctx, `INSERT INTO lockout_passwords (user_id, mac, at) VALUES (?, ?, ?)
		ON CONFLICT (user_id, mac) DO NOTHING`, userID, mac, at)
	if err != nil {
		return 0, fmt.Errorf("count wrong password: %w", err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("count wrong password: %w", err)
	}
	var n int
	if added == 0 {
		err = h.QueryRowContext(ctx, `SELECT failures FROM lockouts WHERE user_id = ?`, userID).Scan(&n)
	} else {
		err = h.writeRow(ctx, `INSERT INTO lockouts (user_id, failures, locked_until) VALUES (?, 1, 0)
			ON CONFLICT (user_id) DO UPDATE SET failures = lockouts.failures + 1 RETURNING failures`, userID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count wrong password: %w", wrapNotFound(err))
	}
	return n, nil
}

// LockOut locks an account out until a time. It reports whether this call
// locked it: an account already locked out keeps its end.
func LockOut(ctx context.Context, h Handler, userID, now, until int64) (bool, error) {
	res, err := h.ExecContext(ctx, `UPDATE lockouts SET locked_until = ? WHERE user_id = ? AND locked_until <= ?`,
		until, userID, now)
	if err != nil {
		return false, fmt.Errorf("lock out: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lock out: %w", err)
	}
	return n > 0, nil
}

// ClearLockout forgets an account's lockout and the wrong passwords it
// counted: after a right password, a new one, or an unlock. It reports
// whether the account was locked out at now.
func ClearLockout(ctx context.Context, h Handler, userID, now int64) (bool, error) {
	// The locked row goes first and alone, so that of two unlocks at once
	// one finds it locked.
	res, err := h.ExecContext(ctx, `DELETE FROM lockouts WHERE user_id = ? AND locked_until > ?`, userID, now)
	if err != nil {
		return false, fmt.Errorf("clear lockout: %w", err)
	}
	locked, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("clear lockout: %w", err)
	}
	for _, q := range []string{`DELETE FROM lockouts WHERE user_id = ?`, `DELETE FROM lockout_passwords WHERE user_id = ?`} {
		if _, err := h.ExecContext(ctx, q, userID); err != nil {
			return false, fmt.Errorf("clear lockout: %w", err)
		}
	}
	return locked > 0, nil
}
