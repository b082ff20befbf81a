package portal_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/tui/portal"
)

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyHarness allows SSH keys and registers alice's key beside her email.
func keyHarness(t *testing.T) (*flowstest.Harness, gossh.Signer) {
	t.Helper()
	h := newHarness(t)
	h.SetPolicy(t, "methods_allowed", "email,authenticator,recovery_codes,voucher,ssh_key")
	alice := newSigner(t)
	if _, err := h.Svc.AddConnectedSSHKey(context.Background(), h.SignIn(t, "alice"), alice.PublicKey()); err != nil {
		t.Fatal(err)
	}
	return h, alice
}

// dialWith connects trying the given ways to authenticate one after the
// other, each once, as a client with several keys does.
func dialWith(t testing.TB, addr string, auth ...gossh.AuthMethod) *gossh.Client {
	t.Helper()
	c, err := dialErrWith(addr, auth...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func dialErrWith(addr string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	next := 0
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "reset",
		AuthCallback: func(*gossh.ClientAuthContext) (gossh.AuthMethod, error) {
			if next == len(auth) {
				return nil, errors.New("no way left to authenticate")
			}
			next++
			return auth[next-1], nil
		},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

// offerOnly holds a public key but not its private key: it can offer the
// key, and its signatures fail or are garbage.
type offerOnly struct {
	pub     gossh.PublicKey
	garbage bool
}

func (o offerOnly) PublicKey() gossh.PublicKey { return o.pub }

func (o offerOnly) Sign(io.Reader, []byte) (*gossh.Signature, error) {
	if o.garbage {
		blob := make([]byte, ed25519.SignatureSize)
		_, _ = rand.Read(blob)
		return &gossh.Signature{Format: o.pub.Type(), Blob: blob}, nil
	}
	return nil, errors.New("no private key")
}

// methodsFor walks to the method picker for alice and returns the screen.
func methodsFor(t *testing.T, c *gossh.Client) (*terminal, string) {
	t.Helper()
	term := openTerminal(t, c, 30, 100)
	term.toUsername()
	term.typeText("alice")
	term.send("\r")
	// The voucher is always offered, last but the key: once it shows, the
	// list is drawn.
	term.waitFor("I have a helpdesk voucher", wait)
	return term, term.out.Screen()
}

// TestSSHKeyOverSSH: a client that signs with alice's registered key is
// offered "Your SSH key" and resets with it, typing nothing to prove it; the
// audit log has the key's fingerprint.
func TestSSHKeyOverSSH(t *testing.T) {
	h, alice := keyHarness(t)
	p := startPortal(t, h, nil)
	term, screen := methodsFor(t, dialWith(t, p.addr, gossh.PublicKeys(alice)))
	if !strings.Contains(screen, "Your SSH key") {
		t.Fatalf("a client signing with alice's key is not offered it:\n%s", screen)
	}
	term.send("3") // email, voucher, the key
	term.waitFor("Type it again", wait)
	term.typeText(newPassword)
	term.send("\r")
	term.typeText(newPassword)
	term.waitFor("Both entries match", wait)
	time.Sleep(100 * time.Millisecond)
	term.send("\r")
	term.waitFor("Your password has been changed", wait)
	term.leave()

	rows, err := store.ListAudit(context.Background(), h.DB, store.AuditFilter{Events: []string{string(audit.EventVerifySucceeded)}})
	if err != nil {
		t.Fatal(err)
	}
	want := "ssh_key " + gossh.FingerprintSHA256(alice.PublicKey()) + " for reset"
	if len(rows) != 1 || rows[0].Detail != want || rows[0].Source != "ssh:127.0.0.1" {
		t.Fatalf("audit %+v; want one verify.succeeded %q from ssh:127.0.0.1", rows, want)
	}
}

// TestSSHKeyNotOfferedOverSSH: the key is not offered to a connection
// without it, whichever way it got in. Among them the CVE-2024-45337
// regression: a client that offers alice's public key, which the portal's
// key callback sees and accepts, but cannot sign with it (an error, or a
// signature of garbage), gets in by keyboard-interactive and must not get
// the proof; nor must one that offers alice's key and then signs with its
// own.
func TestSSHKeyNotOfferedOverSSH(t *testing.T) {
	h, alice := keyHarness(t)
	p := startPortal(t, h, nil)
	mallory := newSigner(t)
	offer := gossh.PublicKeys(offerOnly{pub: alice.PublicKey()})
	for _, tc := range []struct {
		name string
		auth []gossh.AuthMethod
	}{
		{"another key", []gossh.AuthMethod{gossh.PublicKeys(mallory)}},
		{"no key", portal.Anyone()},
		{"offers alice's key, cannot sign", append([]gossh.AuthMethod{offer}, portal.Anyone()...)},
		{"offers alice's key, signs with its own", []gossh.AuthMethod{offer, gossh.PublicKeys(mallory)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term, screen := methodsFor(t, dialWith(t, p.addr, tc.auth...))
			if strings.Contains(screen, "Your SSH key") {
				t.Fatalf("offered the key:\n%s", screen)
			}
			term.leave()
		})
	}
	// A signature that does not verify ends the connection there.
	if c, err := dialErrWith(p.addr, gossh.PublicKeys(offerOnly{pub: alice.PublicKey(), garbage: true})); err == nil {
		c.Close()
		t.Fatal("a client signing garbage with alice's key got in")
	}
}

// TestConnectedKeyRegisteredOverSSH: in security info, a person connected
// with a key registers it in one keypress, and sees its type, fingerprint
// and the count in the overview.
func TestConnectedKeyRegisteredOverSSH(t *testing.T) {
	h, _ := keyHarness(t)
	h.AddUser(t, "bob", false)
	h.RegisterVerified(t, "bob", "email", "bob@example.com")
	p := startPortal(t, h, nil)
	bob := newSigner(t)
	term := openTerminal(t, dialWith(t, p.addr, gossh.PublicKeys(bob)), 30, 100)
	term.waitFor("Reset a forgotten password", wait)
	term.send("3")
	term.waitFor("Username", wait)
	term.typeText("bob")
	term.send("\t")
	term.typeText(flowstest.Password)
	term.send("\r")
	term.waitFor("Add an SSH key", wait)
	// Up from the first item wraps to the last; one step at a time, each
	// waited for, until the cursor is on the key.
	for range 10 {
		screen := term.out.Screen()
		if strings.Contains(screen, "› Add an SSH key") {
			break
		}
		term.send("\x1b[A")
		deadline := time.Now().Add(wait)
		for term.out.Screen() == screen && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	term.send("\r")
	term.waitFor("Use the key you connected with", wait)
	term.send("\r") // the first item: one keypress
	fp := gossh.FingerprintSHA256(bob.PublicKey())
	term.waitFor("ED25519 key "+fp+" added.", wait)
	if !strings.Contains(term.out.Screen(), "1. ED25519   "+fp) {
		t.Fatalf("the key is not listed:\n%s", term.out.Screen())
	}
	term.send("\x1b")
	term.waitFor("1 of 5 keys", wait)
	term.leave()
}

// TestKeyConnectionHasSessionDeadline: a connection that authenticated
// with a key is authenticated at the door as one through
// keyboard-interactive is: it must ask for its session in time, or it is
// closed (ssh -N with a key).
func TestKeyConnectionHasSessionDeadline(t *testing.T) {
	h := newHarness(t)
	p := startPortal(t, h, func(o *portal.Options) { o.SSH.SessionRequestTimeout = time.Second })
	c := dialWith(t, p.addr, gossh.PublicKeys(newSigner(t)))
	closed := make(chan error, 1)
	go func() { closed <- c.Wait() }()
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("a connection that authenticated with a key and asked for no session is still open")
	}
}
