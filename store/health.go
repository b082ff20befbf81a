package store

import (
	"context"
	"fmt"
)

// Ping runs the cheapest query there is, to tell whether the database
// answers.
func Ping(ctx context.Context, h Handler) error {
	var one int
	if err := h.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}
