package policy

import (
	"slices"
	"strings"

	"github.com/sspr-kiosk/sspr/flows/secret"
)

// Method is a way to prove who you are.
type Method string

// The methods, in the order they are offered.
const (
	Email         Method = "email"
	SMS           Method = "sms"
	Authenticator Method = "authenticator"
	RecoveryCodes Method = "recovery_codes"
	Voucher       Method = "voucher"
	Questions     Method = "questions"
	SSHKey        Method = "ssh_key"
)

// Lengths of the codes people type. They are constants, not settings,
// because loosening them is a change to the product.
const (
	// SentCodeDigits is the length of emailed and texted codes.
	SentCodeDigits = 8
	// AuthenticatorDigits is the length of an authenticator app's codes.
	AuthenticatorDigits = 6
	// RecoveryCodeLength is the length of one recovery code.
	RecoveryCodeLength = 10
)

// Channel names the delivery channel that carries a method's codes; the
// dispatcher and the config speak the same names.
type Channel string

// The channels. A method that sends nothing has the empty channel.
const (
	ChannelNone  Channel = ""
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Alphabet says what a person types to prove a method, so input can be
// checked for its shape before anything is counted.
type Alphabet int

// The alphabets.
const (
	// AlphabetNone: nothing is typed into a code field (security questions
	// have their own screen).
	AlphabetNone Alphabet = iota
	// AlphabetDigits: decimal digits only.
	AlphabetDigits
	// AlphabetRecovery: a recovery code of secret.RecoveryAlphabet.
	AlphabetRecovery
	// AlphabetVoucher: a voucher of secret.RecoveryAlphabet in groups of 4.
	AlphabetVoucher
)

// AdminUse says whether an administrator may use a method.
type AdminUse int

// The ways an administrator may use a method.
const (
	// AdminAlways: one of an administrator's sign-in methods, whatever
	// the policy allows, because an administrator must never be locked out
	// of the panel by the policy they edit.
	AdminAlways AdminUse = iota + 1
	// AdminIfAllowed: for resetting an administrator's password only
	// where the policy allows it, and never for signing in to the panel.
	AdminIfAllowed
	// AdminNever: never offered to an administrator.
	AdminNever
)

// Descriptor is everything sspr knows about a method that is data rather
// than behaviour: a switch over methods in flows or a screen reads it from
// here, so a new method is added in this table plus its own screen.
//
// Every text is a catalogue ID (see flows/locale): the screen, email or
// text message writes it in the reader's language. Placeholders named in
// the English text are {{.Digits}} (CodeLength) and {{.Organisation}}.
type Descriptor struct {
	// Label is the method's name as people read it: "Email code".
	Label string
	// Prompt words choosing the method as an action: "Email me a code".
	Prompt string
	// Noun names what the person registers, capitalised: "Email address".
	// It is not the label, since "remove email code" reads as if one code
	// were withdrawn.
	Noun string
	// Inline is the noun as written inside a sentence ("email address",
	// but "SSH key"), and Plural the noun for several ("SSH keys").
	Inline, Plural string
	// Short names the method in a crowded line: "text", "app".
	Short string
	// Letter abbreviates the method in the users table: E S A R V Q.
	Letter byte
	// Channel carries the method's codes; ChannelNone when it sends none.
	Channel Channel
	// AskFor is what a person is asked to type when registering a channel
	// method ("email address"); empty for the others.
	AskFor string
	// Example is a well-formed destination for a channel method, shown in
	// an empty field; empty for the others. It is not translated.
	Example string
	// Alphabet and CodeLength give the shape of what is typed to prove it.
	// CodeLength is 0 when there is no fixed length worth telling.
	Alphabet   Alphabet
	CodeLength int
	// Placeholder is shown in the empty code field: "8-digit code".
	Placeholder string
	// Instruction tells the person where the code comes from, on the code
	// screen. Empty for channel methods, whose screen says where the code
	// went.
	Instruction string
	// Detail is what a person's security info says of the method once
	// registered, for a method without a destination to show: "set up".
	Detail string
	// Admin says whether an administrator may use the method.
	Admin AdminUse
	// CountsAlone is false for a method that never suffices on its own
	// (security questions: NIST, ASVS).
	CountsAlone bool
	// Issued marks a method the helpdesk issues rather than the person
	// registering it: always offered for a reset, since its presence tells
	// nothing, and never for signing in to the panel.
	Issued bool
	// ByConnection marks a method proved by the connection itself, with
	// nothing typed: the key the SSH portal verified in the handshake. It is
	// offered only when that key is registered to the account named, so
	// never on a decoy path nor at a kiosk, and the policy must allow some
	// other method that counts alone, for everyone who comes without it.
	ByConnection bool
	// MaxRegistered is how many of the method a person may register, for
	// a method of which they may have several; 0 means one.
	MaxRegistered int
}

// SendsCode reports whether the method proves possession by a code sent
// over a channel.
func (d Descriptor) SendsCode() bool { return d.Channel != ChannelNone }

// methods is the table, in the order methods are offered.
var methods = []struct {
	m Method
	d Descriptor
}{
	{Email, Descriptor{Label: "method.email.label", Prompt: "method.email.prompt", Noun: "method.email.noun",
		Inline: "method.email.inline", Plural: "method.email.plural", Short: "method.email.short",
		Letter: 'E', Channel: ChannelEmail, AskFor: "method.email.ask_for", Example: "name@example.com",
		Alphabet: AlphabetDigits, CodeLength: SentCodeDigits, Placeholder: "method.digits.placeholder",
		Admin: AdminAlways, CountsAlone: true}},
	{SMS, Descriptor{Label: "method.sms.label", Prompt: "method.sms.prompt", Noun: "method.sms.noun",
		Inline: "method.sms.inline", Plural: "method.sms.plural", Short: "method.sms.short",
		Letter: 'S', Channel: ChannelSMS, AskFor: "method.sms.ask_for", Example: "+15551234567",
		Alphabet: AlphabetDigits, CodeLength: SentCodeDigits, Placeholder: "method.digits.placeholder",
		Admin: AdminAlways, CountsAlone: true}},
	{Authenticator, Descriptor{Label: "method.authenticator.label", Prompt: "method.authenticator.prompt",
		Noun: "method.authenticator.noun", Inline: "method.authenticator.inline", Plural: "method.authenticator.plural",
		Short: "method.authenticator.short", Letter: 'A', Detail: "method.authenticator.detail",
		Alphabet: AlphabetDigits, CodeLength: AuthenticatorDigits, Placeholder: "method.digits.placeholder",
		Instruction: "method.authenticator.instruction",
		Admin:       AdminAlways, CountsAlone: true}},
	{RecoveryCodes, Descriptor{Label: "method.recovery.label", Prompt: "method.recovery.prompt",
		Noun: "method.recovery.noun", Inline: "method.recovery.inline", Plural: "method.recovery.plural",
		Short: "method.recovery.short", Letter: 'R', Detail: "method.recovery.detail",
		Alphabet: AlphabetRecovery, CodeLength: RecoveryCodeLength, Placeholder: "method.recovery.placeholder",
		Instruction: "method.recovery.instruction",
		Admin:       AdminAlways, CountsAlone: true}},
	{Voucher, Descriptor{Label: "method.voucher.label", Prompt: "method.voucher.prompt",
		Noun: "method.voucher.noun", Inline: "method.voucher.inline", Plural: "method.voucher.plural",
		Short: "method.voucher.short", Letter: 'V',
		Alphabet: AlphabetVoucher, CodeLength: secret.VoucherLength, Placeholder: "method.voucher.placeholder",
		Instruction: "method.voucher.instruction",
		Admin:       AdminIfAllowed, CountsAlone: true, Issued: true}},
	{Questions, Descriptor{Label: "method.questions.label", Prompt: "method.questions.prompt",
		Noun: "method.questions.noun", Inline: "method.questions.inline", Plural: "method.questions.plural",
		Short: "method.questions.short", Letter: 'Q', Detail: "method.questions.detail",
		Admin: AdminNever}},
	{SSHKey, Descriptor{Label: "method.sshkey.label", Prompt: "method.sshkey.prompt", Noun: "method.sshkey.noun",
		Inline: "method.sshkey.inline", Plural: "method.sshkey.plural", Short: "method.sshkey.short", Letter: 'K',
		Detail: "method.sshkey.detail", Admin: AdminIfAllowed, CountsAlone: true, ByConnection: true,
		MaxRegistered: MaxSSHKeys}},
}

// MaxSSHKeys is how many SSH keys one person may register: a laptop, a
// desktop and a few spares, not a key ring to hide a stolen key in.
const MaxSSHKeys = 5

// AllMethods returns every method in the order they are offered.
func AllMethods() []Method {
	out := make([]Method, len(methods))
	for i, e := range methods {
		out[i] = e.m
	}
	return out
}

// Describe returns the method's descriptor. An unknown method (a kind in
// the store written by a newer version) gets its name as label and noun
// and counts for nothing, so it is never offered; it has no letter.
func (m Method) Describe() Descriptor {
	for _, e := range methods {
		if e.m == m {
			return e.d
		}
	}
	return Descriptor{Label: string(m), Prompt: string(m), Noun: string(m), Short: string(m), Admin: AdminNever}
}

// Label is the method's name as people read it.
func (m Method) Label() string { return m.Describe().Label }

// ParseMethod turns a method name (any case, surrounding spaces ignored)
// into a Method.
func ParseMethod(s string) (Method, error) {
	m := Method(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(AllMethods(), m) {
		return m, nil
	}
	return "", invalid("unknown method %q; known methods: %s", s, joinMethods(AllMethods()))
}

// Usable reports whether a person may prove m under the policy:
// administrators always have their sign-in methods and never the ones
// that are not for them; everyone else has what the policy allows.
// Whether a channel can deliver is the caller's to add.
func (p Policy) Usable(m Method, isAdmin bool) bool {
	d := m.Describe()
	if isAdmin {
		return d.Admin == AdminAlways || d.Admin == AdminIfAllowed && p.Allows(m)
	}
	return p.Allows(m)
}
