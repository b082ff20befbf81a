package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLDAPValidation(t *testing.T) {
	ldap := func(mutate func(*LDAP)) Config {
		c := Default()
		c.LDAP.URL, c.LDAP.BaseDN = "ldaps://dc.example.org", "dc=example,dc=org"
		c.LDAP.BindDN, c.LDAP.BindPasswordFile = "cn=sspr,dc=example,dc=org", "ldap-password"
		mutate(&c.LDAP)
		return c
	}
	for _, tt := range []struct {
		name   string
		mutate func(*LDAP)
		key    string
	}{
		{"plain to another host", func(l *LDAP) { l.URL = "ldap://dc.example.org" }, "ldap.start_tls"},
		{"two passwords", func(l *LDAP) { l.BindPassword = "pw" }, "ldap.bind_password_file"},
		{"bind dn without password", func(l *LDAP) { l.BindPasswordFile = "" }, "ldap.bind_password_file"},
		{"password without bind dn", func(l *LDAP) { l.BindDN = "" }, "ldap.bind_dn"},
	} {
		err := ldap(tt.mutate).Validate()
		env := "SSPR_" + strings.ToUpper(strings.ReplaceAll(tt.key, ".", "_"))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.key+" ("+env+")") {
			t.Errorf("%s: %v, want an error about %s", tt.name, err, tt.key)
		}
	}
	for i, mutate := range []func(*LDAP){
		func(l *LDAP) {},
		func(l *LDAP) { l.URL = "ldap://127.0.0.1:389" },
		func(l *LDAP) { l.URL = "ldap://localhost" },
		func(l *LDAP) { l.URL = "ldap://[::1]:1389" },
		func(l *LDAP) { l.URL, l.StartTLS = "ldap://dc.example.org", true },
		func(l *LDAP) { l.BindPasswordFile, l.BindPassword = "", "pw" },
		func(l *LDAP) { l.BindDN, l.BindPasswordFile = "", "" },
	} {
		if err := ldap(mutate).Validate(); err != nil {
			t.Errorf("allowed case %d: %v", i, err)
		}
	}
}

func TestLDAPBindPassword(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ldap-password"), []byte("s3cret pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.DataDir = dir
	c.LDAP.BindPasswordFile = "ldap-password"
	if pw, err := c.LDAPBindPassword(); err != nil || pw != "s3cret pass" {
		t.Errorf("from the file: %q, %v", pw, err)
	}
	c.LDAP.BindPasswordFile, c.LDAP.BindPassword = "", "from env"
	if pw, err := c.LDAPBindPassword(); err != nil || pw != "from env" {
		t.Errorf("from the environment: %q, %v", pw, err)
	}
	c.LDAP.BindPassword, c.LDAP.BindPasswordFile = "", "missing"
	if _, err := c.LDAPBindPassword(); err == nil || !strings.Contains(err.Error(), "ldap.bind_password_file") {
		t.Errorf("a missing file: %v", err)
	}

	// Only the environment may hold the password itself.
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("ldap:\n  bind_password: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, nil); err == nil || !strings.Contains(err.Error(), "SSPR_LDAP_BIND_PASSWORD") {
		t.Errorf("bind_password in the file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("ldap:\n  url: ldaps://dc.example.org\n  base_dn: dc=example,dc=org\n  bind_dn: cn=sspr,dc=example,dc=org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir, []string{"SSPR_LDAP_BIND_PASSWORD=env pw"})
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := cfg.LDAPBindPassword(); err != nil || pw != "env pw" {
		t.Errorf("SSPR_LDAP_BIND_PASSWORD: %q, %v", pw, err)
	}
}
