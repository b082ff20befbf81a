package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Webhook is one system that receives signed events (Standard Webhooks).
type Webhook struct {
	// Name identifies the receiver in logs, the audit log and
	// `sspr webhook test NAME`; its secret may come from
	// SSPR_WEBHOOK_<NAME>_SECRET.
	Name string `yaml:"name"`
	// URL is where events are POSTed, http:// or https://.
	URL string `yaml:"url"`
	// SecretFile holds the signing secret, whsec_ and base64 (relative to
	// the data folder).
	SecretFile string `yaml:"secret_file"`
	// Events are the event names the receiver wants (WebhookEvents).
	Events []string `yaml:"events"`
	// Timeout bounds one delivery attempt; 0 means DefaultWebhookTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// Secret is SSPR_WEBHOOK_<NAME>_SECRET, set by Load: the environment
	// keeps a secret out of files, and a list has no fixed variable names.
	Secret string `yaml:"-"`
}

// The webhook events a receiver can ask for. The names are a contract with
// receivers: they never change meaning.
const (
	WebhookPasswordReset        = "password.reset"
	WebhookPasswordChanged      = "password.changed"
	WebhookAccountUnlocked      = "account.unlocked"
	WebhookAccountBlocked       = "account.blocked"
	WebhookMethodsChanged       = "methods.changed"
	WebhookRegistrationRequired = "registration.required"
	WebhookPolicyChanged        = "admin.policy_changed"
	WebhookUserChanged          = "admin.user_changed"
	WebhookChainBroken          = "audit.chain_broken"
)

// WebhookEvents lists every event a webhook may subscribe to.
func WebhookEvents() []string {
	return []string{WebhookPasswordReset, WebhookPasswordChanged, WebhookAccountUnlocked, WebhookAccountBlocked,
		WebhookMethodsChanged, WebhookRegistrationRequired, WebhookPolicyChanged, WebhookUserChanged,
		WebhookChainBroken}
}

// DefaultWebhookTimeout bounds a delivery attempt when the webhook says
// nothing; the Standard Webhooks spec recommends 15–30 s for receivers, but
// a stuck receiver holds a delivery slot for as long.
const DefaultWebhookTimeout = 10 * time.Second

// Hooks configures programs run around a password change (LTB Self
// Service Password's prehook and posthook).
type Hooks struct {
	// PasswordCheck is the argv of a program run before a new password is
	// accepted; exit 0 accepts. Empty runs nothing.
	PasswordCheck []string `env:"HOOKS_PASSWORD_CHECK" yaml:"password_check"`
	// PasswordChanged is the argv of a program run after a password was set.
	PasswordChanged []string `env:"HOOKS_PASSWORD_CHANGED" yaml:"password_changed"`
	// Timeout bounds each run; the program's process group is killed then.
	Timeout time.Duration `env:"HOOKS_TIMEOUT" yaml:"timeout"`
	// OnFailure is ignore or report: what a failed password_changed does.
	OnFailure string `env:"HOOKS_ON_FAILURE" yaml:"on_failure"`
}

// Hook failure handling.
const (
	HookFailureIgnore = "ignore"
	HookFailureReport = "report"
)

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is host:port for /metrics, /healthz and /readyz; empty
	// serves none. --metrics-listen wins over it.
	Listen string `env:"METRICS_LISTEN" yaml:"listen"`
}

// webhookName is what a webhook may be called: it becomes part of an
// environment variable's name.
var webhookName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// WebhookSecretEnv is the environment variable that may hold the secret of
// the webhook called name.
func WebhookSecretEnv(name string) string {
	return EnvPrefix + "WEBHOOK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_SECRET"
}

// resolveWebhookSecrets copies each webhook's secret from the environment.
func (c *Config) resolveWebhookSecrets(env map[string]string) {
	for i := range c.Webhooks {
		if v, ok := env[WebhookSecretEnv(c.Webhooks[i].Name)]; ok {
			c.Webhooks[i].Secret = v
		}
	}
}

// validateEvents checks webhooks, hooks and metrics.
func (c Config) validateEvents() error {
	seen := map[string]bool{}
	for i, w := range c.Webhooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		if !webhookName.MatchString(w.Name) {
			return problem(key+".name", "must be 1–40 lower-case letters, digits, - or _, starting with a letter")
		}
		if seen[w.Name] {
			return problem(key+".name", "%q is used twice", w.Name)
		}
		seen[w.Name] = true
		if w.URL == "" {
			return problem(key+".url", "must be set")
		}
		if err := httpURL(key+".url", w.URL); err != nil {
			return err
		}
		if u, _ := url.Parse(w.URL); u.User != nil {
			return problem(key+".url", "must not hold a user or password: the signature proves who sends")
		}
		if w.SecretFile != "" && w.Secret != "" {
			return problem(key+".secret_file", "must be empty when %s is set", WebhookSecretEnv(w.Name))
		}
		if w.SecretFile == "" && w.Secret == "" {
			return problem(key+".secret_file", "or %s must give the signing secret", WebhookSecretEnv(w.Name))
		}
		if w.Secret != "" {
			if _, err := ParseWebhookSecret(w.Secret); err != nil {
				return problem(key+".secret_file", "%s: %s", WebhookSecretEnv(w.Name), err.Error())
			}
		}
		if len(w.Events) == 0 {
			return problem(key+".events", "must list at least one of %s", strings.Join(WebhookEvents(), ", "))
		}
		for _, e := range w.Events {
			if !slices.Contains(WebhookEvents(), e) {
				return problem(key+".events", "has %q, which is not one of %s", e, strings.Join(WebhookEvents(), ", "))
			}
		}
		if w.Timeout != 0 {
			if err := between(key+".timeout", w.Timeout, time.Second, 2*time.Minute); err != nil {
				return err
			}
		}
	}
	for key, argv := range map[string][]string{"hooks.password_check": c.Hooks.PasswordCheck,
		"hooks.password_changed": c.Hooks.PasswordChanged} {
		if len(argv) == 0 {
			continue
		}
		if !filepath.IsAbs(argv[0]) {
			return problem(key, "must start with the program's absolute path (no shell runs it)")
		}
		for _, a := range argv {
			if strings.ContainsRune(a, 0) {
				return problem(key, "must not contain NUL characters")
			}
		}
	}
	if err := between("hooks.timeout", c.Hooks.Timeout, time.Second, 5*time.Minute); err != nil {
		return err
	}
	if err := oneOf("hooks.on_failure", c.Hooks.OnFailure, HookFailureIgnore, HookFailureReport); err != nil {
		return err
	}
	if c.Metrics.Listen != "" {
		return hostPort("metrics.listen", c.Metrics.Listen)
	}
	return nil
}

// minWebhookSecret is the shortest signing key accepted, in bytes: the
// Standard Webhooks spec asks for at least 24.
const minWebhookSecret = 24

// ParseWebhookSecret decodes a whsec_ secret into its HMAC key.
func ParseWebhookSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "whsec_")
	if !ok {
		return nil, fmt.Errorf("the secret must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("the secret after whsec_ is not base64")
	}
	if len(key) < minWebhookSecret {
		return nil, fmt.Errorf("the secret is %d bytes, want at least %d", len(key), minWebhookSecret)
	}
	return key, nil
}

// WebhookKey returns the signing key of the webhook at index i: from the
// environment, else the first line of its secret_file. Call it once at start.
func (c Config) WebhookKey(i int) ([]byte, error) {
	w := c.Webhooks[i]
	s, err := c.secret(fmt.Sprintf("webhooks[%d].secret_file", i), w.Secret, w.SecretFile)
	if err != nil {
		return nil, err
	}
	key, err := ParseWebhookSecret(s)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.Name, err)
	}
	return key, nil
}
