package store

import (
	"context"
	"fmt"
)

// Group is a row of the groups table with its member count.
type Group struct {
	ID        int64
	Name      string
	CreatedAt int64
	Members   int
}

// CreateGroup inserts a group. A taken name gives ErrDuplicate.
func CreateGroup(ctx context.Context, h Handler, name string, at int64) (int64, error) {
	id, err := insertID(ctx, h, `INSERT INTO groups (name, created_at) VALUES (?, ?) RETURNING id`, name, at)
	if isUnique(err) {
		return 0, fmt.Errorf("create group %q: %w", name, ErrDuplicate)
	}
	if err != nil {
		return 0, fmt.Errorf("create group: %w", err)
	}
	return id, nil
}

// GroupByName returns the named group.
func GroupByName(ctx context.Context, h Handler, name string) (Group, error) {
	var g Group
	err := h.QueryRowContext(ctx, `SELECT g.id, g.name, g.created_at,
		(SELECT COUNT(*) FROM memberships m WHERE m.group_id = g.id) FROM groups g WHERE g.name = ?`, name).
		Scan(&g.ID, &g.Name, &g.CreatedAt, &g.Members)
	if err != nil {
		return Group{}, fmt.Errorf("group %q: %w", name, wrapNotFound(err))
	}
	return g, nil
}

// ListGroups returns every group by name.
func ListGroups(ctx context.Context, h Handler) ([]Group, error) {
	rows, err := h.QueryContext(ctx, `SELECT g.id, g.name, g.created_at,
		(SELECT COUNT(*) FROM memberships m WHERE m.group_id = g.id) FROM groups g ORDER BY g.name`)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.Name, &g.CreatedAt, &g.Members); err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// AddMember puts a user in a group; being a member already gives ErrDuplicate.
func AddMember(ctx context.Context, h Handler, groupID, userID int64) error {
	_, err := h.ExecContext(ctx, `INSERT INTO memberships (group_id, user_id) VALUES (?, ?)`, groupID, userID)
	if isUnique(err) {
		return fmt.Errorf("add member: %w", ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

// RemoveMember takes a user out of a group; not being a member gives ErrNotFound.
func RemoveMember(ctx context.Context, h Handler, groupID, userID int64) error {
	res, err := h.ExecContext(ctx, `DELETE FROM memberships WHERE group_id = ? AND user_id = ?`, groupID, userID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return mustAffect(res, "remove member")
}

// GroupMembers returns the usernames in a group, by name.
func GroupMembers(ctx context.Context, h Handler, groupName string) ([]string, error) {
	rows, err := h.QueryContext(ctx, `SELECT u.username FROM users u
		JOIN memberships m ON m.user_id = u.id JOIN groups g ON g.id = m.group_id
		WHERE g.name = ? ORDER BY u.username`, groupName)
	if err != nil {
		return nil, fmt.Errorf("group members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("group members: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// UserGroups returns the names of the groups a user is in.
func UserGroups(ctx context.Context, h Handler, userID int64) ([]string, error) {
	rows, err := h.QueryContext(ctx, `SELECT g.name FROM groups g JOIN memberships m ON m.group_id = g.id
		WHERE m.user_id = ? ORDER BY g.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("user groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("user groups: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// IsMember reports whether the user is in the named group.
func IsMember(ctx context.Context, h Handler, groupName string, userID int64) (bool, error) {
	var n int
	err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships m JOIN groups g ON g.id = m.group_id
		WHERE g.name = ? AND m.user_id = ?`, groupName, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return n > 0, nil
}
