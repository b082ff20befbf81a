package store

import (
	"context"
	"fmt"
)

// OutboxKindWebhook marks an outbox row that is a webhook event: Channel is
// "webhook", Destination the webhook's name, Subject the webhook-id (the
// same on every attempt, so receivers can drop duplicates) and Body the
// signed JSON payload.
const OutboxKindWebhook = "webhook"

// DueWebhooks returns queued webhook events whose next attempt is at or
// before now, the longest-waiting first. They are claimed, marked sent and
// marked failed like any outbox row (ClaimOutbox, MarkOutboxSent,
// MarkOutboxFailed).
func DueWebhooks(ctx context.Context, h Handler, now int64, limit int) ([]OutboxMessage, error) {
	q := `SELECT ` + outboxColumns + ` FROM outbox WHERE state = 'queued' AND kind = 'webhook' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return queryOutbox(ctx, h, "due webhooks", q, now)
}

// OutboxDepth counts the queued outbox rows by kind (code, notification,
// webhook), for the operators' dashboards.
func OutboxDepth(ctx context.Context, h Handler) (map[string]int64, error) {
	rows, err := h.QueryContext(ctx, `SELECT kind, COUNT(*) FROM outbox WHERE state = 'queued' GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("outbox depth: %w", err)
		}
		out[kind] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	return out, nil
}
