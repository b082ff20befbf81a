package store

import (
	"context"
	"fmt"
)

// Outbox states.
const (
	// OutboxQueued waits for delivery (notifications) or a retry.
	OutboxQueued = "queued"
	// OutboxSent was delivered, or is itself the delivery (the demo outbox).
	OutboxSent = "sent"
	// OutboxFailed gave up after the last attempt.
	OutboxFailed = "failed"
)

// OutboxMessage is a row of the outbox table.
type OutboxMessage struct {
	ID            int64
	Kind          string // code, notification
	Channel       string // email, sms
	Destination   string
	Subject       string
	Body          string // plain text
	HTML          string // optional HTML alternative
	State         string
	Attempts      int
	LastError     string
	NextAttemptAt int64
	CreatedAt     int64
	SentAt        int64
	// Language is the catalogue code the message is written in, for the
	// email's Content-Language; empty when unknown.
	Language string
}

const outboxColumns = `id, kind, channel, destination, subject, body, html, state, attempts, last_error,
	next_attempt_at, created_at, sent_at, language`

func scanOutbox(row interface{ Scan(...any) error }) (OutboxMessage, error) {
	var m OutboxMessage
	err := row.Scan(&m.ID, &m.Kind, &m.Channel, &m.Destination, &m.Subject, &m.Body, &m.HTML, &m.State, &m.Attempts,
		&m.LastError, &m.NextAttemptAt, &m.CreatedAt, &m.SentAt, &m.Language)
	return m, err
}

// EnqueueOutbox inserts m and returns its id. An empty State means queued.
func EnqueueOutbox(ctx context.Context, h Handler, m OutboxMessage) (int64, error) {
	if m.State == "" {
		m.State = OutboxQueued
	}
	id, err := insertID(ctx, h, outboxInsert+` RETURNING id`, outboxValues(m)...)
	if err != nil {
		return 0, fmt.Errorf("enqueue outbox: %w", err)
	}
	return id, nil
}

// QueueOutbox inserts m, as EnqueueOutbox does, for a caller that needs no
// id: in a transaction on PostgreSQL it goes out with the transaction's
// next statement rather than on its own.
func QueueOutbox(ctx context.Context, h Handler, m OutboxMessage) error {
	if m.State == "" {
		m.State = OutboxQueued
	}
	if _, err := h.ExecContext(sendLater(ctx), outboxInsert, outboxValues(m)...); err != nil {
		return fmt.Errorf("queue outbox: %w", err)
	}
	return nil
}

// outboxInsert inserts the values outboxValues gives.
const outboxInsert = `INSERT INTO outbox (kind, channel, destination, subject, body, html, state, attempts,
	last_error, next_attempt_at, created_at, sent_at, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func outboxValues(m OutboxMessage) []any {
	return []any{m.Kind, m.Channel, m.Destination, m.Subject, m.Body, m.HTML, m.State, m.Attempts, m.LastError,
		m.NextAttemptAt, m.CreatedAt, m.SentAt, m.Language}
}

// ListOutbox returns messages with an id above afterID, oldest first, so a
// viewer can poll for what is new. A limit of 0 means no cap.
func ListOutbox(ctx context.Context, h Handler, afterID int64, limit int) ([]OutboxMessage, error) {
	q := `SELECT ` + outboxColumns + ` FROM outbox WHERE id > ? ORDER BY id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return queryOutbox(ctx, h, "list outbox", q, afterID)
}

// LastOutboxID returns the id of the newest outbox row, 0 when there is none.
func LastOutboxID(ctx context.Context, h Handler) (int64, error) {
	var id int64
	if err := h.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM outbox`).Scan(&id); err != nil {
		return 0, fmt.Errorf("last outbox id: %w", err)
	}
	return id, nil
}

// DueOutbox returns queued messages whose next attempt is at or before now,
// the longest-waiting first; webhook events have their own sender
// (DueWebhooks).
func DueOutbox(ctx context.Context, h Handler, now int64, limit int) ([]OutboxMessage, error) {
	q := `SELECT ` + outboxColumns + ` FROM outbox WHERE state = 'queued' AND kind <> 'webhook' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return queryOutbox(ctx, h, "due outbox", q, now)
}

func queryOutbox(ctx context.Context, h Handler, what, q string, args ...any) ([]OutboxMessage, error) {
	rows, err := h.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ClaimOutbox leases a due queued message to the caller until the given
// time by moving its next attempt there. It reports false when another
// dispatcher (in this or another process) claimed or finished it first, so
// two dispatchers sharing a store never send the same message at once.
func ClaimOutbox(ctx context.Context, h Handler, id, now, until int64) (bool, error) {
	res, err := h.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?
		WHERE id = ? AND state = 'queued' AND next_attempt_at <= ?`, until, id, now)
	if err != nil {
		return false, fmt.Errorf("claim outbox %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim outbox %d: %w", id, err)
	}
	return n == 1, nil
}

// MarkOutboxSent records a delivery. A message no longer queued gives
// ErrConflict.
func MarkOutboxSent(ctx context.Context, h Handler, id, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE outbox SET state = 'sent', sent_at = ?, last_error = ''
		WHERE id = ? AND state = 'queued'`, at, id)
	if err != nil {
		return fmt.Errorf("mark outbox %d sent: %w", id, err)
	}
	return affectOrConflict(res, fmt.Sprintf("mark outbox %d sent", id))
}

// MarkOutboxFailed records a failed attempt: the message stays queued for
// nextAttemptAt, or becomes failed when final. A message no longer queued
// gives ErrConflict.
func MarkOutboxFailed(ctx context.Context, h Handler, id int64, attempts int, lastErr string, nextAttemptAt int64, final bool) error {
	state := OutboxQueued
	if final {
		state = OutboxFailed
	}
	res, err := h.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ?
		WHERE id = ? AND state = 'queued'`, state, attempts, lastErr, nextAttemptAt, id)
	if err != nil {
		return fmt.Errorf("mark outbox %d failed: %w", id, err)
	}
	return affectOrConflict(res, fmt.Sprintf("mark outbox %d failed", id))
}

// PurgeOutbox deletes sent and failed messages created before a time; codes
// in the demo outbox are useless once expired and need not linger.
func PurgeOutbox(ctx context.Context, h Handler, before int64) error {
	if _, err := h.ExecContext(ctx, `DELETE FROM outbox WHERE state <> 'queued' AND created_at < ?`, before); err != nil {
		return fmt.Errorf("purge outbox: %w", err)
	}
	return nil
}

func affectOrConflict(res interface{ RowsAffected() (int64, error) }, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrConflict)
	}
	return nil
}
