package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// newKeyFile makes an ed25519 key pair with ssh-keygen in dir and returns
// the private key's path; the public key is beside it, with .pub.
func newKeyFile(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name+"@laptop", "-f", path).CombinedOutput()
	if err != nil {
		if _, lerr := exec.LookPath("ssh-keygen"); lerr != nil && os.Getenv("SSPR_REQUIRE_INTEGRATION") != "1" {
			t.Skip("no ssh-keygen")
		}
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

func fingerprintOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pk, _, _, _, err := gossh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FingerprintSHA256(pk)
}

// withKeys are OpenSSH options that authenticate with these identity files
// only, in order.
func withKeys(paths ...string) []string {
	opts := []string{"-o", "PubkeyAuthentication=yes", "-o", "IdentitiesOnly=yes"}
	for _, p := range paths {
		opts = append(opts, "-i", p)
	}
	return opts
}

// TestSSHKeyOverOpenSSH walks the SSH key with the real OpenSSH client
// against `sspr serve`: alice signs in with `ssh -i KEY -tt`, registers the
// key she connected with in one keypress and leaves; connecting again with
// that key she resets her password with it as her one method, typing
// nothing to prove it. With another key, with none, or offering her public
// key without signing with it before signing with another (OpenSSH asks
// whether a key would do before it unlocks the private key:
// CVE-2024-45337's shape), the method is not offered.
func TestSSHKeyOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	keys := t.TempDir()
	aliceKey, otherKey := newKeyFile(t, keys, "alice"), newKeyFile(t, keys, "other")
	f := newFolder(t)
	const oldPassword, newPass = "Marble otter lantern 2026", "Copper violin meadow 58"
	f.runIn(oldPassword+"\n", "user", "add", "alice", "--password-stdin")
	f.ok("policy", "set", "methods_allowed", "authenticator,recovery_codes,voucher,ssh_key")
	p := startPortalProcess(t, cleanEnv(), "serve", "--data", f.dir)
	ssh := func(opts ...string) *ptyClient {
		return startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgsWith(opts)...))
	}

	// Register the key she connected with.
	c := ssh(withKeys(aliceKey)...)
	c.waitFor("Reset a forgotten password")
	c.send("3")
	c.waitFor("Username")
	c.typeText("alice")
	c.send("\r")
	c.typeText(oldPassword)
	c.send("\r")
	c.waitFor("Add an SSH key")
	c.send("3") // authenticator, recovery codes, the key
	c.waitFor("Use the key you connected with")
	c.send("\r")
	c.waitFor("key " + fingerprintOf(t, aliceKey) + " added.")
	c.quit()

	// Reconnect with it and reset.
	c = ssh(withKeys(aliceKey)...)
	c.waitFor("Reset a forgotten password")
	c.send("1")
	c.waitFor("Enter your username")
	c.typeText("alice")
	c.send("\r")
	c.waitFor("Your SSH key")
	c.send("2") // the voucher, then the key
	c.waitFor("Type it again")
	c.typeText(newPass)
	c.send("\r")
	c.typeText(newPass)
	c.waitFor("Both entries match")
	time.Sleep(200 * time.Millisecond)
	c.send("\r")
	c.waitFor("Your password has been changed")
	c.quit()

	// Offering her key without being able to sign: a copy of her private
	// key under a passphrase, which OpenSSH in batch mode cannot ask for.
	// It offers the public key from the .pub beside it first, and moves
	// on to the next key when it cannot sign.
	locked := filepath.Join(t.TempDir(), "alice")
	b, err := os.ReadFile(aliceKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(locked, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-p", "-f", locked, "-P", "", "-N", "not typed").CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -p: %v\n%s", err, out)
	}
	if b, err = os.ReadFile(aliceKey + ".pub"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(locked+".pub", b, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]string{
		"another key":                 withKeys(otherKey),
		"no key":                      {"-o", "PubkeyAuthentication=no"},
		"her key unsigned, then mine": append([]string{"-o", "BatchMode=yes"}, withKeys(locked, otherKey)...),
	} {
		t.Run(name, func(t *testing.T) {
			c := ssh(opts...)
			c.waitFor("Reset a forgotten password")
			c.send("1")
			c.waitFor("Enter your username")
			c.typeText("alice")
			c.send("\r")
			c.waitFor("I have a helpdesk voucher")
			if screen := c.term.Screen(); strings.Contains(screen, "SSH key") {
				t.Fatalf("offered the key:\n%s", screen)
			}
			c.quit()
		})
	}
	p.stop(t)
	if log := p.stderr.String(); strings.Contains(log, newPass) || strings.Contains(log, oldPassword) {
		t.Fatalf("a password reached the log:\n%s", log)
	}
}
