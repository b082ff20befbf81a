package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/trustelem/zxcvbn"
	"golang.org/x/text/unicode/norm"
)

const (
	// DefaultMinLength is used when Rules.MinLength is not set (SECURITY.md).
	DefaultMinLength = 12
	// MaxLength is the longest password accepted, in characters (runes).
	// Longer ones are refused, never truncated: a silently shortened password
	// is not the one the user will type next time.
	MaxLength = 128
	// MaxScore is the highest zxcvbn score.
	MaxScore = 4

	// strengthWindow is how many leading runes zxcvbn sees. The check runs as
	// the person types, and zxcvbn's cost grows faster than the square of
	// the length (every substring is looked up in every dictionary, once
	// more for each l33t substitution table). Measured: 0.25 ms at 20 runes;
	// at 40 runes 1.5 ms, or 4.5 ms dense with l33t characters; at 64 runes
	// 4.7 ms, or 57 ms dense with l33t characters, which a user typing into
	// the field could repeat to burn a core. 40 runes without an obvious
	// pattern already score 4, and dropping the tail can only cost a
	// password the guesses its tail would add, so the cut errs towards
	// "weaker", not "stronger".
	strengthWindow = 40

	// minNameLen is the shortest name part that counts: a 1–2 letter initial
	// or username inside a password is not a meaningful weakness, and banning
	// it would refuse most passwords.
	minNameLen = 3
)

// RuleID identifies one password rule; it is stable and safe to store or use
// as a translation key.
type RuleID string

// The rules, in the order Evaluate reports them.
const (
	// RuleMinLength: at least Rules.MinLength characters.
	RuleMinLength RuleID = "min_length"
	// RuleMaxLength: at most MaxLength characters.
	RuleMaxLength RuleID = "max_length"
	// RuleNotCommon: not on the common-password blocklist.
	RuleNotCommon RuleID = "not_common"
	// RuleNoBannedWords: contains none of Rules.BannedWords.
	RuleNoBannedWords RuleID = "no_banned_words"
	// RuleNoNames: contains neither the username (whole, and its parts
	// between separators such as "." or "_", without a DOMAIN\ prefix or an
	// @domain suffix) nor any word of the display name, compared after
	// Normalise; names shorter than 3 characters are ignored.
	RuleNoNames RuleID = "no_names"
	// RuleStrength: zxcvbn score at least Rules.MinStrength.
	RuleStrength RuleID = "strength"
	// RuleNotRecent: not one of the last N passwords. It needs the stored
	// history, so Evaluate does not report it; the caller checks it with
	// Hasher.InHistory and adds NotRecentResult to the Evaluation.
	RuleNotRecent RuleID = "not_recent"
)

// Rules is the password policy applied to one user's new password.
type Rules struct {
	// MinLength is the minimum number of characters; DefaultMinLength if <= 0.
	MinLength int
	// MinStrength is the minimum zxcvbn score, 0–4 (clamped).
	MinStrength int
	// BannedWords are organisation-specific words (company, product, city)
	// refused anywhere in the password, compared after Normalise.
	BannedWords []string
	// Username is the account name; see RuleNoNames.
	Username string
	// DisplayName is the user's full name; see RuleNoNames.
	DisplayName string
}

// Result is the outcome of one rule, ready for a checklist.
type Result struct {
	// Rule identifies the rule.
	Rule RuleID
	// ID and Args are the catalogue message describing the requirement,
	// e.g. "At least 12 characters"; it does not change with the outcome,
	// so a checklist does not jump around while the user types. A "Count"
	// in Args makes it a plural message.
	ID   string
	Args locale.Args
	// Met reports whether the password satisfies the rule.
	Met bool
}

// In writes the requirement in the Printer's language; logs use the
// source language's Printer.
func (r Result) In(p *locale.Printer) string {
	if n, ok := r.Args["Count"].(int); ok {
		return p.N(r.ID, n, r.Args)
	}
	return p.F(r.ID, r.Args)
}

// Evaluation is the outcome of all rules for one password.
type Evaluation struct {
	// Results holds one entry per rule, always in the same order.
	Results []Result
	// Score is the zxcvbn score, 0–4, for a strength meter.
	Score int
	// OK reports whether every rule in Results is met.
	OK bool
}

// Add returns e with r appended and OK updated; it is how the caller merges a
// rule Evaluate cannot check itself (RuleNotRecent).
func (e Evaluation) Add(r Result) Evaluation {
	results := make([]Result, 0, len(e.Results)+1)
	results = append(results, e.Results...)
	return Evaluation{Results: append(results, r), Score: e.Score, OK: e.OK && r.Met}
}

// NotRecentResult returns the RuleNotRecent checklist entry for a history of
// historySize passwords; reused is what Hasher.InHistory reported.
func NotRecentResult(historySize int, reused bool) Result {
	return Result{Rule: RuleNotRecent, ID: "password.rule.not_recent", Args: locale.Args{"Count": historySize}, Met: !reused}
}

// Checker evaluates passwords against Rules. Build it once with NewChecker:
// it indexes the blocklist. It is immutable and safe for concurrent use.
type Checker struct {
	common map[string]struct{}
}

// NewChecker returns a Checker using the embedded common-password blocklist.
func NewChecker() *Checker {
	list := assets.Blocklist()
	common := make(map[string]struct{}, 2*len(list))
	for _, w := range list {
		// Both spellings are indexed so "p@ssw0rd" is caught through the
		// normalised "password" and "passw0rd1" through its own entry.
		common[strings.ToLower(w)] = struct{}{}
		common[Normalise(w)] = struct{}{}
	}
	return &Checker{common: common}
}

// Evaluate checks password against r. It is cheap enough to call on every
// keystroke (well under a millisecond for typical lengths).
func (c *Checker) Evaluate(password string, r Rules) Evaluation {
	minLen := r.MinLength
	if minLen <= 0 {
		minLen = DefaultMinLength
	}
	minStrength := min(max(r.MinStrength, 0), MaxScore)
	length := utf8.RuneCountInString(password)
	normalised := Normalise(password)
	names := nameParts(r.Username, r.DisplayName)
	score := strength(password, names)

	_, common := c.common[strings.ToLower(password)]
	if !common {
		_, common = c.common[normalised]
	}

	results := []Result{
		{RuleMinLength, "password.rule.min_length", locale.Args{"Count": minLen}, length >= minLen},
		{RuleMaxLength, "password.rule.max_length", locale.Args{"Count": MaxLength}, length <= MaxLength},
		{RuleNotCommon, "password.rule.not_common", nil, !common},
		{RuleNoBannedWords, "password.rule.no_banned_words", nil, !containsAny(normalised, r.BannedWords, 1)},
		{RuleNoNames, "password.rule.no_names", nil, !containsAny(normalised, names, minNameLen)},
		{RuleStrength, "password.rule.strength", locale.Args{"Min": minStrength, "Max": MaxScore}, score >= minStrength},
	}
	ok := true
	for _, res := range results {
		ok = ok && res.Met
	}
	return Evaluation{Results: results, Score: score, OK: ok}
}

// Normalise maps s to the form banned words and common passwords are compared
// in: Unicode NFKC (so full-width or ligature look-alikes collapse), lower
// case, then the leetspeak substitutions 0→o, 1→l, $→s, @→a, 3→e.
func Normalise(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1':
			return 'l'
		case '$':
			return 's'
		case '@':
			return 'a'
		case '3':
			return 'e'
		}
		return r
	}, s)
}

// containsAny reports whether normalised contains Normalise(w) for any w of
// at least minRunes characters.
func containsAny(normalised string, words []string, minRunes int) bool {
	for _, w := range words {
		w = Normalise(strings.TrimSpace(w))
		if utf8.RuneCountInString(w) >= minRunes && strings.Contains(normalised, w) {
			return true
		}
	}
	return false
}

// nameParts returns the username (whole and split at separators, without a
// DOMAIN\ prefix or @domain suffix) and each word of the display name.
func nameParts(username, displayName string) []string {
	var parts []string
	user := strings.TrimSpace(username)
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		user = user[i+1:]
	}
	// The domain of "jsmith@corp.example" is shared by everyone and would ban
	// words such as "corp" for the whole organisation.
	if i := strings.IndexByte(user, '@'); i >= 0 {
		user = user[:i]
	}
	notWord := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	if user != "" {
		parts = append(parts, user)
		if sub := strings.FieldsFunc(user, notWord); len(sub) > 1 {
			parts = append(parts, sub...)
		}
	}
	return append(parts, strings.FieldsFunc(displayName, notWord)...)
}

// strength returns the zxcvbn score of the first strengthWindow runes of
// password, with the user's names as known inputs so "JohnSmith2024" is
// scored as the guessable password it is.
func strength(password string, userInputs []string) int {
	if password == "" {
		return 0
	}
	n := 0
	for i := range password {
		if n == strengthWindow {
			password = password[:i]
			break
		}
		n++
	}
	return zxcvbn.PasswordStrength(password, userInputs).Score
}
