package dispatch

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/store"
)

// OutboxChannel "delivers" a message by writing it to the outbox table as
// sent. It is the demo's delivery: the TUI shows the outbox, codes included,
// so helpdesk staff can walk through a reset without a mail server. Do not
// use it in production, where the outbox table must not hold codes.
type OutboxChannel struct {
	db    *store.DB
	clock clock.Clock
}

// NewOutboxChannel returns a channel writing to db's outbox.
func NewOutboxChannel(db *store.DB, clk clock.Clock) *OutboxChannel {
	return &OutboxChannel{db: db, clock: clk}
}

// Send writes m to the outbox as sent.
func (c *OutboxChannel) Send(ctx context.Context, m Message) error {
	now := c.clock.Now().Unix()
	_, err := store.EnqueueOutbox(ctx, c.db, store.OutboxMessage{Kind: string(m.Kind), Channel: m.Channel,
		Destination: m.To, Subject: m.Subject, Body: m.Text, HTML: m.HTML, Language: m.Language, State: store.OutboxSent,
		CreatedAt: now, SentAt: now})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}
