package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// UserListRow is one user as the admin panel's table shows it: the account
// state, the kinds of method registered and any account block in force.
type UserListRow struct {
	ID                 int64
	Username           string
	DisplayName        string
	Email              string
	Phone              string
	IsAdmin            bool
	Disabled           bool
	MustChange         bool
	ReregisterRequired bool
	// HasPassword is false for someone sspr holds no password for (an
	// imported user who has not reset yet, or anyone in a directory).
	HasPassword     bool
	LastConfirmedAt int64
	// Kinds are the registered method kinds, sorted by name.
	Kinds []string
	// BlockedUntil is when the account block in force ends; 0 when none is.
	BlockedUntil int64
}

// UserPageFilter selects one page of UserPage. Pages are keyed by username
// (keyset pagination), so every page costs the same however deep it is.
type UserPageFilter struct {
	// Search matches a substring of the username, display name or email,
	// like UserFilter.Search; LIKE wildcards in it are matched literally.
	Search string
	// After starts the page after this username; Before ends it before this
	// username (the previous page). Neither means the first page.
	After  string
	Before string
	// Limit is the page size; at most 500, default 20.
	Limit int
	// Now is the time blocks are checked against (Unix seconds).
	Now int64
}

// UserPage is one page of users in username order.
type UserPage struct {
	Rows []UserListRow
	// HasPrev and HasNext say whether there are users before and after the page.
	HasPrev, HasNext bool
}

// ListUserPage returns one page of users with their method kinds and block
// state, in a single query whatever the number of users: the methods and
// the block come from correlated subqueries on their indexes.
func ListUserPage(ctx context.Context, h Handler, f UserPageFilter) (UserPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 500)
	where, args := searchWhere(h.dialect(), f.Search)
	backward := f.Before != "" && f.After == ""
	switch {
	case f.After != "":
		where = append(where, "u.username > ?")
		args = append(args, f.After)
	case backward:
		where = append(where, "u.username < ?")
		args = append(args, f.Before)
	}
	q := `SELECT u.id, u.username, u.display_name, u.email, u.phone, u.is_admin, u.disabled, u.must_change,
		u.reregister_required, u.password_hash <> '', u.last_confirmed_at,
		COALESCE((SELECT ` + h.dialect().groupConcat("m.kind") + ` FROM methods m WHERE m.user_id = u.id), ''),
		COALESCE((SELECT b.until FROM blocks b WHERE b.scope = 'account' AND b.key = u.username AND b.until > ?), 0)
		FROM users u`
	args = append([]any{f.Now}, args...)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if backward {
		q += " ORDER BY u.username DESC"
	} else {
		q += " ORDER BY u.username"
	}
	q += fmt.Sprintf(" LIMIT %d", limit+1)
	if f.Search != "" {
		args = h.dialect().planEach(args)
	}
	rows, err := h.QueryContext(ctx, q, args...)
	if err != nil {
		return UserPage{}, fmt.Errorf("user page: %w", err)
	}
	defer rows.Close()
	var page UserPage
	for rows.Next() {
		var r UserListRow
		var kinds string
		if err := rows.Scan(&r.ID, &r.Username, &r.DisplayName, &r.Email, &r.Phone, &r.IsAdmin, &r.Disabled, &r.MustChange,
			&r.ReregisterRequired, &r.HasPassword, &r.LastConfirmedAt, &kinds, &r.BlockedUntil); err != nil {
			return UserPage{}, fmt.Errorf("user page: %w", err)
		}
		if kinds != "" {
			r.Kinds = strings.Split(kinds, ",")
			slices.Sort(r.Kinds)
		}
		page.Rows = append(page.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return UserPage{}, fmt.Errorf("user page: %w", err)
	}
	more := len(page.Rows) > limit
	if more {
		page.Rows = page.Rows[:limit]
	}
	if backward {
		slices.Reverse(page.Rows)
		page.HasPrev, page.HasNext = more, true
	} else {
		page.HasPrev, page.HasNext = f.After != "", more
	}
	return page, nil
}

// CountUserPage counts the users a search matches, every page together.
func CountUserPage(ctx context.Context, h Handler, search string) (int, error) {
	return CountUsers(ctx, h, UserFilter{Search: search})
}

// searchWhere matches a substring of the username, display name or email,
// with LIKE's wildcards escaped, ignoring case. SQLite's LIKE already
// ignores ASCII case, and its lower() folds nothing else, so the columns are
// compared as they are: wrapping them in lower() would only make a scan of
// 100,000 users slower.
func searchWhere(d *dialect, search string) ([]string, []any) {
	if search == "" {
		return nil, nil
	}
	like := "%" + escapeLike(search) + "%"
	op := d.likeCaseless()
	return []string{`(username ` + op + ` ? ESCAPE '\' OR display_name ` + op + ` ? ESCAPE '\' OR email ` + op + ` ? ESCAPE '\')`},
		[]any{like, like, like}
}

// RegistrationFact is what the policy rules need of one user and no more.
// The what-if, coverage and insights read every user, and with the pure-Go
// SQLite driver each column of each row costs more than the rules applied to
// it, so the row is packed.
type RegistrationFact struct {
	ID                 int64
	IsAdmin            bool
	Disabled           bool
	ReregisterRequired bool
	LastConfirmedAt    int64
	// Kinds has bit i set when the user registered the method kind kinds[i]
	// of the RegistrationFacts call; kinds not in that list are left out.
	Kinds uint64
}

// RegistrationFacts returns every user's registration facts in id order, in
// two scans (users, then methods) of at most two columns each. kinds names the
// method kinds to report, at most 63.
func RegistrationFacts(ctx context.Context, h Handler, kinds []string) ([]RegistrationFact, error) {
	if len(kinds) > 63 {
		return nil, fmt.Errorf("registration facts: %d kinds, at most 63", len(kinds))
	}
	var n int
	if err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return nil, fmt.Errorf("registration facts: %w", err)
	}
	out := make([]RegistrationFact, 0, n)
	rows, err := h.QueryContext(ctx, `SELECT (id << 3) | is_admin | (disabled << 1) | (reregister_required << 2),
		last_confirmed_at FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("registration facts: %w", err)
	}
	for rows.Next() {
		var packed, confirmed int64
		if err := rows.Scan(&packed, &confirmed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("registration facts: %w", err)
		}
		out = append(out, RegistrationFact{ID: packed >> 3, IsAdmin: packed&1 != 0, Disabled: packed&2 != 0,
			ReregisterRequired: packed&4 != 0, LastConfirmedAt: confirmed})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration facts: %w", err)
	}
	if len(kinds) == 0 {
		return out, nil
	}
	// Each method comes back as user_id << 6 | the index of its kind (63 for
	// a kind not asked about), in user order, and is merged into the users.
	var b strings.Builder
	args := make([]any, len(kinds))
	b.WriteString(`SELECT (user_id << 6) | CASE kind`)
	for i, k := range kinds {
		fmt.Fprintf(&b, " WHEN ?%d THEN %d", i+1, i)
		args[i] = k
	}
	b.WriteString(` ELSE 63 END FROM methods ORDER BY user_id`)
	rows, err = h.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("registration facts: %w", err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var packed int64
		if err := rows.Scan(&packed); err != nil {
			return nil, fmt.Errorf("registration facts: %w", err)
		}
		id, bit := packed>>6, packed&63
		for i < len(out) && out[i].ID < id {
			i++
		}
		if i < len(out) && out[i].ID == id && bit < 63 {
			out[i].Kinds |= 1 << bit
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration facts: %w", err)
	}
	return out, nil
}

// GroupMemberIDs returns the ids of a group's members, in id order; none
// when the group does not exist.
func GroupMemberIDs(ctx context.Context, h Handler, group string) ([]int64, error) {
	return queryIDs(ctx, h, `SELECT m.user_id FROM memberships m JOIN groups g ON g.id = m.group_id
		WHERE g.name = ? ORDER BY m.user_id`, group)
}

// UserIDsByName returns the ids of the users with these usernames, in id
// order; names of no user are left out.
func UserIDsByName(ctx context.Context, h Handler, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("user ids: %w", err)
	}
	return queryIDs(ctx, h, `SELECT id FROM users WHERE username IN (`+h.dialect().jsonStrings()+`) ORDER BY id`,
		string(list))
}

func queryIDs(ctx context.Context, h Handler, q string, args ...any) ([]int64, error) {
	rows, err := h.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("user ids: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("user ids: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user ids: %w", err)
	}
	return out, nil
}
