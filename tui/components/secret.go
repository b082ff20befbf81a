package components

import (
	"strings"

	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// maskDots stands for the hidden part of an address or a number. It always
// has the same length, so that the mask does not give away how long the
// hidden part is.
// GroupSecret formats a base32 secret in groups of four characters, which
// is how a person reads it aloud or types it into an authenticator app by
// hand: "JBSWY3DPEHPK3PXP" becomes "JBSW Y3DP EHPK 3PXP". Existing spaces,
// hyphens and "=" padding are dropped (authenticator apps do not want the
// padding), letters are upper-cased, and the secret is sanitised first.
func GroupSecret(secret string) string {
	var clean []rune
	for _, r := range strings.ToUpper(sanitize.String(secret)) {
		if r == ' ' || r == '-' || r == '=' {
			continue
		}
		clean = append(clean, r)
	}
	var b strings.Builder
	for i, r := range clean {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
