package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// seedExpiring adds n users to the folder's store whose passwords, set
// age ago, have an email address registered each (every tenth has none), in
// one transaction: the store's own calls, without hashing n passwords.
func seedExpiring(t *testing.T, f *folder, n int, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.dir, "sspr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set := time.Now().Add(-age).Unix()
	err = db.WithTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			name := fmt.Sprintf("user%06d", i)
			u := store.User{Username: name, DisplayName: "User " + name, PasswordHash: "$argon2id$seeded",
				PasswordChangedAt: set, CreatedAt: set, UpdatedAt: set}
			if err := store.CreateUser(ctx, tx, &u); err != nil {
				return err
			}
			if i%10 == 9 {
				continue
			}
			if err := store.UpsertMethod(ctx, tx, store.Method{UserID: u.ID, Kind: "email",
				Destination: name + "@example.org", CreatedAt: set, ConfirmedAt: set}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// remindRun runs sspr remind with mail configured (nothing is sent to it:
// reminders are queued for the outbox worker of sspr serve).
func remindRun(f *folder, args ...string) result {
	f.t.Helper()
	env := append(cleanEnv(), "SSPR_SMTP_HOST=127.0.0.1", "SSPR_SMTP_PORT=9", "SSPR_SMTP_TLS=none",
		"SSPR_SMTP_FROM=sspr@example.org")
	return runEnv(f.t, env, "", append([]string{"--data", f.dir, "remind"}, args...)...)
}

// remindState counts what reminders left in the store: messages queued
// and reminders recorded as sent.
func remindState(t *testing.T, f *folder) (queued, recorded int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.dir, "sspr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msgs, err := store.ListOutbox(ctx, db, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := store.SentExpiryReminders(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs), len(sent)
}

// TestRemindCommand: `sspr remind --dry-run` prints one line per message
// it would send, masked, and leaves nothing behind; `sspr remind` queues
// them and says so; run again, it queues none.
func TestRemindCommand(t *testing.T) {
	f := newFolder(t)
	f.ok("policy", "set", "password_max_age_days", "30")
	seedExpiring(t, f, 10, 27*24*time.Hour+time.Hour) // under 3 days left

	r := remindRun(f, "--dry-run")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 9 {
		t.Fatalf("remind --dry-run:\n%s", r)
	}
	line := regexp.MustCompile(`^user000000\temail\tu•••0@example\.org\t\d{4}-\d\d-\d\d \d\d:\d\d UTC\t3 days left\t3-day reminder$`)
	if !line.MatchString(lines[0]) {
		t.Errorf("line %q", lines[0])
	}
	if want := "would send 9 reminders; 10 passwords due, 0 already reminded, 1 with nowhere to send one\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if q, rec := remindState(t, f); q != 0 || rec != 0 {
		t.Fatalf("dry run left %d messages and %d records", q, rec)
	}

	r = remindRun(f)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 9 || !strings.HasPrefix(r.stderr, "queued 9 reminders;") {
		t.Fatalf("remind:\n%s", r)
	}
	if q, rec := remindState(t, f); q != 9 || rec != 9 {
		t.Fatalf("remind left %d messages and %d records; want 9 and 9", q, rec)
	}
	r = remindRun(f)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "queued 0 reminders; 10 passwords due, 9 already reminded") {
		t.Fatalf("remind again:\n%s", r)
	}
	if q, _ := remindState(t, f); q != 9 {
		t.Fatalf("%d messages after the second run; want 9", q)
	}
}

// TestRemindDryRunHundredThousand: `sspr remind --dry-run` over 100,000
// users, every one of them due, does under 5 seconds of work (the process
// started, the store opened, every line printed) and sends nothing. On an
// idle machine that is also its wall time (about 0.7 s here); the test
// holds the process's CPU time to the 5 seconds, since other tests running
// beside it on a shared machine stretch the wall time, not the work.
func TestRemindDryRunHundredThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 users")
	}
	const users = 100_000
	f := newFolder(t)
	f.ok("policy", "set", "password_max_age_days", "90")
	seedExpiring(t, f, users, 85*24*time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--data", f.dir, "remind", "--dry-run")
	cmd.Env = append(cleanEnv(), "SSPR_SMTP_HOST=127.0.0.1", "SSPR_SMTP_PORT=9", "SSPR_SMTP_TLS=none",
		"SSPR_SMTP_FROM=sspr@example.org")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("remind --dry-run: %v: %s", err, errOut.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t.Logf("sspr remind --dry-run over %d users: %v wall, %v CPU", users, wall.Round(time.Millisecond),
		cpu.Round(time.Millisecond))
	if n := strings.Count(out.String(), "\n"); n != users*9/10 {
		t.Fatalf("%d lines; want %d", n, users*9/10)
	}
	if cpu > 5*time.Second {
		t.Errorf("remind --dry-run over %d users used %v of CPU; want under 5s", users, cpu)
	}
	if q, rec := remindState(t, f); q != 0 || rec != 0 {
		t.Fatalf("dry run left %d messages and %d records", q, rec)
	}
}

// TestWorkersSendReminders: the workers of sspr serve (and the kiosk)
// queue the reminders that are due when they start, once, and a tick later
// queue none again.
func TestWorkersSendReminders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := openApp(ctx, dir, []string{"SSPR_SMTP_HOST=127.0.0.1", "SSPR_SMTP_PORT=9", "SSPR_SMTP_TLS=none",
		"SSPR_SMTP_FROM=sspr@example.org"}, clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f := &folder{t: t, dir: dir}
	if err := store.SetPolicyValue(ctx, a.db, policy.KeyPasswordMaxAgeDays, "30", time.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	seedExpiring(t, f, 3, 25*24*time.Hour)

	count := func() int {
		sent, err := store.SentExpiryReminders(ctx, a.db)
		if err != nil {
			t.Fatal(err)
		}
		return len(sent)
	}
	ticks := make(chan time.Time)
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { remindLoop(loopCtx, a.svc, ticks, log.New(io.Discard)); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for count() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d reminders recorded after 30s; want 3", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ticks <- time.Now()
	ticks <- time.Now() // the second send waits for the first tick's run to end
	cancel()
	<-done
	msgs, err := store.ListOutbox(ctx, a.db, 0, 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("outbox after three runs: %d messages, %v; want 3", len(msgs), err)
	}

	// The workers run the same loop: a password that came due since is
	// reminded as soon as they start.
	u := store.User{Username: "latecomer", PasswordHash: "$argon2id$seeded", Email: "late@example.org",
		PasswordChangedAt: time.Now().Add(-29 * 24 * time.Hour).Unix(), CreatedAt: 1, UpdatedAt: 1}
	if err := store.CreateUser(ctx, a.db, &u); err != nil {
		t.Fatal(err)
	}
	stop := a.startWorkers(ctx, nil)
	defer stop()
	for count() != 4 {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("the workers recorded %d reminders; want 4", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if remindEvery > 24*time.Hour {
		t.Errorf("reminders every %v may miss a day", remindEvery)
	}
}

// TestDemoFionaExpiresSoon: the demo's fiona signs in with a password that
// expires in 3 days, inside the reminder window, and she is due a reminder;
// nobody else's password is near expiry.
func TestDemoFionaExpiresSoon(t *testing.T) {
	ctx := context.Background()
	a, _ := newTestApp(t)
	if err := seedDemo(ctx, a); err != nil {
		t.Fatal(err)
	}
	info, err := a.svc.SignIn(ctx, "fiona", demoPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !info.ExpirySoon || flows.DaysLeft(info.PasswordExpiresAt, time.Now()) != 3 {
		t.Fatalf("fiona: soon %v, expires %v", info.ExpirySoon, info.PasswordExpiresAt)
	}
	if info, err = a.svc.SignIn(ctx, "alice", demoPassword, "test"); err != nil || info.ExpirySoon {
		t.Fatalf("alice: %+v, %v", info, err)
	}
	ov, err := a.svc.ExpiryOverview(ctx)
	if err != nil || ov.Next7 != 1 {
		t.Fatalf("overview: %+v, %v", ov, err)
	}
}
