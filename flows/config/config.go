// Package config holds sspr's server settings: listen address, timeouts,
// hashing cost, SMTP, SMS gateway and LDAP. They come from
// <data>/config.yaml (written from a commented template on first start) and
// the environment (SSPR_*), which wins. The reset policy is not here: it
// lives in the store.
package config

import (
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"io/fs"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// EnvPrefix starts every environment variable sspr reads.
const EnvPrefix = "SSPR_"

// FileName is the config file inside the data folder.
const FileName = "config.yaml"

// ErrInvalid is wrapped by every error about a setting's value, so callers
// can tell a bad configuration from an unreadable file.
var ErrInvalid = errors.New("invalid configuration")

// Config is every server setting. Each leaf field has an env tag (the
// variable's name without SSPR_) and a yaml tag; by convention the env name
// is the dotted yaml path in upper case with underscores, so
// ssh.max_connections is SSPR_SSH_MAX_CONNECTIONS. yaml:"-" marks a setting
// only the environment may give (secrets, and the data folder itself).
type Config struct {
	// DataDir is the data folder; set by Load, never read from the file.
	DataDir string `env:"DATA_PATH" yaml:"-"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" yaml:"log_level"`
	// KeyFile is the key that seals authenticator secrets and keys code
	// hashes (relative to the data folder). Empty means sspr.key in the
	// data folder, made on first start; set, the file must exist, as
	// every process sharing a store must hold the same key.
	KeyFile  string   `env:"KEY_FILE" yaml:"key_file"`
	DB       DB       `yaml:"db"`
	Kiosk    Kiosk    `yaml:"kiosk"`
	SSH      SSH      `yaml:"ssh"`
	Hash     Hash     `yaml:"hash"`
	Codes    Codes    `yaml:"codes"`
	SMTP     SMTP     `yaml:"smtp"`
	SMS      SMS      `yaml:"sms"`
	LDAP     LDAP     `yaml:"ldap"`
	Insights Insights `yaml:"insights"`
	UI       UI       `yaml:"ui"`
	Vouchers Vouchers `yaml:"vouchers"`
	// Webhooks receive signed events; given as a YAML list, also in
	// SSPR_WEBHOOKS (a flow list: [{name: siem, url: ..., events: [...]}]).
	Webhooks []Webhook `env:"WEBHOOKS" yaml:"webhooks"`
	Hooks    Hooks     `yaml:"hooks"`
	Metrics  Metrics   `yaml:"metrics"`
}

// DB configures the store.
type DB struct {
	// Driver is sqlite (one file in the data folder, owned by one host)
	// or postgres (shared by any number of portals and kiosks).
	Driver string `env:"DB_DRIVER" yaml:"driver"`
	// DSN names the PostgreSQL database: a postgres:// URL or key=value
	// pairs. Unused with sqlite.
	DSN string `env:"DB_DSN" yaml:"dsn"`
	// PasswordFile holds the database password, which then stays out of
	// the DSN (relative to the data folder).
	PasswordFile string `env:"DB_PASSWORD_FILE" yaml:"password_file"`
	// MaxConns and MaxIdleConns size each process's pool of connections.
	MaxConns     int `env:"DB_MAX_CONNS" yaml:"max_conns"`
	MaxIdleConns int `env:"DB_MAX_IDLE_CONNS" yaml:"max_idle_conns"`
	// StatementTimeout cuts a statement or transaction that takes longer,
	// so a database that stops answering never holds a screen.
	StatementTimeout time.Duration `env:"DB_STATEMENT_TIMEOUT" yaml:"statement_timeout"`
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Kiosk configures the walk-up terminal.
type Kiosk struct {
	// IdleTimeout returns to the welcome screen after this long without input.
	IdleTimeout time.Duration `env:"KIOSK_IDLE_TIMEOUT" yaml:"idle_timeout"`
	// DoneTimeout is how long the done screen stays.
	DoneTimeout time.Duration `env:"KIOSK_DONE_TIMEOUT" yaml:"done_timeout"`
	// TerminalID names the terminal in the audit log and throttling.
	TerminalID string `env:"KIOSK_TERMINAL_ID" yaml:"terminal_id"`
}

// SSH configures the SSH reset portal.
type SSH struct {
	Listen             string        `env:"SSH_LISTEN" yaml:"listen"`
	MaxConnections     int           `env:"SSH_MAX_CONNECTIONS" yaml:"max_connections"`
	MaxUnauthenticated int           `env:"SSH_MAX_UNAUTHENTICATED" yaml:"max_unauthenticated"`
	HandshakeTimeout   time.Duration `env:"SSH_HANDSHAKE_TIMEOUT" yaml:"handshake_timeout"`
	IdleTimeout        time.Duration `env:"SSH_IDLE_TIMEOUT" yaml:"idle_timeout"`
	MaxSessionTime     time.Duration `env:"SSH_MAX_SESSION_TIME" yaml:"max_session_time"`
	ShutdownGrace      time.Duration `env:"SSH_SHUTDOWN_GRACE" yaml:"shutdown_grace"`
	// ProxyProtocol accepts a PROXY header from a load balancer.
	ProxyProtocol bool `env:"SSH_PROXY_PROTOCOL" yaml:"proxy_protocol"`
	// MaxWidth and MaxHeight clamp the terminal size a client claims.
	MaxWidth  int `env:"SSH_MAX_WIDTH" yaml:"max_width"`
	MaxHeight int `env:"SSH_MAX_HEIGHT" yaml:"max_height"`
	// RestAfter puts a session that has shown the welcome screen this long,
	// untouched, to rest: it keeps its screen but not its renderer. 0 never.
	RestAfter time.Duration `env:"SSH_REST_AFTER" yaml:"rest_after"`
	// MaxHandshakesPerAddress and MaxConnectionsPerAddress cap what one
	// client address (an IPv6 /64 counts as one) may hold of the two limits
	// above, so a single address can never hold the door shut.
	MaxHandshakesPerAddress  int `env:"SSH_MAX_HANDSHAKES_PER_ADDRESS" yaml:"max_handshakes_per_address"`
	MaxConnectionsPerAddress int `env:"SSH_MAX_CONNECTIONS_PER_ADDRESS" yaml:"max_connections_per_address"`
	// SessionRequestTimeout closes a connection that has authenticated but
	// not opened its session within it (ssh -N), keepalives or not.
	SessionRequestTimeout time.Duration `env:"SSH_SESSION_REQUEST_TIMEOUT" yaml:"session_request_timeout"`
	// PublicCommand is how people reach this portal from their own
	// terminal ("ssh -p 2222 reset@portal.example.org"), as password expiry
	// reminders tell them; empty leaves it out. sspr cannot work it out: the
	// name and port people use are those in front of any load balancer.
	PublicCommand string `env:"SSH_PUBLIC_COMMAND" yaml:"public_command"`
}

// Hash configures argon2id; the types match password.Params.
type Hash struct {
	MemoryKiB uint32 `env:"HASH_MEMORY_KIB" yaml:"memory_kib"`
	Time      uint32 `env:"HASH_TIME" yaml:"time"`
	Threads   uint8  `env:"HASH_THREADS" yaml:"threads"`
	// MaxConcurrent bounds hashes in flight; 0 means the number of CPUs.
	MaxConcurrent int `env:"HASH_MAX_CONCURRENT" yaml:"max_concurrent"`
}

// Codes configures one-time code delivery.
type Codes struct {
	SendTimeout time.Duration `env:"CODES_SEND_TIMEOUT" yaml:"send_timeout"`
}

// SMTP configures outgoing mail; an empty Host sends none.
type SMTP struct {
	Host string `env:"SMTP_HOST" yaml:"host"`
	Port int    `env:"SMTP_PORT" yaml:"port"`
	// TLS is none, starttls or tls.
	TLS          string `env:"SMTP_TLS" yaml:"tls"`
	Username     string `env:"SMTP_USERNAME" yaml:"username"`
	PasswordFile string `env:"SMTP_PASSWORD_FILE" yaml:"password_file"`
	// Password comes only from the environment, to keep it out of files.
	Password string `env:"SMTP_PASSWORD" yaml:"-"`
	From     string `env:"SMTP_FROM" yaml:"from"`
	FromName string `env:"SMTP_FROM_NAME" yaml:"from_name"`
}

// SMS configures an HTTP SMS gateway; an empty URL sends none.
type SMS struct {
	URL    string `env:"SMS_URL" yaml:"url"`
	Method string `env:"SMS_METHOD" yaml:"method"`
	// BodyTemplate is a text/template over {{.To}} and {{.Text}}.
	BodyTemplate string `env:"SMS_BODY_TEMPLATE" yaml:"body_template"`
	ContentType  string `env:"SMS_CONTENT_TYPE" yaml:"content_type"`
	// AuthHeader comes only from the environment, to keep it out of files.
	AuthHeader     string        `env:"SMS_AUTH_HEADER" yaml:"-"`
	AuthHeaderFile string        `env:"SMS_AUTH_HEADER_FILE" yaml:"auth_header_file"`
	Timeout        time.Duration `env:"SMS_TIMEOUT" yaml:"timeout"`
}

// LDAP configures an external directory; an empty URL keeps passwords in
// sspr's own store.
type LDAP struct {
	URL              string `env:"LDAP_URL" yaml:"url"`
	StartTLS         bool   `env:"LDAP_START_TLS" yaml:"start_tls"`
	CAFile           string `env:"LDAP_CA_FILE" yaml:"ca_file"`
	BindDN           string `env:"LDAP_BIND_DN" yaml:"bind_dn"`
	BindPasswordFile string `env:"LDAP_BIND_PASSWORD_FILE" yaml:"bind_password_file"`
	// BindPassword comes only from the environment, to keep it out of files.
	BindPassword string `env:"LDAP_BIND_PASSWORD" yaml:"-"`
	BaseDN       string `env:"LDAP_BASE_DN" yaml:"base_dn"`
	// UserFilter holds one %s for the escaped username.
	UserFilter      string `env:"LDAP_USER_FILTER" yaml:"user_filter"`
	AttrUsername    string `env:"LDAP_ATTR_USERNAME" yaml:"attr_username"`
	AttrDisplayName string `env:"LDAP_ATTR_DISPLAY_NAME" yaml:"attr_display_name"`
	AttrMail        string `env:"LDAP_ATTR_MAIL" yaml:"attr_mail"`
	AttrMobile      string `env:"LDAP_ATTR_MOBILE" yaml:"attr_mobile"`
	AttrMemberOf    string `env:"LDAP_ATTR_MEMBER_OF" yaml:"attr_member_of"`
	// AttrSSHKeys holds a person's SSH public keys, one authorized_keys
	// line a value (sshPublicKey of the openssh-lpk schema); empty reads
	// none. They are read, never written, and count at a reset as keys
	// registered in sspr do.
	AttrSSHKeys string `env:"LDAP_ATTR_SSH_KEYS" yaml:"attr_ssh_keys"`
	// GroupBaseDN is where groups are searched; empty means BaseDN.
	GroupBaseDN string `env:"LDAP_GROUP_BASE_DN" yaml:"group_base_dn"`
	// GroupFilter finds a group by name; %s is the escaped name.
	GroupFilter string `env:"LDAP_GROUP_FILTER" yaml:"group_filter"`
	// AttrGroupMember lists a group's members (member for groupOfNames).
	AttrGroupMember string `env:"LDAP_ATTR_GROUP_MEMBER" yaml:"attr_group_member"`
	// PrefillContacts suggests the directory's mail and mobile at
	// registration; they still count only once verified by a code.
	PrefillContacts bool `env:"LDAP_PREFILL_CONTACTS" yaml:"prefill_contacts"`
	// WriteMode is passwd (RFC 3062) or ad (unicodePwd).
	WriteMode string        `env:"LDAP_WRITE_MODE" yaml:"write_mode"`
	Timeout   time.Duration `env:"LDAP_TIMEOUT" yaml:"timeout"`
	PoolSize  int           `env:"LDAP_POOL_SIZE" yaml:"pool_size"`
	// PasswordPolicyDN is the ppolicy entry of users without a
	// pwdPolicySubentry (the server's ppolicy_default, which sspr cannot
	// read), so that their password expiry is known; empty means their
	// passwords do not expire as far as sspr knows. Active Directory
	// computes expiry itself and needs none.
	PasswordPolicyDN string `env:"LDAP_PASSWORD_POLICY_DN" yaml:"password_policy_dn"`
}

// Insights configures the savings estimate of the insights page and reports.
type Insights struct {
	CostPerCall float64 `env:"INSIGHTS_COST_PER_CALL" yaml:"cost_per_call"`
	Currency    string  `env:"INSIGHTS_CURRENCY" yaml:"currency"`
}

// UI configures what people see of the organisation that runs sspr.
type UI struct {
	// Organisation names the organisation: on the welcome screen, as the
	// issuer in authenticator apps, as the sender name and in the subjects
	// of email. Empty means "sspr".
	Organisation string `env:"UI_ORGANISATION" yaml:"organisation"`
	// BannerFile is a text file drawn on the welcome screen instead of
	// sspr's banner (at most MaxBannerLines lines of MaxBannerWidth cells).
	BannerFile string `env:"UI_BANNER_FILE" yaml:"banner_file"`
	// KioskLocation says where the walk-up kiosk stands, as password expiry
	// reminders tell people; empty leaves the kiosk out of them.
	KioskLocation string `env:"UI_KIOSK_LOCATION" yaml:"kiosk_location"`
	// Language is the organisation's language, a code of a language sspr
	// speaks ("en", "de", "pt-BR"): every kiosk visit starts in it, the SSH
	// portal falls back to it when the client's LANG names none sspr
	// speaks, and email and text messages are written in it to people who
	// chose no language of their own.
	Language string `env:"UI_LANGUAGE" yaml:"language"`
}

// Vouchers configures the helpdesk vouchers admins issue to callers.
type Vouchers struct {
	// Lifetime is how long a voucher stays valid (it works once either
	// way): MinVoucherLifetime to MaxVoucherLifetime.
	Lifetime time.Duration `env:"VOUCHERS_LIFETIME" yaml:"lifetime"`
}

// MinVoucherLifetime and MaxVoucherLifetime bound vouchers.lifetime, as
// Entra's Temporary Access Pass does; the voucher's length is chosen for
// the longest (see flows/secret.VoucherLength). DefaultVoucherLifetime is
// the security rules' hour.
const (
	MinVoucherLifetime     = 10 * time.Minute
	MaxVoucherLifetime     = 30 * 24 * time.Hour
	DefaultVoucherLifetime = time.Hour
)

// MaxBannerLines and MaxBannerWidth bound ui.banner_file, so the welcome
// screen still has room for its menu at 80×24.
const (
	MaxBannerLines = 12
	MaxBannerWidth = 76
)

// MaxMessageSettingLength bounds the settings quoted in messages
// (ui.kiosk_location, ssh.public_command), in characters.
const MaxMessageSettingLength = 120

// shortText checks a setting that messages quote: one line, no control
// characters, at most MaxMessageSettingLength characters.
func shortText(name, v string) error {
	if utf8.RuneCountInString(v) > MaxMessageSettingLength {
		return problem(name, "must be at most %d characters", MaxMessageSettingLength)
	}
	return noControl(name, v)
}

// MaxOrganisationLength bounds ui.organisation, in characters: it has to
// fit an authenticator app's list and an email's sender name.
const MaxOrganisationLength = 64

// Default returns every setting at its default. DataDir is the relative
// "sspr-data", the CLI's fallback.
func Default() Config {
	return Config{
		DataDir:  "sspr-data",
		LogLevel: "info",
		DB:       DB{Driver: DriverSQLite, MaxConns: 10, MaxIdleConns: 4, StatementTimeout: 5 * time.Second},
		Kiosk:    Kiosk{IdleTimeout: 120 * time.Second, DoneTimeout: 30 * time.Second, TerminalID: "kiosk"},
		SSH: SSH{Listen: ":2222", MaxConnections: 1000, MaxUnauthenticated: 100, HandshakeTimeout: 10 * time.Second,
			MaxHandshakesPerAddress: 10, MaxConnectionsPerAddress: 20, SessionRequestTimeout: 10 * time.Second,
			IdleTimeout: 5 * time.Minute, MaxSessionTime: 15 * time.Minute, ShutdownGrace: 30 * time.Second,
			RestAfter: time.Second,
			MaxWidth:  300, MaxHeight: 100},
		Hash:  Hash{MemoryKiB: 19456, Time: 2, Threads: 1},
		Codes: Codes{SendTimeout: 10 * time.Second},
		SMTP:  SMTP{Port: 587, TLS: "starttls"},
		SMS:   SMS{Method: "POST", ContentType: "application/json", Timeout: 10 * time.Second},
		LDAP: LDAP{UserFilter: "(uid=%s)", AttrUsername: "uid", AttrDisplayName: "cn", AttrMail: "mail",
			AttrMobile: "mobile", AttrMemberOf: "memberOf", WriteMode: "passwd", Timeout: 10 * time.Second, PoolSize: 4,
			GroupFilter: "(&(|(objectClass=groupOfNames)(objectClass=group))(cn=%s))", AttrGroupMember: "member",
			PrefillContacts: true},
		Insights: Insights{CostPerCall: 25.0, Currency: "USD"},
		UI:       UI{KioskLocation: "the helpdesk counter", Language: "en"},
		Vouchers: Vouchers{Lifetime: DefaultVoucherLifetime},
		Hooks:    Hooks{Timeout: 10 * time.Second, OnFailure: HookFailureIgnore},
	}
}

// Load reads the configuration for a data folder. An empty dataDir means
// SSPR_DATA_PATH from environ, else Default().DataDir. It creates the folder
// (0700) and, when missing, <data>/config.yaml from the commented template
// (0600); then it overlays the file on the defaults, then the environment
// (given in os.Environ form, so the package never reads the process
// environment itself), and validates the result.
func Load(dataDir string, environ []string) (Config, error) {
	env := environMap(environ)
	if dataDir == "" {
		dataDir = env[EnvPrefix+"DATA_PATH"]
	}
	if dataDir == "" {
		dataDir = Default().DataDir
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return Config{}, fmt.Errorf("data folder: %w", err)
	}
	path := filepath.Join(dataDir, FileName)
	body, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		body, err = writeTemplate(path)
	}
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}

	cfg := Default()
	if err := applyYAML(&cfg, body, path); err != nil {
		return Config{}, err
	}
	if err := applyEnv(&cfg, env); err != nil {
		return Config{}, err
	}
	cfg.resolveWebhookSecrets(env)
	// The folder was settled before the file could be read from it.
	cfg.DataDir = dataDir
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// writeTemplate creates path from the template without ever replacing a
// file: it writes a temporary file and hard-links it into place, which
// fails if another process got there first (then that file is read).
func writeTemplate(path string) ([]byte, error) {
	body := assets.ConfigTemplate()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return nil, err
	}
	if _, err := tmp.Write(body); err != nil {
		_ = tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, err
	}
	return body, nil
}

// environMap turns os.Environ pairs into a map; a later duplicate wins, as
// with os/exec.
func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			m[k] = v
		}
	}
	return m
}

// problem builds the one-sentence error about a setting, naming its file key
// and its environment variable.
func problem(key, format string, args ...any) error {
	env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	return fmt.Errorf("%w: %s (%s) %s", ErrInvalid, key, env, fmt.Sprintf(format, args...))
}

// Validate checks every setting and returns the first problem.
func (c Config) Validate() error {
	checks := []func() error{
		func() error { return oneOf("log_level", c.LogLevel, "debug", "info", "warn", "error") },
		c.validateDB,

		func() error { return between("kiosk.idle_timeout", c.Kiosk.IdleTimeout, 10*time.Second, 24*time.Hour) },
		func() error { return between("kiosk.done_timeout", c.Kiosk.DoneTimeout, time.Second, 10*time.Minute) },
		func() error { return label("kiosk.terminal_id", c.Kiosk.TerminalID, 64) },

		func() error { return hostPort("ssh.listen", c.SSH.Listen) },
		func() error { return between("ssh.max_connections", c.SSH.MaxConnections, 1, 1_000_000) },
		func() error {
			return between("ssh.max_unauthenticated", c.SSH.MaxUnauthenticated, 1, max(c.SSH.MaxConnections, 1))
		},
		func() error {
			return between("ssh.max_handshakes_per_address", c.SSH.MaxHandshakesPerAddress, 1, 1_000_000)
		},
		func() error {
			return between("ssh.max_connections_per_address", c.SSH.MaxConnectionsPerAddress, 1, 1_000_000)
		},
		func() error {
			return between("ssh.handshake_timeout", c.SSH.HandshakeTimeout, time.Second, 5*time.Minute)
		},
		func() error {
			return between("ssh.session_request_timeout", c.SSH.SessionRequestTimeout, time.Second, 5*time.Minute)
		},
		func() error { return between("ssh.idle_timeout", c.SSH.IdleTimeout, 10*time.Second, 24*time.Hour) },
		func() error { return between("ssh.max_session_time", c.SSH.MaxSessionTime, time.Minute, 24*time.Hour) },
		func() error { return between("ssh.shutdown_grace", c.SSH.ShutdownGrace, 0, 10*time.Minute) },
		func() error { return between("ssh.max_width", c.SSH.MaxWidth, 40, 1000) },
		func() error { return between("ssh.max_height", c.SSH.MaxHeight, 10, 500) },
		func() error { return between("ssh.rest_after", c.SSH.RestAfter, 0, 10*time.Minute) },

		func() error { return between("hash.memory_kib", c.Hash.MemoryKiB, 7168, 4*1024*1024) },
		func() error { return between("hash.time", c.Hash.Time, 1, 100) },
		func() error { return between("hash.threads", c.Hash.Threads, 1, 255) },
		func() error {
			// OWASP's argon2id table trades memory for passes; below this
			// product a hash is cheaper to guess than its minimum.
			if uint64(c.Hash.MemoryKiB)*uint64(c.Hash.Time) < 35840 {
				return problem("hash.memory_kib", "times hash.time must be at least 35840 (OWASP minimum, e.g. 19456 × 2)")
			}
			return nil
		},
		func() error { return between("hash.max_concurrent", c.Hash.MaxConcurrent, 0, 1024) },

		func() error {
			return between("vouchers.lifetime", c.Vouchers.Lifetime, MinVoucherLifetime, MaxVoucherLifetime)
		},
		func() error { return between("codes.send_timeout", c.Codes.SendTimeout, time.Second, 2*time.Minute) },

		func() error { return between("smtp.port", c.SMTP.Port, 1, 65535) },
		func() error { return oneOf("smtp.tls", c.SMTP.TLS, "none", "starttls", "tls") },
		func() error { return noControl("smtp.host", c.SMTP.Host) },
		func() error { return noControl("smtp.username", c.SMTP.Username) },
		func() error { return noControl("smtp.from_name", c.SMTP.FromName) },
		func() error {
			if c.SMTP.From == "" {
				if c.SMTP.Host != "" {
					return problem("smtp.from", "must be set when smtp.host is")
				}
				return nil
			}
			if a, err := mail.ParseAddress(c.SMTP.From); err != nil || a.Address != c.SMTP.From {
				return problem("smtp.from", "must be a bare email address like sspr@example.org")
			}
			return nil
		},
		func() error {
			if c.SMTP.Password != "" && c.SMTP.PasswordFile != "" {
				return problem("smtp.password_file", "must be empty when SSPR_SMTP_PASSWORD is set")
			}
			return nil
		},
		c.SMTP.validateAuth,

		func() error { return httpURL("sms.url", c.SMS.URL) },
		func() error { return oneOf("sms.method", c.SMS.Method, "GET", "POST", "PUT") },
		func() error { return noControl("sms.content_type", c.SMS.ContentType) },
		func() error { return noControl("sms.auth_header", c.SMS.AuthHeader) },
		func() error { return between("sms.timeout", c.SMS.Timeout, time.Second, 2*time.Minute) },
		func() error {
			if c.SMS.AuthHeader != "" && c.SMS.AuthHeaderFile != "" {
				return problem("sms.auth_header_file", "must be empty when SSPR_SMS_AUTH_HEADER is set")
			}
			return nil
		},
		func() error {
			if c.SMS.URL != "" && c.SMS.Method != "GET" && c.SMS.BodyTemplate == "" {
				return problem("sms.body_template", "must be set when sms.url is and sms.method is not GET")
			}
			return nil
		},

		c.LDAP.validate,

		func() error {
			if math.IsNaN(c.Insights.CostPerCall) || math.IsInf(c.Insights.CostPerCall, 0) || c.Insights.CostPerCall < 0 {
				return problem("insights.cost_per_call", "must be a number of at least 0")
			}
			return nil
		},
		func() error {
			cur := c.Insights.Currency
			if len(cur) != 3 || strings.ToUpper(cur) != cur || strings.ContainsFunc(cur, func(r rune) bool { return r < 'A' || r > 'Z' }) {
				return problem("insights.currency", "must be a three-letter ISO 4217 code like USD")
			}
			return nil
		},
		func() error {
			if utf8.RuneCountInString(c.UI.Organisation) > MaxOrganisationLength {
				return problem("ui.organisation", "must be at most %d characters", MaxOrganisationLength)
			}
			return noControl("ui.organisation", c.UI.Organisation)
		},
		func() error { return shortText("ui.kiosk_location", c.UI.KioskLocation) },
		func() error {
			if _, err := locale.Embedded().Lookup(c.UI.Language); err != nil {
				return problem("ui.language", "must be a language sspr speaks: %v", err)
			}
			return nil
		},
		func() error { return shortText("ssh.public_command", c.SSH.PublicCommand) },
		c.validateEvents,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateDB checks the store's settings.
func (c Config) validateDB() error {
	checks := []func() error{
		func() error { return oneOf("db.driver", c.DB.Driver, DriverSQLite, DriverPostgres) },
		func() error { return between("db.max_conns", c.DB.MaxConns, 1, 1000) },
		func() error { return between("db.max_idle_conns", c.DB.MaxIdleConns, 1, 1000) },
		func() error {
			return between("db.statement_timeout", c.DB.StatementTimeout, 100*time.Millisecond, 10*time.Minute)
		},
		func() error { return noControl("key_file", c.KeyFile) },
		func() error {
			if c.DB.Driver != DriverPostgres {
				return nil
			}
			if c.DB.DSN == "" {
				return problem("db.dsn", "must name the PostgreSQL database when db.driver is postgres, e.g. postgres://sspr@db.example.org/sspr")
			}
			if _, err := pgconn.ParseConfig(c.DB.DSN); err != nil {
				return problem("db.dsn", "is not a PostgreSQL connection string: %s", dsnProblem(err))
			}
			return nil
		},
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// dsnProblem says what is wrong with a connection string without quoting
// it, since it may hold a password.
func dsnProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// validateAuth checks the SMTP credentials of a configured server: both
// or neither, and never over a connection without TLS, where anyone on the
// path could read the password (and a man in the middle could strip the
// server's STARTTLS offer to get it).
func (s SMTP) validateAuth() error {
	if s.Host == "" {
		return nil
	}
	hasPassword := s.Password != "" || s.PasswordFile != ""
	switch {
	case s.Username != "" && !hasPassword:
		return problem("smtp.password_file", "or SSPR_SMTP_PASSWORD must be set when smtp.username is")
	case s.Username == "" && hasPassword:
		return problem("smtp.username", "must be set when a password is")
	case s.Username != "" && s.TLS == "none":
		return problem("smtp.tls", "must be starttls or tls when smtp.username is set: sspr does not send a password over an unencrypted connection")
	}
	return nil
}

func (l LDAP) validate() error {
	if err := oneOf("ldap.write_mode", l.WriteMode, "passwd", "ad"); err != nil {
		return err
	}
	if err := between("ldap.timeout", l.Timeout, time.Second, 2*time.Minute); err != nil {
		return err
	}
	if err := between("ldap.pool_size", l.PoolSize, 1, 64); err != nil {
		return err
	}
	if strings.Count(l.UserFilter, "%s") != 1 || strings.Count(l.UserFilter, "%") != 1 {
		return problem("ldap.user_filter", "must hold exactly one %%s and no other %% sign")
	}
	for key, v := range map[string]string{"ldap.bind_dn": l.BindDN, "ldap.base_dn": l.BaseDN,
		"ldap.user_filter": l.UserFilter, "ldap.attr_username": l.AttrUsername,
		"ldap.attr_display_name": l.AttrDisplayName, "ldap.attr_mail": l.AttrMail, "ldap.attr_mobile": l.AttrMobile,
		"ldap.attr_member_of": l.AttrMemberOf, "ldap.attr_ssh_keys": l.AttrSSHKeys} {
		if err := noControl(key, v); err != nil {
			return err
		}
	}
	if l.URL == "" {
		return nil
	}
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return problem("ldap.url", "must be an ldap:// or ldaps:// URL with a host")
	}
	if u.Scheme == "ldaps" && l.StartTLS {
		return problem("ldap.start_tls", "must be false with an ldaps:// URL, which is already encrypted")
	}
	if l.WriteMode == "ad" && u.Scheme != "ldaps" && !l.StartTLS {
		return problem("ldap.write_mode", "ad needs an ldaps:// URL or ldap.start_tls, because Active Directory only accepts passwords over TLS")
	}
	if l.BaseDN == "" {
		return problem("ldap.base_dn", "must be set when ldap.url is")
	}
	for _, attr := range []struct{ key, v string }{{"ldap.attr_username", l.AttrUsername},
		{"ldap.attr_display_name", l.AttrDisplayName}, {"ldap.attr_mail", l.AttrMail},
		{"ldap.attr_mobile", l.AttrMobile}, {"ldap.attr_member_of", l.AttrMemberOf}} {
		if attr.v == "" {
			return problem(attr.key, "must name an attribute when ldap.url is set")
		}
	}
	return l.validateConnection(u)
}

type number interface {
	~int | ~uint8 | ~uint32 | ~int64
}

func between[T number](key string, v, lo, hi T) error {
	if v >= lo && v <= hi {
		return nil
	}
	if _, ok := any(v).(time.Duration); ok {
		return problem(key, "must be between %s and %s", any(lo), any(hi))
	}
	return problem(key, "must be between %d and %d", lo, hi)
}

func oneOf(key, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return problem(key, "must be %s (not %q)", orList(allowed), v)
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func label(key, v string, maxLen int) error {
	if v == "" {
		return problem(key, "must not be empty")
	}
	if len(v) > maxLen {
		return problem(key, "must be at most %d bytes", maxLen)
	}
	return noControl(key, v)
}

// noControl refuses control characters, which would end up in headers,
// LDAP filters or the terminal.
func noControl(key, v string) error {
	if strings.ContainsFunc(v, unicode.IsControl) {
		return problem(key, "must not contain control characters")
	}
	return nil
}

func hostPort(key, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return problem(key, "must be host:port, like :2222 or 127.0.0.1:2222")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return problem(key, "must have a port number between 0 and 65535")
	}
	return nil
}

func httpURL(key, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return problem(key, "must be an http:// or https:// URL with a host")
	}
	return nil
}
