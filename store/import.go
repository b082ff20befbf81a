package store

import (
	"context"
	"fmt"
	"strings"
)

// ImportUser is a user to create in bulk, with the names of its groups.
type ImportUser struct {
	User
	Groups []string
}

// importChunk is how many users ImportUsers writes per statement: on
// PostgreSQL each statement is a round trip, and 100,000 users one at a
// time would be 200,000 of them. 500 users are 3,500 parameters, well under
// both engines' limits (65,535 and 32,766).
const importChunk = 500

// importMembershipChunk is how many memberships ImportUsers writes per
// statement: a chunk of users in several groups each may have more.
const importMembershipChunk = 2000

// ImportUsers creates many users inside tx, a chunk of them per statement,
// and their memberships; groups must exist. A username that is taken (or
// twice in users) is ErrDuplicate naming it, a group that does not exist
// ErrNotFound naming the user and the group: whichever comes first in
// users. The caller's transaction makes it all or nothing. progress, if
// set, is called every 1,000 users and at the end.
func ImportUsers(ctx context.Context, tx *Tx, users []ImportUser, progress func(done int)) error {
	groupIDs, err := groupIDsByName(ctx, tx)
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	for start := 0; start < len(users); start += importChunk {
		chunk := users[start:min(start+importChunk, len(users))]
		if err := importChunkOf(ctx, tx, chunk, groupIDs); err != nil {
			return err
		}
		if done := start + len(chunk); progress != nil && done%1000 == 0 && done < len(users) {
			progress(done)
		}
	}
	if progress != nil {
		progress(len(users))
	}
	return nil
}

// groupIDsByName reads every group's id.
func groupIDsByName(ctx context.Context, h Handler) (map[string]int64, error) {
	rows, err := h.QueryContext(ctx, `SELECT id, name FROM groups`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[name] = id
	}
	return out, rows.Err()
}

// importChunkOf writes one chunk of users, then their memberships, each in
// one statement. A user the INSERT skipped (ON CONFLICT DO NOTHING, which
// keeps a PostgreSQL transaction usable) is a duplicate.
func importChunkOf(ctx context.Context, tx *Tx, chunk []ImportUser, groupIDs map[string]int64) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO users (username, display_name, email, phone, is_admin, created_at, updated_at) VALUES `)
	args := make([]any, 0, 7*len(chunk))
	for i, u := range chunk {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, u.Username, u.DisplayName, u.Email, u.Phone, u.IsAdmin, u.CreatedAt, u.UpdatedAt)
	}
	q.WriteString(` ON CONFLICT DO NOTHING RETURNING id, username`)
	ids := make(map[string]int64, len(chunk))
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return fmt.Errorf("import users: %w", err)
		}
		ids[name] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	var members []any
	for _, u := range chunk {
		id, ok := ids[u.Username]
		if !ok {
			return fmt.Errorf("import user %q: %w", u.Username, ErrDuplicate)
		}
		// A second row with the same name finds the first one's id taken.
		delete(ids, u.Username)
		for _, g := range u.Groups {
			gid, ok := groupIDs[g]
			if !ok {
				return fmt.Errorf("import user %q: group %q: %w", u.Username, g, ErrNotFound)
			}
			members = append(members, gid, id)
		}
	}
	for len(members) > 0 {
		part := members[:min(len(members), 2*importMembershipChunk)]
		members = members[len(part):]
		q.Reset()
		q.WriteString(`INSERT INTO memberships (group_id, user_id) VALUES `)
		for i := 0; i < len(part); i += 2 {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
		}
		// A group named twice for one user is one membership.
		q.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.ExecContext(ctx, q.String(), part...); err != nil {
			return fmt.Errorf("import users: memberships: %w", err)
		}
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
