package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/locale"
)

// TestServeSpeaksTheClientsLanguageOverOpenSSH: an OpenSSH client that
// sends LANG=de_DE.UTF-8 (ssh -o SendEnv=LANG) is served in German from
// the first screen to the last of a reset.
func TestServeSpeaksTheClientsLanguageOverOpenSSH(t *testing.T) {
	sshPath := sshClient(t)
	de, ok := locale.Embedded().Match("de_DE.UTF-8")
	if !ok {
		t.Fatal("sspr does not speak German")
	}
	p := locale.Embedded().Printer(de.Code)
	en := locale.Embedded().Source()
	for _, id := range []string{"welcome.reset", "field.username", "method.email.prompt", "newpassword.label.again", "done.changed"} {
		if p.T(id) == en.T(id) {
			t.Fatalf("%s reads the same in German and English: %q", id, p.T(id))
		}
	}
	data := filepath.Join(t.TempDir(), "d")
	portal := startDemoPortal(t, data)
	c := startOn(t, append(cleanEnv(), "TERM=xterm-256color", "LANG=de_DE.UTF-8"), 30, 120, sshPath,
		append([]string{"-tt", "-o", "SendEnv=LANG"}, portal.sshArgs()...)...)
	c.waitFor(p.T("welcome.reset"))
	c.send("1")
	c.waitFor(p.T("field.username"))
	c.typeText("alice")
	c.send("\r")
	c.waitFor(p.T("method.email.prompt"))
	c.send("\r")
	code := ""
	deadline := time.Now().Add(e2eWait)
	for code == "" && time.Now().Before(deadline) {
		code = outboxCodeOrEmpty(t, filepath.Join(data, "sspr.db"), "alice@example.com")
		time.Sleep(50 * time.Millisecond)
	}
	if code == "" {
		t.Fatalf("no code reached the outbox; the screen:\n%s\nthe log:\n%s", c.term.Screen(), portal.stderr)
	}
	c.typeText(code)
	c.send("\r")
	c.waitFor(p.T("newpassword.label.again"))
	const pw = "Saffron kettle orbit 71 pines"
	c.typeText(pw)
	c.send("\r")
	c.typeText(pw)
	c.waitFor(p.T("newpassword.match"))
	time.Sleep(200 * time.Millisecond)
	c.send("\r")
	c.waitFor(p.T("done.changed"))
	c.quit()

	// Without LANG the same portal speaks its own language.
	c = startPTYClient(t, sshPath, append([]string{"-tt"}, portal.sshArgs()...))
	c.waitFor(en.T("welcome.reset"))
	c.quit()
}
