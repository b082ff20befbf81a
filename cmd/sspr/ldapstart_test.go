package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// ldapEnv is the environment of an sspr whose directory is srv, binding with
// password.
func ldapEnv(srv *slapdtest.Server, password string) []string {
	return cleanEnv("SSPR_LDAP_URL="+srv.URL, "SSPR_LDAP_START_TLS=true", "SSPR_LDAP_CA_FILE="+srv.CAFile,
		"SSPR_LDAP_BIND_DN="+slapdtest.ServiceDN, "SSPR_LDAP_BIND_PASSWORD="+password,
		"SSPR_LDAP_BASE_DN="+slapdtest.PeopleDN, "SSPR_LDAP_ATTR_DISPLAY_NAME=displayName")
}

// runOnTerminal runs the binary with a terminal (80×24) for its standard
// input and output, and standard error apart, until it exits; what it drew
// is left out of the result.
func runOnTerminal(t *testing.T, env []string, _ string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(env, "TERM=xterm-256color")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	tty, err := pty.StartWithAttrs(cmd, &pty.Winsize{Cols: 80, Rows: 24}, &syscall.SysProcAttr{Setsid: true, Setctty: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, tty) }()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r := result{args: args}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("sspr %v did not exit:\n%s", args, stderr.String())
	}
	r.stderr = stderr.String()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	}
	return r
}

// TestStartRefusedOnWrongBindPassword: serve and kiosk bind as the service
// account once at start; a wrong password stops them with one line naming
// the bind DN and the cause, never the password, at the cost of one failed
// bind each. The right password starts the portal.
func TestStartRefusedOnWrongBindPassword(t *testing.T) {
	srv := slapdtest.Start(t)
	const wrong = "not-the-service-password-93"
	want := "sspr: ldap: the service account could not bind as " + slapdtest.ServiceDN +
		": the directory says the DN or the password is wrong\n"
	for i, args := range [][]string{
		{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t))},
		{"kiosk"},
	} {
		data := filepath.Join(t.TempDir(), "d")
		run := runEnv
		if args[0] == "kiosk" {
			run = runOnTerminal // the kiosk starts only on a terminal
		}
		r := run(t, ldapEnv(srv, wrong), "", append([]string{"--data", data}, args...)...)
		if r.code == 0 || r.stdout != "" || r.stderr != want {
			t.Errorf("want exit non-zero, nothing on stdout and %q on stderr:\n%s", want, r)
		}
		if strings.Contains(r.stderr, wrong) {
			t.Errorf("the error holds the bind password:\n%s", r)
		}
		failed, err := srv.Values(slapdtest.ServiceDN, "pwdFailureTime")
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != i+1 {
			t.Errorf("after %s: %d failed binds; want %d", args[0], len(failed), i+1)
		}
	}

	startPortalProcess(t, ldapEnv(srv, slapdtest.ServicePassword), "serve", "--data", filepath.Join(t.TempDir(), "d")).stop(t)
}
