package flows

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/invisible"
)

// Field limits. Inputs beyond them are refused, never truncated.
const (
	MaxUsernameLength    = 64
	MaxDisplayNameLength = 128
	MaxEmailLength       = 254
	MaxGroupNameLength   = 64
	MaxQuestionLength    = 200
	MinAnswerLength      = 3
	MaxAnswerLength      = 40
)

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]*$`)
	groupPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	phonePattern    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// NormaliseUsername trims and lower-cases a username as typed.
func NormaliseUsername(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidateUsername checks a normalised username. The pattern alone refuses
// every character a terminal would not show; they are named first, since
// "may hold only letters" about a name that reads "alice" helps nobody.
func ValidateUsername(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("username is empty: %w", ErrInvalid)
	case utf8.RuneCountInString(s) > MaxUsernameLength:
		return fmt.Errorf("username is longer than %d characters: %w", MaxUsernameLength, ErrInvalid)
	case unseen(s) != "":
		return fmt.Errorf("username %s: %w", unseen(s), ErrInvalid)
	case !usernamePattern.MatchString(s):
		return fmt.Errorf("username %q may hold only letters, digits and . _ @ -: %w", printable(s), ErrInvalid)
	}
	return nil
}

// ValidateGroupName checks a group name.
func ValidateGroupName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("group name is empty: %w", ErrInvalid)
	case utf8.RuneCountInString(s) > MaxGroupNameLength:
		return fmt.Errorf("group name is longer than %d characters: %w", MaxGroupNameLength, ErrInvalid)
	case !groupPattern.MatchString(s):
		return fmt.Errorf("group name %q may hold only lower-case letters, digits and . _ -: %w", printable(s), ErrInvalid)
	}
	return nil
}

// ValidateDisplayName checks a display name: printable text of bounded
// length in which every character can be seen (see flows/invisible).
func ValidateDisplayName(s string) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("display name is not valid UTF-8: %w", ErrInvalid)
	case utf8.RuneCountInString(s) > MaxDisplayNameLength:
		return fmt.Errorf("display name is longer than %d characters: %w", MaxDisplayNameLength, ErrInvalid)
	case hasUnsafeRune(s):
		return fmt.Errorf("display name %q holds control or escape characters: %w", printable(s), ErrInvalid)
	case unseen(s) != "":
		return fmt.Errorf("display name %s: %w", unseen(s), ErrInvalid)
	}
	return nil
}

// unseen describes the first character of a name that a reader could not
// see, quoting the name as the screens show it ("Ad<U+200B>min": %q alone
// would leave a Hangul filler blank), or returns "" when there is none.
func unseen(s string) string {
	_, r, why := invisible.Find(s)
	if why == invisible.Seen {
		return ""
	}
	return fmt.Sprintf("%q holds %s (%U)", printable(invisible.Spell(s)), why, r)
}

// ValidateEmail checks a bare email address (no name, no header tricks).
func ValidateEmail(s string) error {
	if s == "" || len(s) > MaxEmailLength || hasUnsafeRune(s) || strings.ContainsAny(s, " <>\"(),;:\\") {
		return fmt.Errorf("email %q is not an address: %w", printable(s), ErrInvalid)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("email %q is not an address: %w", printable(s), ErrInvalid)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return fmt.Errorf("email %q is not an address: %w", printable(s), ErrInvalid)
	}
	return nil
}

// ValidatePhone checks an E.164 phone number (+ and 7 to 15 digits).
func ValidatePhone(s string) error {
	if !phonePattern.MatchString(s) {
		return fmt.Errorf("phone %q is not in E.164 form (like +15551234567): %w", printable(s), ErrInvalid)
	}
	return nil
}

// NormalisePhone removes the spaces, dashes, dots and brackets people type.
func NormalisePhone(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// hasUnsafeRune reports control characters (C0, DEL, C1), escape and bidi
// controls: anything that could steer a terminal or reorder text.
func hasUnsafeRune(s string) bool {
	for _, r := range s {
		if isUnsafeRune(r) {
			return true
		}
	}
	return false
}

func isUnsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}

// printable shortens s for an error message, where every caller quotes it
// with %q. Quoting escapes each control, escape and bidi rune and each invalid
// byte, so the message is safe to print; escaping them here as well showed
// people doubled backslashes ("Dave\\u001b[31m").
func printable(s string) string {
	for i := range s {
		if i > 80 {
			return s[:i] + "…"
		}
	}
	return s
}

func collapseSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
