package main

import (
	"path/filepath"
	"testing"
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
	c.typeText(outboxCode(t, filepath.Join(data, "sspr.db"), "frank@example.com"))
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
