package ldapdir

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Errors the client returns; test them with errors.Is.
var (
	// ErrUnavailable means the directory could not be reached or did not
	// answer in time. Nothing was changed by the failed operation.
	ErrUnavailable = errors.New("ldap: directory unavailable")
	// ErrServiceBind means the service account could not bind: a wrong
	// bind DN or password, or an account the directory refuses.
	ErrServiceBind = errors.New("ldap: the service account could not bind")
	// ErrNoSuchUser means the user filter matched no entry.
	ErrNoSuchUser = errors.New("ldap: no such user")
	// ErrAmbiguousUser means the user filter matched more than one entry.
	ErrAmbiguousUser = errors.New("ldap: the user filter matched more than one entry")
	// ErrNoSuchGroup means the group filter matched no entry.
	ErrNoSuchGroup = errors.New("ldap: no such group")
	// ErrInvalidCredentials means a user's password (the current one, for a
	// change) is not right.
	ErrInvalidCredentials = errors.New("ldap: invalid credentials")
	// ErrInsecure means a password would cross the network unencrypted.
	ErrInsecure = errors.New("ldap: refusing to send a password over an unencrypted connection")
	// ErrAccess means the directory refused the service account an operation
	// it needs (search, password write): an access-control problem.
	ErrAccess = errors.New("ldap: the directory refused access")
	// ErrClosed means the client was closed.
	ErrClosed = errors.New("ldap: client closed")
)

// PolicyReason is why a directory's password policy refused something.
type PolicyReason int

// The reasons follow the password policy draft (draft-behera-ldap-password-
// policy, as OpenLDAP's ppolicy overlay answers) plus Active Directory's own.
const (
	// PolicyUnknown is a constraint violation the directory did not explain.
	PolicyUnknown PolicyReason = iota
	// PolicyPasswordExpired: the current password has expired.
	PolicyPasswordExpired
	// PolicyAccountLocked: too many failed binds, or locked by an administrator.
	PolicyAccountLocked
	// PolicyChangeAfterReset: the password must be changed before anything else.
	PolicyChangeAfterReset
	// PolicyModNotAllowed: the user may not change their own password.
	PolicyModNotAllowed
	// PolicyMustSupplyOldPassword: the old password is required.
	PolicyMustSupplyOldPassword
	// PolicyInsufficientQuality: the password fails the quality checks.
	PolicyInsufficientQuality
	// PolicyPasswordTooShort: below the minimum length.
	PolicyPasswordTooShort
	// PolicyPasswordTooYoung: changed too recently to change again.
	PolicyPasswordTooYoung
	// PolicyPasswordInHistory: one of the recent passwords.
	PolicyPasswordInHistory
	// PolicyRestriction is Active Directory's one answer for length,
	// complexity, history and minimum age (ERROR_PASSWORD_RESTRICTION):
	// it does not say which.
	PolicyRestriction
)

var reasonNames = map[PolicyReason]string{
	PolicyUnknown:               "refused by the password policy",
	PolicyPasswordExpired:       "password expired",
	PolicyAccountLocked:         "account locked",
	PolicyChangeAfterReset:      "password must be changed after reset",
	PolicyModNotAllowed:         "password change not allowed",
	PolicyMustSupplyOldPassword: "old password required",
	PolicyInsufficientQuality:   "insufficient password quality",
	PolicyPasswordTooShort:      "password too short",
	PolicyPasswordTooYoung:      "password too young to change",
	PolicyPasswordInHistory:     "password in history",
	PolicyRestriction:           "password does not meet the length, complexity, history or minimum age rules",
}

// String describes the value for people.
func (r PolicyReason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("policy reason %d", int(r))
}

// PolicyError is a refusal by the directory's password policy. The
// directory is the final judge of a password: sspr's own rules run first,
// and this says what the directory still refused.
type PolicyError struct {
	Reason PolicyReason
	// ResultCode is the LDAP result code of the refusal.
	ResultCode uint16
	// Message is the directory's diagnostic message, for logs; never show it
	// to users as is.
	Message string
}

// Error returns the error as one sentence.
func (e *PolicyError) Error() string {
	if e.Message == "" {
		return "ldap: password policy: " + e.Reason.String()
	}
	return fmt.Sprintf("ldap: password policy: %s (%s)", e.Reason, e.Message)
}

// behera maps the ppolicy response control's error to a reason.
var behera = map[int8]PolicyReason{
	ldap.BeheraPasswordExpired:             PolicyPasswordExpired,
	ldap.BeheraAccountLocked:               PolicyAccountLocked,
	ldap.BeheraChangeAfterReset:            PolicyChangeAfterReset,
	ldap.BeheraPasswordModNotAllowed:       PolicyModNotAllowed,
	ldap.BeheraMustSupplyOldPassword:       PolicyMustSupplyOldPassword,
	ldap.BeheraInsufficientPasswordQuality: PolicyInsufficientQuality,
	ldap.BeheraPasswordTooShort:            PolicyPasswordTooShort,
	ldap.BeheraPasswordTooYoung:            PolicyPasswordTooYoung,
	ldap.BeheraPasswordInHistory:           PolicyPasswordInHistory,
}

// openldapTexts are OpenLDAP's diagnostic messages, for servers that answer
// without the response control.
var openldapTexts = []struct {
	text   string
	reason PolicyReason
}{
	{"password is in history", PolicyPasswordInHistory},
	{"not being changed from existing value", PolicyPasswordInHistory},
	{"password is too young", PolicyPasswordTooYoung},
	{"password is too short", PolicyPasswordTooShort},
	{"fails quality checking", PolicyInsufficientQuality},
	{"must supply old password", PolicyMustSupplyOldPassword},
	{"not allowed to change password", PolicyModNotAllowed},
	{"operations are restricted to bind/unbind/abandon/starttls/modify password", PolicyChangeAfterReset},
}

// adData finds Active Directory's "data NNN" code in a bind diagnostic.
var adData = regexp.MustCompile(`(?i)\bdata ([0-9a-f]{3,8})\b`)

// Active Directory's codes: in bind diagnostics ("data 775") and in
// modify diagnostics ("0000052D: ...").
const (
	adPasswordExpired = "532"
	adMustChange      = "773"
	adAccountLocked   = "775"
	// adRestriction starts ERROR_PASSWORD_RESTRICTION diagnostics.
	adRestriction = "0000052d"
	// adInvalidPassword starts ERROR_INVALID_PASSWORD diagnostics.
	adInvalidPassword = "00000056"
)

// bindADCode returns Active Directory's sub-code of a failed bind, or "".
func bindADCode(err error) string {
	var le *ldap.Error
	if !errors.As(err, &le) || le.Err == nil {
		return ""
	}
	m := adData.FindStringSubmatch(le.Err.Error())
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

// ppolicyOf returns the password policy response control's error in a
// response, or -1.
func ppolicyOf(controls []ldap.Control) int8 {
	c := ldap.FindControl(controls, ldap.ControlTypeBeheraPasswordPolicy)
	if pp, ok := c.(*ldap.ControlBeheraPasswordPolicy); ok {
		return pp.Error
	}
	return -1
}

// controlsOfError decodes the response controls carried by an LDAP error's
// packet: go-ldap drops them when an extended operation or a modify fails.
func controlsOfError(err error) []ldap.Control {
	var le *ldap.Error
	if !errors.As(err, &le) || le.Packet == nil || len(le.Packet.Children) < 3 {
		return nil
	}
	var out []ldap.Control
	for _, child := range le.Packet.Children[2].Children {
		if c, err := ldap.DecodeControl(child); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// policyError turns a refused password write into a PolicyError when it is
// one, or returns nil.
func policyError(err error) *PolicyError {
	var le *ldap.Error
	if !errors.As(err, &le) {
		return nil
	}
	msg := ""
	if le.Err != nil {
		msg = le.Err.Error()
	}
	if code := ppolicyOf(controlsOfError(err)); code >= 0 {
		if r, ok := behera[code]; ok {
			return &PolicyError{Reason: r, ResultCode: le.ResultCode, Message: msg}
		}
	}
	lower := strings.ToLower(msg)
	if strings.HasPrefix(lower, adRestriction) || strings.Contains(lower, "check_password_restrictions") {
		return &PolicyError{Reason: PolicyRestriction, ResultCode: le.ResultCode, Message: msg}
	}
	for _, t := range openldapTexts {
		if strings.Contains(lower, t.text) {
			return &PolicyError{Reason: t.reason, ResultCode: le.ResultCode, Message: msg}
		}
	}
	if le.ResultCode == ldap.LDAPResultConstraintViolation {
		return &PolicyError{Reason: PolicyUnknown, ResultCode: le.ResultCode, Message: msg}
	}
	return nil
}

// isConnError reports whether err means the connection or the server is
// gone, busy or too slow, rather than an answer to the request.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultConnectError, ldap.LDAPResultTimeout,
			ldap.LDAPResultUnavailable, ldap.LDAPResultBusy, ldap.ErrorUnexpectedMessage,
			ldap.ErrorUnexpectedResponse, ldap.ErrorMalformedPacket:
			return true
		}
		return false
	}
	var ne net.Error
	var re tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &re) || errors.As(err, &ve) ||
		errors.Is(err, context.DeadlineExceeded)
}

// unavailable wraps a connection-level failure in ErrUnavailable.
func unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// isAccess reports an access-control refusal.
func isAccess(err error) bool {
	return ldap.IsErrorAnyOf(err, ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultStrongAuthRequired,
		ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultInappropriateAuthentication)
}
