package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/portal"
)

// TestLogStats: while sessions come and go the portal logs how many are
// open, drawing and resting; when nothing changes it says nothing.
func TestLogStats(t *testing.T) {
	dir := t.TempDir()
	a, err := openApp(context.Background(), dir, []string{"SSPR_HASH_MEMORY_KIB=8192", "SSPR_HASH_TIME=5"}, clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.cfg.SSH.RestAfter = 50 * time.Millisecond
	srv, err := portal.New(portal.Options{SSH: a.cfg.SSH, HostKeyPath: filepath.Join(dir, "host_key"), Service: a.svc,
		Mode: tui.ModeSSH})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go logStats(ctx, log.New(logs), srv, 20*time.Millisecond)

	c, err := gossh.Dial("tcp", l.Addr().String(), &gossh.ClientConfig{User: "reset",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second, Auth: portal.Anyone()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	// An input that stays open, as a person's keyboard does: a session
	// whose input ends is over.
	if _, err := sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waitLog := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the log lacks %q:\n%s", want, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLog("connections=1 sessions=1 drawing=0 resting=1 rests=1")
	_ = c.Close()
	waitLog("connections=0 sessions=0 drawing=0 resting=0 rests=1")
	// Nothing changes any more: no more lines.
	n := strings.Count(logs.String(), "\n")
	time.Sleep(100 * time.Millisecond)
	if m := strings.Count(logs.String(), "\n"); m != n {
		t.Fatalf("%d more lines with nothing changing:\n%s", m-n, logs.String())
	}
}

// TestWorkersTidy: a running sspr deletes spent records from its first
// moment, not only after its first hour.
func TestWorkersTidy(t *testing.T) {
	a, err := openApp(context.Background(), t.TempDir(), nil, clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := time.Now().Add(-48 * time.Hour).Unix()
	if err := store.AddThrottleEvent(ctx, a.db, store.ScopeSource, "ssh:192.0.2.7", store.EventFail, old); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	stop := a.startWorkers(ctx, log.New(logs))
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := store.CountThrottleEvents(ctx, a.db, store.ScopeSource, "ssh:192.0.2.7", store.EventFail, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if strings.Contains(logs.String(), "tidy") {
				t.Errorf("tidy failed:\n%s", logs)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a two-day-old throttle event is still there")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeStopsOnAnEarlySignal: a SIGTERM that arrives as the portal
// starts (before its accept loop took the listener) still stops it.
func TestServeStopsOnAnEarlySignal(t *testing.T) {
	// One P: the accept loop's goroutine runs only once serve blocks, after
	// the shutdown has begun, as on a loaded machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a, err := openApp(context.Background(), t.TempDir(), []string{"SSPR_HASH_MEMORY_KIB=8192", "SSPR_HASH_TIME=5"}, clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.cfg.SSH.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, a, tui.ModeSSH) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after its context ended at start")
	}
}

// TestAuditAnchor: the worker writes the audit checkpoint at the first tick
// after the head moved, and only then, logs the head each time it moved,
// writes it once more on the way out, and keeps saying so when the head was
// tampered with. The ticks are sent by hand: no test waits a minute.
func TestAuditAnchor(t *testing.T) {
	ctx := context.Background()
	a, dir := newTestApp(t)
	path := filepath.Join(dir, audit.CheckpointFile)
	pinned := func() audit.Head {
		t.Helper()
		cp, ok, err := auditChain(t, dir).ReadCheckpoint(path)
		if err != nil || !ok {
			t.Fatalf("checkpoint: %v, %v", ok, err)
		}
		return cp.Head
	}
	logs := &lockedBuffer{}
	waitLog := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the log lacks %q:\n%s", want, logs)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ticks := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		anchorAudit(wctx, a.svc, ticks, log.New(logs))
	}()
	// tick returns once the worker has handled a tick: it takes the second
	// of these only when its step for the first is over.
	tick := func() {
		ticks <- time.Now()
		ticks <- time.Now()
	}

	// At start: the head of an empty log.
	waitLog("audit head rows=0 last=0 mac=")
	if h := pinned(); h.Rows != 0 {
		t.Fatalf("first checkpoint %+v", h)
	}

	// A change is pinned and logged at the next tick, not before.
	if err := a.svc.AddGroup(ctx, cliActor(), "staff"); err != nil {
		t.Fatal(err)
	}
	if h := pinned(); h.Rows != 0 {
		t.Fatalf("checkpoint moved before a tick: %+v", h)
	}
	tick()
	h := pinned()
	if h.Rows != 1 || h.LastID != 1 {
		t.Fatalf("after a tick: %+v", h)
	}
	waitLog(fmt.Sprintf("audit head rows=1 last=1 mac=%s\n", h.ShortMAC()))

	// No change, no new checkpoint and no new line.
	text, lines := readText(t, path), strings.Count(logs.String(), "\n")
	tick()
	if readText(t, path) != text || strings.Count(logs.String(), "\n") != lines {
		t.Fatalf("an unchanged head was written or logged again:\n%s", logs)
	}

	// A head moved back without the key is not pinned, and said so at
	// every tick.
	raw := (&folder{t: t, dir: dir}).sqlDB()
	if _, err := raw.Exec(`UPDATE audit_head SET last_id = 0, rows = 0`); err != nil {
		t.Fatal(err)
	}
	tick()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "audit head does not match its MAC") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("not one error line per tick for a tampered head:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if readText(t, path) != text {
		t.Fatal("a tampered head was pinned")
	}
	if _, err := raw.Exec(`UPDATE audit_head SET last_id = 1, rows = 1`); err != nil {
		t.Fatal(err)
	}

	// On the way out the last change is pinned without waiting for a tick.
	if err := a.svc.AddGroup(ctx, cliActor(), "helpdesk"); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if h := pinned(); h.Rows != 2 {
		t.Fatalf("after stopping: %+v", h)
	}
	waitLog("audit head rows=2 last=2 mac=")
}

// TestWorkersPinAuditOnStop: what a run recorded is in the checkpoint once
// its workers are stopped, however short the run.
func TestWorkersPinAuditOnStop(t *testing.T) {
	ctx := context.Background()
	a, dir := newTestApp(t)
	stop := a.startWorkers(ctx, nil)
	if err := a.svc.AddGroup(ctx, cliActor(), "staff"); err != nil {
		t.Fatal(err)
	}
	stop()
	cp, ok, err := auditChain(t, dir).ReadCheckpoint(filepath.Join(dir, audit.CheckpointFile))
	if err != nil || !ok || cp.Rows != 1 {
		t.Fatalf("checkpoint after stop: %+v, %v, %v", cp, ok, err)
	}
	if anchorEvery > time.Minute {
		t.Errorf("the checkpoint may lag the head by %v, more than a minute", anchorEvery)
	}
}

// auditChain is the audit chain of a data folder, under its key.
func auditChain(t *testing.T, dir string) *audit.Chain {
	t.Helper()
	keys, err := secret.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.NewChain(keys.AuditKey())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newTestApp opens a new data folder in this process, closed when the test
// ends.
func newTestApp(t *testing.T) (*app, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := openApp(context.Background(), dir, nil, clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, dir
}

// holdingChannel takes every message and holds it until its sender gives up,
// like a mail server that never answers; started hears of each attempt.
type holdingChannel struct{ started chan struct{} }

func (c holdingChannel) Send(ctx context.Context, _ dispatch.Message) error {
	c.started <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestWorkersHandBackOnStop: a notification being sent when the workers
// stop is back in the queue, due now and with no attempt counted, by the
// time stop returns, so closing the store right after loses nothing. The
// test holds the database's write lock while stopping, so the hand-back
// waits and a stop that does not wait for it returns first.
func TestWorkersHandBackOnStop(t *testing.T) {
	ctx := context.Background()
	a, dir := newTestApp(t)
	ch := holdingChannel{started: make(chan struct{})}
	a.dispatcher = dispatch.New(map[string]dispatch.Channel{"email": ch}, a.db, clock.Real{},
		dispatch.Options{PollInterval: 10 * time.Millisecond})
	id, err := store.EnqueueOutbox(ctx, a.db, store.OutboxMessage{Kind: string(dispatch.KindNotification),
		Channel: "email", Destination: "ann@example.org", Subject: "Your password was changed", Body: "-",
		CreatedAt: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	stop := a.startWorkers(ctx, nil)
	select {
	case <-ch.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the notification was not picked up")
	}
	lock, err := (&folder{t: t, dir: dir}).sqlDB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("stop returned before the message being sent was handed back")
	case <-time.After(500 * time.Millisecond):
	}
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("stop did not return")
	}
	rows, err := store.ListOutbox(ctx, a.db, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != id {
		t.Fatalf("outbox %+v", rows)
	}
	if m := rows[0]; m.State != store.OutboxQueued || m.Attempts != 0 || m.NextAttemptAt > time.Now().Unix() {
		t.Fatalf("after stop the message is %s, %d attempts, due at %d (now %d): not handed back",
			m.State, m.Attempts, m.NextAttemptAt, time.Now().Unix())
	}
}
