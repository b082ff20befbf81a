package hooks_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/hooks"
)

const secretPassword = "hunter2 but much longer and secret"

func input() hooks.Input {
	return hooks.Input{Username: "alice", Password: secretPassword, Kind: hooks.KindReset}
}

func TestCheckAcceptsOnZero(t *testing.T) {
	r := hooks.New([]string{flowstest.HookScript(t, "cat >/dev/null; echo fine; exit 0")}, nil, 10*time.Second)
	if err := r.Check(context.Background(), input()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefusalCarriesCleanFirstLine(t *testing.T) {
	r := hooks.New([]string{flowstest.HookScript(t, `cat >/dev/null
printf '\033[31mContains\tthe \033]8;;http://x\007company\342\200\256 name\r\nsecond line\n'
exit 3`)}, nil, 10*time.Second)
	err := r.Check(context.Background(), input())
	var refused *hooks.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if refused.Message != "[31mContains the ]8;;http://xcompany name" {
		t.Fatalf("message %q", refused.Message)
	}
}

// A program that runs past its timeout is killed with its children, and
// the check does not accept the password.
func TestCheckTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	r := hooks.New([]string{flowstest.HookScript(t, "sleep 60 &\necho $! > "+pidFile+"\nsleep 60\n")}, nil, time.Second)
	start := time.Now()
	err := r.Check(context.Background(), input())
	took := time.Since(start)
	if !errors.Is(err, hooks.ErrFailed) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if took > 15*time.Second {
		t.Fatalf("took %v with a 1s timeout", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the program's child %d outlived the timeout", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ten megabytes of output cost the program's time, not sspr's memory, and
// the person reads at most MaxMessage characters of it.
func TestCheckOutputCapped(t *testing.T) {
	r := hooks.New([]string{flowstest.HookScript(t, "cat >/dev/null; head -c 10485760 /dev/zero | tr '\\000' x; exit 1")}, nil,
		30*time.Second)
	err := r.Check(context.Background(), input())
	var refused *hooks.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err = %v", err)
	}
	if n := utf8.RuneCountInString(refused.Message); n != hooks.MaxMessage || !strings.HasPrefix(refused.Message, "xxx") {
		t.Fatalf("message of %d characters: %.40q", n, refused.Message)
	}
}

// The password reaches the program on stdin only: not in its arguments,
// not in its environment, which holds nothing of sspr's.
func TestPasswordOnlyOnStdin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SSPR_SMTP_PASSWORD", "smtp-secret-value")
	prog := flowstest.HookScript(t, `echo "$@" > `+dir+`/argv
env > `+dir+`/env
tr '\000' ' ' < /proc/$$/cmdline > `+dir+`/cmdline
cat > `+dir+`/stdin
exit 0`)
	r := hooks.New(nil, []string{prog, "--user", "x"}, 10*time.Second)
	if err := r.Changed(context.Background(), input()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"argv", "env", "cmdline"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{secretPassword, "hunter2", "smtp-secret-value"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds %q: %s", name, secret, b)
			}
		}
	}
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
	if want := `{"username":"alice","password":"` + secretPassword + `","kind":"reset"}` + "\n"; string(stdin) != want {
		t.Fatalf("stdin %q, want %q", stdin, want)
	}
}

func TestChangedFailure(t *testing.T) {
	r := hooks.New(nil, []string{flowstest.HookScript(t, "exit 2")}, 10*time.Second)
	if err := r.Changed(context.Background(), input()); !errors.Is(err, hooks.ErrFailed) {
		t.Fatalf("err = %v", err)
	}
	r = hooks.New(nil, []string{"/nonexistent/program"}, 10*time.Second)
	if err := r.Changed(context.Background(), input()); !errors.Is(err, hooks.ErrFailed) ||
		strings.Contains(err.Error(), secretPassword) {
		t.Fatalf("err = %v", err)
	}
	if err := (*hooks.Runner)(nil).Changed(context.Background(), input()); err != nil {
		t.Fatal(err)
	}
}

func FuzzFirstLine(f *testing.F) {
	for _, s := range []string{"ok", "\x1b[2J\x1b]0;x\x07", "a\u202eb\nc", strings.Repeat("é", 300), "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := hooks.FirstLine(b)
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > hooks.MaxMessage || strings.ContainsAny(s, "\x1b\r\n\x07\u202e") {
			t.Fatalf("FirstLine(%q) = %q", b, s)
		}
	})
}
