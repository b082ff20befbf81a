// Package e2e drives the built sspr binary in a pseudo-terminal: the demo,
// as helpdesk staff would run it, through a reset by emailed code and an
// authenticator enrolment followed by a reset with it.
package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/pquerna/otp/totp"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/tui/termtest"
)

const (
	cols, rows   = 100, 30
	demoPassword = "demo password 2026"
	newPassword  = "plum tractor velvet 93"
	waitLimit    = 15 * time.Second
)

// session is sspr running in a PTY, with the screen it draws.
type session struct {
	t      *testing.T
	cmd    *exec.Cmd
	pty    *os.File
	screen *termtest.Terminal
	done   chan error
	data   string
}

// buildBinary builds ./cmd/sspr into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sspr")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sspr")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startDemo(t *testing.T, bin string) *session {
	t.Helper()
	data := filepath.Join(t.TempDir(), "d")
	cmd := exec.Command(bin, "demo", "--data", data)
	// A clean environment: no SSPR_ setting of the machine running the test.
	cmd.Env = []string{"TERM=xterm-256color", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	screen := termtest.New(cols, rows, termtest.WithInput(f))
	screen.Feed(f)
	s := &session{t: t, cmd: cmd, pty: f, screen: screen, done: make(chan error, 1), data: data}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
		f.Close()
	})
	return s
}

// waitFor waits until the screen shows every string and returns the screen.
func (s *session) waitFor(want ...string) string {
	s.t.Helper()
	if err := s.screen.WaitFor(waitLimit, want...); err != nil {
		s.t.Fatal(err)
	}
	return s.screen.Screen()
}

// send types bytes as a person at the keyboard would.
func (s *session) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if err := s.screen.Send(k); err != nil {
			s.t.Fatal(err)
		}
		// A lone ESC is told from the start of a sequence by a pause.
		if k == esc {
			time.Sleep(150 * time.Millisecond)
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

const (
	enter = "\r"
	tab   = "\t"
	esc   = "\x1b"
)

var codeRE = regexp.MustCompile(`\b\d{8}\b`)

// outboxCode reads the newest code sent to an address from the demo's
// outbox, with the store opened read-only while sspr runs.
func (s *session) outboxCode(to string) string {
	s.t.Helper()
	db, err := store.OpenReadOnly(filepath.Join(s.data, "sspr.db"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(waitLimit)
	for {
		msgs, err := store.OutboxTo(context.Background(), db, to)
		if err != nil {
			s.t.Logf("outbox: %v", err)
		}
		for _, m := range msgs {
			if m.Kind != "code" {
				continue
			}
			if c := codeRE.FindString(m.Body); c != "" {
				return c
			}
			break // only the newest code counts
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no code for %s in the outbox", to)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends sspr as a service manager would and checks it cleaned up.
func (s *session) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("sspr exited with %v", err)
		}
	case <-time.After(waitLimit):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("sspr did not end on SIGTERM:\n%s", s.screen.Screen())
	}
	if _, err := os.Stat(s.data); !errors.Is(err, os.ErrNotExist) {
		s.t.Errorf("the demo data folder %s was not removed (%v)", s.data, err)
	}
}

// setPassword fills the new-password screen and waits for "done".
func (s *session) setPassword() {
	s.t.Helper()
	s.waitFor("Choose a new password", "Type it again")
	s.send(newPassword)
	s.waitFor("✓ At least 12 characters")
	s.send(tab, newPassword)
	s.waitFor("✓ Both entries match")
	s.send(enter)
	s.waitFor("All done", "Your password has been changed.")
	s.send(enter)
	s.waitFor("Reset a forgotten password", "Change my password")
}

// mainText is the screen left of the outbox panel, lines trimmed, so text
// wrapped over lines joins up.
func mainText(screen string) string {
	lines := strings.Split(screen, "\n")
	col := -1
	for _, l := range lines {
		if i := strings.Index(l, "╭"); i >= 0 {
			col = len([]rune(l[:i]))
			break
		}
	}
	for i, l := range lines {
		if r := []rune(l); col >= 0 && len(r) > col {
			l = string(r[:col])
		}
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

var groupedSecret = regexp.MustCompile(`\b([A-Z2-7]{4}(?: [A-Z2-7]{1,4}){3,})\b`)

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	s := startDemo(t, bin)
	s.waitFor("Password self-service", "Reset a forgotten password", "Outbox", "Nothing sent yet.")

	t.Run("reset by emailed code", func(t *testing.T) {
		s.t = t
		s.send("1")
		s.waitFor("Who are you?")
		s.send("alice", enter)
		s.waitFor("Email me a code", "a•••e@example.com")
		s.send(enter)
		s.waitFor("We sent a code to a•••e@example.com.", "Code expires in")
		code := s.outboxCode("alice@example.com")
		// The outbox panel shows the same code.
		s.waitFor("Code " + code)
		s.send(code[:4], "-", code[4:], enter)
		s.setPassword()
		s.waitFor("Your sspr password was reset") // the notification, in the outbox
	})

	var secret string
	t.Run("authenticator enrolment", func(t *testing.T) {
		s.t = t
		s.send("3")
		s.waitFor("Your security info · Sign in")
		s.send("erin", enter, demoPassword, enter)
		// erin has registered nothing: the overview asks her to.
		s.waitFor("Your security info", "Register at least one way", "Add authenticator app")
		s.send("3")
		// The QR code first (its finder patterns), then the key on tab.
		s.waitFor("Your security info · Authenticator app", "▀▀▀▀▀▀▀")
		s.send(tab)
		screen := s.waitFor("add an account by hand with this key", "otpauth://totp/")
		m := groupedSecret.FindStringSubmatch(screen)
		if m == nil {
			t.Fatalf("no grouped key on screen:\n%s", screen)
		}
		secret = strings.ReplaceAll(m[1], " ", "")
		if !strings.Contains(strings.ReplaceAll(mainText(screen), "\n", ""), "secret="+secret) {
			t.Fatalf("the otpauth URI does not carry the key %s:\n%s", secret, screen)
		}
		// Enrol with the previous 30-second step, which is still accepted,
		// so the reset below can use the current one at once: a step is
		// accepted only above the last one used. Away from a step's edge,
		// so the previous step stays the previous one until it arrives.
		for time.Now().Unix()%30 >= 28 {
			time.Sleep(100 * time.Millisecond)
		}
		code, err := totp.GenerateCode(secret, time.Now().Add(-30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		s.send(code, enter)
		s.waitFor("Authenticator app saved.", "You can reset your password yourself.")
		s.send(esc)
		s.waitFor("Reset a forgotten password")
	})

	t.Run("reset with the authenticator", func(t *testing.T) {
		s.t = t
		if secret == "" {
			t.Skip("no enrolment")
		}
		s.send("1")
		s.waitFor("Who are you?")
		s.send("erin", enter)
		s.waitFor("Use my authenticator app")
		s.send(enter)
		s.waitFor("Open your authenticator app")
		// The enrolment used the step before this one.
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s.send(code, enter)
		s.setPassword()
	})

	t.Run("password about to expire", func(t *testing.T) {
		s.t = t
		s.send("3")
		s.waitFor("Your security info · Sign in")
		s.send("fiona", enter, demoPassword, enter)
		// fiona's password expires in 3 days: asked first, then changed.
		s.waitFor("Your password expires soon", "expires in 3 days")
		s.send("y")
		s.waitFor("Choose a new password", "Type it again")
		s.send(newPassword)
		s.waitFor("✓ At least 12 characters")
		s.send(tab, newPassword)
		s.waitFor("✓ Both entries match")
		s.send(enter)
		s.waitFor("All done", "Your password has been changed.")
		s.send(enter)
		s.waitFor("Your security info", "fiona@example.com")
		s.send(esc)
		s.waitFor("Reset a forgotten password")
	})

	s.t = t
	// ctrl+z and ctrl+\ do nothing; the demo ends on SIGTERM and removes
	// its folder.
	s.send("\x1a", "\x1c")
	s.waitFor("Reset a forgotten password")
	if strings.Contains(s.screen.Raw(), "\x1b]8;") {
		t.Error("a hyperlink sequence was written")
	}
	s.stop()
}

// TestDemoHangUp: SIGHUP, which a closed terminal or a dropped login sends,
// removes the demo's folder, with its store and key file, as SIGTERM does.
func TestDemoHangUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	s := startDemo(t, buildBinary(t))
	s.waitFor("Reset a forgotten password", "Outbox")
	for _, name := range []string{"sspr.db", "sspr.key"} {
		if _, err := os.Stat(filepath.Join(s.data, name)); err != nil {
			t.Fatalf("the demo folder has no %s: %v", name, err)
		}
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("sspr exited with %v after SIGHUP", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("sspr did not end on SIGHUP")
	}
	if _, err := os.Stat(s.data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after SIGHUP the demo folder %s is still there (%v)", s.data, err)
	}
}
