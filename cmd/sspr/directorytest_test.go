package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// directoryTest runs `sspr directory test` in-process on a data folder whose
// config points at srv, with the service password given by password.
func directoryTest(t *testing.T, srv *slapdtest.Server, password string, args ...string) (string, error) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SSPR_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`ldap:
  url: %s
  start_tls: true
  ca_file: %s
  bind_dn: %s
  bind_password_file: ldap-password
  base_dn: %s
  attr_display_name: displayName
`, srv.URL, srv.CAFile, slapdtest.ServiceDN, slapdtest.Suffix)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ldap-password"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"--data", dir, "directory", "test"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestDirectoryTestCommand(t *testing.T) {
	srv := slapdtest.Start(t)

	out, err := directoryTest(t, srv, slapdtest.ServicePassword, "alice")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{`ok +connect +127\.0\.0\.1:\d+, StartTLS, TLS 1\.`,
		`ok +bind +as ` + regexp.QuoteMeta(slapdtest.ServiceDN),
		`ok +look up +\(uid=alice\) found uid=alice,ou=people,dc=example,dc=org`, `display name +Alice Liddell`,
		`mobile +\+15550100001`, `groups +sspr-users`, `disabled +no`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", want, out)
		}
	}

	out, err = directoryTest(t, srv, slapdtest.ServicePassword, "--format", "json", "carol")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var doc struct {
		OK    bool `json:"ok"`
		Steps []struct{ Step, Status string }
		User  struct {
			Username string
			Groups   []string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !doc.OK || doc.User.Username != "carol" || len(doc.User.Groups) != 1 || doc.User.Groups[0] != "staff" ||
		doc.Steps[len(doc.Steps)-1].Status != "warn" {
		t.Errorf("json: %+v", doc)
	}

	out, err = directoryTest(t, srv, "not the service password", "alice")
	if err == nil || !strings.Contains(err.Error(), "directory test failed at bind") ||
		!regexp.MustCompile(`FAIL +bind`).MatchString(out) || strings.Contains(out, "not the service password") {
		t.Errorf("wrong service password: %v\n%s", err, out)
	}

	out, err = directoryTest(t, srv, slapdtest.ServicePassword, "nobody")
	if err == nil || !strings.Contains(err.Error(), "failed at look up") || !regexp.MustCompile(`FAIL +look up`).MatchString(out) {
		t.Errorf("unknown user: %v\n%s", err, out)
	}

	srv.Down()
	out, err = directoryTest(t, srv, slapdtest.ServicePassword)
	if err == nil || !strings.Contains(err.Error(), "failed at connect") || !strings.Contains(err.Error(), "directory unavailable") {
		t.Errorf("server down: %v\n%s", err, out)
	}
}
