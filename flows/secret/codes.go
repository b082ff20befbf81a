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

	// VoucherLength is how many symbols of RecoveryAlphabet a voucher has:
	// four groups of four, short enough to read out on a phone call.
	//
	// Why 16 and not the 26 that SECURITY.md's 128 bits take: 26 symbols are
	// seven groups, too long to read out on a call without a slip. 16
	// symbols carry 16 × log2(31) ≈ 79.3 bits (31^16 ≈ 7.3e23 vouchers), and
	// guessing one is only possible online, where the throttles bound it:
	//   - a voucher is bound to one account (the store finds it by user and
	//     hash), so a guess is a proof for that account and counts against
	//     its 5 failed proofs per 24 h, after which it is blocked for 24 h;
	//   - a voucher lives at most 30 days (vouchers.lifetime), so one
	//     account sees at most 5 × 30 = 150 guesses: 150 / 7.3e23 ≈ 2e-22;
	//   - aimed at a million accounts, each with a live voucher, at once:
	//     1.5e8 / 7.3e23 ≈ 2e-16 (and the source throttle, 30 failures per
	//     5 minutes per source, slows that down further);
	//   - offline there is nothing to guess against: vouchers are stored as
	//     an HMAC under sspr.key, which never enters the database; even with
	//     the key as well, 2^79 HMACs at 1e10 a second take about two
	//     million years, against a voucher's 30 days at most.
	// So the account throttle is what the length leans on: it stays, and
	// vouchers stay single use.
	VoucherLength = 16
	voucherGroup  = 4
	// legacyVoucherLength is the length of vouchers issued before they were
	// shortened; they are still accepted until they expire.
	legacyVoucherLength = 26

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

// Voucher returns a helpdesk voucher: VoucherLength characters of
// RecoveryAlphabet (no 0/O, 1/I/L to mishear or misread) shown in
// dash-separated groups of 4, so it can be read out over the phone. See
// VoucherLength for why that is enough. Compare vouchers after
// NormaliseVoucher.
func Voucher() (string, error) {
	v, err := pick(rand.Reader, RecoveryAlphabet, VoucherLength)
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

// VoucherShaped reports whether a normalised voucher could be one: the
// right length and only RecoveryAlphabet. Input that cannot be a voucher
// (a misheard O for a zero, a group left out) is refused before it is
// counted as a failed proof.
func VoucherShaped(normalised string) bool {
	if len(normalised) != VoucherLength && len(normalised) != legacyVoucherLength {
		return false
	}
	return strings.Trim(normalised, RecoveryAlphabet) == ""
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

// phonetic names each symbol of RecoveryAlphabet the way it is said on a
// call: the ICAO spelling alphabet for letters, which tells B, D, P, T and
// V apart where their names do not.
var phonetic = map[rune]string{
	'2': "two", '3': "three", '4': "four", '5': "five", '6': "six", '7': "seven", '8': "eight", '9': "nine",
	'A': "alfa", 'B': "bravo", 'C': "charlie", 'D': "delta", 'E': "echo", 'F': "foxtrot", 'G': "golf",
	'H': "hotel", 'J': "juliett", 'K': "kilo", 'M': "mike", 'N': "november", 'P': "papa", 'Q': "quebec",
	'R': "romeo", 'S': "sierra", 'T': "tango", 'U': "uniform", 'V': "victor", 'W': "whiskey", 'X': "x-ray",
	'Y': "yankee", 'Z': "zulu",
}

// SpellGroups splits a voucher (or recovery code) into its groups of four,
// each with its symbols spelled as they are read out: "7KQM" and "seven
// kilo quebec mike". A symbol outside RecoveryAlphabet is kept as it is.
func SpellGroups(code string) (groups, spoken []string) {
	return SpellGroupsWith(code, func(rune) string { return "" })
}

// SpellGroupsWith is SpellGroups with the digits named by digit, in the
// reader's language; a digit it names "" keeps its English name. Letters
// keep the ICAO alphabet, which helpdesks use in every language.
func SpellGroupsWith(code string, digit func(rune) string) (groups, spoken []string) {
	n := NormaliseVoucher(code)
	for i := 0; i < len(n); i += voucherGroup {
		g := n[i:min(i+voucherGroup, len(n))]
		words := make([]string, 0, len(g))
		for _, r := range g {
			w, ok := phonetic[r]
			if !ok {
				w = string(r)
			}
			if d := digit(r); d != "" {
				w = d
			}
			words = append(words, w)
		}
		groups, spoken = append(groups, g), append(spoken, strings.Join(words, " "))
	}
	return groups, spoken
}
