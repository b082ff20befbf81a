package ldapdir

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Attributes the expiry of a password is read from.
const (
	// attrPwdChangedTime and attrPwdPolicySubentry are OpenLDAP ppolicy's
	// operational attributes of a user: when the password was set, and the
	// policy that applies when it is not the server's default.
	attrPwdChangedTime    = "pwdChangedTime"
	attrPwdPolicySubentry = "pwdPolicySubentry"
	attrCreateTimestamp   = "createTimestamp"
	// attrPwdMaxAge is the policy's maximum age, in seconds; 0 or absent is none.
	attrPwdMaxAge = "pwdMaxAge"
	// attrADExpiry is Active Directory's constructed expiry time (a
	// FILETIME), which already applies the domain policy, fine-grained
	// password policies and "password never expires". It is only returned
	// when asked for by name.
	attrADExpiry = "msDS-UserPasswordExpiryTimeComputed"
	// attrADPwdLastSet is when the password was set (a FILETIME); 0 means
	// it must be changed at the next sign-in.
	attrADPwdLastSet = "pwdLastSet"
)

// Expiry is what a directory says of a password's age.
type Expiry struct {
	// ChangedAt is when the password was set; zero when the directory
	// does not say.
	ChangedAt time.Time
	// ExpiresAt is when it stops working; zero when it never does.
	ExpiresAt time.Time
}

// PasswordExpiry reads when a user's password was set and when it expires.
// OpenLDAP: pwdChangedTime (or the entry's createTimestamp, as ppolicy
// does) plus pwdMaxAge of the user's pwdPolicySubentry or, without one,
// of Config.PasswordPolicyDN, the server's ppolicy_default, which a client
// cannot read from the server. Active Directory:
// msDS-UserPasswordExpiryTimeComputed and pwdLastSet.
func (c *Client) PasswordExpiry(ctx context.Context, username string) (Expiry, error) {
	if !validName(username) {
		return Expiry{}, ErrNoSuchUser
	}
	var ex Expiry
	err := c.withService(ctx, func(conn *ldap.Conn) error {
		var err error
		ex, err = c.passwordExpiry(conn, username)
		return err
	})
	return ex, err
}

func (c *Client) passwordExpiry(conn *ldap.Conn, username string) (Expiry, error) {
	attrs := []string{attrPwdChangedTime, attrPwdPolicySubentry, attrCreateTimestamp}
	if c.cfg.WriteMode == WriteAD {
		attrs = []string{attrADExpiry, attrADPwdLastSet}
	}
	e, err := c.userEntry(conn, "read password expiry", username, attrs)
	if err != nil {
		return Expiry{}, err
	}
	if c.cfg.WriteMode == WriteAD {
		return adExpiry(e.GetAttributeValue(attrADExpiry), e.GetAttributeValue(attrADPwdLastSet))
	}
	var ex Expiry
	changed := e.GetAttributeValue(attrPwdChangedTime)
	if changed == "" {
		changed = e.GetAttributeValue(attrCreateTimestamp)
	}
	if changed == "" {
		// Without a time to count from, the directory cannot expire it either.
		return ex, nil
	}
	if ex.ChangedAt, err = ber.ParseGeneralizedTime([]byte(changed)); err != nil {
		return Expiry{}, fmt.Errorf("ldap: %s %q of %s: %w", attrPwdChangedTime, changed, e.DN, err)
	}
	policyDN := e.GetAttributeValue(attrPwdPolicySubentry)
	if policyDN == "" {
		policyDN = c.cfg.PasswordPolicyDN
	}
	if policyDN == "" {
		return ex, nil
	}
	maxAge, err := c.policyMaxAge(conn, policyDN)
	if err != nil {
		return Expiry{}, err
	}
	if maxAge > 0 {
		ex.ExpiresAt = ex.ChangedAt.Add(maxAge)
	}
	return ex, nil
}

// policyMaxAge reads pwdMaxAge of a ppolicy entry; 0 when it has none.
func (c *Client) policyMaxAge(conn *ldap.Conn, dn string) (time.Duration, error) {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, c.timeLimit(), false,
		"(objectClass=*)", []string{attrPwdMaxAge}, nil)
	res, err := conn.Search(req)
	if err != nil {
		return 0, c.searchError("read password policy "+dn, err)
	}
	if len(res.Entries) != 1 {
		return 0, fmt.Errorf("ldap: password policy %s: %d entries", dn, len(res.Entries))
	}
	v := res.Entries[0].GetAttributeValue(attrPwdMaxAge)
	if v == "" {
		return 0, nil
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || secs < 0 || secs > math.MaxInt64/int64(time.Second) {
		return 0, fmt.Errorf("ldap: %s %q of %s is not a number of seconds", attrPwdMaxAge, v, dn)
	}
	return time.Duration(secs) * time.Second, nil
}

// adExpiry reads Active Directory's two FILETIME values. An expiry of 0 or
// the largest value means the password does not expire (never expires,
// no maximum age, or must be changed at the next sign-in, which is not
// expiry but a temporary password).
func adExpiry(expiry, lastSet string) (Expiry, error) {
	var ex Expiry
	if lastSet != "" {
		t, err := ParseFileTime(lastSet)
		if err != nil {
			return Expiry{}, fmt.Errorf("ldap: %s: %w", attrADPwdLastSet, err)
		}
		ex.ChangedAt = t
	}
	if expiry != "" {
		t, err := ParseFileTime(expiry)
		if err != nil {
			return Expiry{}, fmt.Errorf("ldap: %s: %w", attrADExpiry, err)
		}
		ex.ExpiresAt = t
	}
	return ex, nil
}

// fileTimeEpoch is 1601-01-01 UTC in Unix seconds; a FILETIME counts 100 ns
// intervals from it.
const fileTimeEpoch = -11644473600

// ParseFileTime reads a Windows FILETIME written in decimal, as Active
// Directory stores times. 0 and the largest value (never) give the zero time.
func ParseFileTime(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%q is not a FILETIME", s)
	}
	if n == 0 || n == math.MaxInt64 {
		return time.Time{}, nil
	}
	return time.Unix(fileTimeEpoch+n/1e7, (n%1e7)*100).UTC(), nil
}

// FileTime writes t as Active Directory's FILETIME; the zero time is 0.
func FileTime(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt((t.Unix()-fileTimeEpoch)*1e7+int64(t.Nanosecond()/100), 10)
}
