package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// TestAppReportsFaults: the app wires the fault log into the store and the
// dispatcher: a queued notification the mail server refuses and a full
// store each reach the server log once, without the message's code.
func TestAppReportsFaults(t *testing.T) {
	mail := flowstest.RefusingMailServer(t)
	a, err := openApp(context.Background(), t.TempDir(), []string{"SSPR_HASH_MEMORY_KIB=8192", "SSPR_HASH_TIME=5",
		"SSPR_SMTP_HOST=127.0.0.1", fmt.Sprintf("SSPR_SMTP_PORT=%d", mail.Port), "SSPR_SMTP_TLS=none",
		"SSPR_SMTP_FROM=sspr@example.org"}, clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out := &lockedBuffer{}
	a.faults.SetLogger(slog.New(log.New(out)))
	ctx := context.Background()

	for _, to := range []string{"alice@example.org", "bob@example.org"} {
		if err := a.dispatcher.Notify(ctx, a.db, dispatch.Message{Kind: dispatch.KindNotification, Channel: "email",
			To: to, Subject: "Your password was reset", Text: "Reference 24681357"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, failed, err := a.dispatcher.DeliverDue(ctx); err != nil || failed != 2 {
		t.Fatalf("deliver: %d failed, %v", failed, err)
	}

	if _, err := a.db.ExecContext(ctx, "PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	full := 0
	for i := 0; i < 400 && full < 5; i++ {
		if _, err := a.svc.SignIn(ctx, fmt.Sprintf("user%d", i), "a wrong password", fmt.Sprintf("kiosk-%d", i)); store.IsFault(err) {
			full++
		}
	}
	if full < 5 {
		t.Fatalf("only %d sign-ins met the full store", full)
	}

	logText := out.String()
	if n := strings.Count(logText, "delivery failed"); n != 1 || !strings.Contains(logText, "Please authenticate first") {
		t.Errorf("%d delivery lines; want 1 with the server's refusal:\n%s", n, logText)
	}
	if n := strings.Count(logText, "store failed"); n != 1 || !strings.Contains(logText, "full") {
		t.Errorf("%d store lines; want 1 saying the store is full:\n%s", n, logText)
	}
	if strings.Contains(logText, "24681357") || strings.Contains(logText, "a wrong password") {
		t.Errorf("the log holds a message body or a password:\n%s", logText)
	}
}

// TestServeLogsDirectoryOutage: `sspr serve` on a directory that went away
// logs the outage when people look themselves up, once a minute however
// many do, with the cause and without the bind password.
func TestServeLogsDirectoryOutage(t *testing.T) {
	sshPath := sshClient(t)
	srv := slapdtest.Start(t)
	p := startPortalProcess(t, ldapEnv(srv, slapdtest.ServicePassword), "serve", "--data", filepath.Join(t.TempDir(), "d"))
	srv.Down()
	const line = "directory look up user failed"
	for i := range 2 {
		c := p.startReset(t, sshPath, "alice")
		deadline := time.Now().Add(e2eWait)
		for !strings.Contains(p.stderr.String(), line) {
			if time.Now().After(deadline) {
				t.Fatalf("look-up %d: the log does not say the directory failed:\n%s", i, p.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.quit()
	}
	p.stop(t)
	logText := p.stderr.String()
	if n := strings.Count(logText, line); n != 1 || !strings.Contains(logText, "directory unavailable") {
		t.Errorf("%d lines saying %q; want 1 with the cause:\n%s", n, line, logText)
	}
	if strings.Contains(logText, slapdtest.ServicePassword) {
		t.Errorf("the log holds the bind password:\n%s", logText)
	}
}
