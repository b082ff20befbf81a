package ldapdir

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"
)

// Attributes that hold a lockout for failed binds.
const (
	// AttrPPolicyLocked is OpenLDAP ppolicy's lock; deleting it also
	// forgets the failed binds (pwdFailureTime) that led to it.
	AttrPPolicyLocked = "pwdAccountLockedTime"
	// AttrADLockoutTime is Active Directory's lockout; 0 lifts it.
	AttrADLockoutTime = "lockoutTime"
)

// ErrUnlockRefused means the directory refused to lift a lockout: the
// service account may not write the lockout attribute, or, in Active
// Directory, the account is protected (adminCount=1), so AdminSDHolder's
// rights apply to it instead of the ones delegated to the service account.
var ErrUnlockRefused = errors.New("ldap: the directory refused to unlock the account")

// UnlockRefusedError is ErrUnlockRefused with what was refused, for the
// admin's log.
type UnlockRefusedError struct {
	// DN is the account's entry.
	DN string
	// Attribute is the lockout attribute the service account tried to write.
	Attribute string
	// Protected is set for an Active Directory account with adminCount=1.
	Protected bool
	cause     error
}

// Error returns the error as one sentence, precise enough for an admin.
func (e *UnlockRefusedError) Error() string {
	if e.Protected {
		return fmt.Sprintf("ldap: unlock %s: the account is protected (adminCount=1): AdminSDHolder's rights apply to it, "+
			"not those delegated to the service account, so it cannot write %s: %v", e.DN, e.Attribute, e.cause)
	}
	return fmt.Sprintf("ldap: unlock %s: the service account has no right to write %s: %v", e.DN, e.Attribute, e.cause)
}

// Unwrap makes errors.Is(err, ErrUnlockRefused) and errors.Is(err, ErrAccess) true.
func (e *UnlockRefusedError) Unwrap() []error { return []error{ErrUnlockRefused, ErrAccess, e.cause} }

// Unlock lifts a lockout for failed binds, as the service account: it
// deletes OpenLDAP's pwdAccountLockedTime, or sets Active Directory's
// lockoutTime to 0, and leaves the password as it is. It reports whether
// the account was locked out. An account an administrator locked for good
// (Entry.Disabled) is not lifted and reports false. A refusal is an
// *UnlockRefusedError.
func (c *Client) Unlock(ctx context.Context, username string) (bool, error) {
	e, err := c.findUser(ctx, username)
	if err != nil {
		return false, err
	}
	if !e.Locked || e.Disabled {
		return false, nil
	}
	if err := c.bindRefused(); err != nil {
		return false, err
	}
	var unlocked bool
	err = c.withOwn(ctx, func(conn *ldap.Conn) error {
		if err := c.bindService(ctx, conn); err != nil {
			return err
		}
		var err error
		unlocked, err = c.unlock(conn, e)
		return err
	})
	return unlocked, err
}

// unlock writes the unlock of e on conn, bound as the service account. It
// reports false when another writer lifted the lockout first.
func (c *Client) unlock(conn *ldap.Conn, e Entry) (bool, error) {
	req := ldap.NewModifyRequest(e.DN, nil)
	attr := AttrPPolicyLocked
	if c.cfg.WriteMode == WriteAD {
		attr = AttrADLockoutTime
		req.Replace(attr, []string{"0"})
	} else {
		req.Delete(attr, nil)
	}
	err := conn.Modify(req)
	switch {
	case err == nil:
		return true, nil
	case isConnError(err):
		return false, unavailable(err)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute):
		return false, nil
	case isAccess(err) || ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform) && e.Protected:
		return false, &UnlockRefusedError{DN: e.DN, Attribute: attr, Protected: e.Protected, cause: err}
	}
	return false, fmt.Errorf("ldap: unlock %s: write %s: %w", e.DN, attr, err)
}
