package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// User is a row of the users table.
type User struct {
	ID                 int64
	Username           string
	DisplayName        string
	Email              string
	Phone              string
	IsAdmin            bool
	Disabled           bool
	PasswordHash       string
	MustChange         bool
	ReregisterRequired bool
	LastConfirmedAt    int64
	PasswordChangedAt  int64
	CreatedAt          int64
	UpdatedAt          int64
	// Language is the person's preferred language, a catalogue code
	// ("de", "pt-BR"); empty means the organisation's default.
	Language string
}

const userColumns = `id, username, display_name, email, phone, is_admin, disabled, password_hash,
	must_change, reregister_required, last_confirmed_at, password_changed_at, created_at, updated_at, language`

// scanUser scans userColumns, and then into extra the columns a query
// selects after them.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (User, error) {
	var u User
	err := row.Scan(append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Phone, &u.IsAdmin, &u.Disabled,
		&u.PasswordHash, &u.MustChange, &u.ReregisterRequired, &u.LastConfirmedAt, &u.PasswordChangedAt,
		&u.CreatedAt, &u.UpdatedAt, &u.Language}, extra...)...)
	return u, err
}

// CreateUser inserts u and sets its ID. A taken username gives ErrDuplicate.
func CreateUser(ctx context.Context, h Handler, u *User) error {
	var err error
	u.ID, err = insertID(ctx, h, `INSERT INTO users (username, display_name, email, phone, is_admin, disabled,
		password_hash, must_change, reregister_required, last_confirmed_at, password_changed_at, created_at, updated_at,
		language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.DisplayName, u.Email, u.Phone, u.IsAdmin, u.Disabled, u.PasswordHash, u.MustChange,
		u.ReregisterRequired, u.LastConfirmedAt, u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt, u.Language)
	if isUnique(err) {
		return fmt.Errorf("create user %q: %w", u.Username, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// UserByName returns the user with that (already normalised) username.
func UserByName(ctx context.Context, h Handler, username string) (User, error) {
	u, err := scanUser(h.QueryRowContext(ctx, userByNameQuery, username))
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", username, wrapNotFound(err))
	}
	return u, nil
}

const userByNameQuery = `SELECT ` + userColumns + ` FROM users WHERE username = ?`

// UserByNameRead is UserByName's read, named ahead (ReadAhead).
func UserByNameRead(username string) Read {
	return Read{query: fixed(userByNameQuery), args: []any{username}}
}

// UserByID returns the user with that id.
func UserByID(ctx context.Context, h Handler, id int64) (User, error) {
	u, err := scanUser(h.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, wrapNotFound(err))
	}
	return u, nil
}

// UserPolicyHistory reads a user, the stored policy settings (as
// PolicyValues) and the user's newest n password history hashes, newest
// first, in one statement, one round trip: what setting a password reads
// before it hashes. The settings and the history come as JSON objects,
// which both engines build.
func UserPolicyHistory(ctx context.Context, h Handler, id int64, n int) (User, map[string]string, []string, error) {
	d := h.dialect()
	var rawPolicy, rawHistory string
	u, err := scanUser(h.QueryRowContext(ctx, `SELECT `+userColumns+`,
		(SELECT `+d.jsonObjectAgg("key", "value")+` FROM policy),
		(SELECT `+d.jsonObjectAgg("CAST(id AS TEXT)", "hash")+` FROM
			(SELECT id, hash FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?) AS newest)
		FROM users WHERE id = ?`, id, n, id), &rawPolicy, &rawHistory)
	if err != nil {
		return User{}, nil, nil, fmt.Errorf("user %d: %w", id, wrapNotFound(err))
	}
	values := map[string]string{}
	if err := json.Unmarshal([]byte(rawPolicy), &values); err != nil {
		return User{}, nil, nil, fmt.Errorf("policy values: %w", err)
	}
	byID := map[string]string{}
	if err := json.Unmarshal([]byte(rawHistory), &byID); err != nil {
		return User{}, nil, nil, fmt.Errorf("password history: %w", err)
	}
	ids := make([]int64, 0, len(byID))
	for k := range byID {
		hid, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return User{}, nil, nil, fmt.Errorf("password history: %w", err)
		}
		ids = append(ids, hid)
	}
	slices.Sort(ids)
	history := make([]string, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		history = append(history, byID[strconv.FormatInt(ids[i], 10)])
	}
	return u, values, history, nil
}

// UserFilter narrows ListUsers. Zero values mean no filter.
type UserFilter struct {
	// Search matches a substring of the username, display name or email.
	Search string
	// AdminsOnly keeps administrators only.
	AdminsOnly bool
	// AfterName starts the page after this username (keyset pagination).
	AfterName string
	// Limit caps the rows; 0 means no cap.
	Limit int
	// Offset skips rows; prefer AfterName for deep pages.
	Offset int
}

// ListUsers returns users ordered by username.
func ListUsers(ctx context.Context, h Handler, f UserFilter) ([]User, error) {
	where, args := userWhere(h, f)
	if f.AfterName != "" {
		where = append(where, "username > ?")
		args = append(args, f.AfterName)
	}
	q := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY username"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, f.Offset)
	}
	if f.Search != "" {
		args = h.dialect().planEach(args)
	}
	rows, err := h.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers counts the users that f selects (ignoring paging).
func CountUsers(ctx context.Context, h Handler, f UserFilter) (int, error) {
	where, args := userWhere(h, f)
	q := `SELECT COUNT(*) FROM users`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Search != "" {
		args = h.dialect().planEach(args)
	}
	var n int
	if err := h.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

func userWhere(h Handler, f UserFilter) ([]string, []any) {
	where, args := searchWhere(h.dialect(), f.Search)
	if f.AdminsOnly {
		where = append(where, "is_admin = 1")
	}
	return where, args
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// UpdateUser writes every column of u (by ID).
func UpdateUser(ctx context.Context, h Handler, u User) error {
	res, err := h.ExecContext(ctx, `UPDATE users SET display_name = ?, email = ?, phone = ?, is_admin = ?, disabled = ?,
		password_hash = ?, must_change = ?, reregister_required = ?, last_confirmed_at = ?, password_changed_at = ?,
		updated_at = ? WHERE id = ?`,
		u.DisplayName, u.Email, u.Phone, u.IsAdmin, u.Disabled, u.PasswordHash, u.MustChange, u.ReregisterRequired,
		u.LastConfirmedAt, u.PasswordChangedAt, u.UpdatedAt, u.ID)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return mustAffect(res, "update user")
}

// SetUserLanguage stores a user's preferred language (a catalogue code,
// or empty for the organisation's default). ErrNotFound when there is no
// such user.
func SetUserLanguage(ctx context.Context, h Handler, userID int64, language string, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE users SET language = ?, updated_at = ? WHERE id = ?`, language, at, userID)
	if err != nil {
		return fmt.Errorf("set user language: %w", err)
	}
	return mustAffect(res, "set user language")
}

// UserLanguage returns the preferred language of the user with that
// username, empty for the organisation's default. ErrNotFound when there
// is no such user.
func UserLanguage(ctx context.Context, h Handler, username string) (string, error) {
	var lang string
	err := h.QueryRowContext(ctx, `SELECT language FROM users WHERE username = ?`, username).Scan(&lang)
	if err != nil {
		return "", fmt.Errorf("user language %q: %w", username, wrapNotFound(err))
	}
	return lang, nil
}

// SetPasswordHash replaces a user's password hash and records when; it also
// clears the temporary-password mark.
func SetPasswordHash(ctx context.Context, h Handler, userID int64, hash string, mustChange bool, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change = ?, password_changed_at = ?, updated_at = ?
		WHERE id = ?`, hash, mustChange, at, at, userID)
	if err != nil {
		return fmt.Errorf("set password hash: %w", err)
	}
	return mustAffect(res, "set password hash")
}

// SetPasswordHashByName is SetPasswordHash for the user with a username,
// in one statement: a reset writes the password without reading the row
// first. ErrNotFound when there is no such user.
func SetPasswordHashByName(ctx context.Context, h Handler, username, hash string, mustChange bool, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change = ?, password_changed_at = ?, updated_at = ?
		WHERE username = ?`, hash, mustChange, at, at, username)
	if err != nil {
		return fmt.Errorf("set password hash: %w", err)
	}
	return mustAffect(res, "set password hash")
}

func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// CountAdmins counts administrators that are not disabled.
func CountAdmins(ctx context.Context, h Handler) (int, error) {
	var n int
	err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled = 0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// AddPasswordHistory records a hash the user has had and trims the history
// to the newest keep entries.
func AddPasswordHistory(ctx context.Context, h Handler, userID int64, hash string, at int64, keep int) error {
	if h.dialect().engine == Postgres {
		// One round trip: the DELETE does not see the row inserted beside
		// it (both read the statement's snapshot), so it keeps the newest
		// keep-1 of the others. Nothing but a failure of the database
		// stops it, so in a transaction it goes out with the next
		// statement.
		if _, err := h.ExecContext(sendLater(ctx), `WITH added AS (INSERT INTO password_history (user_id, hash, created_at)
			VALUES (?, ?, ?)) DELETE FROM password_history WHERE user_id = ? AND id NOT IN
			(SELECT id FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?)`,
			userID, hash, at, userID, userID, max(keep-1, 0)); err != nil {
			return fmt.Errorf("add password history: %w", err)
		}
		return nil
	}
	if _, err := h.ExecContext(ctx, `INSERT INTO password_history (user_id, hash, created_at) VALUES (?, ?, ?)`,
		userID, hash, at); err != nil {
		return fmt.Errorf("add password history: %w", err)
	}
	if _, err := h.ExecContext(ctx, `DELETE FROM password_history WHERE user_id = ? AND id NOT IN
		(SELECT id FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?)`, userID, userID, keep); err != nil {
		return fmt.Errorf("trim password history: %w", err)
	}
	return nil
}

// PasswordHistory returns the user's newest n previous password hashes.
func PasswordHistory(ctx context.Context, h Handler, userID int64, n int) ([]string, error) {
	rows, err := h.QueryContext(ctx, `SELECT hash FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, n)
	if err != nil {
		return nil, fmt.Errorf("password history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("password history: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TouchConfirmed records that the user confirmed their security info at a time.
func TouchConfirmed(ctx context.Context, h Handler, userID, at int64) error {
	if _, err := h.ExecContext(ctx, `UPDATE users SET last_confirmed_at = ?, updated_at = ? WHERE id = ?`, at, at, userID); err != nil {
		return fmt.Errorf("touch confirmed: %w", err)
	}
	return nil
}
