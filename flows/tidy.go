package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// How long spent records are kept before Tidy deletes them.
const (
	// keepThrottleEvents covers the longest window failures are counted in.
	keepThrottleEvents = AccountFailWindow + time.Hour
	// keepChallenges is how long a challenge stays after it expired; a
	// used or lapsed code proves nothing any more.
	keepChallenges = time.Hour
	// keepOutbox is how long a sent or failed message stays: a day to look
	// into a delivery problem, no longer, since it may hold a code.
	keepOutbox = 24 * time.Hour
	// keepExpiryReminders outlasts the earliest reminder: a reminder sent
	// longer ago than that was for a password that has expired since, which
	// gets no more reminders.
	keepExpiryReminders = (policy.MaxReminderDays + 1) * 24 * time.Hour
)

// Tidy deletes what no rule needs any more: throttle events older than any
// counting window, challenges long expired, and messages long sent or
// given up on. Without it these tables would only grow. Blocks, password
// history and the audit log are kept.
func (s *Service) Tidy(ctx context.Context) error {
	now := s.now()
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		// Replicas sharing a store tidy it one at a time; the others find
		// it done.
		if mine, err := store.TryExclusive(ctx, tx, "tidy"); err != nil || !mine {
			return err
		}
		if err := store.PurgeThrottleEvents(ctx, tx, now.Add(-keepThrottleEvents).Unix()); err != nil {
			return fmt.Errorf("tidy: %w", err)
		}
		if err := store.PurgeChallenges(ctx, tx, now.Add(-keepChallenges).Unix()); err != nil {
			return fmt.Errorf("tidy: %w", err)
		}
		if err := store.PurgeOutbox(ctx, tx, now.Add(-keepOutbox).Unix()); err != nil {
			return fmt.Errorf("tidy: %w", err)
		}
		if err := store.PurgeExpiryReminders(ctx, tx, now.Add(-keepExpiryReminders).Unix()); err != nil {
			return fmt.Errorf("tidy: %w", err)
		}
		return nil
	})
}
