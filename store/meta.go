package store

import (
	"context"
	"fmt"
)

// metaKeyFingerprint is the store_meta row of the key's fingerprint.
const metaKeyFingerprint = "key_fingerprint"

// RecordKeyFingerprint records fp as the fingerprint of the key this store
// is used with, unless one is recorded already, and returns the one on
// record: fp on first use, else whatever the first process to open the store
// recorded, which processes starting together agree on.
func RecordKeyFingerprint(ctx context.Context, h Handler, fp string, at int64) (string, error) {
	if _, err := h.ExecContext(ctx, `INSERT INTO store_meta (key, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, metaKeyFingerprint, fp, at); err != nil {
		return "", fmt.Errorf("record key fingerprint: %w", err)
	}
	var recorded string
	if err := h.writeRow(ctx, `SELECT value FROM store_meta WHERE key = ?`, metaKeyFingerprint).Scan(&recorded); err != nil {
		return "", fmt.Errorf("record key fingerprint: %w", wrapNotFound(err))
	}
	return recorded, nil
}
