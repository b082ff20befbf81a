package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
)

// ErrDirectoryUnavailable means the organisation's directory could not be
// reached, or would not let sspr's service account in. Nothing was changed,
// and a sign-in that ends with it does not count against the person.
var ErrDirectoryUnavailable = errors.New("the password directory can't be reached right now")

// DirectoryRefusedError is an answer of the directory's own password policy
// (OpenLDAP ppolicy, Active Directory), said as one sentence for the person.
// sspr's rules run first; the directory stays the final judge.
//
// It matches ErrNotAllowed, whose inner message screens show as is, and, for
// refusals of the new password itself, ErrPasswordRejected.
type DirectoryRefusedError struct {
	// Reason is the directory's reason.
	Reason ldapdir.PolicyReason
	cause  error
}

// directoryRefusals are the messages that say each reason to the person.
// In English they hold no ": ", so logs and the CLI can show the reason as
// the clause after the last one.
var directoryRefusals = map[ldapdir.PolicyReason]string{
	ldapdir.PolicyPasswordTooShort:      "refusal.directory.too_short",
	ldapdir.PolicyPasswordInHistory:     "refusal.directory.in_history",
	ldapdir.PolicyPasswordTooYoung:      "refusal.directory.too_young",
	ldapdir.PolicyInsufficientQuality:   "refusal.directory.quality",
	ldapdir.PolicyRestriction:           "refusal.directory.restriction",
	ldapdir.PolicyUnknown:               "refusal.directory.unknown",
	ldapdir.PolicyModNotAllowed:         "refusal.directory.mod_not_allowed",
	ldapdir.PolicyAccountLocked:         "refusal.directory.account_locked",
	ldapdir.PolicyPasswordExpired:       "refusal.directory.expired",
	ldapdir.PolicyChangeAfterReset:      "refusal.directory.change_after_reset",
	ldapdir.PolicyMustSupplyOldPassword: "refusal.directory.old_password",
}

// refusal is the message a person reads, in their language.
func (e *DirectoryRefusedError) refusal() error {
	id, ok := directoryRefusals[e.Reason]
	if !ok {
		id = directoryRefusals[ldapdir.PolicyUnknown]
	}
	return locale.Errorf(ErrNotAllowed, id, nil)
}

// Error returns the refusal in English as a lower-case clause.
func (e *DirectoryRefusedError) Error() string { return clause(e.Sentence()) }

// Sentence returns the refusal as a sentence to show in English,
// capitalised and ending in a full stop.
func (e *DirectoryRefusedError) Sentence() string {
	var le *locale.Error
	errors.As(e.refusal(), &le)
	return le.In(locale.Embedded().Source())
}

// Unwrap makes errors.Is(err, ErrNotAllowed) true, ErrPasswordRejected for
// refusals of the password itself, and reaches the directory's own error.
func (e *DirectoryRefusedError) Unwrap() []error {
	// The refusal unwraps to ErrNotAllowed, and screens write it with In.
	out := []error{e.refusal()}
	switch e.Reason {
	case ldapdir.PolicyAccountLocked, ldapdir.PolicyPasswordExpired, ldapdir.PolicyChangeAfterReset,
		ldapdir.PolicyModNotAllowed, ldapdir.PolicyMustSupplyOldPassword:
	default:
		out = append(out, ErrPasswordRejected)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

// LDAPOptions tune the LDAP directory.
type LDAPOptions struct {
	// PrefillContacts passes the directory's mail and mobile on to sspr's
	// record of a person, where the registration screens suggest them and
	// notifications may use the mail. They count as methods only once
	// verified by a code.
	PrefillContacts bool
	// Faults hears of the directory's failures: out of reach, refusing the
	// service account, refusing sspr access. Nil logs nothing.
	Faults *Faults
}

// LDAPDirectory keeps passwords in an LDAP directory (OpenLDAP, Active
// Directory); registrations, policy and audit stay in sspr's store.
type LDAPDirectory struct {
	client *ldapdir.Client
	opts   LDAPOptions
}

var _ Directory = (*LDAPDirectory)(nil)

// NewLDAPDirectory returns the Directory backed by client.
func NewLDAPDirectory(client *ldapdir.Client, opts LDAPOptions) *LDAPDirectory {
	return &LDAPDirectory{client: client, opts: opts}
}

// CheckBind binds as the service account once, for the check at start: an
// error wrapping ldapdir.ErrServiceBind means the directory refused the
// bind DN or password, one wrapping ldapdir.ErrUnavailable that it could not
// be reached.
func (d *LDAPDirectory) CheckBind(ctx context.Context) error { return d.client.CheckBind(ctx) }

// Close closes the client's pooled connections.
func (d *LDAPDirectory) Close() error { return d.client.Close() }

// Lookup finds a user in the directory. Values from the directory are
// screened: a display name loses control and bidi characters, a mail or
// mobile that is not a valid address or E.164 number is left out. A display
// name keeps characters a reader cannot see (zero-width, soft hyphen, piles
// of marks), which ValidateDisplayName would refuse: sspr does not own the
// directory and must not turn its people away, and the screens show such
// characters written out ("Gr<U+200B>ace"), so the name cannot pose as another.
func (d *LDAPDirectory) Lookup(ctx context.Context, username string) (DirectoryUser, error) {
	e, err := d.client.Lookup(ctx, username)
	if err != nil {
		return DirectoryUser{}, d.mapError("look up user", err)
	}
	name := NormaliseUsername(e.Username)
	if ValidateUsername(name) != nil {
		// The directory's name is not one sspr can hold; the name the
		// filter matched is.
		name = NormaliseUsername(username)
	}
	u := DirectoryUser{Username: name, DisplayName: cleanDisplayName(e.DisplayName), Disabled: e.Disabled,
		Groups: e.Groups, SSHKeys: e.SSHKeys}
	if d.opts.PrefillContacts {
		if ValidateEmail(e.Mail) == nil {
			u.Email = e.Mail
		}
		if phone := NormalisePhone(e.Mobile); ValidatePhone(phone) == nil {
			u.Phone = phone
		}
	}
	return u, nil
}

// cleanDisplayName drops unsafe runes (controls, bidi) and bounds the length.
func cleanDisplayName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if isUnsafeRune(r) {
			return -1
		}
		return r
	}, s)
	s = collapseSpaces(s)
	if utf8.RuneCountInString(s) > MaxDisplayNameLength {
		s = string([]rune(s)[:MaxDisplayNameLength])
	}
	return s
}

// CheckPassword binds as the user. A directory that is down is an error,
// never false, so the attempt is not counted against the person; so is a
// right password that has expired (a DirectoryRefusedError).
func (d *LDAPDirectory) CheckPassword(ctx context.Context, username, password string) (bool, error) {
	ok, err := d.client.CheckPassword(ctx, username, password)
	if err != nil {
		return false, d.mapError("check password", err)
	}
	return ok, nil
}

// SetPassword writes the new password to the directory before the store
// records it: an error here rolls the record back. A change (change.Old set)
// binds as the user with the old password; a reset uses the service account.
// The directory's own policy may still refuse (DirectoryRefusedError).
func (d *LDAPDirectory) SetPassword(ctx context.Context, _ Tx, username string, change PasswordChange) error {
	err := d.client.SetPassword(ctx, username, ldapdir.PasswordChange{Old: change.Old, New: change.New,
		Temporary: change.Temporary})
	if errors.Is(err, ldapdir.ErrStillLocked) {
		// The password is set, so its record must stand; the lockout ends
		// when the directory's lockout duration does, or when someone with
		// the right unlocks the account. The admin reads why.
		d.opts.Faults.Report("directory unlock after reset", err)
		return nil
	}
	if err != nil {
		return d.mapError("set password", err)
	}
	return nil
}

var _ Locker = (*LDAPDirectory)(nil)

// Unlock lifts the directory's lockout of the account (ppolicy's
// pwdAccountLockedTime, Active Directory's lockoutTime), as the service
// account; the directory writes it before the store records it. A refusal
// is ErrUnlockRefused for the person, and the precise reason (the attribute,
// a protected account) goes to the fault log for the admin.
func (d *LDAPDirectory) Unlock(ctx context.Context, _ Tx, username string) (bool, error) {
	unlocked, err := d.client.Unlock(ctx, username)
	if err != nil {
		return false, d.mapError("unlock", err)
	}
	return unlocked, nil
}

// GroupMembers lists the usernames of a directory group's direct members;
// ErrNotFound for a group the directory does not have.
func (d *LDAPDirectory) GroupMembers(ctx context.Context, group string) ([]string, error) {
	members, err := d.client.GroupMembers(ctx, group)
	if errors.Is(err, ldapdir.ErrNoSuchGroup) {
		return nil, fmt.Errorf("group %q: %w", printable(group), ErrNotFound)
	}
	if err != nil {
		return nil, d.mapError("group members", err)
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		if n := NormaliseUsername(m); ValidateUsername(n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// IsMember reports whether the user is directly in the directory group.
func (d *LDAPDirectory) IsMember(ctx context.Context, username, group string) (bool, error) {
	ok, err := d.client.IsMember(ctx, username, group)
	if err != nil {
		return false, d.mapError("is member", err)
	}
	return ok, nil
}

// mapError turns the client's errors into the flows' own, and reports the
// directory's failures (not the answers about a person) to the fault log.
func (d *LDAPDirectory) mapError(op string, err error) error {
	var pe *ldapdir.PolicyError
	switch {
	case errors.Is(err, ldapdir.ErrNoSuchUser):
		return ErrUnknownUser
	case errors.Is(err, ldapdir.ErrAmbiguousUser):
		// The user filter is too wide: the operator's to fix.
		d.opts.Faults.Report("directory "+op, err)
		return ErrUnknownUser
	case errors.As(err, &pe):
		return &DirectoryRefusedError{Reason: pe.Reason, cause: err}
	case errors.Is(err, ldapdir.ErrUnlockRefused):
		d.opts.Faults.Report("directory "+op, err)
		return fmt.Errorf("%s: %w", op, ErrUnlockRefused)
	case errors.Is(err, ldapdir.ErrInvalidCredentials):
		return fmt.Errorf("directory: %w", ErrBadCredentials)
	case errors.Is(err, context.Canceled):
		return err
	}
	d.opts.Faults.Report("directory "+op, err)
	if errors.Is(err, ldapdir.ErrUnavailable) || errors.Is(err, ldapdir.ErrServiceBind) || errors.Is(err, ldapdir.ErrClosed) {
		return fmt.Errorf("%s: %w: %w", op, ErrDirectoryUnavailable, err)
	}
	return fmt.Errorf("%s: directory: %w", op, err)
}
