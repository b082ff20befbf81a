package store

import (
	"context"
	"fmt"
	"strings"
)

// PasswordAccount is a user as the expiry reminders see them: when the
// password was set and where a reminder can go.
type PasswordAccount struct {
	ID          int64
	Username    string
	DisplayName string
	// Email is the directory's address, used when no verified one is registered.
	Email    string
	Disabled bool
	// HasPassword is set when sspr's own store holds the password.
	HasPassword       bool
	MustChange        bool
	PasswordChangedAt int64
	CreatedAt         int64
	// Language is the person's preferred language; empty for the
	// organisation's.
	Language string
	// Contacts are the registered methods of the kinds asked for, as kind
	// and destination, in the order of their ids.
	Contacts [][2]string
}

// EachPasswordAccount calls fn for every user, in id order, with the
// registered methods among contactKinds. It reads the table in one query,
// so a pass over a hundred thousand users costs one scan, not one query each.
// fn must not use h: the rows are still open.
func EachPasswordAccount(ctx context.Context, h Handler, contactKinds []string, fn func(PasswordAccount) error) error {
	args := make([]any, len(contactKinds))
	marks := make([]string, len(contactKinds))
	for i, k := range contactKinds {
		args[i], marks[i] = k, "?"
	}
	join := "0 = 1"
	if len(contactKinds) > 0 {
		join = "m.kind IN (" + strings.Join(marks, ", ") + ")"
	}
	rows, err := h.QueryContext(ctx, `SELECT u.id, u.username, u.display_name, u.email, u.disabled,
		CASE WHEN u.password_hash = '' THEN 0 ELSE 1 END, u.must_change, u.password_changed_at, u.created_at, u.language,
		COALESCE(m.kind, ''), COALESCE(m.destination, '')
		FROM users u LEFT JOIN methods m ON m.user_id = u.id AND `+join+`
		ORDER BY u.id, m.id`, args...)
	if err != nil {
		return fmt.Errorf("password accounts: %w", err)
	}
	defer rows.Close()
	var cur PasswordAccount
	have := false
	for rows.Next() {
		var a PasswordAccount
		var kind, dest string
		if err := rows.Scan(&a.ID, &a.Username, &a.DisplayName, &a.Email, &a.Disabled, &a.HasPassword, &a.MustChange,
			&a.PasswordChangedAt, &a.CreatedAt, &a.Language, &kind, &dest); err != nil {
			return fmt.Errorf("password accounts: %w", err)
		}
		if !have || a.ID != cur.ID {
			if have {
				if err := fn(cur); err != nil {
					return err
				}
			}
			cur, have = a, true
		}
		if kind != "" && dest != "" {
			cur.Contacts = append(cur.Contacts, [2]string{kind, dest})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("password accounts: %w", err)
	}
	if have {
		return fn(cur)
	}
	return nil
}

// ExpiryReminderKey names one reminder: a person, their password (by the
// time it was set) and the threshold in days before it expires.
type ExpiryReminderKey struct {
	UserID            int64
	PasswordChangedAt int64
	Days              int
}

// SentExpiryReminders returns every reminder recorded as sent.
func SentExpiryReminders(ctx context.Context, h Handler) (map[ExpiryReminderKey]bool, error) {
	rows, err := h.QueryContext(ctx, `SELECT user_id, password_changed_at, days FROM expiry_reminders`)
	if err != nil {
		return nil, fmt.Errorf("sent expiry reminders: %w", err)
	}
	defer rows.Close()
	out := map[ExpiryReminderKey]bool{}
	for rows.Next() {
		var k ExpiryReminderKey
		if err := rows.Scan(&k.UserID, &k.PasswordChangedAt, &k.Days); err != nil {
			return nil, fmt.Errorf("sent expiry reminders: %w", err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sent expiry reminders: %w", err)
	}
	return out, nil
}

// RecordExpiryReminder records a reminder as sent at a time. It reports
// false when it was recorded already, by this process or another: the
// caller then sends nothing. Run it in the transaction that queues the
// reminder, so the record and the message commit together.
func RecordExpiryReminder(ctx context.Context, h Handler, k ExpiryReminderKey, at int64) (bool, error) {
	res, err := h.ExecContext(ctx, `INSERT INTO expiry_reminders (user_id, password_changed_at, days, sent_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (user_id, password_changed_at, days) DO NOTHING`,
		k.UserID, k.PasswordChangedAt, k.Days, at)
	if err != nil {
		return false, fmt.Errorf("record expiry reminder: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record expiry reminder: %w", err)
	}
	return n == 1, nil
}

// PurgeExpiryReminders deletes records of reminders sent before a time:
// their passwords have long expired or been changed.
func PurgeExpiryReminders(ctx context.Context, h Handler, before int64) error {
	if _, err := h.ExecContext(ctx, `DELETE FROM expiry_reminders WHERE sent_at < ?`, before); err != nil {
		return fmt.Errorf("purge expiry reminders: %w", err)
	}
	return nil
}
