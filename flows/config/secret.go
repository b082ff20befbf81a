package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// maxSecretFile bounds what is read from a secret file.
const maxSecretFile = 64 << 10

// SMTPPassword returns the SMTP password: SSPR_SMTP_PASSWORD when set, else
// the first line of smtp.password_file, else "". Call it once at start.
func (c Config) SMTPPassword() (string, error) {
	return c.secret("smtp.password_file", c.SMTP.Password, c.SMTP.PasswordFile)
}

// DBPassword returns the first line of db.password_file, else "" (the
// DSN's own password, if any, is used). Call it once at start.
func (c Config) DBPassword() (string, error) {
	return c.secret("db.password_file", "", c.DB.PasswordFile)
}

// SMSAuthHeader returns the value of the gateway's Authorization header:
// SSPR_SMS_AUTH_HEADER when set, else the first line of
// sms.auth_header_file, else "". Call it once at start.
func (c Config) SMSAuthHeader() (string, error) {
	return c.secret("sms.auth_header_file", c.SMS.AuthHeader, c.SMS.AuthHeaderFile)
}

// secret returns value, or the first line of the file at path (relative to
// the data folder). The error names the key and the file, never the
// content.
func (c Config) secret(key, value, path string) (string, error) {
	if value != "" {
		return value, nil
	}
	if path == "" {
		return "", nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.DataDir, path)
	}
	s, err := ReadSecretFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

// ReadSecretFile returns the first line of the file at path, without its
// line ending: a password or token written by hand or by a secret store.
// An empty first line, control characters or a file over 64 KiB are errors.
func ReadSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFile)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	switch {
	case line == "":
		return "", fmt.Errorf("secret file %s: %w", path, errEmptySecret)
	case strings.ContainsFunc(line, unicode.IsControl):
		return "", fmt.Errorf("secret file %s: the first line holds control characters", path)
	}
	return line, nil
}

var errEmptySecret = errors.New("the first line is empty")
