package store

import (
	"context"
	"fmt"
)

// Method is a registered verification method of a user.
type Method struct {
	ID          int64
	UserID      int64
	Kind        string
	Destination string
	Secret      []byte
	LastStep    int64
	CreatedAt   int64
	ConfirmedAt int64
}

const methodColumns = `id, user_id, kind, destination, secret, last_step, created_at, confirmed_at`

func scanMethod(row interface{ Scan(...any) error }) (Method, error) {
	var m Method
	err := row.Scan(&m.ID, &m.UserID, &m.Kind, &m.Destination, &m.Secret, &m.LastStep, &m.CreatedAt, &m.ConfirmedAt)
	return m, err
}

// UpsertMethod registers a method, replacing any earlier one of the same kind.
func UpsertMethod(ctx context.Context, h Handler, m Method) error {
	_, err := h.ExecContext(ctx, `INSERT INTO methods (user_id, kind, destination, secret, last_step, created_at, confirmed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, kind) DO UPDATE SET destination = excluded.destination, secret = excluded.secret,
			last_step = excluded.last_step, created_at = excluded.created_at, confirmed_at = excluded.confirmed_at`,
		m.UserID, m.Kind, m.Destination, m.Secret, m.LastStep, m.CreatedAt, m.ConfirmedAt)
	if err != nil {
		return fmt.Errorf("save method: %w", err)
	}
	return nil
}

// MethodsOf returns a user's registered methods.
func MethodsOf(ctx context.Context, h Handler, userID int64) ([]Method, error) {
	rows, err := h.QueryContext(ctx, methodsOfQuery, userID)
	if err != nil {
		return nil, fmt.Errorf("list methods: %w", err)
	}
	defer rows.Close()
	var out []Method
	for rows.Next() {
		m, err := scanMethod(rows)
		if err != nil {
			return nil, fmt.Errorf("list methods: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const methodsOfQuery = `SELECT ` + methodColumns + ` FROM methods WHERE user_id = ? ORDER BY id`

// MethodsOfRead is MethodsOf's read, named ahead (ReadAhead).
func MethodsOfRead(userID int64) Read {
	return Read{query: fixed(methodsOfQuery), args: []any{userID}}
}

// MethodsAndVoucher is MethodsOf and HasActiveVoucher, for the user named
// username, in one statement: what a reset offers a person. Taking the
// name rather than the id lets it be read ahead, with the user
// (MethodsAndVoucherRead); a name nobody has has neither.
func MethodsAndVoucher(ctx context.Context, h Handler, username string, now int64) ([]Method, bool, error) {
	rows, err := h.QueryContext(ctx, methodsAndVoucherQuery, now, username)
	if err != nil {
		return nil, false, fmt.Errorf("list methods: %w", err)
	}
	defer rows.Close()
	var out []Method
	vouchers := 0
	for rows.Next() {
		var id, uid, lastStep, created, confirmed *int64
		var kind, dest *string
		var m Method
		if err := rows.Scan(&vouchers, &id, &uid, &kind, &dest, &m.Secret, &lastStep, &created, &confirmed); err != nil {
			return nil, false, fmt.Errorf("list methods: %w", err)
		}
		if id == nil {
			continue
		}
		m.ID, m.UserID, m.Kind, m.Destination = *id, *uid, *kind, *dest
		m.LastStep, m.CreatedAt, m.ConfirmedAt = *lastStep, *created, *confirmed
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list methods: %w", err)
	}
	return out, vouchers > 0, nil
}

// Each of the user's methods comes with the voucher count; a user with
// none gets one row of NULLs beside it, a name nobody has no row at all.
const methodsAndVoucherQuery = `SELECT (SELECT COUNT(*) FROM vouchers WHERE user_id = u.id AND used_at = 0 AND expires_at > ?),
	m.id, m.user_id, m.kind, m.destination, m.secret, m.last_step, m.created_at, m.confirmed_at
	FROM users u LEFT JOIN methods m ON m.user_id = u.id WHERE u.username = ? ORDER BY m.id`

// MethodsAndVoucherRead is MethodsAndVoucher's read, named ahead
// (ReadAhead).
func MethodsAndVoucherRead(username string, now int64) Read {
	return Read{query: fixed(methodsAndVoucherQuery), args: []any{now, username}}
}

// MethodOf returns one method of a user by kind.
func MethodOf(ctx context.Context, h Handler, userID int64, kind string) (Method, error) {
	m, err := scanMethod(h.QueryRowContext(ctx, `SELECT `+methodColumns+` FROM methods WHERE user_id = ? AND kind = ?`, userID, kind))
	if err != nil {
		return Method{}, fmt.Errorf("method %s: %w", kind, wrapNotFound(err))
	}
	return m, nil
}

// DeleteMethod removes a user's method of a kind, with its secrets.
func DeleteMethod(ctx context.Context, h Handler, userID int64, kind string) error {
	res, err := h.ExecContext(ctx, `DELETE FROM methods WHERE user_id = ? AND kind = ?`, userID, kind)
	if err != nil {
		return fmt.Errorf("delete method: %w", err)
	}
	if err := mustAffect(res, "delete method"); err != nil {
		return err
	}
	switch kind {
	case "recovery_codes":
		_, err = h.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID)
	case "questions":
		_, err = h.ExecContext(ctx, `DELETE FROM question_answers WHERE user_id = ?`, userID)
	}
	if err != nil {
		return fmt.Errorf("delete method secrets: %w", err)
	}
	return nil
}

// AdvanceTOTPStep records step as the last accepted authenticator step, only
// if it is newer than the one stored. It returns ErrConflict when the step was
// already used (a replay), which makes acceptance atomic across processes.
func AdvanceTOTPStep(ctx context.Context, h Handler, methodID, step int64) error {
	res, err := h.ExecContext(ctx, `UPDATE methods SET last_step = ? WHERE id = ? AND last_step < ?`, step, methodID, step)
	if err != nil {
		return fmt.Errorf("advance totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("advance totp step: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("advance totp step: %w", ErrConflict)
	}
	return nil
}

// ConfirmMethods marks every method of a user as confirmed at the given time,
// along with the user's own confirmation date.
func ConfirmMethods(ctx context.Context, h Handler, userID, at int64) error {
	if _, err := h.ExecContext(ctx, `UPDATE methods SET confirmed_at = ? WHERE user_id = ?`, at, userID); err != nil {
		return fmt.Errorf("confirm methods: %w", err)
	}
	if _, err := h.ExecContext(ctx, `UPDATE users SET last_confirmed_at = ?, reregister_required = 0, updated_at = ? WHERE id = ?`,
		at, at, userID); err != nil {
		return fmt.Errorf("confirm methods: %w", err)
	}
	return nil
}

// QuestionAnswer is a registered security question with its answer hash.
type QuestionAnswer struct {
	ID         int64
	Question   string
	AnswerHash string
}

// ReplaceAnswers replaces all of a user's security questions.
func ReplaceAnswers(ctx context.Context, h Handler, userID int64, qa []QuestionAnswer, at int64) error {
	if _, err := h.ExecContext(ctx, `DELETE FROM question_answers WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("replace answers: %w", err)
	}
	for _, a := range qa {
		_, err := h.ExecContext(ctx, `INSERT INTO question_answers (user_id, question, answer_hash, created_at) VALUES (?, ?, ?, ?)`,
			userID, a.Question, a.AnswerHash, at)
		if isUnique(err) {
			return fmt.Errorf("replace answers: %w", ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("replace answers: %w", err)
		}
	}
	return nil
}

// Answers returns a user's security questions with their answer hashes.
func Answers(ctx context.Context, h Handler, userID int64) ([]QuestionAnswer, error) {
	rows, err := h.QueryContext(ctx, `SELECT id, question, answer_hash FROM question_answers WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	defer rows.Close()
	var out []QuestionAnswer
	for rows.Next() {
		var a QuestionAnswer
		if err := rows.Scan(&a.ID, &a.Question, &a.AnswerHash); err != nil {
			return nil, fmt.Errorf("answers: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReplaceRecoveryCodes stores a fresh set of hashed recovery codes, dropping the old set.
func ReplaceRecoveryCodes(ctx context.Context, h Handler, userID int64, hashes []string, at int64) error {
	if _, err := h.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	for _, c := range hashes {
		if _, err := h.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`,
			userID, c, at); err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
	}
	return nil
}

// UnusedRecoveryCode finds an unused recovery code of the user by hash.
func UnusedRecoveryCode(ctx context.Context, h Handler, userID int64, hash string) (int64, error) {
	var id int64
	err := h.QueryRowContext(ctx, `SELECT id FROM recovery_codes WHERE user_id = ? AND code_hash = ? AND used_at = 0`,
		userID, hash).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recovery code: %w", wrapNotFound(err))
	}
	return id, nil
}

// CountUnusedRecoveryCodes counts a user's recovery codes still usable.
func CountUnusedRecoveryCodes(ctx context.Context, h Handler, userID int64) (int, error) {
	var n int
	err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at = 0`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}

// UseRecoveryCode marks a recovery code used; ErrConflict if it was used already.
func UseRecoveryCode(ctx context.Context, h Handler, id, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE id = ? AND used_at = 0`, at, id)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if err := mustAffect(res, "use recovery code"); err != nil {
		return fmt.Errorf("use recovery code: %w", ErrConflict)
	}
	return nil
}

// Voucher is a helpdesk voucher row.
type Voucher struct {
	ID        int64
	UserID    int64
	IssuedBy  string
	CreatedAt int64
	ExpiresAt int64
	UsedAt    int64
}

// CreateVoucher stores a hashed voucher, voiding the user's earlier unused ones.
func CreateVoucher(ctx context.Context, h Handler, userID int64, hash, issuedBy string, at, expires int64) error {
	if _, err := h.ExecContext(ctx, `UPDATE vouchers SET used_at = ? WHERE user_id = ? AND used_at = 0`, at, userID); err != nil {
		return fmt.Errorf("create voucher: %w", err)
	}
	if _, err := h.ExecContext(ctx, `INSERT INTO vouchers (user_id, code_hash, issued_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, userID, hash, issuedBy, at, expires); err != nil {
		return fmt.Errorf("create voucher: %w", err)
	}
	return nil
}

// ValidVoucher finds a user's unused, unexpired voucher by hash.
func ValidVoucher(ctx context.Context, h Handler, userID int64, hash string, now int64) (Voucher, error) {
	var v Voucher
	err := h.QueryRowContext(ctx, `SELECT id, user_id, issued_by, created_at, expires_at, used_at FROM vouchers
		WHERE user_id = ? AND code_hash = ? AND used_at = 0 AND expires_at > ?`, userID, hash, now).
		Scan(&v.ID, &v.UserID, &v.IssuedBy, &v.CreatedAt, &v.ExpiresAt, &v.UsedAt)
	if err != nil {
		return Voucher{}, fmt.Errorf("voucher: %w", wrapNotFound(err))
	}
	return v, nil
}

// HasActiveVoucher reports whether the user holds an unused, unexpired voucher.
func HasActiveVoucher(ctx context.Context, h Handler, userID, now int64) (bool, error) {
	var n int
	err := h.QueryRowContext(ctx, `SELECT COUNT(*) FROM vouchers WHERE user_id = ? AND used_at = 0 AND expires_at > ?`,
		userID, now).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("active voucher: %w", err)
	}
	return n > 0, nil
}

// UseVoucher marks a voucher used; ErrConflict if it was used already.
func UseVoucher(ctx context.Context, h Handler, id, at int64) error {
	res, err := h.ExecContext(ctx, `UPDATE vouchers SET used_at = ? WHERE id = ? AND used_at = 0`, at, id)
	if err != nil {
		return fmt.Errorf("use voucher: %w", err)
	}
	if err := mustAffect(res, "use voucher"); err != nil {
		return fmt.Errorf("use voucher: %w", ErrConflict)
	}
	return nil
}

// RegisteredMethod is one method kind a person who is not an administrator
// has registered, and where its codes go.
type RegisteredMethod struct {
	UserID      int64
	Kind        string
	Destination string
}

// RegisteredMethods lists the methods of every enabled person who is not an
// administrator, by user: what a typical account looks like.
func RegisteredMethods(ctx context.Context, h Handler) ([]RegisteredMethod, error) {
	rows, err := h.QueryContext(ctx, `SELECT m.user_id, m.kind, m.destination FROM methods m
		JOIN users u ON u.id = m.user_id WHERE u.is_admin = 0 AND u.disabled = 0 ORDER BY m.user_id, m.kind`)
	if err != nil {
		return nil, fmt.Errorf("registered methods: %w", err)
	}
	defer rows.Close()
	var out []RegisteredMethod
	for rows.Next() {
		var r RegisteredMethod
		if err := rows.Scan(&r.UserID, &r.Kind, &r.Destination); err != nil {
			return nil, fmt.Errorf("registered methods: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
