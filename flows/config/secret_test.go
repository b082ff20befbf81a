package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := Default()
	c.DataDir = dir

	// Nothing configured: no secret, no error.
	if pw, err := c.SMTPPassword(); pw != "" || err != nil {
		t.Fatalf("unset: %q, %v", pw, err)
	}

	// The first line of the file, without its line ending; relative paths
	// are inside the data folder.
	write("smtp-pw", "hunter2 with spaces\r\nsecond line\n")
	c.SMTP.PasswordFile = "smtp-pw"
	if pw, err := c.SMTPPassword(); pw != "hunter2 with spaces" || err != nil {
		t.Fatalf("file: %q, %v", pw, err)
	}
	c.SMS.AuthHeaderFile = write("sms-auth", "Bearer abc.def")
	if h, err := c.SMSAuthHeader(); h != "Bearer abc.def" || err != nil {
		t.Fatalf("file: %q, %v", h, err)
	}

	// The environment wins (Validate refuses both being set; the getter
	// still prefers the environment).
	c.SMTP.Password = "from-env"
	if pw, err := c.SMTPPassword(); pw != "from-env" || err != nil {
		t.Fatalf("env: %q, %v", pw, err)
	}
	c.SMTP.Password = ""

	bad := map[string]struct{ body, want string }{
		"empty":      {"", "empty"},
		"blank line": {"\nsecret on line two\n", "empty"},
		"control":    {"pass\x1bword\n", "control characters"},
		"too large":  {strings.Repeat("x", maxSecretFile+1), "larger than"},
	}
	for name, tt := range bad {
		c.SMTP.PasswordFile = write(name, tt.body)
		_, err := c.SMTPPassword()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "smtp.password_file") {
			t.Errorf("%s: err = %v", name, err)
		}
		if err != nil && (strings.Contains(err.Error(), "secret on line two") || strings.Contains(err.Error(), "pass\x1bword")) {
			t.Errorf("%s: err holds the content: %q", name, err)
		}
	}
	c.SMS.AuthHeaderFile = filepath.Join(dir, "missing")
	if _, err := c.SMSAuthHeader(); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "sms.auth_header_file") {
		t.Errorf("missing file: %v", err)
	}
}
