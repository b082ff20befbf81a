package flows

import (
	"strings"
	"unicode/utf8"
)

const maskDots = "•••"

// MaskEmail hides most of an email address, so that a user can recognise
// their own address without the screen revealing it to anyone else:
// "alice@example.com" becomes "a•••e@example.com". A local part of one or
// two characters keeps only its first ("a•••@example.com"), as showing first
// and last would show all of it. The domain stays readable: it tells the
// user which mailbox to check. The address is sanitised first; an empty
// address gives an empty result.
func MaskEmail(addr string) string {
	s := strings.TrimSpace(stripUnsafe(addr))
	if s == "" {
		return ""
	}
	local, domain := s, ""
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		local, domain = s[:i], s[i:]
	}
	return maskLocal(local) + domain
}

func maskLocal(local string) string {
	switch n := utf8.RuneCountInString(local); {
	case n == 0:
		return maskDots
	case n <= 2:
		first, _ := utf8.DecodeRuneInString(local)
		return string(first) + maskDots
	}
	first, _ := utf8.DecodeRuneInString(local)
	last, _ := utf8.DecodeLastRuneInString(local)
	return string(first) + maskDots + string(last)
}

// MaskPhone hides all but the last four digits of a phone number:
// "+15555554567" becomes "+1 ••• ••• 4567". The country code is shown when
// the number is in E.164 form (a "+" and 7–15 digits), as it helps the user
// tell their numbers apart and is not secret. A number too short to hide
// anything after showing four digits is masked completely. The number is
// sanitised first, and anything that is not a digit is ignored; with no digits at all the
// result is empty.
func MaskPhone(e164 string) string {
	s := strings.TrimSpace(stripUnsafe(e164))
	d := digitsOf(s)
	if d == "" {
		return ""
	}

	prefix := ""
	if cc, ok := e164CallingCode(s); ok {
		prefix = "+" + cc + " "
		d = d[len(cc):]
	}
	// Keep at least three digits hidden, or the mask hides next to nothing.
	if len(d) < 7 {
		return prefix + maskDots + " " + maskDots
	}
	return prefix + maskDots + " " + maskDots + " " + d[len(d)-4:]
}

// e164CallingCode returns the calling code of a number in E.164 form (a
// "+" and 7–15 digits, whatever separates them); ok is false for any other.
func e164CallingCode(s string) (string, bool) {
	d := digitsOf(s)
	if !strings.HasPrefix(s, "+") || len(d) < 7 || len(d) > 15 {
		return "", false
	}
	return callingCode(d), true
}

// digitsOf keeps the digits of s.
func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// callingCode returns the ITU-T E.164 country calling code at the start of
// digits. Calling codes are prefix-free: 1 and 7 are the only one-digit
// codes, the two-digit codes are listed below, and every other code has
// three digits.
func callingCode(digits string) string {
	switch digits[0] {
	case '1', '7':
		return digits[:1]
	}
	switch digits[:2] {
	case "20", "27",
		"30", "31", "32", "33", "34", "36", "39",
		"40", "41", "43", "44", "45", "46", "47", "48", "49",
		"51", "52", "53", "54", "55", "56", "57", "58",
		"60", "61", "62", "63", "64", "65", "66",
		"81", "82", "84", "86",
		"90", "91", "92", "93", "94", "95", "98":
		return digits[:2]
	}
	return digits[:3]
}

// stripUnsafe drops runes that could steer a terminal, so a mask is safe to
// show even if a stored value was not.
func stripUnsafe(s string) string {
	return strings.Map(func(r rune) rune {
		if isUnsafeRune(r) {
			return -1
		}
		return r
	}, s)
}
