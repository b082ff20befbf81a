package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Challenge is one proof in flight or done.
type Challenge struct {
	ID          string
	FlowID      string
	UserID      int64 // 0 on the decoy path
	Purpose     string
	Kind        string
	Destination string
	CodeHash    string
	RefID       int64
	Attempts    int
	CreatedAt   int64
	ExpiresAt   int64
	VerifiedAt  int64
	ConsumedAt  int64
	VoidedAt    int64
}

const challengeColumns = `id, flow_id, user_id, purpose, kind, destination, code_hash, ref_id, attempts,
	created_at, expires_at, verified_at, consumed_at, voided_at`

func scanChallenge(row interface{ Scan(...any) error }) (Challenge, error) {
	var c Challenge
	var uid sql.NullInt64
	err := row.Scan(&c.ID, &c.FlowID, &uid, &c.Purpose, &c.Kind, &c.Destination, &c.CodeHash, &c.RefID, &c.Attempts,
		&c.CreatedAt, &c.ExpiresAt, &c.VerifiedAt, &c.ConsumedAt, &c.VoidedAt)
	c.UserID = uid.Int64
	return c, err
}

// CreateChallenge inserts a challenge.
func CreateChallenge(ctx context.Context, h Handler, c Challenge) error {
	var uid any
	if c.UserID != 0 {
		uid = c.UserID
	}
	_, err := h.ExecContext(ctx, `INSERT INTO challenges (id, flow_id, user_id, purpose, kind, destination, code_hash,
		ref_id, attempts, created_at, expires_at, verified_at, consumed_at, voided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.FlowID, uid, c.Purpose, c.Kind, c.Destination, c.CodeHash, c.RefID, c.Attempts,
		c.CreatedAt, c.ExpiresAt, c.VerifiedAt, c.ConsumedAt, c.VoidedAt)
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	return nil
}

// ReplaceOpenChallenges voids a flow's open challenges of c's kind, as
// VoidOpenChallenges does, and creates c: a code sent again. On PostgreSQL
// it is one statement (the UPDATE does not see the row inserted beside it).
func ReplaceOpenChallenges(ctx context.Context, tx *Tx, c Challenge, at int64) error {
	if tx.dialect().engine != Postgres {
		if err := VoidOpenChallenges(ctx, tx, c.FlowID, c.Kind, at); err != nil {
			return err
		}
		return CreateChallenge(ctx, tx, c)
	}
	var uid any
	if c.UserID != 0 {
		uid = c.UserID
	}
	// Its id is a fresh random token: only a failure of the database could
	// stop it, so it goes out with the next statement.
	_, err := tx.ExecContext(sendLater(ctx), `WITH voided AS (UPDATE challenges SET voided_at = ? WHERE flow_id = ? AND kind = ?
		AND verified_at = 0 AND voided_at = 0 AND consumed_at = 0)
		INSERT INTO challenges (id, flow_id, user_id, purpose, kind, destination, code_hash,
		ref_id, attempts, created_at, expires_at, verified_at, consumed_at, voided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, at, c.FlowID, c.Kind,
		c.ID, c.FlowID, uid, c.Purpose, c.Kind, c.Destination, c.CodeHash, c.RefID, c.Attempts,
		c.CreatedAt, c.ExpiresAt, c.VerifiedAt, c.ConsumedAt, c.VoidedAt)
	if err != nil {
		return fmt.Errorf("create challenge: %w", err)
	}
	return nil
}

// ChallengeByID returns a challenge.
func ChallengeByID(ctx context.Context, h Handler, id string) (Challenge, error) {
	c, err := scanChallenge(h.QueryRowContext(ctx, challengeByIDQuery, id))
	if err != nil {
		return Challenge{}, fmt.Errorf("challenge: %w", wrapNotFound(err))
	}
	return c, nil
}

const challengeByIDQuery = `SELECT ` + challengeColumns + ` FROM challenges WHERE id = ?`

// ChallengeRead is ChallengeByID's read, named ahead (ReadAhead).
func ChallengeRead(id string) Read {
	return Read{query: fixed(challengeByIDQuery), args: []any{id}}
}

// VoidOpenChallenges voids a flow's unverified challenges of one kind, so a
// resend makes the previous code useless.
func VoidOpenChallenges(ctx context.Context, h Handler, flowID, kind string, at int64) error {
	_, err := h.ExecContext(ctx, `UPDATE challenges SET voided_at = ? WHERE flow_id = ? AND kind = ?
		AND verified_at = 0 AND voided_at = 0 AND consumed_at = 0`, at, flowID, kind)
	if err != nil {
		return fmt.Errorf("void challenges: %w", err)
	}
	return nil
}

// RecordChallengeFailure adds a wrong submission and voids the challenge when
// it reaches maxAttempts, unless the right code verified it meanwhile. It
// returns the attempts made so far.
func RecordChallengeFailure(ctx context.Context, h Handler, id string, maxAttempts int, at int64) (int, error) {
	res, err := h.ExecContext(ctx, `UPDATE challenges SET attempts = attempts + 1,
		voided_at = CASE WHEN attempts + 1 >= ? AND voided_at = 0 AND verified_at = 0 THEN ? ELSE voided_at END
		WHERE id = ?`, maxAttempts, at, id)
	if err != nil {
		return 0, fmt.Errorf("record challenge failure: %w", err)
	}
	if err := mustAffect(res, "record challenge failure"); err != nil {
		return 0, err
	}
	var n int
	if err := h.QueryRowContext(ctx, `SELECT attempts FROM challenges WHERE id = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("record challenge failure: %w", wrapNotFound(err))
	}
	return n, nil
}

// MarkChallengeVerified marks a challenge verified once; ErrConflict if it
// was verified, voided or consumed already.
func MarkChallengeVerified(ctx context.Context, h Handler, id string, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE challenges SET verified_at = ? WHERE id = ? AND verified_at = 0
		AND voided_at = 0 AND consumed_at = 0`, at, id)
	if err != nil {
		return fmt.Errorf("verify challenge: %w", err)
	}
	if err := mustAffect(res, "verify challenge"); err != nil {
		return fmt.Errorf("verify challenge: %w", ErrConflict)
	}
	return nil
}

// ConsumeChallenge marks a verified challenge consumed exactly once;
// ErrConflict if it was consumed or voided already.
func ConsumeChallenge(ctx context.Context, h Handler, id string, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE challenges SET consumed_at = ? WHERE id = ? AND verified_at > 0
		AND consumed_at = 0 AND voided_at = 0`, at, id)
	if err != nil {
		return fmt.Errorf("consume challenge: %w", err)
	}
	if err := mustAffect(res, "consume challenge"); err != nil {
		return fmt.Errorf("consume challenge: %w", ErrConflict)
	}
	return nil
}

// ConsumeChallengeRef is ConsumeChallenge returning what the proof stood
// for, the challenge's user and reference (a recovery code's or voucher's
// id), in the same statement. ErrConflict when it is not verified, already
// used or void, or gone.
func ConsumeChallengeRef(ctx context.Context, h Handler, id string, at int64) (userID, refID int64, err error) {
	var uid sql.NullInt64
	err = h.writeRow(ctx, `UPDATE challenges SET consumed_at = ? WHERE id = ? AND verified_at > 0
		AND consumed_at = 0 AND voided_at = 0 RETURNING user_id, ref_id`, at, id).Scan(&uid, &refID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("consume challenge: %w", ErrConflict)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("consume challenge: %w", err)
	}
	return uid.Int64, refID, nil
}

// PurgeChallenges deletes challenges that expired before the given time.
func PurgeChallenges(ctx context.Context, h Handler, before int64) error {
	if _, err := h.ExecContext(ctx, `DELETE FROM challenges WHERE expires_at < ?`, before); err != nil {
		return fmt.Errorf("purge challenges: %w", err)
	}
	return nil
}
