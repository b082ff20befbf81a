package flows

import (
	"net/url"
)

// otpauthURI builds the key URI for authenticator apps. The algorithm, digits
// and period are the defaults every app assumes, so they are left out: a
// shorter URI makes a smaller QR code that fits an 80×24 terminal.
func otpauthURI(issuer, account, secretB32 string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", secretB32)
	q.Set("issuer", issuer)
	return "otpauth://totp/" + label + "?" + q.Encode()
}
