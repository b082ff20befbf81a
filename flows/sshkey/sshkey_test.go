package sshkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

func line(t testing.TB, pub any, comment string) string {
	t.Helper()
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))) + " " + comment
}

// TestParseAccepted: a key of each accepted type is read with its type,
// size, the fingerprint ssh-keygen prints and its comment, and its wire
// form matches the key it came from.
func TestParseAccepted(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pub      any
		typ      string
		bits     int
		wantName string
	}{
		{edPub, ssh.KeyAlgoED25519, 256, "ED25519"},
		{ecdsaPub(t, elliptic.P256()), ssh.KeyAlgoECDSA256, 256, "ECDSA 256"},
		{ecdsaPub(t, elliptic.P384()), ssh.KeyAlgoECDSA384, 384, "ECDSA 384"},
		{ecdsaPub(t, elliptic.P521()), ssh.KeyAlgoECDSA521, 521, "ECDSA 521"},
		{&rsaKey.PublicKey, ssh.KeyAlgoRSA, 3072, "RSA 3072"},
	} {
		l := line(t, tc.pub, "alice@laptop")
		k, err := Parse(l)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		pk, _ := ssh.NewPublicKey(tc.pub)
		if k.Type != tc.typ || k.Bits != tc.bits || k.Name() != tc.wantName || k.Comment != "alice@laptop" ||
			k.Fingerprint != ssh.FingerprintSHA256(pk) || !strings.HasPrefix(k.Fingerprint, "SHA256:") || !k.Matches(pk) {
			t.Errorf("%s: got %+v (name %q)", tc.typ, k, k.Name())
		}
		// Options before the key, as in an authorized_keys file, are dropped.
		if k2, err := Parse(`no-pty,from="10.0.0.1" ` + l + "\n"); err != nil || k2.Fingerprint != k.Fingerprint {
			t.Errorf("%s with options: %v, %+v", tc.typ, err, k2)
		}
	}
}

func ecdsaPub(t *testing.T, c elliptic.Curve) any {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// TestParseRefused: each refusal says why, with the sentinel a caller can
// test: a 1024-bit RSA key, garbage, a 100 kB line, two keys in one paste,
// a security-key and a certificate.
func TestParseRefused(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed := line(t, edPub, "x")
	skWire := ssh.Marshal(struct {
		Name, Key, App string
	}{"sk-ssh-ed25519@openssh.com", string(edPub), "ssh:"})
	skPub, err := ssh.ParsePublicKey(skWire)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(edPriv)
	sshPub, _ := ssh.NewPublicKey(edPub)
	cert := &ssh.Certificate{Key: sshPub, CertType: ssh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   string
		want error
		says string
	}{
		{"rsa 1024", line(t, &weak.PublicKey, "old"), ErrWeak, "this one has 1024"},
		{"garbage", "hello world", ErrNotAKey, "not an SSH public key"},
		{"empty", "", ErrNotAKey, ""},
		{"100 kB", ed + " " + strings.Repeat("a", 100<<10), ErrTooLong, "too long"},
		{"two keys", ed + "\n" + ed, ErrSeveral, "one at a time"},
		{"bad base64", "ssh-ed25519 AAAA!!!! x", ErrUnsupported, ""},
		{"dsa", "ssh-dss AAAAB3NzaC1kc3MAAACBAP x@y", ErrUnsupported, ""},
		{"security key", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(skPub))), ErrUnsupported,
			"sk-ssh-ed25519@openssh.com"},
		{"certificate", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert))), ErrUnsupported, "cert"},
	} {
		_, err := Parse(tc.in)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v, want %v saying %q", tc.name, err, tc.want, tc.says)
		}
	}
}

// TestCommentCleaned: escape sequences in a comment are removed whole,
// with control, bidi and invisible characters; what is kept is short.
func TestCommentCleaned(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, err := Parse(line(t, edPub, "\x1b]8;;http://evil\x07click\x1b]8;;\x07 \x1b[2J\x1b[31mred\u202eevil\u200b\r\x9b2J"+
		strings.Repeat("z", 300)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(k.Comment, "\x1b\x07\r\u202e\u200b[") || !utf8.ValidString(k.Comment) ||
		!strings.HasPrefix(k.Comment, "click redevil 2J") ||
		utf8.RuneCountInString(k.Comment) != MaxCommentLength {
		t.Errorf("comment kept as %q", k.Comment)
	}
}

// FuzzParse: whatever is pasted, Parse never panics; a key it accepts is
// of an accepted type and size, reads back from its wire form to the same
// fingerprint, and has a comment with nothing a terminal would act on.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		k, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrTooLong) && !errors.Is(err, ErrNotAKey) && !errors.Is(err, ErrUnsupported) &&
				!errors.Is(err, ErrWeak) && !errors.Is(err, ErrSeveral) {
				t.Fatalf("refusal without a sentinel: %v", err)
			}
			return
		}
		pk, err := ssh.ParsePublicKey(k.Wire)
		if err != nil || ssh.FingerprintSHA256(pk) != k.Fingerprint || pk.Type() != k.Type {
			t.Fatalf("wire form does not read back: %v", err)
		}
		switch {
		case k.Type == ssh.KeyAlgoRSA && k.Bits < MinRSABits,
			k.Type != ssh.KeyAlgoRSA && k.Type != ssh.KeyAlgoED25519 && !strings.HasPrefix(k.Type, "ecdsa-sha2-nistp"):
			t.Fatalf("accepted %s of %d bits", k.Type, k.Bits)
		}
		if !utf8.ValidString(k.Comment) || utf8.RuneCountInString(k.Comment) > MaxCommentLength ||
			strings.ContainsFunc(k.Comment, func(r rune) bool { return unicode.IsControl(r) || r >= 0x202A && r <= 0x202E }) {
			t.Fatalf("comment not clean: %q", k.Comment)
		}
		if Clean(k.Comment) != k.Comment {
			t.Fatalf("Clean is not idempotent on %q", k.Comment)
		}
	})
}
