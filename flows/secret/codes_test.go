package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// chiSquare returns Pearson's statistic for the counts of each alphabet
// character in codes, against a uniform distribution.
func chiSquare(codes []string, alphabet string) float64 {
	counts := make(map[rune]int, len(alphabet))
	total := 0
	for _, c := range codes {
		for _, r := range c {
			counts[r]++
			total++
		}
	}
	want := float64(total) / float64(len(alphabet))
	var x2 float64
	for _, r := range alphabet {
		d := float64(counts[r]) - want
		x2 += d * d / want
	}
	return x2
}

func TestNumericCode(t *testing.T) {
	codes := make([]string, 20000)
	leadingZero := false
	for i := range codes {
		c, err := NumericCode(8)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 8 || strings.Trim(c, decimalDigits) != "" {
			t.Fatalf("NumericCode(8) = %q", c)
		}
		leadingZero = leadingZero || c[0] == '0'
		codes[i] = c
	}
	if !leadingZero {
		t.Error("no code starts with 0: leading zeros are lost")
	}
	// 9 degrees of freedom; 46 is exceeded by chance with p ≈ 1e-6.
	if x2 := chiSquare(codes, decimalDigits); x2 > 46 {
		t.Errorf("digit distribution chi-square %.1f, not uniform", x2)
	}
	for _, n := range []int{0, -1} {
		if _, err := NumericCode(n); !errors.Is(err, ErrInvalidLength) {
			t.Errorf("NumericCode(%d) = %v, want ErrInvalidLength", n, err)
		}
	}
}

func TestRecoveryCode(t *testing.T) {
	if len(RecoveryAlphabet) != 31 || strings.ContainsAny(RecoveryAlphabet, "01OIL") {
		t.Fatalf("alphabet %q must be 31 unambiguous characters", RecoveryAlphabet)
	}
	codes := make([]string, 5000)
	seen := make(map[string]bool)
	for i := range codes {
		c, err := RecoveryCode(10)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 10 || strings.Trim(c, RecoveryAlphabet) != "" {
			t.Fatalf("RecoveryCode(10) = %q: outside the alphabet", c)
		}
		if seen[c] {
			t.Fatalf("duplicate recovery code %q", c)
		}
		seen[c] = true
		codes[i] = c
	}
	// 30 degrees of freedom; 83 is exceeded by chance with p ≈ 1e-6.
	if x2 := chiSquare(codes, RecoveryAlphabet); x2 > 83 {
		t.Errorf("character distribution chi-square %.1f, not uniform", x2)
	}
	if _, err := RecoveryCode(0); !errors.Is(err, ErrInvalidLength) {
		t.Errorf("RecoveryCode(0) = %v, want ErrInvalidLength", err)
	}
}

func TestPickRejectsBiasedBytes(t *testing.T) {
	// 256 % 10 = 6: bytes 250–255 would favour digits 0–5 if reduced
	// modulo 10, so they must be skipped.
	got, err := pick(bytes.NewReader([]byte{255, 250, 249, 3}), decimalDigits, 2)
	if err != nil || got != "93" {
		t.Errorf("pick(digits) = %q, %v; want \"93\" (255 and 250 discarded)", got, err)
	}
	// 256 % 31 = 8: 248–255 are discarded; 247 % 31 = 30, the last character.
	got, err = pick(bytes.NewReader([]byte{248, 255, 247}), RecoveryAlphabet, 1)
	if err != nil || got != "Z" {
		t.Errorf("pick(recovery) = %q, %v; want \"Z\"", got, err)
	}
	if _, err := pick(bytes.NewReader([]byte{255, 255}), decimalDigits, 1); !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Errorf("pick with exhausted source = %v, want a read error", err)
	}
}

var voucherShape = regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`)

// TestVoucher checks that a voucher is four groups of four symbols that
// cannot be misread (no 0, O, 1, I, L), short enough to read out on a call,
// with the entropy VoucherLength's comment counts on: about 79 bits, so
// that at 5 guesses a day for 30 days the odds stay below 1e-21.
func TestVoucher(t *testing.T) {
	bits := float64(VoucherLength) * math.Log2(float64(len(RecoveryAlphabet)))
	if bits < 79 || VoucherLength > 16 {
		t.Fatalf("vouchers are %d symbols carrying %.1f bits, want 16 carrying at least 79", VoucherLength, bits)
	}
	if odds := 150 / math.Pow(float64(len(RecoveryAlphabet)), VoucherLength); odds > 1e-21 {
		t.Fatalf("150 guesses succeed with odds %g", odds)
	}
	if strings.ContainsAny(RecoveryAlphabet, "01OIL") {
		t.Fatalf("the alphabet has look-alike characters: %s", RecoveryAlphabet)
	}
	seen := make(map[string]bool)
	for range 1000 {
		v, err := Voucher()
		if err != nil {
			t.Fatal(err)
		}
		if !voucherShape.MatchString(v) || len(v) != 19 {
			t.Fatalf("Voucher() = %q, want 4 groups of 4 from the alphabet", v)
		}
		n := NormaliseVoucher(v)
		if len(n) != VoucherLength || seen[n] || !VoucherShaped(n) {
			t.Fatalf("NormaliseVoucher(%q) = %q: wrong length, shape or duplicate", v, n)
		}
		seen[n] = true
		typed := strings.ToLower(strings.ReplaceAll(v, "-", " "))
		if NormaliseVoucher(typed) != n {
			t.Fatalf("voucher typed as %q does not normalise to %q", typed, n)
		}
	}
}

// TestVoucherShaped checks what is refused before it counts as a guess:
// a wrong length, or a symbol no voucher has.
func TestVoucherShaped(t *testing.T) {
	cases := map[string]bool{
		"7KQM2XRTHJ4PWN9C":           true,
		"7KQM2XRTHJ4PWN9CABCDEFGHJK": true, // issued before vouchers were shortened
		"7KQM2XRTHJ4PWN9":            false,
		"7KQM2XRTHJ4PWN9CA":          false,
		"7KQM2XRTHJ4PWN0C":           false, // a zero is never in a voucher
		"7KQM2XRTHJ4PWNOC":           false,
		"7KQM2XRTHJ4PWN1C":           false,
		"":                           false,
		"7kqm2xrthj4pwn9c":           false, // not normalised
	}
	for in, want := range cases {
		if got := VoucherShaped(in); got != want {
			t.Errorf("VoucherShaped(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestNormalise(t *testing.T) {
	cases := map[string]string{
		"abcd-efgh":       "ABCDEFGH",
		" AB CD\tEF\n":    "ABCDEF",
		"ab–cd—ef‐gh":     "ABCDEFGH", // en, em and hyphen dashes from word processors
		"ABCD EFGH JKMN":  "ABCDEFGHJKMN",
		"":                "",
		"---   ":          "",
		"a\u00a0b\u3000c": "ABC", // no-break and ideographic spaces
	}
	for in, want := range cases {
		if got := NormaliseRecoveryCode(in); got != want {
			t.Errorf("NormaliseRecoveryCode(%q) = %q, want %q", in, got, want)
		}
		if got := NormaliseVoucher(in); got != want {
			t.Errorf("NormaliseVoucher(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"123456", "123456", true},
		{"", "", true},
		{"123456", "123457", false},
		{"123456", "12345", false},
		{"123456", "", false},
	}
	for _, tc := range cases {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		tok := Token()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 16 || len(tok) != 22 {
			t.Fatalf("Token() = %q: want 22 URL-safe characters encoding 16 bytes (%v)", tok, err)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}

// FuzzNormalise checks that the code normalisers never panic, are idempotent,
// remove every space and dash, upper-case, and leave a well-formed code of
// the alphabet unchanged however it is grouped.
func FuzzNormalise(f *testing.F) {
	f.Add("abcd-efgh-jkmn")
	f.Add(" a–b\u00a0c ")
	f.Add("\xff\xfe-")
	f.Add("ß ſ ı")
	f.Fuzz(func(t *testing.T, s string) {
		n := NormaliseRecoveryCode(s)
		if NormaliseVoucher(s) != n {
			t.Fatalf("voucher and recovery normalisers differ on %q", s)
		}
		if NormaliseRecoveryCode(n) != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, NormaliseRecoveryCode(n))
		}
		if n != strings.ToUpper(n) {
			t.Fatalf("%q -> %q: not upper-case", s, n)
		}
		for _, r := range n {
			if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) {
				t.Fatalf("%q -> %q: kept space or dash %q", s, n, r)
			}
		}
		// Keep only alphabet characters: that is a valid code, and any
		// grouping or case of it must normalise back to it.
		code := strings.Map(func(r rune) rune {
			if strings.ContainsRune(RecoveryAlphabet, r) {
				return r
			}
			return -1
		}, strings.ToUpper(s))
		var grouped strings.Builder
		for i, r := range strings.ToLower(code) {
			if i > 0 && i%3 == 0 {
				grouped.WriteString(" - ")
			}
			grouped.WriteRune(r)
		}
		if got := NormaliseRecoveryCode(grouped.String()); got != code {
			t.Fatalf("grouped %q normalised to %q, want %q", grouped.String(), got, code)
		}
	})
}

// TestSpellGroups checks the read-out of a voucher: its groups in order,
// each symbol with one spoken name, and every symbol of the alphabet named
// differently.
func TestSpellGroups(t *testing.T) {
	groups, spoken := SpellGroups("7kqm-2xrt-hj4p-wn9c")
	want := []string{"seven kilo quebec mike", "two x-ray romeo tango", "hotel juliett four papa", "whiskey november nine charlie"}
	if strings.Join(groups, "-") != "7KQM-2XRT-HJ4P-WN9C" || strings.Join(spoken, "|") != strings.Join(want, "|") {
		t.Fatalf("SpellGroups = %q, %q", groups, spoken)
	}
	names := map[string]rune{}
	for _, r := range RecoveryAlphabet {
		_, spoken := SpellGroups(string(r))
		if len(spoken) != 1 || spoken[0] == string(r) {
			t.Fatalf("%c has no spoken name", r)
		}
		if other, ok := names[spoken[0]]; ok {
			t.Fatalf("%c and %c are both %q", r, other, spoken[0])
		}
		names[spoken[0]] = r
	}
}
