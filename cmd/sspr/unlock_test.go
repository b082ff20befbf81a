package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/store"
)

// TestDemoUnlockOverOpenSSH walks the unlock journey end to end in the
// demo, over OpenSSH: frank, seeded locked out, proves his email with the
// code from the outbox, is unlocked, and then signs in with the password
// he had.
func TestDemoUnlockOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	data := filepath.Join(t.TempDir(), "d")
	p := startDemoPortal(t, data)

	// Locked: the right password is refused like any wrong one.
	c := startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
	c.signIn("frank", demoPassword)
	c.waitFor("That username and password don't match.")
	c.quit()

	c = startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
	c.waitFor("Unlock my account")
	c.send("5")
	c.waitFor("Unlock your account · Who are you?")
	c.typeText("frank")
	c.send("\r")
	c.waitFor("Unlock your account · Prove it's you")
	c.waitFor("Email me a code")
	c.send("\r")
	c.waitFor("We sent a code to")
	c.typeText(awaitOutboxCode(t, filepath.Join(data, "sspr.db"), "frank@example.com"))
	c.send("\r")
	c.waitFor("Your account is unlocked.")
	c.waitFor("Your password is the same as before")
	c.quit()

	c = startPTYClient(t, sshPath, append([]string{"-tt"}, p.sshArgs()...))
	c.signIn("frank", demoPassword)
	c.waitFor("Choose a new password")
	c.quit()
}

// signIn chooses "Change my password" and signs in.
func (c *ptyClient) signIn(name, password string) {
	c.t.Helper()
	c.waitFor("Change my password")
	c.send("2")
	c.waitFor("Change your password · Sign in")
	c.typeText(name)
	c.send("\r")
	c.typeText(password)
	c.send("\r")
}

// TestUserUnlockLiftsLockout: `sspr user unlock` lifts a lockout of sspr's
// own, and the password works again; on an account neither locked nor
// blocked it says so.
func TestUserUnlockLiftsLockout(t *testing.T) {
	f := newFolder(t)
	const pw = "marble pelican sunrise 48"
	if r := f.runIn(pw+"\n", "user", "add", "bob", "--password-stdin"); r.code != 0 {
		t.Fatalf("user add:\n%s", r)
	}
	f.ok("policy", "set", "lockout_threshold", "3")
	signIn := func(password string) (err error) {
		f.service(func(ctx context.Context, svc *flows.Service) {
			_, err = svc.SignIn(ctx, "bob", password, "test")
		})
		return err
	}
	for i := range 3 {
		_ = signIn(fmt.Sprintf("wrong %d", i))
	}
	if err := signIn(pw); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("bob's password after three wrong ones: %v", err)
	}
	if out := f.ok("user", "show", "bob"); !regexp.MustCompile(`state\s+locked out\n(.|\n)*locked out\s+until \d{4}-`).MatchString(out) {
		t.Fatalf("user show of a locked-out user:\n%s", out)
	}
	r := f.run("user", "unlock", "bob")
	if r.code != 0 || r.stderr != "unlocked bob\n" {
		t.Fatalf("user unlock of a locked account:\n%s", r)
	}
	if err := signIn(pw); err != nil {
		t.Fatalf("bob's password after the unlock: %v", err)
	}
	if n := countEvent(f, "account.unlocked"); n != 1 {
		t.Fatalf("account.unlocked rows = %d", n)
	}
	r = f.run("user", "unlock", "bob")
	if r.code != 0 || r.stderr != "bob was neither locked out nor blocked; cleared its failed attempts\n" {
		t.Fatalf("user unlock of an account not locked:\n%s", r)
	}
}

// countEvent counts the audit rows of an event.
func countEvent(f *folder, event string) int {
	n := 0
	for _, rec := range f.auditRecords() {
		if rec["event"] == event {
			n++
		}
	}
	return n
}

// awaitOutboxCode waits for a code to an address in the demo's outbox: the
// code is delivered behind the screen, so the screen may say it was sent
// before the outbox has it, on a loaded machine.
func awaitOutboxCode(t *testing.T, dbPath, to string) string {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		db, err := store.OpenReadOnly(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := store.OutboxTo(context.Background(), db, to)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if code := eightDigits.FindString(m.Body); code != "" {
				return code
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no code in the outbox for %s after %v", to, e2eWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
