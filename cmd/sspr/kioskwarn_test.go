package main

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui/termtest"
)

// runKiosk starts `sspr kiosk` on a terminal, waits for its first screen,
// stops it with SIGTERM as an operator would, and returns what it wrote to
// standard error.
func (f *folder) runKiosk() string {
	f.t.Helper()
	cmd := exec.Command(binary, "--data", f.dir, "kiosk", "--terminal-id", "counter-9")
	cmd.Env = cleanEnv("TERM=xterm-256color")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	tty, err := pty.StartWithAttrs(cmd, &pty.Winsize{Cols: 80, Rows: 24}, &syscall.SysProcAttr{Setsid: true, Setctty: true})
	if err != nil {
		f.t.Fatal(err)
	}
	defer tty.Close()
	screen := termtest.New(80, 24)
	screen.Feed(tty)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := screen.WaitFor(30*time.Second, "Password self-service"); err != nil {
		_ = cmd.Process.Kill()
		<-done
		f.t.Fatalf("the kiosk did not draw its first screen: %v\nstderr %q", err, stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			f.t.Fatalf("kiosk after SIGTERM: %v\nstderr %q", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		f.t.Fatal("the kiosk did not stop on SIGTERM")
	}
	return stderr.String()
}

// A kiosk that nobody could leave from the screen says so as it starts,
// with the command that makes the first administrator; once an
// administrator can sign in, it starts without a word.
func TestKioskWarnsWithoutAdmin(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "bob")
	errOut := f.runKiosk()
	for _, want := range []string{"sspr kiosk: warning: this store has no administrator", "only SIGTERM stops it",
		"sspr user add NAME --admin --data " + f.dir, `"My security info"`, "register two ways"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	temp := strings.TrimSpace(f.ok("user", "add", "ada", "--admin"))
	errOut = f.runKiosk()
	if !strings.Contains(errOut, "the only administrator does not have the two registered methods") {
		t.Fatalf("an administrator without methods is not warned about:\n%s", errOut)
	}

	// ada registers an authenticator and recovery codes: she can sign in.
	f.service(func(ctx context.Context, svc *flows.Service) {
		if err := svc.RegisterVerified(ctx, cliActor(), "ada", policy.Authenticator, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"); err != nil {
			t.Fatal(err)
		}
		info, err := svc.SignIn(ctx, "ada", temp, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.NewRecoveryCodes(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
	})
	if errOut = f.runKiosk(); strings.Contains(errOut, "warning") {
		t.Fatalf("warned with an administrator ready:\n%s", errOut)
	}
}

// Someone leaving with their registration due is counted by the activity
// report.
func TestReportCountsPostponedRegistrations(t *testing.T) {
	f := newFolder(t)
	temp := strings.TrimSpace(f.ok("user", "add", "bob"))
	f.service(func(ctx context.Context, svc *flows.Service) {
		info, err := svc.SignIn(ctx, "bob", temp, "test")
		if err != nil || !info.RegistrationDue {
			t.Fatalf("bob: %+v %v", info, err)
		}
		if err := svc.PostponeRegistration(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
	})
	if table := f.ok("report", "activity", "--days", "7"); !strings.Contains(table, "registrations postponed: 1 ") {
		t.Fatalf("report activity (table):\n%s", table)
	}
	if js := f.ok("report", "activity", "--format", "json"); !strings.Contains(js, `"registrations_postponed": 1`) {
		t.Fatalf("report activity (json):\n%s", js)
	}
}
