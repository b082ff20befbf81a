package main

import (
	"context"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"charm.land/log/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/clock"
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
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
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
	a.startWorkers(ctx, func(err error) { t.Errorf("tidy: %v", err) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := store.CountThrottleEvents(ctx, a.db, store.ScopeSource, "ssh:192.0.2.7", store.EventFail, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
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
