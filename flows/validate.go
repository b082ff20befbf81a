package flows

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/invisible"
	"github.com/sspr-kiosk/sspr/flows/locale"
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
		return refuse(ErrInvalid, "refusal.username.empty", nil)
	case utf8.RuneCountInString(s) > MaxUsernameLength:
		return refuse(ErrInvalid, "refusal.username.too_long", locale.Args{"Max": MaxUsernameLength})
	case unseen(s, false) != nil:
		return unseen(s, false)
	case !usernamePattern.MatchString(s):
		return refuse(ErrInvalid, "refusal.username.characters", locale.Args{"Name": quoted(s)})
	}
	return nil
}

// ValidateGroupName checks a group name.
func ValidateGroupName(s string) error {
	switch {
	case s == "":
		return refuse(ErrInvalid, "refusal.group.empty", nil)
	case utf8.RuneCountInString(s) > MaxGroupNameLength:
		return refuse(ErrInvalid, "refusal.group.too_long", locale.Args{"Max": MaxGroupNameLength})
	case !groupPattern.MatchString(s):
		return refuse(ErrInvalid, "refusal.group.characters", locale.Args{"Name": quoted(s)})
	}
	return nil
}

// ValidateDisplayName checks a display name: printable text of bounded
// length in which every character can be seen (see flows/invisible).
func ValidateDisplayName(s string) error {
	switch {
	case !utf8.ValidString(s):
		return refuse(ErrInvalid, "refusal.display_name.utf8", nil)
	case utf8.RuneCountInString(s) > MaxDisplayNameLength:
		return refuse(ErrInvalid, "refusal.display_name.too_long", locale.Args{"Max": MaxDisplayNameLength})
	case hasUnsafeRune(s):
		return refuse(ErrInvalid, "refusal.display_name.control", locale.Args{"Name": quoted(s)})
	case unseen(s, true) != nil:
		return unseen(s, true)
	}
	return nil
}

// unseen refuses a username, or a display name when display is set, for
// the first character in it a reader could not see, quoting the name as
// the screens show it ("Ad<U+200B>min": %q alone would leave a Hangul
// filler blank); nil when there is none.
func unseen(s string, display bool) error {
	_, r, why := invisible.Find(s)
	args := locale.Args{"Name": quoted(invisible.Spell(s)), "Char": fmt.Sprintf("%U", r), "Max": invisible.MaxMarks}
	switch {
	case why == invisible.Seen:
		return nil
	case why == invisible.LoneMark && display:
		return refuse(ErrInvalid, "refusal.display_name.lone_mark", args)
	case why == invisible.LoneMark:
		return refuse(ErrInvalid, "refusal.username.lone_mark", args)
	case why == invisible.TooManyMarks && display:
		return refuse(ErrInvalid, "refusal.display_name.too_many_marks", args)
	case why == invisible.TooManyMarks:
		return refuse(ErrInvalid, "refusal.username.too_many_marks", args)
	case display:
		return refuse(ErrInvalid, "refusal.display_name.invisible", args)
	}
	return refuse(ErrInvalid, "refusal.username.invisible", args)
}

// quoted writes s for a refusal as Go quotes it, escapes and all, without
// the quotation marks, which each language writes its own way.
func quoted(s string) string {
	q := strconv.Quote(printable(s))
	return q[1 : len(q)-1]
}

// ValidateEmail checks a bare email address (no name, no header tricks).
func ValidateEmail(s string) error {
	if s == "" || len(s) > MaxEmailLength || hasUnsafeRune(s) || strings.ContainsAny(s, " <>\"(),;:\\") {
		return refuse(ErrInvalid, "refusal.email.format", locale.Args{"Address": quoted(s)})
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return refuse(ErrInvalid, "refusal.email.format", locale.Args{"Address": quoted(s)})
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return refuse(ErrInvalid, "refusal.email.format", locale.Args{"Address": quoted(s)})
	}
	return nil
}

// ValidatePhone checks an E.164 phone number (+ and 7 to 15 digits).
func ValidatePhone(s string) error {
	if !phonePattern.MatchString(s) {
		return refuse(ErrInvalid, "refusal.phone.format", locale.Args{"Number": quoted(s)})
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
