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

var voucherShape = regexp.MustCompile(`^([2-9A-HJKMNP-Z]{4}-){6}[2-9A-HJKMNP-Z]{2}$`)

func TestVoucher(t *testing.T) {
	if bits := float64(voucherLen) * math.Log2(float64(len(RecoveryAlphabet))); bits < 128 {
		t.Fatalf("vouchers carry %.1f bits, want at least 128", bits)
	}
	seen := make(map[string]bool)
	for range 1000 {
		v, err := Voucher()
		if err != nil {
			t.Fatal(err)
		}
		if !voucherShape.MatchString(v) {
			t.Fatalf("Voucher() = %q, want groups of 4 from the alphabet", v)
		}
		n := NormaliseVoucher(v)
		if len(n) != voucherLen || seen[n] {
			t.Fatalf("NormaliseVoucher(%q) = %q: wrong length or duplicate", v, n)
		}
		seen[n] = true
		typed := strings.ToLower(strings.ReplaceAll(v, "-", " "))
		if NormaliseVoucher(typed) != n {
			t.Fatalf("voucher typed as %q does not normalise to %q", typed, n)
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
