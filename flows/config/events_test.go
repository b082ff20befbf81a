package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestWebhooksFromFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "siem.whsec"), []byte(testWebhookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `
webhooks:
  - name: siem
    url: https://siem.example.org/hooks
    secret_file: siem.whsec
    events: [password.reset, account.blocked]
  - name: tickets
    url: http://127.0.0.1:9/in
    events:
      - password.changed
    timeout: 3s
hooks:
  password_check: [/usr/local/bin/check, --strict]
  on_failure: report
metrics:
  listen: 127.0.0.1:9100
`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir, []string{WebhookSecretEnv("tickets") + "=" + testWebhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Webhooks) != 2 {
		t.Fatalf("webhooks %+v", cfg.Webhooks)
	}
	if w := cfg.Webhooks[0]; w.Name != "siem" || !slices.Equal(w.Events, []string{"password.reset", "account.blocked"}) || w.Secret != "" {
		t.Errorf("first webhook %+v", w)
	}
	if w := cfg.Webhooks[1]; w.Timeout != 3*time.Second || w.Secret != testWebhookSecret {
		t.Errorf("second webhook %+v", w)
	}
	for i := range cfg.Webhooks {
		key, err := cfg.WebhookKey(i)
		if err != nil || len(key) != 24 {
			t.Errorf("key %d: %d bytes, %v", i, len(key), err)
		}
	}
	if !slices.Equal(cfg.Hooks.PasswordCheck, []string{"/usr/local/bin/check", "--strict"}) ||
		cfg.Hooks.OnFailure != HookFailureReport || cfg.Hooks.Timeout != 10*time.Second {
		t.Errorf("hooks %+v", cfg.Hooks)
	}
	if cfg.Metrics.Listen != "127.0.0.1:9100" {
		t.Errorf("metrics %+v", cfg.Metrics)
	}
}

func TestListsFromEnvironment(t *testing.T) {
	cfg, err := load(t, "", `SSPR_HOOKS_PASSWORD_CHANGED=["/opt/sync", "a b"]`,
		`SSPR_WEBHOOKS=[{name: crm, url: "https://crm.example.org/h", events: [admin.user_changed]}]`,
		"SSPR_WEBHOOK_CRM_SECRET="+testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Hooks.PasswordChanged, []string{"/opt/sync", "a b"}) {
		t.Errorf("password_changed %q", cfg.Hooks.PasswordChanged)
	}
	if len(cfg.Webhooks) != 1 || cfg.Webhooks[0].Name != "crm" || cfg.Webhooks[0].Secret != testWebhookSecret {
		t.Errorf("webhooks %+v", cfg.Webhooks)
	}
}

func TestEventSettingsRefused(t *testing.T) {
	env := "SSPR_WEBHOOK_X_SECRET=" + testWebhookSecret
	for _, tc := range []struct {
		name, body, env string
		parts           []string
	}{
		{"unknown event", "webhooks: [{name: x, url: 'https://h/', events: [password.stolen]}]", env,
			[]string{"webhooks[0].events", "password.stolen"}},
		{"no events", "webhooks: [{name: x, url: 'https://h/'}]", env, []string{"webhooks[0].events"}},
		{"bad name", "webhooks: [{name: 'X Y', url: 'https://h/', events: [password.reset]}]", env,
			[]string{"webhooks[0].name"}},
		{"twice", "webhooks: [{name: x, url: 'https://h/', events: [password.reset]}, {name: x, url: 'https://h/', events: [password.reset]}]",
			env, []string{"webhooks[1].name", "twice"}},
		{"no secret", "webhooks: [{name: x, url: 'https://h/', events: [password.reset]}]", "",
			[]string{"webhooks[0].secret_file", "SSPR_WEBHOOK_X_SECRET"}},
		{"short secret", "webhooks: [{name: x, url: 'https://h/', events: [password.reset]}]", "SSPR_WEBHOOK_X_SECRET=whsec_c2hvcnQ=",
			[]string{"at least 24"}},
		{"bad url", "webhooks: [{name: x, url: 'ftp://h/', events: [password.reset]}]", env, []string{"webhooks[0].url"}},
		{"unknown key in item", "webhooks: [{name: x, url: 'https://h/', events: [password.reset], secret: s}]", env,
			[]string{"webhooks[0].secret"}},
		{"not a list", "webhooks: {name: x}", env, []string{"webhooks must be a list"}},
		{"relative hook", "hooks: {password_check: [check]}", "", []string{"hooks.password_check", "absolute"}},
		{"hook list of lists", "hooks: {password_check: [[a]]}", "", []string{"hooks.password_check[0]"}},
		{"on_failure", "hooks: {on_failure: panic}", "", []string{"hooks.on_failure"}},
		{"metrics", "metrics: {listen: nowhere}", "", []string{"metrics.listen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var environ []string
			if tc.env != "" {
				environ = append(environ, tc.env)
			}
			_, err := load(t, tc.body, environ...)
			mustFail(t, err, tc.parts...)
		})
	}
}

func FuzzParseWebhookSecret(f *testing.F) {
	for _, s := range []string{testWebhookSecret, "whsec_", "whsec_!!", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseWebhookSecret(s)
		if err == nil && len(key) < minWebhookSecret {
			t.Fatalf("accepted a %d-byte key", len(key))
		}
	})
}

// Lists in the environment are YAML: whatever is written there is either a
// list of the field's type or an ErrInvalid, never a panic.
func FuzzEnvList(f *testing.F) {
	for _, s := range []string{`["/usr/bin/check", "--x"]`, `[]`, `/bin/x`, `[[a]]`, `{a: b}`, `[{name: x}]`, `- a`, `[`,
		`[{name: x, url: "https://h/", events: [password.reset], timeout: 3s}]`, `*a`, `[&a x, *a]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, key := range []string{"SSPR_HOOKS_PASSWORD_CHECK", "SSPR_WEBHOOKS"} {
			cfg := Default()
			if err := applyEnv(&cfg, map[string]string{key: s}); err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s=%q: %v does not wrap ErrInvalid", key, s, err)
			}
		}
	})
}
