package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// PolicyValues returns every stored policy setting by key. Keys never set are
// absent; the flows overlay these on their defaults.
func PolicyValues(ctx context.Context, h Handler) (map[string]string, error) {
	rows, err := h.QueryContext(ctx, `SELECT key, value FROM policy`)
	if err != nil {
		return nil, fmt.Errorf("policy values: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("policy values: %w", err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("policy values: %w", err)
	}
	return out, nil
}

// PolicyValuesAndBlocked is PolicyValues and AnyActiveBlock in one
// statement, one round trip: what every reset reads first. The settings
// come as one JSON object, which both engines build.
func PolicyValuesAndBlocked(ctx context.Context, h Handler, now int64, keys ...BlockKey) (map[string]string, bool, error) {
	q, args := anyBlockExpr(now, keys)
	var raw string
	var blocked bool
	if err := h.QueryRowContext(ctx, `SELECT `+q+`, (SELECT `+h.dialect().jsonObjectAgg("key", "value")+` FROM policy)`,
		args...).Scan(&blocked, &raw); err != nil {
		return nil, false, fmt.Errorf("policy values and blocks: %w", err)
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, false, fmt.Errorf("policy values: %w", err)
	}
	return out, blocked, nil
}

// SetPolicyValue stores one setting. updated_at moves only when the value
// really changes, so it tells when a setting was last changed, not saved.
func SetPolicyValue(ctx context.Context, h Handler, key, value string, at int64) error {
	_, err := h.ExecContext(ctx, `INSERT INTO policy (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
		WHERE policy.value <> excluded.value`, key, value, at)
	if err != nil {
		return fmt.Errorf("set policy %s: %w", key, err)
	}
	return nil
}
