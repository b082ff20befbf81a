package ldapdir

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// OIDs of the requests and controls used for passwords.
const (
	passwordModifyOID = "1.3.6.1.4.1.4203.1.11.1"
	// adPolicyHintsOID asks Active Directory to apply the password history
	// and minimum age to a reset by an administrator as well (Windows
	// Server 2012 R2 and later; ignored where unknown, as it is not critical).
	adPolicyHintsOID = "1.2.840.113556.1.4.2239"
)

// CheckPassword binds as the user on a connection of its own. It returns
// true when the password is right, including when the directory wants it
// changed now (the user may go on to change it); false when it is not
// right, when the account is locked, and for an unknown user, who costs a
// bind of a name that does not exist so that timing does not tell. A
// password that is right but expired is a *PolicyError with
// PolicyPasswordExpired. A directory that cannot be reached is
// ErrUnavailable, never false.
func (c *Client) CheckPassword(ctx context.Context, username, password string) (bool, error) {
	if password == "" {
		// An empty password is an unauthenticated bind, which succeeds.
		return false, nil
	}
	// The same searches and binds for a known and an unknown user.
	e, err := c.findUser(ctx, username)
	if errors.Is(err, ErrNoSuchUser) || errors.Is(err, ErrAmbiguousUser) {
		return false, c.dummyBind(ctx, password)
	}
	if err != nil {
		return false, err
	}
	var ok bool
	err = c.withOwn(ctx, func(conn *ldap.Conn) error {
		ok, err = c.userBind(conn, e.DN, password)
		return err
	})
	if err != nil {
		return false, err
	}
	return ok, nil
}

// userBind binds conn as dn. It reports whether the password is right;
// errors are for connections and for a right but expired password.
func (c *Client) userBind(conn *ldap.Conn, dn, password string) (bool, error) {
	res, err := conn.SimpleBind(ldap.NewSimpleBindRequest(dn, password,
		[]ldap.Control{ldap.NewControlBeheraPasswordPolicy()}))
	if err == nil {
		return true, nil
	}
	if isConnError(err) {
		return false, unavailable(err)
	}
	var controls []ldap.Control
	if res != nil {
		controls = res.Controls
	}
	switch ppolicyOf(controls) {
	case ldap.BeheraPasswordExpired:
		// OpenLDAP says so only after checking the password.
		return false, &PolicyError{Reason: PolicyPasswordExpired, ResultCode: ldap.LDAPResultInvalidCredentials}
	case ldap.BeheraChangeAfterReset:
		return true, nil
	}
	switch bindADCode(err) {
	case adMustChange:
		return true, nil
	case adPasswordExpired:
		return false, &PolicyError{Reason: PolicyPasswordExpired, ResultCode: ldap.LDAPResultInvalidCredentials}
	}
	if ldap.IsErrorAnyOf(err, ldap.LDAPResultInvalidCredentials, ldap.LDAPResultUnwillingToPerform,
		ldap.LDAPResultInappropriateAuthentication, ldap.LDAPResultInvalidDNSyntax) {
		return false, nil
	}
	return false, fmt.Errorf("ldap: bind: %w", err)
}

// dummyBind spends a bind on a name that does not exist, for unknown users.
func (c *Client) dummyBind(ctx context.Context, password string) error {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	dn := "cn=sspr-nobody-" + hex.EncodeToString(b) + "," + c.cfg.BaseDN
	return c.withOwn(ctx, func(conn *ldap.Conn) error {
		_, err := c.userBind(conn, dn, password)
		if errors.Is(err, ErrUnavailable) {
			return err
		}
		return nil
	})
}

// SetPassword writes a new password. With ch.Old it is a change: the user
// binds with the old password on a connection of their own, which proves
// it, and the write runs as the user, under the directory's rules for users.
// Without ch.Old it is a reset by the service account.
//
// The directory's password policy is the final judge: a refusal is a
// *PolicyError. A wrong old password is ErrInvalidCredentials. A reset
// that set the password but could not unlock the account returns an error
// wrapping ErrStillLocked, the one error after which the password is set. In ad mode
// the password never goes over a connection that is not encrypted
// (ErrInsecure).
func (c *Client) SetPassword(ctx context.Context, username string, ch PasswordChange) error {
	if ch.New == "" {
		return errors.New("ldap: the new password is empty")
	}
	e, err := c.findUser(ctx, username)
	if err != nil {
		return err
	}
	if ch.Old != "" {
		return c.change(ctx, e, ch)
	}
	return c.reset(ctx, e, ch)
}

func (c *Client) change(ctx context.Context, e Entry, ch PasswordChange) error {
	err := c.withOwn(ctx, func(conn *ldap.Conn) error {
		if err := c.requireSecure(conn); err != nil {
			return err
		}
		res, err := conn.SimpleBind(ldap.NewSimpleBindRequest(e.DN, ch.Old,
			[]ldap.Control{ldap.NewControlBeheraPasswordPolicy()}))
		if err != nil {
			var controls []ldap.Control
			if res != nil {
				controls = res.Controls
			}
			return c.changeBindError(ctx, err, controls, e, ch)
		}
		// The bind may carry changeAfterReset: a password change is the one
		// thing the user may still do.
		return c.writeAsUser(conn, e, ch)
	})
	return err
}

// changeBindError explains a failed bind with the old password. Active
// Directory refuses the bind of an expired or must-change password that is
// right; the change itself (delete the old value, add the new) still proves
// the old password, so it runs on a service connection.
func (c *Client) changeBindError(ctx context.Context, err error, controls []ldap.Control, e Entry, ch PasswordChange) error {
	if isConnError(err) {
		return unavailable(err)
	}
	switch ppolicyOf(controls) {
	case ldap.BeheraAccountLocked:
		return &PolicyError{Reason: PolicyAccountLocked, ResultCode: ldap.LDAPResultInvalidCredentials}
	case ldap.BeheraPasswordExpired:
		return &PolicyError{Reason: PolicyPasswordExpired, ResultCode: ldap.LDAPResultInvalidCredentials}
	}
	if c.cfg.WriteMode == WriteAD {
		switch bindADCode(err) {
		case adMustChange, adPasswordExpired:
			return c.withOwn(ctx, func(conn *ldap.Conn) error {
				if err := c.requireSecure(conn); err != nil {
					return err
				}
				if err := c.bindService(ctx, conn); err != nil {
					return err
				}
				return c.writeAsUser(conn, e, ch)
			})
		case adAccountLocked:
			return &PolicyError{Reason: PolicyAccountLocked, ResultCode: ldap.LDAPResultInvalidCredentials}
		}
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		return ErrInvalidCredentials
	}
	return fmt.Errorf("ldap: bind with the current password: %w", err)
}

// writeAsUser writes a change on conn, whose bind proved the old password.
func (c *Client) writeAsUser(conn *ldap.Conn, e Entry, ch PasswordChange) error {
	var err error
	if c.cfg.WriteMode == WriteAD {
		req := ldap.NewModifyRequest(e.DN, nil)
		req.Delete("unicodePwd", []string{EncodeUnicodePwd(ch.Old)})
		req.Add("unicodePwd", []string{EncodeUnicodePwd(ch.New)})
		err = conn.Modify(req)
		if err != nil && isADInvalidPassword(err) {
			return ErrInvalidCredentials
		}
	} else {
		err = passwordModify(conn, e.DN, ch.Old, ch.New)
	}
	return writeError(err)
}

func (c *Client) reset(ctx context.Context, e Entry, ch PasswordChange) error {
	if err := c.bindRefused(); err != nil {
		return err
	}
	return c.withOwn(ctx, func(conn *ldap.Conn) error {
		if err := c.requireSecure(conn); err != nil {
			return err
		}
		if err := c.bindService(ctx, conn); err != nil {
			return err
		}
		if c.cfg.WriteMode == WriteAD {
			req := ldap.NewModifyRequest(e.DN, []ldap.Control{adPolicyHints()})
			req.Replace("unicodePwd", []string{EncodeUnicodePwd(ch.New)})
			if ch.Temporary {
				req.Replace("pwdLastSet", []string{"0"})
			}
			if err := writeError(conn.Modify(req)); err != nil {
				return err
			}
			return c.unlockAfterReset(conn, e)
		}
		if err := writeError(passwordModify(conn, e.DN, "", ch.New)); err != nil {
			return err
		}
		stillLocked := c.unlockAfterReset(conn, e)
		// ppolicy marks a password set by someone else as one to change at
		// the next bind (pwdMustChange). A reset the person did themselves
		// is not that, unless the caller says so. Best effort when clearing:
		// the password is set either way.
		mark := ldap.NewModifyRequest(e.DN, nil)
		if ch.Temporary {
			mark.Replace("pwdReset", []string{"TRUE"})
			if err := conn.Modify(mark); err != nil {
				return fmt.Errorf("ldap: the password is set, but marking it temporary failed: %w", err)
			}
			return stillLocked
		}
		mark.Delete("pwdReset", nil)
		_ = conn.Modify(mark)
		return stillLocked
	})
}

// ErrStillLocked means a reset set the password but could not lift the
// account's lockout: the password is the new one, and the account stays
// locked out until its lockout ends or someone with the right unlocks it.
var ErrStillLocked = errors.New("ldap: the password is set, but the account is still locked out")

// unlockAfterReset lifts the lockout of e, if any, after a reset set its
// password: a lockout for failed binds ends with a reset; a lock for good
// by an administrator (Disabled) stays. A refusal is an error wrapping
// ErrStillLocked and the refusal.
func (c *Client) unlockAfterReset(conn *ldap.Conn, e Entry) error {
	if !e.Locked || e.Disabled {
		return nil
	}
	if _, err := c.unlock(conn, e); err != nil {
		return fmt.Errorf("%w: %w", ErrStillLocked, err)
	}
	return nil
}

// requireSecure refuses to send a password on a connection that is not
// encrypted in ad mode (plain connections are allowed to loopback only, in
// passwd mode).
func (c *Client) requireSecure(conn *ldap.Conn) error {
	if c.cfg.WriteMode != WriteAD {
		return nil
	}
	if _, ok := conn.TLSConnectionState(); !ok {
		return ErrInsecure
	}
	return nil
}

// passwordModify runs the RFC 3062 operation with the password policy
// request control, so that OpenLDAP says why it refuses.
func passwordModify(conn *ldap.Conn, dn, oldPassword, newPassword string) error {
	value := ber.Encode(ber.ClassContext, ber.TypePrimitive, 1, nil, "Extended Request Value: Password Modify Request")
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Password Modify Request")
	seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, dn, "User Identity"))
	if oldPassword != "" {
		seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 1, oldPassword, "Old Password"))
	}
	seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 2, newPassword, "New Password"))
	value.AppendChild(seq)
	req := ldap.NewExtendedRequest(passwordModifyOID, value)
	req.Controls = []ldap.Control{ldap.NewControlBeheraPasswordPolicy()}
	_, err := conn.Extended(req)
	return err
}

// writeError classifies a failed password write.
func writeError(err error) error {
	if err == nil {
		return nil
	}
	if isConnError(err) {
		return unavailable(err)
	}
	if pe := policyError(err); pe != nil {
		return pe
	}
	if isAccess(err) {
		if ldap.IsErrorAnyOf(err, ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired) {
			return fmt.Errorf("%w: %w", ErrInsecure, err)
		}
		return fmt.Errorf("%w: write the password: %w", ErrAccess, err)
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform) {
		// Active Directory's answer to unicodePwd on a plain connection, and
		// OpenLDAP's to an old password that does not match.
		return fmt.Errorf("ldap: the directory is unwilling to set this password: %w", err)
	}
	return fmt.Errorf("ldap: write the password: %w", err)
}

// isADInvalidPassword reports Active Directory's "the old password is not
// right" answer to a change (ERROR_INVALID_PASSWORD).
func isADInvalidPassword(err error) bool {
	var le *ldap.Error
	if !errors.As(err, &le) || le.Err == nil {
		return false
	}
	msg := le.Err.Error()
	return len(msg) >= len(adInvalidPassword) && strings.EqualFold(msg[:len(adInvalidPassword)], adInvalidPassword)
}

// EncodeUnicodePwd encodes a password for Active Directory's unicodePwd:
// the password in double quotes, as UTF-16 little-endian.
func EncodeUnicodePwd(password string) string {
	units := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return string(b)
}

// adPolicyHints is LDAP_SERVER_POLICY_HINTS: a SEQUENCE holding flags = 1.
func adPolicyHints() ldap.Control {
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Policy Hints")
	seq.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "Flags"))
	return ldap.NewControlString(adPolicyHintsOID, false, string(seq.Bytes()))
}
