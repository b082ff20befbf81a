package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/store"
)

// ErrUnknownUser is returned by a Directory for a username it does not hold.
var ErrUnknownUser = errors.New("unknown user")

// DirectoryUser is what a directory knows of a person.
type DirectoryUser struct {
	Username    string
	DisplayName string
	Email       string
	Phone       string
	Disabled    bool
	Groups      []string
	// SSHKeys are public keys the directory holds for the person, one
	// authorized_keys line each, read only: they prove "Your SSH key" as
	// keys registered in sspr do.
	SSHKeys []string
}

// PasswordChange says how a password is being set: by the person who proved
// the old one (a change) or after proving their identity another way (a reset).
type PasswordChange struct {
	// Old is the current password for a change; empty for a reset.
	Old string
	// New is the password to set.
	New string
	// Hash is the argon2id hash of New, for directories that store hashes.
	Hash string
	// Temporary marks a password that must be changed at first use.
	Temporary bool
}

// Tx is the transaction in sspr's own store that records a password change:
// the history, the audit entry, the proofs it used up. It is opaque on
// purpose. The built-in directory writes the new hash in it, so that a crash
// leaves the old password or the new one with its record, never one without
// the other; a directory outside the store has nothing to write there and
// rolls the record back by returning an error.
type Tx struct {
	tx *store.Tx
}

// Directory is where passwords live. The built-in one keeps hashes in sspr's
// store; an LDAP one writes to the organisation's directory.
type Directory interface {
	// Lookup finds a user; ErrUnknownUser when there is none.
	Lookup(ctx context.Context, username string) (DirectoryUser, error)
	// CheckPassword reports whether password is the user's current one. For an
	// unknown user it spends the same time and returns false.
	CheckPassword(ctx context.Context, username, password string) (bool, error)
	// SetPassword sets a new password while tx, which records the change in
	// sspr's store, is open; an error rolls tx back.
	SetPassword(ctx context.Context, tx Tx, username string, change PasswordChange) error
	// GroupMembers lists the usernames in a group.
	GroupMembers(ctx context.Context, group string) ([]string, error)
	// IsMember reports whether a user is in a group.
	IsMember(ctx context.Context, username, group string) (bool, error)
}

// BuiltinDirectory keeps users and their argon2id hashes in sspr's own store.
type BuiltinDirectory struct {
	db     *store.DB
	hasher *password.Hasher
	clock  clock.Clock
}

// NewBuiltinDirectory returns the directory backed by the store.
func NewBuiltinDirectory(db *store.DB, hasher *password.Hasher, clk clock.Clock) *BuiltinDirectory {
	return &BuiltinDirectory{db: db, hasher: hasher, clock: clk}
}

// Lookup finds a user in the store.
func (d *BuiltinDirectory) Lookup(ctx context.Context, username string) (DirectoryUser, error) {
	u, err := store.UserByName(ctx, d.db, username)
	if errors.Is(err, store.ErrNotFound) {
		return DirectoryUser{}, ErrUnknownUser
	}
	if err != nil {
		return DirectoryUser{}, fmt.Errorf("look up user: %w", err)
	}
	groups, err := store.UserGroups(ctx, d.db, u.ID)
	if err != nil {
		return DirectoryUser{}, fmt.Errorf("look up user: %w", err)
	}
	return DirectoryUser{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Phone: u.Phone,
		Disabled: u.Disabled, Groups: groups}, nil
}

// CheckPassword verifies against the stored hash; unknown users and users
// without a password cost a dummy verification so timing does not tell.
func (d *BuiltinDirectory) CheckPassword(ctx context.Context, username, pw string) (bool, error) {
	u, err := store.UserByName(ctx, d.db, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("check password: %w", err)
	}
	if err != nil || u.PasswordHash == "" {
		d.hasher.DummyVerify(ctx, pw)
		return false, nil
	}
	ok, err := d.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	return ok, nil
}

// SetPassword stores the new hash inside tx.
func (d *BuiltinDirectory) SetPassword(ctx context.Context, tx Tx, username string, change PasswordChange) error {
	u, err := store.UserByName(ctx, tx.tx, username)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := store.SetPasswordHash(ctx, tx.tx, u.ID, change.Hash, change.Temporary, d.clock.Now().Unix()); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// GroupMembers lists a group's members from the store.
func (d *BuiltinDirectory) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return store.GroupMembers(ctx, d.db, group)
}

// IsMember reports group membership from the store.
func (d *BuiltinDirectory) IsMember(ctx context.Context, username, group string) (bool, error) {
	u, err := store.UserByName(ctx, d.db, username)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return store.IsMember(ctx, d.db, group, u.ID)
}
