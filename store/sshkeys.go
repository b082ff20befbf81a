package store

import (
	"context"
	"errors"
	"fmt"
)

// ErrLimit means a person already has as many of something as they may.
var ErrLimit = errors.New("limit reached")

// SSHKeyKind is the methods kind under which a person's SSH keys hang.
const SSHKeyKind = "ssh_key"

// SSHKey is one registered SSH public key.
type SSHKey struct {
	ID          int64
	UserID      int64
	Type        string
	Bits        int
	Fingerprint string
	// PublicKey is the key in SSH wire form.
	PublicKey []byte
	Comment   string
	CreatedAt int64
}

const sshKeyColumns = `id, user_id, key_type, bits, fingerprint, public_key, comment, created_at`

func scanSSHKey(row interface{ Scan(...any) error }) (SSHKey, error) {
	var k SSHKey
	err := row.Scan(&k.ID, &k.UserID, &k.Type, &k.Bits, &k.Fingerprint, &k.PublicKey, &k.Comment, &k.CreatedAt)
	return k, err
}

// AddSSHKey adds a key to the person's ssh_key method row, which the caller
// has just written in the same transaction (UpsertMethod): that write locks
// the row, so two additions at once are counted one after the other, on
// PostgreSQL too, and the limit holds. ErrDuplicate when the person has the
// key already, ErrLimit when they have max keys.
func AddSSHKey(ctx context.Context, h Handler, k SSHKey, max int) error {
	var methodID int64
	if err := h.QueryRowContext(ctx, `SELECT id FROM methods WHERE user_id = ? AND kind = ?`,
		k.UserID, SSHKeyKind).Scan(&methodID); err != nil {
		return fmt.Errorf("add ssh key: %w", wrapNotFound(err))
	}
	var n int
	if err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM ssh_keys WHERE user_id = ?`, k.UserID).Scan(&n); err != nil {
		return fmt.Errorf("add ssh key: %w", err)
	}
	var dup int
	if err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM ssh_keys WHERE user_id = ? AND fingerprint = ?`,
		k.UserID, k.Fingerprint).Scan(&dup); err != nil {
		return fmt.Errorf("add ssh key: %w", err)
	}
	switch {
	case dup > 0:
		return fmt.Errorf("add ssh key: %w", ErrDuplicate)
	case n >= max:
		return fmt.Errorf("add ssh key: %w", ErrLimit)
	}
	_, err := h.ExecContext(ctx, `INSERT INTO ssh_keys (method_id, user_id, key_type, bits, fingerprint, public_key,
		comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		methodID, k.UserID, k.Type, k.Bits, k.Fingerprint, k.PublicKey, k.Comment, k.CreatedAt)
	if isUnique(err) {
		return fmt.Errorf("add ssh key: %w", ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("add ssh key: %w", err)
	}
	return nil
}

// SSHKeysOf lists a person's SSH keys, oldest first.
func SSHKeysOf(ctx context.Context, h Handler, userID int64) ([]SSHKey, error) {
	rows, err := h.QueryContext(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list ssh keys: %w", err)
	}
	defer rows.Close()
	var out []SSHKey
	for rows.Next() {
		k, err := scanSSHKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list ssh keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SSHKeyByFingerprint returns one of a person's keys.
func SSHKeyByFingerprint(ctx context.Context, h Handler, userID int64, fingerprint string) (SSHKey, error) {
	k, err := scanSSHKey(h.QueryRowContext(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE user_id = ? AND fingerprint = ?`,
		userID, fingerprint))
	if err != nil {
		return SSHKey{}, fmt.Errorf("ssh key: %w", wrapNotFound(err))
	}
	return k, nil
}

// DeleteSSHKey removes one of a person's keys and returns how many they
// have left; with none left, their ssh_key method row goes too, so the
// method is no longer registered.
func DeleteSSHKey(ctx context.Context, h Handler, userID, keyID int64) (int, error) {
	res, err := h.ExecContext(ctx, `DELETE FROM ssh_keys WHERE id = ? AND user_id = ?`, keyID, userID)
	if err != nil {
		return 0, fmt.Errorf("delete ssh key: %w", err)
	}
	if err := mustAffect(res, "delete ssh key"); err != nil {
		return 0, err
	}
	var n int
	if err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM ssh_keys WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("delete ssh key: %w", err)
	}
	if n == 0 {
		if _, err := h.ExecContext(ctx, `DELETE FROM methods WHERE user_id = ? AND kind = ?`, userID, SSHKeyKind); err != nil {
			return 0, fmt.Errorf("delete ssh key: %w", err)
		}
	}
	return n, nil
}
