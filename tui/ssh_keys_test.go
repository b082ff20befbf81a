package tui

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// fixedKey is an ed25519 public key made from a seed byte, the same every
// run, so goldens can show its fingerprint.
func fixedKey(t testing.TB, seed byte) gossh.PublicKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune(seed)), ed25519.SeedSize)))
	pk, err := gossh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// allowKeys lets people use SSH keys beside the default methods.
func allowKeys(t testing.TB, h *harness) {
	t.Helper()
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,ssh_key")
}

// overSSH is a session of the portal whose connection was verified with
// key (nil: without one).
func overSSH(t testing.TB, h *harness, key gossh.PublicKey) *driver {
	return newDriver(t, h, Options{Mode: ModeSSH, Source: "ssh:127.0.0.1", ClientKey: key,
		IdleTimeout: 120 * time.Second, DoneTimeout: 30 * time.Second})
}

// registerKey gives a person a key through the flows, as security info does.
func registerKey(t testing.TB, h *harness, name string, key gossh.PublicKey) {
	t.Helper()
	info, err := h.Svc.SignIn(context.Background(), name, testPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.AddConnectedSSHKey(context.Background(), info.ID, key); err != nil {
		t.Fatal(err)
	}
}

// TestSSHKeyAtReset: connected with alice's registered key, the method
// picker offers "Your SSH key" (golden), and choosing it proves it with
// nothing typed: straight on to the new password. Without the key, or with
// another, it is not offered.
func TestSSHKeyAtReset(t *testing.T) {
	h := newHarness(t)
	allowKeys(t, h)
	alice := fixedKey(t, 1)
	registerKey(t, h, "alice", alice)

	for _, key := range []gossh.PublicKey{nil, fixedKey(t, 2)} {
		d := overSSH(t, h, key)
		d.startReset("alice")
		at[*methods](d)
		d.see("Email me a code")
		d.notSee("Your SSH key")
	}

	d := overSSH(t, h, alice)
	d.startReset("alice")
	at[*methods](d)
	d.see("Your SSH key")
	d.screenGolden(t)
	d.chooseItem("Your SSH key")
	at[*newPassword](d)
}

// TestSSHKeyOneOfTwoScreens: with two methods required, the key is the
// first step and the picker asks for a second, different way.
func TestSSHKeyOneOfTwoScreens(t *testing.T) {
	h := newHarness(t)
	allowKeys(t, h)
	h.SetPolicy(t, "methods_required", "2")
	alice := fixedKey(t, 1)
	registerKey(t, h, "alice", alice)
	d := overSSH(t, h, alice)
	d.startReset("alice")
	d.see("Step 1 of 2", "Your SSH key")
	d.chooseItem("Your SSH key")
	at[*methods](d)
	d.see("Step 2 of 2", "One way proven", "Email me a code")
	d.notSee("Your SSH key")
}

// TestSSHKeysScreen walks the security-info screen for keys as erin, who
// has nothing yet and connected with a key: the connected key is the first
// item, taken in one keypress and listed with type and fingerprint; a
// pasted line of garbage is refused with the reason; a 100 kB paste is
// refused whole; a key with escape sequences in its comment is stored
// with the comment cleaned; a key is removed after a question; the
// overview counts the keys. Goldens at 80×24 pin the screen's states.
func TestSSHKeysScreen(t *testing.T) {
	h := newHarness(t)
	allowKeys(t, h)
	erin := fixedKey(t, 3)
	d := overSSH(t, h, erin)
	d.signIn(3, "erin")
	d.chooseItem("Add an SSH key")
	at[*sshKeys](d)
	d.see("No keys yet.", "Use the key you connected with", "ED25519 "+gossh.FingerprintSHA256(erin))
	t.Run("connected", func(t *testing.T) { d.screenGolden(t) })

	d.keys("enter")
	d.see("ED25519 key "+gossh.FingerprintSHA256(erin)+" added.", "1. ED25519 "+gossh.FingerprintSHA256(erin))
	d.notSee("Use the key you connected with")
	t.Run("one key", func(t *testing.T) { d.screenGolden(t) })

	d.chooseItem("Paste a public key")
	d.paste("hello world")
	d.keys("enter")
	d.see("That is not an SSH public key; paste one line of your .pub file")
	t.Run("paste refused", func(t *testing.T) { d.screenGolden(t) })

	d.clear()
	d.paste(strings.Repeat("A", 100<<10))
	d.see("That paste is too long for this field; nothing was pasted.")

	other := fixedKey(t, 4)
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(other))) + " \x1b]8;;http://evil\x07me\x1b]8;;\x07\x1b[2J@host\u202e"
	d.paste(line)
	d.keys("enter")
	d.see("2. ED25519 " + gossh.FingerprintSHA256(other) + " me@host")
	info, err := h.Svc.SignIn(context.Background(), "erin", testPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := h.Svc.SSHKeys(context.Background(), info.ID)
	if err != nil || len(keys) != 2 || keys[1].Comment != "me@host" {
		t.Fatalf("stored %+v, %v", keys, err)
	}

	d.chooseItem("Remove key 1")
	d.see("Remove key 1, ED25519 " + gossh.FingerprintSHA256(erin) + "? (y/n)")
	d.keys("y")
	d.see("Key "+gossh.FingerprintSHA256(erin)+" removed.", "1. ED25519 "+gossh.FingerprintSHA256(other))
	d.keys("esc")
	at[*overview](d)
	d.see("SSH key", "1 of 5 keys", "Add or remove SSH keys")
	d.chooseItem("Remove all SSH keys")
	d.see("Remove all SSH keys? (y/n)")
	d.keys("y")
	d.see("All your SSH keys removed.", "Add an SSH key")
}

// TestSSHKeysAtKiosk: at a kiosk there is no connection key to take, so
// only pasting is offered; and with the policy off the method is not in
// security info at all.
func TestSSHKeysAtKiosk(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(3, "erin")
	d.notSee("SSH key")
	allowKeys(t, h)
	d = kiosk(t, h)
	d.signIn(3, "erin")
	d.chooseItem("Add an SSH key")
	s := at[*sshKeys](d)
	if len(s.menu.items) != 2 || s.menu.items[0] != "Paste a public key" {
		t.Fatalf("items %q", s.menu.items)
	}
	for i := range policy.MaxSSHKeys {
		registerKey(t, h, "erin", fixedKey(t, byte(10+i)))
	}
	d.keys("esc") // the keys came from elsewhere: the screen reads them anew
	d.chooseItem("Add an SSH key")
	d.see("You have 5 keys, the most you may: remove one to add another.")
	d.notSee("Paste a public key")
}

// TestSSHKeyInUsersTab: the admin panel's users table shows who has keys,
// with the method's letter.
func TestSSHKeyInUsersTab(t *testing.T) {
	h := newHarness(t)
	allowKeys(t, h)
	registerKey(t, h, "alice", fixedKey(t, 1))
	d := panelDriver(t, h, Options{Mode: ModeKiosk})
	d.keys("2")
	d.see("USERNAME", "alice Alice Example EK", "bob Bob Example A ")
}

// TestSSHKeysFromDirectory: a key the directory holds is listed as the
// directory's, offers no removal and does not count towards the five.
func TestSSHKeysFromDirectory(t *testing.T) {
	h := newHarness(t)
	allowKeys(t, h)
	d := overSSH(t, h, nil)
	d.signIn(3, "erin")
	d.chooseItem("Add an SSH key")
	at[*sshKeys](d)
	fp := gossh.FingerprintSHA256(fixedKey(t, 5))
	keys := []flows.SSHKey{{Name: "ED25519", Fingerprint: fp, FromDirectory: true}}
	for i := range policy.MaxSSHKeys - 1 {
		keys = append(keys, flows.SSHKey{ID: int64(i + 1), Name: "ED25519", Fingerprint: gossh.FingerprintSHA256(fixedKey(t, byte(20+i)))})
	}
	d.send(sshKeysMsg{keys: keys})
	d.see("1. ED25519 "+fp+" (directory)", "Paste a public key", "Remove key 2", "Remove key 5")
	d.notSee("Remove key 1", "the most you may")
}

// TestSSHKeyUnlocks: "Unlock my account" over SSH with alice's key offers
// "Your SSH key", and choosing it unlocks her with nothing typed.
func TestSSHKeyUnlocks(t *testing.T) {
	h := newHarness(t)
	allowKeys(t, h)
	alice := fixedKey(t, 1)
	registerKey(t, h, "alice", alice)
	h.lockOut(t, "alice")
	d := overSSH(t, h, alice)
	d.startUnlock("alice")
	at[*methods](d)
	d.see("Unlock your account · Prove it's you", "Your SSH key")
	d.chooseItem("Your SSH key")
	at[*unlocked](d)
	d.see("Your account is unlocked.")
	if !h.signInWorks("alice", testPassword) {
		t.Fatal("alice's password does not work after the unlock")
	}
}
