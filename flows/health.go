package flows

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/store"
)

// Ready reports whether the store answers, for a load balancer's readiness
// check: without it no reset can finish.
func (s *Service) Ready(ctx context.Context) error {
	if err := store.Ping(ctx, s.db); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	return nil
}

// OutboxDepth counts the queued outbox rows by kind (code, notification,
// webhook), for operators' dashboards.
func (s *Service) OutboxDepth(ctx context.Context) (map[string]int64, error) {
	return store.OutboxDepth(ctx, s.db)
}
