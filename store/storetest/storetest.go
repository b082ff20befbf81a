// Package storetest holds the reads tests make of a store to check what the
// code under test left in it: how many rows the tidy-up keeps, when a
// setting last changed. They are kept beside the schema so that no test
// writes SQL outside store, and a schema change breaks them at compile time.
// Tests that edit the database as an attacker would (audit tampering, planted
// hidden characters) keep their raw SQL: that is their point.
//
// It is a test helper: import it only from _test.go files.
package storetest

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/store"
)

// Tidyable counts the rows that tidying prunes once no rule needs them.
type Tidyable struct {
	// ThrottleEvents are the failures and sends the throttles count.
	ThrottleEvents int
	// Challenges are codes and other challenges, spent or not.
	Challenges int
	// OutboxDone are messages sent or given up on.
	OutboxDone int
	// OutboxQueued are messages still waiting to be sent, which tidying
	// never deletes.
	OutboxQueued int
}

// CountTidyable counts the rows tidying looks at.
func CountTidyable(ctx context.Context, h store.Handler) (Tidyable, error) {
	var n Tidyable
	for _, c := range []struct {
		into *int
		q    string
	}{
		{&n.ThrottleEvents, `SELECT COUNT(*) FROM throttle_events`},
		{&n.Challenges, `SELECT COUNT(*) FROM challenges`},
		{&n.OutboxDone, `SELECT COUNT(*) FROM outbox WHERE state <> 'queued'`},
		{&n.OutboxQueued, `SELECT COUNT(*) FROM outbox WHERE state = 'queued'`},
	} {
		if err := h.QueryRowContext(ctx, c.q).Scan(c.into); err != nil {
			return Tidyable{}, fmt.Errorf("count tidyable: %w", err)
		}
	}
	return n, nil
}

// PolicyUpdatedAt is when the stored setting key last changed, as Unix
// seconds.
func PolicyUpdatedAt(ctx context.Context, h store.Handler, key string) (int64, error) {
	var at int64
	if err := h.QueryRowContext(ctx, `SELECT updated_at FROM policy WHERE key = ?`, key).Scan(&at); err != nil {
		return 0, fmt.Errorf("policy updated_at of %s: %w", key, err)
	}
	return at, nil
}
