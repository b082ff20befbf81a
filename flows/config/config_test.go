package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sspr-kiosk/sspr/assets"
)

// load writes body (unless nil) as the config file of a fresh data folder and loads it.
func load(t *testing.T, body string, environ ...string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	if body != "" {
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Load(dir, environ)
}

func mustFail(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want an error mentioning %q", parts)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %q does not wrap ErrInvalid", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

func TestDefaults(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	checks := map[string][2]any{
		"LogLevel":                {c.LogLevel, "info"},
		"UI.Language":             {c.UI.Language, "en"},
		"Kiosk.IdleTimeout":       {c.Kiosk.IdleTimeout, 120 * time.Second},
		"Kiosk.DoneTimeout":       {c.Kiosk.DoneTimeout, 30 * time.Second},
		"Kiosk.TerminalID":        {c.Kiosk.TerminalID, "kiosk"},
		"SSH.Listen":              {c.SSH.Listen, ":2222"},
		"SSH.MaxConnections":      {c.SSH.MaxConnections, 1000},
		"SSH.MaxUnauthenticated":  {c.SSH.MaxUnauthenticated, 100},
		"SSH.HandshakeTimeout":    {c.SSH.HandshakeTimeout, 10 * time.Second},
		"SSH.IdleTimeout":         {c.SSH.IdleTimeout, 5 * time.Minute},
		"SSH.MaxSessionTime":      {c.SSH.MaxSessionTime, 15 * time.Minute},
		"SSH.ShutdownGrace":       {c.SSH.ShutdownGrace, 30 * time.Second},
		"SSH.ProxyProtocol":       {c.SSH.ProxyProtocol, false},
		"SSH.MaxWidth":            {c.SSH.MaxWidth, 300},
		"SSH.MaxHeight":           {c.SSH.MaxHeight, 100},
		"SSH.RestAfter":           {c.SSH.RestAfter, time.Second},
		"Hash.MemoryKiB":          {c.Hash.MemoryKiB, uint32(19456)},
		"Hash.Time":               {c.Hash.Time, uint32(2)},
		"Hash.Threads":            {c.Hash.Threads, uint8(1)},
		"Hash.MaxConcurrent":      {c.Hash.MaxConcurrent, 0},
		"Codes.SendTimeout":       {c.Codes.SendTimeout, 10 * time.Second},
		"SMTP.Port":               {c.SMTP.Port, 587},
		"SMTP.TLS":                {c.SMTP.TLS, "starttls"},
		"SMTP.FromName":           {c.SMTP.FromName, ""},
		"SMS.Method":              {c.SMS.Method, "POST"},
		"SMS.ContentType":         {c.SMS.ContentType, "application/json"},
		"SMS.Timeout":             {c.SMS.Timeout, 10 * time.Second},
		"LDAP.UserFilter":         {c.LDAP.UserFilter, "(uid=%s)"},
		"LDAP.AttrUsername":       {c.LDAP.AttrUsername, "uid"},
		"LDAP.AttrDisplayName":    {c.LDAP.AttrDisplayName, "cn"},
		"LDAP.AttrMail":           {c.LDAP.AttrMail, "mail"},
		"LDAP.AttrMobile":         {c.LDAP.AttrMobile, "mobile"},
		"LDAP.AttrMemberOf":       {c.LDAP.AttrMemberOf, "memberOf"},
		"LDAP.WriteMode":          {c.LDAP.WriteMode, "passwd"},
		"LDAP.Timeout":            {c.LDAP.Timeout, 10 * time.Second},
		"LDAP.PoolSize":           {c.LDAP.PoolSize, 4},
		"Insights.CostPerCall":    {c.Insights.CostPerCall, 25.0},
		"Insights.Currency":       {c.Insights.Currency, "USD"},
		"SMTP.Host (off)":         {c.SMTP.Host, ""},
		"SMS.URL (off)":           {c.SMS.URL, ""},
		"LDAP.URL (built-in dir)": {c.LDAP.URL, ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
}

func TestFirstStartWritesTemplate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	cfg, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		t.Fatalf("data folder: %v", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		t.Errorf("data folder mode %v, want no group/other access", st.Mode().Perm())
	}
	path := filepath.Join(dir, FileName)
	fst, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fst.Mode().Perm() != 0o600 {
		t.Errorf("config.yaml mode %v, want 0600", fst.Mode().Perm())
	}
	body, _ := os.ReadFile(path)
	if string(body) != string(assets.ConfigTemplate()) {
		t.Error("config.yaml is not the template")
	}
	want := Default()
	want.DataDir = dir
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("untouched template loads as\n%+v\nwant\n%+v", cfg, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d entries, want only config.yaml (temp file left behind?)", len(entries))
	}

	// A second start keeps the operator's edits.
	if err := os.WriteFile(path, []byte("log_level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load(dir, nil)
	if err != nil || cfg.LogLevel != "debug" {
		t.Fatalf("second start: %v, %v", cfg.LogLevel, err)
	}
	if body, _ := os.ReadFile(path); string(body) != "log_level: debug\n" {
		t.Error("an existing config.yaml was overwritten")
	}
}

func TestConcurrentFirstStarts(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := Load(dir, nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// leafPaths lists the dotted yaml path of every leaf field settable from the file.
func leafPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			out = append(out, leafPaths(f.Type, prefix+tag+".")...)
			continue
		}
		out = append(out, prefix+tag)
	}
	return out
}

func nodePaths(n *yaml.Node, prefix string) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.MappingNode {
			out = append(out, nodePaths(v, prefix+k.Value+".")...)
			continue
		}
		out = append(out, prefix+k.Value)
	}
	return out
}

func TestTemplateDocumentsEveryKey(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(assets.ConfigTemplate(), &doc); err != nil {
		t.Fatal(err)
	}
	got := nodePaths(doc.Content[0], "")
	want := leafPaths(reflect.TypeOf(Config{}), "")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("template keys\n%v\nstruct keys\n%v", got, want)
	}
	// Every key has a comment line somewhere above it in its section, and
	// the environment-only settings are explained.
	tmpl := string(assets.ConfigTemplate())
	for _, env := range []string{"SSPR_DATA_PATH", "SSPR_SMTP_PASSWORD", "SSPR_SMS_AUTH_HEADER"} {
		if !strings.Contains(tmpl, env) {
			t.Errorf("template does not mention %s", env)
		}
	}
}

func TestEnvNamesFollowYAMLPaths(t *testing.T) {
	var walk func(reflect.Type, string)
	seen := map[string]bool{}
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			yt, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				if f.Tag.Get("env") != "" {
					t.Errorf("section %s has an env tag", f.Name)
				}
				walk(f.Type, prefix+yt+".")
				continue
			}
			env := f.Tag.Get("env")
			if env == "" {
				t.Errorf("%s has no env tag", f.Name)
				continue
			}
			if seen[env] {
				t.Errorf("env %s used twice", env)
			}
			seen[env] = true
			if yt == "-" {
				continue
			}
			if want := strings.ToUpper(strings.ReplaceAll(prefix+yt, ".", "_")); env != want {
				t.Errorf("%s: env %s, want %s", f.Name, env, want)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}

func TestYAMLOverlay(t *testing.T) {
	cfg, err := load(t, `
log_level: warn
kiosk:
  idle_timeout: 90s
  terminal_id: "counter 2"
ssh:
  listen: 127.0.0.1:2022
  proxy_protocol: true
hash:
  memory_kib: 65536
  time: 1
  threads: 4
smtp:
  host: mail.example.org
  port: 465
  tls: tls
  from: sspr@example.org
  from_name:
insights:
  cost_per_call: 17.5
  currency: EUR
ldap:
`)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DataDir = cfg.DataDir
	want.LogLevel = "warn"
	want.Kiosk.IdleTimeout = 90 * time.Second
	want.Kiosk.TerminalID = "counter 2"
	want.SSH.Listen = "127.0.0.1:2022"
	want.SSH.ProxyProtocol = true
	want.Hash = Hash{MemoryKiB: 65536, Time: 1, Threads: 4}
	want.SMTP.Host, want.SMTP.Port, want.SMTP.TLS, want.SMTP.From, want.SMTP.FromName = "mail.example.org", 465, "tls", "sspr@example.org", ""
	want.Insights = Insights{CostPerCall: 17.5, Currency: "EUR"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestEmptyAndCommentOnlyFiles(t *testing.T) {
	for _, body := range []string{"\n", "# nothing here\n", "---\n"} {
		cfg, err := load(t, body)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		want := Default()
		want.DataDir = cfg.DataDir
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("%q does not load the defaults", body)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg, err := load(t, "ssh:\n  listen: ':2200'\nkiosk:\n  idle_timeout: 60s\n",
		"SSPR_SSH_LISTEN=0.0.0.0:22",
		"SSPR_KIOSK_IDLE_TIMEOUT=30s",
		"SSPR_KIOSK_IDLE_TIMEOUT=90s", // a later duplicate wins
		"SSPR_SSH_PROXY_PROTOCOL=true",
		"SSPR_HASH_THREADS=2",
		"SSPR_INSIGHTS_COST_PER_CALL=12.25",
		"SSPR_SMTP_PASSWORD=s3cret",
		"SSPR_SMS_AUTH_HEADER=Bearer abc",
		"SSPR_SMTP_FROM_NAME=",
		"HOME=/root", "SSPR_UNRELATED_THING=1", "garbage",
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SSH.Listen != "0.0.0.0:22" || cfg.Kiosk.IdleTimeout != 90*time.Second || !cfg.SSH.ProxyProtocol ||
		cfg.Hash.Threads != 2 || cfg.Insights.CostPerCall != 12.25 || cfg.SMTP.Password != "s3cret" ||
		cfg.SMS.AuthHeader != "Bearer abc" || cfg.SMTP.FromName != "" {
		t.Errorf("env not applied: %+v", cfg)
	}
}

func TestDataDir(t *testing.T) {
	base := t.TempDir()
	fromEnv := filepath.Join(base, "env")
	explicit := filepath.Join(base, "flag")

	cfg, err := Load("", []string{"SSPR_DATA_PATH=" + fromEnv})
	if err != nil || cfg.DataDir != fromEnv {
		t.Fatalf("SSPR_DATA_PATH: %q, %v", cfg.DataDir, err)
	}
	if _, err := os.Stat(filepath.Join(fromEnv, FileName)); err != nil {
		t.Error(err)
	}
	cfg, err = Load(explicit, []string{"SSPR_DATA_PATH=" + fromEnv})
	if err != nil || cfg.DataDir != explicit {
		t.Fatalf("explicit folder: %q, %v", cfg.DataDir, err)
	}
	// The file cannot move the data folder.
	_, err = load(t, "data_dir: /elsewhere\n")
	mustFail(t, err, `unknown key "data_dir"`)
	_, err = load(t, "data_path: /elsewhere\n")
	mustFail(t, err, `"data_path" can only be set in the environment, as SSPR_DATA_PATH`)
}

func TestUnknownKeys(t *testing.T) {
	_, err := load(t, "log_level: info\nssh:\n  listen: ':2222'\n  listn: ':22'\n")
	mustFail(t, err, `unknown key "ssh.listn"`, "line 4")

	_, err = load(t, "colour: blue\n")
	mustFail(t, err, `unknown key "colour"`, "line 1")

	// Environment-only settings are unknown in the file.
	_, err = load(t, "smtp:\n  password: hunter2\n")
	mustFail(t, err, `"smtp.password" can only be set in the environment, as SSPR_SMTP_PASSWORD`)
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("the error repeats the secret")
	}
}

func TestBadYAML(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"ssh: [\n", "config.yaml"},
		{"ssh:\n  listen: ':1'\n   bad indent: x\n", "config.yaml"},
		{"- a\n- b\n", "must be a mapping"},
		{"ssh: 22\n", "ssh must be a mapping"},
		{"ssh:\n  listen: [a, b]\n", "ssh.listen must be a single value"},
		{"log_level: info\nlog_level: debug\n", `key "log_level" appears twice`},
		{"ssh:\n  max_connections:\n", "ssh.max_connections needs a value"},
	} {
		_, err := load(t, tt.body)
		mustFail(t, err, tt.want)
	}
}

func TestBadValues(t *testing.T) {
	for _, tt := range []struct {
		body string
		want []string
	}{
		{"kiosk:\n  idle_timeout: soon\n", []string{"kiosk.idle_timeout", `"soon" is not a duration`, "line 2"}},
		{"kiosk:\n  idle_timeout: 120\n", []string{"kiosk.idle_timeout", "not a duration"}},
		{"ssh:\n  max_connections: lots\n", []string{"ssh.max_connections", "not a whole number"}},
		{"hash:\n  threads: 300\n", []string{"hash.threads", "0 to 255"}},
		{"hash:\n  memory_kib: -1\n", []string{"hash.memory_kib"}},
		{"ssh:\n  proxy_protocol: yes\n", []string{"ssh.proxy_protocol", "not true or false"}},
		{"insights:\n  cost_per_call: .nan\n", []string{"insights.cost_per_call"}},
	} {
		_, err := load(t, tt.body)
		mustFail(t, err, tt.want...)
	}
	_, err := load(t, "", "SSPR_KIOSK_IDLE_TIMEOUT=90")
	mustFail(t, err, "SSPR_KIOSK_IDLE_TIMEOUT", "not a duration")
	_, err = load(t, "", "SSPR_SSH_MAX_CONNECTIONS=")
	mustFail(t, err, "SSPR_SSH_MAX_CONNECTIONS", "not a whole number")
}

func TestValidation(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
		key    string
	}{
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, "log_level"},
		{"ui language unknown", func(c *Config) { c.UI.Language = "xx" }, "ui.language"},
		{"ui language empty", func(c *Config) { c.UI.Language = "" }, "ui.language"},
		{"kiosk idle 9s", func(c *Config) { c.Kiosk.IdleTimeout = 9 * time.Second }, "kiosk.idle_timeout"},
		{"kiosk done 0", func(c *Config) { c.Kiosk.DoneTimeout = 0 }, "kiosk.done_timeout"},
		{"terminal id empty", func(c *Config) { c.Kiosk.TerminalID = "" }, "kiosk.terminal_id"},
		{"terminal id control", func(c *Config) { c.Kiosk.TerminalID = "k\x1b[2J" }, "kiosk.terminal_id"},
		{"listen", func(c *Config) { c.SSH.Listen = "2222" }, "ssh.listen"},
		{"listen port", func(c *Config) { c.SSH.Listen = ":70000" }, "ssh.listen"},
		{"max connections 0", func(c *Config) { c.SSH.MaxConnections = 0 }, "ssh.max_connections"},
		{"unauthenticated above connections", func(c *Config) { c.SSH.MaxUnauthenticated = 1001 }, "ssh.max_unauthenticated"},
		{"unauthenticated 0", func(c *Config) { c.SSH.MaxUnauthenticated = 0 }, "ssh.max_unauthenticated"},
		{"handshake 0", func(c *Config) { c.SSH.HandshakeTimeout = 0 }, "ssh.handshake_timeout"},
		{"ssh idle", func(c *Config) { c.SSH.IdleTimeout = time.Second }, "ssh.idle_timeout"},
		{"session time", func(c *Config) { c.SSH.MaxSessionTime = 0 }, "ssh.max_session_time"},
		{"grace negative", func(c *Config) { c.SSH.ShutdownGrace = -time.Second }, "ssh.shutdown_grace"},
		{"width", func(c *Config) { c.SSH.MaxWidth = 5000 }, "ssh.max_width"},
		{"height", func(c *Config) { c.SSH.MaxHeight = 5 }, "ssh.max_height"},
		{"rest negative", func(c *Config) { c.SSH.RestAfter = -time.Second }, "ssh.rest_after"},
		{"memory", func(c *Config) { c.Hash.MemoryKiB = 1024 }, "hash.memory_kib"},
		{"memory x time", func(c *Config) { c.Hash.MemoryKiB, c.Hash.Time = 19456, 1 }, "hash.memory_kib"},
		{"time 0", func(c *Config) { c.Hash.Time = 0 }, "hash.time"},
		{"threads 0", func(c *Config) { c.Hash.Threads = 0 }, "hash.threads"},
		{"max concurrent", func(c *Config) { c.Hash.MaxConcurrent = -1 }, "hash.max_concurrent"},
		{"send timeout", func(c *Config) { c.Codes.SendTimeout = 0 }, "codes.send_timeout"},
		{"smtp tls", func(c *Config) { c.SMTP.TLS = "ssl" }, "smtp.tls"},
		{"smtp port", func(c *Config) { c.SMTP.Port = 0 }, "smtp.port"},
		{"smtp from missing", func(c *Config) { c.SMTP.Host = "mail.example.org" }, "smtp.from"},
		{"smtp from bad", func(c *Config) { c.SMTP.From = "Sspr <sspr@example.org>" }, "smtp.from"},
		{"smtp two passwords", func(c *Config) { c.SMTP.Password, c.SMTP.PasswordFile = "x", "/run/pw" }, "smtp.password_file"},
		{"smtp host header injection", func(c *Config) { c.SMTP.Host = "a\r\nb" }, "smtp.host"},
		{"smtp user without password", func(c *Config) {
			c.SMTP.Host, c.SMTP.From, c.SMTP.Username = "mail.example.org", "sspr@example.org", "u"
		}, "smtp.password_file"},
		{"smtp password without user", func(c *Config) {
			c.SMTP.Host, c.SMTP.From, c.SMTP.Password = "mail.example.org", "sspr@example.org", "pw"
		}, "smtp.username"},
		{"smtp auth without tls", func(c *Config) {
			c.SMTP.Host, c.SMTP.From, c.SMTP.Username, c.SMTP.Password = "localhost", "sspr@localhost", "u", "pw"
			c.SMTP.TLS = "none"
		}, "smtp.tls"},
		{"sms url", func(c *Config) { c.SMS.URL = "ftp://gw" }, "sms.url"},
		{"sms method", func(c *Config) { c.SMS.Method = "DELETE" }, "sms.method"},
		{"sms body", func(c *Config) { c.SMS.URL = "https://gw.example.org/send" }, "sms.body_template"},
		{"sms two headers", func(c *Config) { c.SMS.AuthHeader, c.SMS.AuthHeaderFile = "x", "/run/h" }, "sms.auth_header_file"},
		{"sms timeout", func(c *Config) { c.SMS.Timeout = time.Hour }, "sms.timeout"},
		{"ldap url", func(c *Config) { c.LDAP.URL = "http://dc" }, "ldap.url"},
		{"ldap base", func(c *Config) { c.LDAP.URL = "ldaps://dc.example.org" }, "ldap.base_dn"},
		{"ldap starttls on ldaps", func(c *Config) {
			c.LDAP.URL, c.LDAP.BaseDN, c.LDAP.StartTLS = "ldaps://dc", "dc=example,dc=org", true
		}, "ldap.start_tls"},
		{"ldap ad without tls", func(c *Config) {
			c.LDAP.URL, c.LDAP.BaseDN, c.LDAP.WriteMode = "ldap://dc", "dc=example,dc=org", "ad"
		}, "ldap.write_mode"},
		{"ldap write mode", func(c *Config) { c.LDAP.WriteMode = "replace" }, "ldap.write_mode"},
		{"ldap filter", func(c *Config) { c.LDAP.UserFilter = "(uid=%s)(cn=%s)" }, "ldap.user_filter"},
		{"ldap filter none", func(c *Config) { c.LDAP.UserFilter = "(uid=x)" }, "ldap.user_filter"},
		{"ldap attr", func(c *Config) {
			c.LDAP.URL, c.LDAP.BaseDN, c.LDAP.AttrMail = "ldap://dc", "dc=example,dc=org", ""
		}, "ldap.attr_mail"},
		{"ldap pool", func(c *Config) { c.LDAP.PoolSize = 0 }, "ldap.pool_size"},
		{"ldap timeout", func(c *Config) { c.LDAP.Timeout = 0 }, "ldap.timeout"},
		{"cost", func(c *Config) { c.Insights.CostPerCall = -1 }, "insights.cost_per_call"},
		{"currency", func(c *Config) { c.Insights.Currency = "usd" }, "insights.currency"},
	} {
		c := Default()
		tt.mutate(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: valid, want an error about %s", tt.name, tt.key)
			continue
		}
		env := "SSPR_" + strings.ToUpper(strings.ReplaceAll(tt.key, ".", "_"))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.key+" ("+env+")") {
			t.Errorf("%s: error %q should name %s and %s", tt.name, err, tt.key, env)
		}
	}

	// Boundaries that are allowed.
	ok := []func(*Config){
		func(c *Config) { c.Kiosk.IdleTimeout = 10 * time.Second },
		func(c *Config) { c.SSH.MaxConnections, c.SSH.MaxUnauthenticated = 1, 1 },
		func(c *Config) { c.Hash.MemoryKiB, c.Hash.Time = 12288, 3 },
		func(c *Config) { c.Hash.MemoryKiB, c.Hash.Time = 47104, 1 },
		func(c *Config) { c.SSH.Listen = "[::1]:0" },
		func(c *Config) {
			c.SMTP.Host, c.SMTP.From, c.SMTP.TLS = "localhost", "sspr@localhost", "none"
		},
		func(c *Config) {
			c.SMTP.Host, c.SMTP.From, c.SMTP.Username, c.SMTP.PasswordFile = "mail.example.org", "sspr@example.org", "u", "pw"
		},
		func(c *Config) { c.SMTP.Username = "left over while smtp.host is empty" },
		func(c *Config) {
			c.SMS.URL, c.SMS.Method = "https://gw.example.org/send?to={{.To}}", "GET"
		},
		func(c *Config) {
			c.LDAP.URL, c.LDAP.BaseDN, c.LDAP.WriteMode, c.LDAP.StartTLS = "ldap://dc:389", "dc=example,dc=org", "ad", true
		},
		func(c *Config) { c.Insights.CostPerCall = 0 },
	}
	for i, mutate := range ok {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("allowed case %d: %v", i, err)
		}
	}
}

func TestLoadValidatesAfterOverlay(t *testing.T) {
	_, err := load(t, "ssh:\n  max_connections: 0\n")
	mustFail(t, err, "ssh.max_connections (SSPR_SSH_MAX_CONNECTIONS) must be between 1 and")

	_, err = load(t, "", "SSPR_SMTP_TLS=ssl")
	mustFail(t, err, "smtp.tls", "none, starttls or tls")

	_, err = load(t, "kiosk:\n  idle_timeout: 5s\n")
	mustFail(t, err, "kiosk.idle_timeout", "between 10s and 24h0m0s")
}

func TestUnreadableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads and writes anything; use a path under a file instead.
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(filepath.Join(f, "data"), nil); err == nil || errors.Is(err, ErrInvalid) {
			t.Fatalf("Load under a file = %v", err)
		}
		return
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if _, err := Load(dir, nil); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("Load in a read-only folder = %v", err)
	}
}

// TestVoucherLifetime checks vouchers.lifetime: an hour by default, set
// from the file or the environment, refused outside 10 minutes to 30 days.
func TestVoucherLifetime(t *testing.T) {
	if got := Default().Vouchers.Lifetime; got != time.Hour {
		t.Fatalf("default lifetime %v, want 1h", got)
	}
	c, err := load(t, "vouchers:\n  lifetime: 720h\n")
	if err != nil || c.Vouchers.Lifetime != 30*24*time.Hour {
		t.Fatalf("from the file: %v, %v", c.Vouchers.Lifetime, err)
	}
	c, err = load(t, "", "SSPR_VOUCHERS_LIFETIME=10m")
	if err != nil || c.Vouchers.Lifetime != 10*time.Minute {
		t.Fatalf("from the environment: %v, %v", c.Vouchers.Lifetime, err)
	}
	for _, v := range []string{"9m59s", "720h1s", "0s"} {
		_, err := load(t, "vouchers:\n  lifetime: "+v+"\n")
		mustFail(t, err, "vouchers.lifetime", "SSPR_VOUCHERS_LIFETIME", "between 10m0s and 720h0m0s")
	}
}

// TestSSHPerAddressSettings: the per-address caps and the session-request
// deadline have their defaults, come from the file or the environment, and
// refuse zero.
func TestSSHPerAddressSettings(t *testing.T) {
	c := Default().SSH
	if c.MaxHandshakesPerAddress != 10 || c.MaxConnectionsPerAddress != 20 || c.SessionRequestTimeout != 10*time.Second {
		t.Fatalf("defaults %d, %d, %s; want 10, 20, 10s", c.MaxHandshakesPerAddress, c.MaxConnectionsPerAddress,
			c.SessionRequestTimeout)
	}
	cfg, err := load(t, "ssh:\n  max_handshakes_per_address: 3\n  session_request_timeout: 4s\n",
		"SSPR_SSH_MAX_CONNECTIONS_PER_ADDRESS=7")
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.SSH; c.MaxHandshakesPerAddress != 3 || c.MaxConnectionsPerAddress != 7 || c.SessionRequestTimeout != 4*time.Second {
		t.Fatalf("loaded %d, %d, %s; want 3, 7, 4s", c.MaxHandshakesPerAddress, c.MaxConnectionsPerAddress,
			c.SessionRequestTimeout)
	}
	for env, key := range map[string]string{
		"SSPR_SSH_MAX_HANDSHAKES_PER_ADDRESS=0":  "ssh.max_handshakes_per_address",
		"SSPR_SSH_MAX_CONNECTIONS_PER_ADDRESS=0": "ssh.max_connections_per_address",
		"SSPR_SSH_SESSION_REQUEST_TIMEOUT=0s":    "ssh.session_request_timeout",
		"SSPR_SSH_SESSION_REQUEST_TIMEOUT=1h":    "ssh.session_request_timeout",
	} {
		_, err := load(t, "", env)
		mustFail(t, err, key)
	}
}
