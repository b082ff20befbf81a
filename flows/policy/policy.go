// Package policy holds the self-service reset policy: who may reset, with
// how many and which methods, what registration asks for, and the password
// rules. Admins change it in the TUI or with `sspr policy set`; it lives in
// the store as one row per key, overlaid on the defaults here.
package policy

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/store"
)

// Errors of Set, Validate and Load; test with errors.Is. The message of a
// returned error is one sentence that an admin can act on.
var (
	// ErrUnknownKey means the key names no policy setting.
	ErrUnknownKey = errors.New("unknown policy key")
	// ErrInvalidValue means a value, or a combination of values, is not allowed.
	ErrInvalidValue = errors.New("invalid policy value")
)

// Error is a refused setting: one sentence an admin can act on, in any
// language (In), while errors.Is still finds the sentinel it belongs to.
// Its messages are written as the CLI prints them after "set policy: ",
// without a capital or a full stop; a screen adds them.
type Error struct {
	kind error
	// ID and Args are the catalogue message.
	ID   string
	Args locale.Args
	// Name is the catalogue ID of the setting's name, written into the
	// message as {{.Setting}}; "" when the message names none.
	Name string
}

// Error returns the message in the source language, for the CLI and logs.
func (e *Error) Error() string { return e.In(locale.Embedded().Source()) }

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.kind }

// In writes the message in the Printer's language.
func (e *Error) In(p *locale.Printer) string {
	args := make(locale.Args, len(e.Args)+1)
	for k, v := range e.Args {
		args[k] = v
	}
	if e.Name != "" {
		args["Setting"] = p.T(e.Name)
	}
	return p.F(e.ID, args)
}

// invalid refuses a value with the message id; name is the ID of the
// setting's name for {{.Setting}}, or "".
func invalid(id, name string, args locale.Args) error {
	return &Error{kind: ErrInvalidValue, ID: id, Name: name, Args: args}
}

// Scope says who may use self-service reset.
type Scope string

// The scopes.
const (
	// ScopeNone turns self-service reset off for everyone.
	ScopeNone Scope = "none"
	// ScopeGroup allows the members of Policy.EnabledGroup only.
	ScopeGroup Scope = "group"
	// ScopeAll allows everyone.
	ScopeAll Scope = "all"
)

// Policy is every setting of the policy table in the design brief.
type Policy struct {
	// EnabledFor says who may use self-service reset.
	EnabledFor Scope
	// EnabledGroup is the group allowed when EnabledFor is ScopeGroup.
	EnabledGroup string
	// MethodsRequired is how many different methods a reset must prove (1 or 2).
	MethodsRequired int
	// MethodsAllowed are the methods people may register and prove, in AllMethods order.
	MethodsAllowed []Method
	// QuestionsToRegister is how many security questions registration asks for.
	QuestionsToRegister int
	// QuestionsToAnswer is how many of them a reset asks.
	QuestionsToAnswer int
	// RequireRegistration forces registration after sign-in when a user has too few methods.
	RequireRegistration bool
	// ReconfirmDays is how often users re-confirm their info; 0 means never.
	ReconfirmDays int
	// NotifyUsersOnReset emails or texts users when their password is reset.
	NotifyUsersOnReset bool
	// NotifyAdminsOnAdminReset tells every admin when an admin resets their password.
	NotifyAdminsOnAdminReset bool
	// HelpdeskContact (email address or URL) is shown at every dead end.
	HelpdeskContact string
	// PasswordMinLength is the shortest password accepted.
	PasswordMinLength int
	// PasswordHistory is how many previous passwords are refused.
	PasswordHistory int
	// PasswordMinStrength is the lowest zxcvbn score accepted.
	PasswordMinStrength int
	// BannedWords are refused inside passwords: trimmed, lower-case, sorted, unique.
	BannedWords []string
	// AllowUnlock offers "Unlock my account": the same proofs as a reset
	// lift a lockout and leave the password as it is.
	AllowUnlock bool
	// LockoutThreshold is how many different wrong passwords lock out an
	// account whose password sspr keeps.
	LockoutThreshold int
	// LockoutDuration is how long such a lockout lasts, in whole minutes.
	LockoutDuration time.Duration
	// PasswordMaxAgeDays is how long a password in sspr's own store lasts
	// before it must be changed at the next sign-in; 0 means for ever. A
	// directory's passwords follow the directory's own maximum age.
	PasswordMaxAgeDays int
	// ExpiryReminderDays are the days before a password expires on which a
	// reminder goes out, longest first and unique; empty sends none.
	ExpiryReminderDays []int
}

// Policy keys, as used by `sspr policy set KEY VALUE` and in the store.
const (
	KeyEnabledFor               = "enabled_for"
	KeyEnabledGroup             = "enabled_group"
	KeyMethodsRequired          = "methods_required"
	KeyMethodsAllowed           = "methods_allowed"
	KeyQuestionsToRegister      = "questions_to_register"
	KeyQuestionsToAnswer        = "questions_to_answer"
	KeyRequireRegistration      = "require_registration"
	KeyReconfirmDays            = "reconfirm_days"
	KeyNotifyUsersOnReset       = "notify_users_on_reset"
	KeyNotifyAdminsOnAdminReset = "notify_admins_on_admin_reset"
	KeyHelpdeskContact          = "helpdesk_contact"
	KeyPasswordMinLength        = "password_min_length"
	KeyPasswordHistory          = "password_history"
	KeyPasswordMinStrength      = "password_min_strength"
	KeyBannedWords              = "banned_words"
	KeyAllowUnlock              = "allow_unlock"
	KeyLockoutThreshold         = "lockout_threshold"
	KeyLockoutDuration          = "lockout_duration"
	KeyPasswordMaxAgeDays       = "password_max_age_days"
	KeyExpiryReminderDays       = "expiry_reminder_days"
)

// Limits of the settings. They are exported so screens can show the ranges.
const (
	MinQuestions         = 3
	MaxQuestions         = 5
	MaxReconfirmDays     = 730
	MinPasswordMinLength = 8
	MaxPasswordMinLength = 64
	MaxPasswordHistory   = 24
	MaxPasswordStrength  = 4
	MaxGroupNameLength   = 100
	MaxHelpdeskLength    = 200
	MinBannedWordLength  = 3
	MaxBannedWordLength  = 64
	MaxBannedWords       = 500
	MinLockoutThreshold  = 3
	MaxLockoutThreshold  = 50
	MinLockoutDuration   = time.Minute
	MaxLockoutDuration   = 24 * time.Hour
	MaxPasswordAgeDays   = 730
	// MaxReminderDays is the earliest reminder, in days before expiry;
	// MaxReminders bounds how many a password gets.
	MaxReminderDays = 90
	MaxReminders    = 10
)

// Keys returns every policy key in the order of the design brief's table.
func Keys() []string {
	return []string{
		KeyEnabledFor, KeyEnabledGroup, KeyMethodsRequired, KeyMethodsAllowed,
		KeyQuestionsToRegister, KeyQuestionsToAnswer, KeyRequireRegistration, KeyReconfirmDays,
		KeyNotifyUsersOnReset, KeyNotifyAdminsOnAdminReset, KeyHelpdeskContact,
		KeyPasswordMinLength, KeyPasswordHistory, KeyPasswordMinStrength, KeyBannedWords,
		KeyAllowUnlock, KeyLockoutThreshold, KeyLockoutDuration,
		KeyPasswordMaxAgeDays, KeyExpiryReminderDays,
	}
}

// IsBool reports whether a setting is on or off (true or false), so an
// editor can offer a switch instead of a text field.
func IsBool(key string) bool {
	switch key {
	case KeyRequireRegistration, KeyNotifyUsersOnReset, KeyNotifyAdminsOnAdminReset, KeyAllowUnlock:
		return true
	}
	return false
}

// Label names a setting in a sentence, in the source language ("days
// before re-confirm"), for the CLI. An unknown key is returned as is.
func Label(key string) string {
	if id := LabelID(key); id != "" {
		return locale.Embedded().Source().T(id)
	}
	return key
}

// LabelID is the catalogue ID of a setting's name in a sentence (lower
// case where the language allows: screens capitalise it to start a line),
// or "" for an unknown key.
func LabelID(key string) string {
	switch key {
	case KeyEnabledFor:
		return "policy.label.enabled_for"
	case KeyEnabledGroup:
		return "policy.label.enabled_group"
	case KeyMethodsRequired:
		return "policy.label.methods_required"
	case KeyMethodsAllowed:
		return "policy.label.methods_allowed"
	case KeyQuestionsToRegister:
		return "policy.label.questions_to_register"
	case KeyQuestionsToAnswer:
		return "policy.label.questions_to_answer"
	case KeyRequireRegistration:
		return "policy.label.require_registration"
	case KeyReconfirmDays:
		return "policy.label.reconfirm_days"
	case KeyNotifyUsersOnReset:
		return "policy.label.notify_users_on_reset"
	case KeyNotifyAdminsOnAdminReset:
		return "policy.label.notify_admins_on_admin_reset"
	case KeyHelpdeskContact:
		return "policy.label.helpdesk_contact"
	case KeyPasswordMinLength:
		return "policy.label.password_min_length"
	case KeyPasswordHistory:
		return "policy.label.password_history"
	case KeyPasswordMinStrength:
		return "policy.label.password_min_strength"
	case KeyBannedWords:
		return "policy.label.banned_words"
	case KeyAllowUnlock:
		return "policy.label.allow_unlock"
	case KeyLockoutThreshold:
		return "policy.label.lockout_threshold"
	case KeyLockoutDuration:
		return "policy.label.lockout_duration"
	case KeyPasswordMaxAgeDays:
		return "policy.label.password_max_age_days"
	case KeyExpiryReminderDays:
		return "policy.label.expiry_reminder_days"
	}
	return ""
}

// Defaults returns the policy in force before an admin changes anything:
// Microsoft Entra SSPR's defaults, made stricter where the security rules say so.
func Defaults() Policy {
	return Policy{
		EnabledFor:               ScopeAll,
		MethodsRequired:          1,
		MethodsAllowed:           []Method{Email, SMS, Authenticator, RecoveryCodes, Voucher},
		QuestionsToRegister:      3,
		QuestionsToAnswer:        3,
		RequireRegistration:      true,
		ReconfirmDays:            180,
		NotifyUsersOnReset:       true,
		NotifyAdminsOnAdminReset: true,
		PasswordMinLength:        12,
		PasswordHistory:          5,
		PasswordMinStrength:      3,
		AllowUnlock:              true,
		LockoutThreshold:         10,
		LockoutDuration:          15 * time.Minute,
		ExpiryReminderDays:       []int{14, 7, 3, 1},
	}
}

// Allows reports whether policy allows method m.
func (p Policy) Allows(m Method) bool {
	return slices.Contains(p.MethodsAllowed, m)
}

// Get returns the value of key in the canonical form Set accepts; an unknown
// key gives "".
func (p Policy) Get(key string) string {
	switch key {
	case KeyEnabledFor:
		return string(p.EnabledFor)
	case KeyEnabledGroup:
		return p.EnabledGroup
	case KeyMethodsRequired:
		return strconv.Itoa(p.MethodsRequired)
	case KeyMethodsAllowed:
		return joinMethods(p.MethodsAllowed)
	case KeyQuestionsToRegister:
		return strconv.Itoa(p.QuestionsToRegister)
	case KeyQuestionsToAnswer:
		return strconv.Itoa(p.QuestionsToAnswer)
	case KeyRequireRegistration:
		return strconv.FormatBool(p.RequireRegistration)
	case KeyReconfirmDays:
		return strconv.Itoa(p.ReconfirmDays)
	case KeyNotifyUsersOnReset:
		return strconv.FormatBool(p.NotifyUsersOnReset)
	case KeyNotifyAdminsOnAdminReset:
		return strconv.FormatBool(p.NotifyAdminsOnAdminReset)
	case KeyHelpdeskContact:
		return p.HelpdeskContact
	case KeyPasswordMinLength:
		return strconv.Itoa(p.PasswordMinLength)
	case KeyPasswordHistory:
		return strconv.Itoa(p.PasswordHistory)
	case KeyPasswordMinStrength:
		return strconv.Itoa(p.PasswordMinStrength)
	case KeyBannedWords:
		return strings.Join(p.BannedWords, ",")
	case KeyAllowUnlock:
		return strconv.FormatBool(p.AllowUnlock)
	case KeyLockoutThreshold:
		return strconv.Itoa(p.LockoutThreshold)
	case KeyLockoutDuration:
		return DurationText(p.LockoutDuration)
	case KeyPasswordMaxAgeDays:
		return strconv.Itoa(p.PasswordMaxAgeDays)
	case KeyExpiryReminderDays:
		return joinDays(p.ExpiryReminderDays)
	}
	return ""
}

// DurationText writes a whole number of minutes as a lockout duration is
// set: "15m", "1h", "1h30m".
func DurationText(d time.Duration) string {
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// Set changes one setting from its text form, checking the value on its own;
// Validate checks the settings against each other. On error p is unchanged.
func (p *Policy) Set(key, value string) error {
	if !slices.Contains(Keys(), key) {
		// A key typed in the wrong case is named, not drowned in the list.
		if i := slices.IndexFunc(Keys(), func(k string) bool { return strings.EqualFold(k, key) }); i >= 0 {
			return &Error{kind: ErrUnknownKey, ID: "policy.error.unknown_key_did_you_mean",
				Args: locale.Args{"Key": strconv.Quote(key), "Suggestion": Keys()[i]}}
		}
		return &Error{kind: ErrUnknownKey, ID: "policy.error.unknown_key",
			Args: locale.Args{"Key": strconv.Quote(key), "Known": strings.Join(Keys(), ", ")}}
	}
	name := LabelID(key)
	if hasControl(value) {
		return invalid("policy.error.control_characters", name, nil)
	}
	v := strings.TrimSpace(value)
	switch key {
	case KeyEnabledFor:
		s := Scope(strings.ToLower(v))
		if s != ScopeNone && s != ScopeGroup && s != ScopeAll {
			return invalid("policy.error.enabled_for", "", nil)
		}
		p.EnabledFor = s
	case KeyEnabledGroup:
		if utf8.RuneCountInString(v) > MaxGroupNameLength {
			return invalid("policy.error.group_too_long", "", locale.Args{"Max": MaxGroupNameLength})
		}
		p.EnabledGroup = v
	case KeyMethodsRequired:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 2 {
			return invalid("policy.error.methods_required", "", nil)
		}
		p.MethodsRequired = n
	case KeyMethodsAllowed:
		ms, err := parseMethods(v)
		if err != nil {
			return err
		}
		p.MethodsAllowed = ms
	case KeyQuestionsToRegister:
		return setInt(&p.QuestionsToRegister, v, name, MinQuestions, MaxQuestions)
	case KeyQuestionsToAnswer:
		return setInt(&p.QuestionsToAnswer, v, name, MinQuestions, MaxQuestions)
	case KeyRequireRegistration:
		return setBool(&p.RequireRegistration, v, name)
	case KeyReconfirmDays:
		return setInt(&p.ReconfirmDays, v, name, 0, MaxReconfirmDays)
	case KeyNotifyUsersOnReset:
		return setBool(&p.NotifyUsersOnReset, v, name)
	case KeyNotifyAdminsOnAdminReset:
		return setBool(&p.NotifyAdminsOnAdminReset, v, name)
	case KeyHelpdeskContact:
		if err := checkContact(v); err != nil {
			return err
		}
		p.HelpdeskContact = v
	case KeyPasswordMinLength:
		return setInt(&p.PasswordMinLength, v, name, MinPasswordMinLength, MaxPasswordMinLength)
	case KeyPasswordHistory:
		return setInt(&p.PasswordHistory, v, name, 0, MaxPasswordHistory)
	case KeyPasswordMinStrength:
		return setInt(&p.PasswordMinStrength, v, name, 0, MaxPasswordStrength)
	case KeyBannedWords:
		words, err := parseBannedWords(v)
		if err != nil {
			return err
		}
		p.BannedWords = words
	case KeyAllowUnlock:
		return setBool(&p.AllowUnlock, v, name)
	case KeyLockoutThreshold:
		return setInt(&p.LockoutThreshold, v, name, MinLockoutThreshold, MaxLockoutThreshold)
	case KeyLockoutDuration:
		d, err := time.ParseDuration(strings.ToLower(v))
		if err != nil || d%time.Minute != 0 || d < MinLockoutDuration || d > MaxLockoutDuration {
			return invalid("policy.error.lockout_duration", "", nil)
		}
		p.LockoutDuration = d
	case KeyPasswordMaxAgeDays:
		return setInt(&p.PasswordMaxAgeDays, v, "policy.name.password_max_age", 0, MaxPasswordAgeDays)
	case KeyExpiryReminderDays:
		days, err := parseReminderDays(v)
		if err != nil {
			return err
		}
		p.ExpiryReminderDays = days
	}
	return nil
}

// Validate checks the settings against each other (and each on its own, so
// a Policy built in code is checked as thoroughly as one set key by key).
func (p Policy) Validate() error {
	// Every value must survive its own parser first, and already be in the
	// form the parser produces, so that what is saved is what is enforced.
	var check Policy
	for _, k := range Keys() {
		if err := check.Set(k, p.Get(k)); err != nil {
			return err
		}
		if canon := check.Get(k); canon != p.Get(k) {
			return invalid("policy.error.canonical", LabelID(k), locale.Args{"Value": strconv.Quote(canon)})
		}
	}
	if p.QuestionsToRegister < p.QuestionsToAnswer {
		return invalid("policy.error.questions_register_answer", "",
			locale.Args{"Register": p.QuestionsToRegister, "Answer": p.QuestionsToAnswer})
	}
	if p.EnabledFor == ScopeGroup && p.EnabledGroup == "" {
		return invalid("policy.error.group_needed", "", nil)
	}
	// Security questions never count alone (NIST, ASVS), so the other
	// methods must be able to satisfy the requirement by themselves.
	strong, anywhere := 0, false
	for _, m := range p.MethodsAllowed {
		if d := m.Describe(); d.CountsAlone {
			strong++
			anywhere = anywhere || !d.ByConnection
		}
	}
	// An SSH key is proved only by a portal connection made with it:
	// people at a kiosk, or without a key, need something else.
	if strong > 0 && !anywhere {
		return invalid("policy.error.methods_anywhere", "", nil)
	}
	if strong < p.MethodsRequired {
		if p.MethodsRequired == 1 {
			return invalid("policy.error.methods_strong_one", "", nil)
		}
		return invalid("policy.error.methods_strong_two", "", nil)
	}
	return nil
}

// Change is one setting that differs between two policies, for the audit log.
type Change struct {
	Key string
	Old string
	New string
}

// Load returns the defaults overlaid by the stored settings. Stored keys this
// version does not know are ignored (a newer version may have written them).
// A stored value that fails validation gives an error wrapping ErrInvalidValue
// together with the policy holding the default for that key, so an admin
// tool can show and repair it; flows must treat the error as fatal.
func Load(ctx context.Context, h store.Handler) (Policy, error) {
	stored, err := store.PolicyValues(ctx, h)
	if err != nil {
		return Defaults(), fmt.Errorf("load policy: %w", err)
	}
	return FromValues(stored)
}

// FromValues is Load from settings already read (store.PolicyValues, or a
// statement that read them with something else).
func FromValues(stored map[string]string) (Policy, error) {
	p := Defaults()
	var errs []error
	for _, k := range Keys() {
		v, ok := stored[k]
		if !ok {
			continue
		}
		if err := p.Set(k, v); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("stored policy: %w", errs[0])
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("stored policy: %w", err)
	}
	return p, nil
}

// Save validates p and writes every key. Given the *store.DB it runs in its
// own transaction, so the policy never changes halfway.
func Save(ctx context.Context, h store.Handler, p Policy, at time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if db, ok := h.(*store.DB); ok {
		return db.WithTx(ctx, func(tx *store.Tx) error { return save(ctx, tx, p, at) })
	}
	return save(ctx, h, p, at)
}

func save(ctx context.Context, h store.Handler, p Policy, at time.Time) error {
	for _, k := range Keys() {
		if err := store.SetPolicyValue(ctx, h, k, p.Get(k), at.Unix()); err != nil {
			return fmt.Errorf("save policy: %w", err)
		}
	}
	return nil
}

// setInt and setBool take name, the catalogue ID of the setting's name.
func setInt(dst *int, v, name string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return invalid("policy.error.range", name, locale.Args{"Min": lo, "Max": hi})
	}
	*dst = n
	return nil
}

func setBool(dst *bool, v, name string) error {
	switch strings.ToLower(v) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		return invalid("policy.error.bool", name, nil)
	}
	return nil
}

// parseMethods reads a comma list into canonical order without duplicates,
// so equal sets always print (and diff) the same.
func parseMethods(v string) ([]Method, error) {
	seen := map[Method]bool{}
	for part := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		m, err := ParseMethod(part)
		if err != nil {
			return nil, invalid("policy.error.unknown_method", "",
				locale.Args{"Method": strconv.Quote(strings.TrimSpace(part)), "Known": joinMethods(AllMethods())})
		}
		seen[m] = true
	}
	if len(seen) == 0 {
		return nil, invalid("policy.error.no_method", "", locale.Args{"Known": joinMethods(AllMethods())})
	}
	var out []Method
	for _, m := range AllMethods() {
		if seen[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

func parseBannedWords(v string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		w := strings.ToLower(strings.TrimSpace(part))
		if w == "" {
			continue
		}
		if n := utf8.RuneCountInString(w); n < MinBannedWordLength || n > MaxBannedWordLength {
			if n > MaxBannedWordLength {
				// Quoting a pasted essay would make the one-line error a page long.
				return nil, invalid("policy.error.banned_word_long", "",
					locale.Args{"Min": MinBannedWordLength, "Max": MaxBannedWordLength, "Length": n})
			}
			return nil, invalid("policy.error.banned_word_length", "",
				locale.Args{"Min": MinBannedWordLength, "Max": MaxBannedWordLength, "Word": strconv.Quote(w)})
		}
		out = append(out, w)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxBannedWords {
		return nil, invalid("policy.error.banned_words_many", "", locale.Args{"Max": MaxBannedWords})
	}
	return out, nil
}

// checkContact accepts an email address or an http(s) URL, because that is
// what a dead-end screen can show and a person can act on.
func checkContact(v string) error {
	if v == "" {
		return nil
	}
	bad := invalid("policy.error.helpdesk_contact", "", nil)
	if utf8.RuneCountInString(v) > MaxHelpdeskLength {
		return invalid("policy.error.helpdesk_too_long", "", locale.Args{"Max": MaxHelpdeskLength})
	}
	if strings.ContainsFunc(v, unicode.IsSpace) {
		return bad
	}
	if strings.HasPrefix(strings.ToLower(v), "http://") || strings.HasPrefix(strings.ToLower(v), "https://") {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.User != nil || u.Hostname() == "" {
			return bad
		}
		return nil
	}
	// A bare address only: a display name or angle brackets would be shown raw.
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return bad
	}
	return nil
}

// hasControl reports C0, C1 and bidi control characters, which could rewrite
// what a terminal shows (see the terminal-safety rules).
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
			r == 0x200E || r == 0x200F || r == 0x061C
	})
}

// parseReminderDays reads a comma list of days into descending order
// without duplicates, the canonical form.
func parseReminderDays(v string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 || n > MaxReminderDays {
			return nil, invalid("policy.error.reminder_days", "", locale.Args{"Max": MaxReminderDays})
		}
		out = append(out, n)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	slices.Reverse(out)
	if len(out) > MaxReminders {
		return nil, invalid("policy.error.reminders_many", "", locale.Args{"Max": MaxReminders})
	}
	return out, nil
}

func joinDays(days []int) string {
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, ",")
}

// ReminderWindow is how long before expiry the first reminder goes out and
// the kiosk starts offering a change; 0 when no reminders are set.
func (p Policy) ReminderWindow() time.Duration {
	if len(p.ExpiryReminderDays) == 0 {
		return 0
	}
	return time.Duration(p.ExpiryReminderDays[0]) * 24 * time.Hour
}

func joinMethods(ms []Method) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}
