package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode"
)

const (
	// RecoveryAlphabet is the alphabet of recovery codes and vouchers: digits
	// and upper-case letters without 0/O, 1/I/L, which are misread when
	// copied from paper or read out over the phone.
	RecoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

	decimalDigits = "0123456789"

	// voucherLen characters of a 31-symbol alphabet carry 26 × log2(31) ≈
	// 128.8 bits, the minimum SECURITY.md asks for.
	voucherLen   = 26
	voucherGroup = 4

	tokenBytes = 16
)

// Equal reports whether a and b are equal in time that depends only on their
// lengths, so a mismatch position cannot be learnt by timing.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// NumericCode returns digits uniformly random decimal digits (leading zeros
// included), for codes sent by email or text message.
func NumericCode(digits int) (string, error) {
	code, err := pick(rand.Reader, decimalDigits, digits)
	if err != nil {
		return "", fmt.Errorf("numeric code: %w", err)
	}
	return code, nil
}

// RecoveryCode returns length characters drawn uniformly from
// RecoveryAlphabet.
func RecoveryCode(length int) (string, error) {
	code, err := pick(rand.Reader, RecoveryAlphabet, length)
	if err != nil {
		return "", fmt.Errorf("recovery code: %w", err)
	}
	return code, nil
}

// NormaliseRecoveryCode returns s the way recovery codes are stored and
// compared: upper-case, without spaces or dashes (of any Unicode kind, since
// codes get pasted from documents that turn "-" into "–").
func NormaliseRecoveryCode(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// Voucher returns a helpdesk voucher of at least 128 bits: 26 characters of
// RecoveryAlphabet shown in dash-separated groups of 4, easy to read out over
// the phone. Compare vouchers after NormaliseVoucher.
func Voucher() (string, error) {
	v, err := pick(rand.Reader, RecoveryAlphabet, voucherLen)
	if err != nil {
		return "", fmt.Errorf("voucher: %w", err)
	}
	var b strings.Builder
	for i := 0; i < len(v); i += voucherGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(v[i:min(i+voucherGroup, len(v))])
	}
	return b.String(), nil
}

// NormaliseVoucher returns s the way vouchers are stored and compared: the
// same rules as NormaliseRecoveryCode, so the grouping and case the user
// types in do not matter.
func NormaliseVoucher(s string) string {
	return NormaliseRecoveryCode(s)
}

// Token returns a random 128-bit URL-safe identifier (22 characters), for
// challenge and flow ids that must not be guessable.
func Token() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// pick returns n characters of alphabet (at most 256 single-byte characters)
// chosen uniformly with bytes from r. Bytes at or above the largest multiple
// of len(alphabet) are discarded rather than reduced modulo: otherwise the
// first 256 % len(alphabet) characters would come up more often.
func pick(r io.Reader, alphabet string, n int) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("%w: %d", ErrInvalidLength, n)
	}
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		// Read only what is still missing; rejections are rare, so this
		// rarely loops.
		chunk := buf[:n-len(out)]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, c := range chunk {
			if int(c) < limit {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
