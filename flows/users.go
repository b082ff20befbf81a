package flows

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// NewUser is a user to create.
type NewUser struct {
	Username    string
	DisplayName string
	Email       string
	Phone       string
	Admin       bool
	Groups      []string
	// Password is set when given; otherwise a temporary one is made that must
	// be changed at first use.
	Password string
}

// validate normalises and checks every field, naming the first bad one.
func (n *NewUser) validate() error {
	n.Username = NormaliseUsername(n.Username)
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	n.Email = strings.TrimSpace(n.Email)
	n.Phone = NormalisePhone(n.Phone)
	if err := ValidateUsername(n.Username); err != nil {
		return err
	}
	if err := ValidateDisplayName(n.DisplayName); err != nil {
		return err
	}
	if n.Email != "" {
		if err := ValidateEmail(n.Email); err != nil {
			return err
		}
	}
	if n.Phone != "" {
		if err := ValidatePhone(n.Phone); err != nil {
			return err
		}
	}
	for i, g := range n.Groups {
		n.Groups[i] = strings.ToLower(strings.TrimSpace(g))
		if err := ValidateGroupName(n.Groups[i]); err != nil {
			return err
		}
	}
	return nil
}

// AddUser creates a user. It returns the temporary password when none was
// given (shown once; the user must change it at first use).
func (s *Service) AddUser(ctx context.Context, actor Actor, n NewUser) (string, error) {
	if err := n.validate(); err != nil {
		return "", fmt.Errorf("add user: %w", err)
	}
	temporary := n.Password == ""
	pw := n.Password
	if temporary {
		var err error
		if pw, err = TemporaryPassword(); err != nil {
			return "", fmt.Errorf("add user: %w", err)
		}
	} else {
		pol, err := s.Policy(ctx)
		if err != nil {
			return "", err
		}
		if ev := s.rulesFor(pol, n.Username, n.DisplayName).Evaluate(pw); !ev.OK {
			return "", fmt.Errorf("add user: %w", &RejectedError{Evaluation: ev})
		}
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("add user: %w", err)
	}
	now := s.now().Unix()
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		u := store.User{Username: n.Username, DisplayName: n.DisplayName, Email: n.Email, Phone: n.Phone, IsAdmin: n.Admin,
			PasswordHash: hash, MustChange: temporary, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateUser(ctx, tx, &u); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("user %q: %w", n.Username, ErrExists)
			}
			return err
		}
		if err := store.AddPasswordHistory(ctx, tx, u.ID, hash, now, 24); err != nil {
			return err
		}
		for _, g := range n.Groups {
			grp, err := store.GroupByName(ctx, tx, g)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("group %q does not exist: %w", g, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if err := store.AddMember(ctx, tx, grp.ID, u.ID); err != nil {
				return err
			}
		}
		detail := ""
		if n.Admin {
			detail = "administrator"
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventUserCreated, Actor: actor.Name, Target: u.Username,
			Source: actor.Source, Detail: detail})
	})
	if err != nil {
		return "", fmt.Errorf("add user: %w", err)
	}
	if temporary {
		return pw, nil
	}
	return "", nil
}

// TemporaryPassword makes a one-time password for a new account: 4 groups of
// 5 unambiguous characters, about 98 bits.
func TemporaryPassword() (string, error) {
	parts := make([]string, 4)
	for i := range parts {
		p, err := secret.RecoveryCode(5)
		if err != nil {
			return "", err
		}
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, "-"), nil
}

// ImportHeader is the header row a user import file must have.
var ImportHeader = []string{"username", "display_name", "email", "phone", "groups", "admin"}

// ImportOptions tune ImportUsers.
type ImportOptions struct {
	// SkipInvalid imports the good rows and reports the bad ones instead of
	// importing nothing.
	SkipInvalid bool
	// Progress, if set, is called as rows are read and written.
	Progress func(done int)
}

// ImportResult says what an import did.
type ImportResult struct {
	Imported int
	// Skipped holds one sentence per bad row, when SkipInvalid is set.
	Skipped []string
}

// ImportUsers reads a CSV of users (header: username,display_name,email,
// phone,groups,admin; groups separated by ";") and creates them, in one
// transaction: a bad row imports nothing unless SkipInvalid. Imported users
// have no password; they reset with a voucher or are given one later.
func (s *Service) ImportUsers(ctx context.Context, actor Actor, r io.Reader, opts ImportOptions) (ImportResult, error) {
	rows, skipped, err := s.readImport(ctx, r, opts)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	now := s.now().Unix()
	users := make([]store.ImportUser, len(rows))
	for i, n := range rows {
		users[i] = store.ImportUser{User: store.User{Username: n.Username, DisplayName: n.DisplayName, Email: n.Email,
			Phone: n.Phone, IsAdmin: n.Admin, CreatedAt: now, UpdatedAt: now}, Groups: n.Groups}
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.ImportUsers(ctx, tx, users, func(done int) {
			if opts.Progress != nil {
				opts.Progress(done)
			}
		}); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventUserCreated, Actor: actor.Name, Target: "import",
			Source: actor.Source, Detail: fmt.Sprintf("imported %s, skipped %d", Count(len(users), "user", "users"), len(skipped))})
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	return ImportResult{Imported: len(users), Skipped: skipped}, nil
}

// readImport parses and validates every row before anything is written.
func (s *Service) readImport(ctx context.Context, r io.Reader, opts ImportOptions) ([]NewUser, []string, error) {
	cr := csv.NewReader(stripBOM(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("the file is empty: %w", ErrInvalid)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: %v: %w", err, ErrInvalid)
	}
	if len(header) != len(ImportHeader) {
		return nil, nil, fmt.Errorf("line 1: the header must be %s: %w", strings.Join(ImportHeader, ","), ErrInvalid)
	}
	for i, h := range header {
		if strings.ToLower(strings.TrimSpace(h)) != ImportHeader[i] {
			return nil, nil, fmt.Errorf("line 1: the header must be %s: %w", strings.Join(ImportHeader, ","), ErrInvalid)
		}
	}
	groups, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, nil, err
	}
	known := map[string]bool{}
	for _, g := range groups {
		known[g.Name] = true
	}
	existing, err := store.AllUsernames(ctx, s.db)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]int{}
	var out []NewUser
	var skipped []string
	var bad ImportRowsError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		var rowErr error
		var n NewUser
		switch {
		case err != nil:
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				rowErr = fmt.Errorf("line %d: %v", line, pe.Err)
			} else {
				return nil, nil, err
			}
		default:
			n, rowErr = parseImportRow(rec, line, known, existing, seen)
		}
		if rowErr != nil {
			if !opts.SkipInvalid {
				// Read on, so one run lists every bad row to fix (up to
				// a cap), not just the first.
				if len(bad.Rows) < MaxImportProblems {
					bad.Rows = append(bad.Rows, rowErr.Error())
				} else {
					bad.More++
				}
				continue
			}
			skipped = append(skipped, rowErr.Error())
			continue
		}
		seen[n.Username] = line
		out = append(out, n)
		if opts.Progress != nil && len(out)%1000 == 0 {
			opts.Progress(len(out) / 2)
		}
	}
	if len(bad.Rows) > 0 {
		return nil, nil, &bad
	}
	return out, skipped, nil
}

// MaxImportProblems is how many bad rows an import lists; it counts the rest.
const MaxImportProblems = 50

// ImportRowsError lists the bad rows of an import that wrote nothing, one
// sentence each ("line 17: email "x" is not an address").
type ImportRowsError struct {
	Rows []string
	// More counts the bad rows beyond MaxImportProblems.
	More int
}

// Error names the only bad row, or how many there are and the first.
func (e *ImportRowsError) Error() string {
	if len(e.Rows) == 1 && e.More == 0 {
		return e.Rows[0]
	}
	return fmt.Sprintf("%d bad rows, the first %s", e.Count(), e.Rows[0])
}

// Count is how many rows were bad.
func (e *ImportRowsError) Count() int { return len(e.Rows) + e.More }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ImportRowsError) Unwrap() error { return ErrInvalid }

func parseImportRow(rec []string, line int, knownGroups map[string]bool, existing map[string]bool, seen map[string]int) (NewUser, error) {
	if len(rec) != len(ImportHeader) {
		return NewUser{}, fmt.Errorf("line %d: expected %d fields, found %d", line, len(ImportHeader), len(rec))
	}
	for i, f := range rec {
		if len(f) > 1024 {
			return NewUser{}, fmt.Errorf("line %d: %s is longer than 1024 bytes", line, ImportHeader[i])
		}
	}
	n := NewUser{Username: rec[0], DisplayName: rec[1], Email: rec[2], Phone: rec[3]}
	if g := strings.TrimSpace(rec[4]); g != "" {
		n.Groups = strings.Split(g, ";")
	}
	switch strings.ToLower(strings.TrimSpace(rec[5])) {
	case "", "false", "no", "0":
	case "true", "yes", "1":
		n.Admin = true
	default:
		return NewUser{}, fmt.Errorf("line %d: admin %q must be true or false", line, printable(rec[5]))
	}
	if err := n.validate(); err != nil {
		return NewUser{}, fmt.Errorf("line %d: %s", line, strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error()))
	}
	if existing[n.Username] {
		return NewUser{}, fmt.Errorf("line %d: user %q already exists", line, n.Username)
	}
	if first, ok := seen[n.Username]; ok {
		return NewUser{}, fmt.Errorf("line %d: user %q is also on line %d", line, n.Username, first)
	}
	for _, g := range n.Groups {
		if !knownGroups[g] {
			return NewUser{}, fmt.Errorf("line %d: group %q does not exist", line, g)
		}
	}
	return n, nil
}

// stripBOM drops a UTF-8 byte-order mark, which spreadsheet programs write.
func stripBOM(r io.Reader) io.Reader {
	buf := make([]byte, 3)
	n, err := io.ReadFull(r, buf)
	if n == 3 && string(buf) == "\ufeff" {
		return r
	}
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return io.MultiReader(strings.NewReader(string(buf[:n])), errReader{err})
	}
	return io.MultiReader(strings.NewReader(string(buf[:n])), r)
}

type errReader struct{ err error }

// Read implements io.Reader.
func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// AddGroup creates a group.
func (s *Service) AddGroup(ctx context.Context, actor Actor, name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if err := ValidateGroupName(name); err != nil {
		return fmt.Errorf("add group: %w", err)
	}
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := store.CreateGroup(ctx, tx, name, s.now().Unix()); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("group %q: %w", name, ErrExists)
			}
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventGroupCreated, Actor: actor.Name, Target: "group:" + name, Source: actor.Source})
	})
	if err != nil {
		return fmt.Errorf("add group: %w", err)
	}
	return nil
}

// Group is a group of sspr's own users, as the admin views list it.
type Group struct {
	Name string
	// Members counts the group's users, so a list need not fetch them.
	Members int
}

// Groups lists the groups with their member counts, by name.
func (s *Service) Groups(ctx context.Context) ([]Group, error) {
	rows, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	groups := make([]Group, len(rows))
	for i, g := range rows {
		groups[i] = Group{Name: g.Name, Members: g.Members}
	}
	return groups, nil
}

// SetMember adds a user to a group or removes them.
func (s *Service) SetMember(ctx context.Context, actor Actor, group, username string, member bool) error {
	group = strings.ToLower(strings.TrimSpace(group))
	event := audit.EventGroupMemberAdded
	if !member {
		event = audit.EventGroupMemberRemoved
	}
	err := s.adminChange(ctx, actor, username, event, "group:"+group, func(tx *store.Tx, u *store.User) error {
		g, err := store.GroupByName(ctx, tx, group)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("group %q: %w", group, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if member {
			err = store.AddMember(ctx, tx, g.ID, u.ID)
			if errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("%s is already in %s: %w", u.Username, group, ErrExists)
			}
			return err
		}
		err = store.RemoveMember(ctx, tx, g.ID, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s is not in %s: %w", u.Username, group, ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("group member: %w", err)
	}
	return nil
}

// UserDetail is everything an admin sees of one user.
type UserDetail struct {
	Username    string
	DisplayName string
	Email       string
	Phone       string
	// LastConfirmed is when the user last confirmed their info; zero if never.
	LastConfirmed      time.Time
	Disabled           bool
	Admin              bool
	TemporaryPassword  bool
	ReregisterRequired bool
	Groups             []string
	Methods            []string
	CanReset           bool
	EnabledForSSPR     bool
	Blocked            bool
	BlockedUntil       time.Time
	RegistrationDue    bool
	// NoPassword: see UserRow.NoPassword.
	NoPassword bool
	// LockedUntil is when a lockout of sspr's own ends (accountlock.go);
	// zero when none is in force. A directory's lockout is the directory's
	// to show.
	LockedUntil time.Time
}

// StateLockedOut is the state of an account locked out after wrong passwords.
const StateLockedOut = "locked out"

// States lists the user's states in the words every admin view uses.
func (d UserDetail) States() []string {
	states := userStates(d.Blocked, d.Disabled, d.Admin, d.TemporaryPassword, d.NoPassword, d.ReregisterRequired)
	if !d.LockedUntil.IsZero() {
		states = append([]string{StateLockedOut}, states...)
	}
	return states
}

// ShowUser returns one user's detail for an admin.
func (s *Service) ShowUser(ctx context.Context, username string) (UserDetail, error) {
	u, err := s.userForAdmin(ctx, s.db, username)
	if err != nil {
		return UserDetail{}, err
	}
	return s.detailOf(ctx, u)
}

func (s *Service) detailOf(ctx context.Context, u store.User) (UserDetail, error) {
	d := UserDetail{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Phone: u.Phone,
		Disabled: u.Disabled, Admin: u.IsAdmin, TemporaryPassword: u.MustChange, ReregisterRequired: u.ReregisterRequired,
		NoPassword: u.PasswordHash == "" && s.keepsPasswords()}
	if u.LastConfirmedAt > 0 {
		d.LastConfirmed = time.Unix(u.LastConfirmedAt, 0).UTC()
	}
	var err error
	if d.Groups, err = store.UserGroups(ctx, s.db, u.ID); err != nil {
		return UserDetail{}, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return UserDetail{}, err
	}
	if d.EnabledForSSPR, err = s.enabledFor(ctx, pol, u); err != nil {
		return UserDetail{}, err
	}
	st, err := s.registrationState(ctx, u)
	if err != nil {
		return UserDetail{}, err
	}
	d.Methods, d.CanReset, d.RegistrationDue = st.registered, st.canReset, st.due
	if b, err := store.ActiveBlock(ctx, s.db, store.ScopeAccount, u.Username, s.now().Unix()); err == nil {
		d.Blocked, d.BlockedUntil = true, time.Unix(b.Until, 0)
	}
	if s.keepsPasswords() {
		l, err := store.LockoutOf(ctx, s.db, u.ID)
		if err != nil {
			return UserDetail{}, err
		}
		if l.LockedUntil > s.now().Unix() {
			d.LockedUntil = time.Unix(l.LockedUntil, 0)
		}
	}
	return d, nil
}
