// Package sshkey reads the SSH public keys people register as a way to
// prove who they are: one authorized_keys line pasted into a field, or the
// key a portal connection was verified with. It decides which keys are
// strong enough and makes what is kept of them safe to show.
package sshkey

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/invisible"
)

// Limits of what is read.
const (
	// MaxLineLength bounds a pasted line: an RSA key of 16384 bits with a
	// long comment fits in under 3 kB, so 8 kB is room enough and a 100 kB
	// paste is refused before it is parsed.
	MaxLineLength = 8 << 10
	// MinRSABits is the smallest RSA key accepted (NIST SP 800-57: 3072
	// bits for security beyond 2030).
	MinRSABits = 3072
	// MaxCommentLength is how many characters of a comment are kept.
	MaxCommentLength = 100
)

// Errors of Parse and FromPublicKey; test with errors.Is. Each message is
// the reason a person reads.
var (
	// ErrTooLong means the line is longer than MaxLineLength.
	ErrTooLong = errors.New("that is too long to be one public key line")
	// ErrNotAKey means the text is no public key line at all.
	ErrNotAKey = errors.New("that is not an SSH public key; paste one line of your .pub file, like \"ssh-ed25519 AAAA… you@host\"")
	// ErrSeveral means more than one key was pasted.
	ErrSeveral = errors.New("that is more than one key; paste one at a time")
	// ErrUnsupported means a key of a type that is not accepted.
	ErrUnsupported = errors.New("only ed25519, ECDSA and RSA keys of at least 3072 bits are accepted")
	// ErrWeak means an RSA key shorter than MinRSABits.
	ErrWeak = errors.New("RSA keys must have at least 3072 bits")
)

// KeyError is ErrWeak or ErrUnsupported with what is wrong with the key
// itself, so a refusal can name it in the reader's language.
type KeyError struct {
	// Err is ErrWeak or ErrUnsupported.
	Err error
	// Bits is the RSA key's size, for ErrWeak.
	Bits int
	// Type is the key's type, safe to quote, for ErrUnsupported.
	Type string
}

// Error says the refusal and what is wrong with the key.
func (e *KeyError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("%v (this one is %s)", e.Err, e.Type)
	}
	return fmt.Sprintf("%v, and this one has %d", e.Err, e.Bits)
}

// Unwrap returns ErrWeak or ErrUnsupported.
func (e *KeyError) Unwrap() error { return e.Err }

// Key is a public key that passed the checks, as it is kept.
type Key struct {
	// Type is the key's algorithm as SSH names it: "ssh-ed25519".
	Type string
	// Bits is the key's size: 256 for ed25519, the curve size for ECDSA,
	// the modulus size for RSA.
	Bits int
	// Fingerprint is the SHA256 fingerprint as ssh-keygen -l prints it.
	Fingerprint string
	// Comment is the line's comment, made safe to show (see Clean).
	Comment string
	// Wire is the key in SSH wire form: what a connection's key is
	// compared with, byte for byte.
	Wire []byte
}

// Name words the key's type for people: "ED25519", "ECDSA 256", "RSA 4096".
func (k Key) Name() string {
	switch k.Type {
	case ssh.KeyAlgoED25519:
		return "ED25519"
	case ssh.KeyAlgoRSA:
		return fmt.Sprintf("RSA %d", k.Bits)
	}
	return fmt.Sprintf("ECDSA %d", k.Bits)
}

// Matches reports whether pk is this key.
func (k Key) Matches(pk ssh.PublicKey) bool {
	return pk != nil && bytes.Equal(k.Wire, pk.Marshal())
}

// Parse reads one authorized_keys line: options before the key are
// allowed and dropped (they mean nothing here), and so are blank lines and
// comments around it. Exactly one key must be there.
func Parse(line string) (Key, error) {
	if len(line) > MaxLineLength {
		return Key{}, ErrTooLong
	}
	pk, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		// The line may name a key type ssh cannot read at all: say which
		// types are accepted rather than that it is no key.
		if f := strings.Fields(line); len(f) > 0 && looksLikeKeyType(f[0]) {
			return Key{}, ErrUnsupported
		}
		return Key{}, ErrNotAKey
	}
	if strings.TrimSpace(string(rest)) != "" {
		if _, _, _, _, err := ssh.ParseAuthorizedKey(rest); err == nil {
			return Key{}, ErrSeveral
		}
	}
	return FromPublicKey(pk, comment)
}

// looksLikeKeyType reports a word shaped like an SSH key type (dsa,
// sk-…@openssh.com, a certificate), for a clearer refusal.
func looksLikeKeyType(w string) bool {
	return strings.HasPrefix(w, "ssh-") || strings.HasPrefix(w, "ecdsa-") || strings.HasPrefix(w, "sk-")
}

// FromPublicKey checks a key and keeps it with its comment, cleaned.
// Certificates, DSA and security-key (sk-) types are refused: a
// certificate is a statement about a key, not a key a person holds, and
// the portal cannot ask a security key to be touched.
func FromPublicKey(pk ssh.PublicKey, comment string) (Key, error) {
	if pk == nil {
		return Key{}, ErrNotAKey
	}
	k := Key{Type: pk.Type(), Fingerprint: ssh.FingerprintSHA256(pk), Comment: Clean(comment), Wire: pk.Marshal()}
	switch k.Type {
	case ssh.KeyAlgoED25519:
		k.Bits = 256
	case ssh.KeyAlgoECDSA256:
		k.Bits = 256
	case ssh.KeyAlgoECDSA384:
		k.Bits = 384
	case ssh.KeyAlgoECDSA521:
		k.Bits = 521
	case ssh.KeyAlgoRSA:
		cpk, ok := pk.(ssh.CryptoPublicKey)
		if !ok {
			return Key{}, ErrUnsupported
		}
		rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return Key{}, ErrUnsupported
		}
		k.Bits = rk.N.BitLen()
		if k.Bits < MinRSABits {
			return Key{}, &KeyError{Err: ErrWeak, Bits: k.Bits}
		}
	default:
		return Key{}, &KeyError{Err: ErrUnsupported, Type: safeType(k.Type)}
	}
	return k, nil
}

// safeType keeps a key type quotable in a message: the types ssh parses are
// short ASCII names, but nothing else is let through.
func safeType(t string) string {
	if len(t) > 48 || strings.ContainsFunc(t, func(r rune) bool { return r < '!' || r > '~' }) {
		return "unknown"
	}
	return t
}

// Clean makes a comment safe to keep and show: terminal escape sequences
// are removed whole (not just their ESC, which would leave "[31m" behind),
// then control, bidi and invisible characters; runs of spaces become one;
// and it is cut to MaxCommentLength characters.
func Clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = stripEscapes(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
			r == 0x200E, r == 0x200F, r == 0x061C, invisible.Is(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxCommentLength {
		s = string([]rune(s)[:MaxCommentLength])
	}
	return s
}

// stripEscapes removes ESC-introduced sequences: CSI (ESC [ … final byte),
// OSC, DCS, APC, PM and SOS strings (up to BEL or ESC \), and two-byte
// escapes.
func stripEscapes(s string) string {
	if !strings.ContainsRune(s, 0x1b) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != 0x1b {
			b.WriteByte(s[i])
			i++
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case '[':
			i++
			for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
				i++
			}
			i++
		case ']', 'P', '_', '^', 'X':
			i++
			for i < len(s) && s[i] != 0x07 && !(s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\') {
				i++
			}
			if i < len(s) && s[i] == 0x1b {
				i++
			}
			i++
		default:
			i++
		}
	}
	return b.String()
}
