package store

import (
	"context"
	"fmt"
)

// ImportUser is a user to create in bulk, with the names of its groups.
type ImportUser struct {
	User
	Groups []string
}

// ImportUsers creates many users inside tx with prepared statements; groups
// must exist. progress, if set, is called every 1,000 users.
func ImportUsers(ctx context.Context, tx *Tx, users []ImportUser, progress func(done int)) error {
	insUser, err := tx.PrepareContext(ctx, tx.db.sql.query(`INSERT INTO users (username, display_name, email, phone, is_admin,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`))
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	defer insUser.Close()
	insMember, err := tx.PrepareContext(ctx, tx.db.sql.query(`INSERT INTO memberships (group_id, user_id)
		SELECT id, ? FROM groups WHERE name = ?`))
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	defer insMember.Close()
	for i, u := range users {
		var id int64
		err := insUser.QueryRowContext(ctx, tx.db.sql.args([]any{u.Username, u.DisplayName, u.Email, u.Phone, u.IsAdmin,
			u.CreatedAt, u.UpdatedAt})...).Scan(&id)
		if isUnique(err) {
			return fmt.Errorf("import user %q: %w", u.Username, ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("import user %q: %w", u.Username, err)
		}
		for _, g := range u.Groups {
			res, err := insMember.ExecContext(ctx, id, g)
			if err != nil && !isUnique(err) {
				return fmt.Errorf("import user %q: %w", u.Username, err)
			}
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return fmt.Errorf("import user %q: group %q: %w", u.Username, g, ErrNotFound)
				}
			}
		}
		if progress != nil && (i+1)%1000 == 0 {
			progress(i + 1)
		}
	}
	if progress != nil {
		progress(len(users))
	}
	return nil
}

// AllUsernames returns the set of every username.
func AllUsernames(ctx context.Context, h Handler) (map[string]bool, error) {
	rows, err := h.QueryContext(ctx, `SELECT username FROM users`)
	if err != nil {
		return nil, fmt.Errorf("all usernames: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("all usernames: %w", err)
		}
		out[s] = true
	}
	return out, rows.Err()
}

// RegistrationRow is one user's registration facts, for reports.
type RegistrationRow struct {
	User
	Kinds []string
}

// Registrations returns every user with the kinds of method they registered,
// in username order, with two queries whatever the number of users.
func Registrations(ctx context.Context, h Handler) ([]RegistrationRow, error) {
	kinds := map[int64][]string{}
	rows, err := h.QueryContext(ctx, `SELECT user_id, kind FROM methods ORDER BY user_id, id`)
	if err != nil {
		return nil, fmt.Errorf("registrations: %w", err)
	}
	for rows.Next() {
		var id int64
		var k string
		if err := rows.Scan(&id, &k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("registrations: %w", err)
		}
		kinds[id] = append(kinds[id], k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registrations: %w", err)
	}
	users, err := ListUsers(ctx, h, UserFilter{})
	if err != nil {
		return nil, err
	}
	out := make([]RegistrationRow, len(users))
	for i, u := range users {
		u.PasswordHash = ""
		out[i] = RegistrationRow{User: u, Kinds: kinds[u.ID]}
	}
	return out, nil
}
