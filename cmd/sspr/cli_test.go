package main

// These tests build the sspr binary once and run it on temporary data
// folders, the way an admin or a script would, checking stdout (machine
// output), stderr (messages) and the exit status of every form of the admin
// CLI listed in issue 2, and every kind of bad input it names.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	be "encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/invisible"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// binary is the sspr executable TestMain builds.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sspr-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "sspr")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sspr:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary produced.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return fmt.Sprintf("sspr %s\nexit %d\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// cleanEnv is the environment without any SSPR_ setting of the machine the
// tests run on.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSPR_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runEnv runs the binary with env, stdin and args, with no --data added.
func runEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{args: args, stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run sspr %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// folder is a data folder the tests run the binary on.
type folder struct {
	t   *testing.T
	dir string
}

func newFolder(t *testing.T) *folder {
	t.Helper()
	return &folder{t: t, dir: filepath.Join(t.TempDir(), "data")}
}

// run runs sspr --data DIR args….
func (f *folder) run(args ...string) result {
	f.t.Helper()
	return runEnv(f.t, cleanEnv(), "", append([]string{"--data", f.dir}, args...)...)
}

// runIn runs with text on standard input.
func (f *folder) runIn(stdin string, args ...string) result {
	f.t.Helper()
	return runEnv(f.t, cleanEnv(), stdin, append([]string{"--data", f.dir}, args...)...)
}

// ok runs a command that must succeed and returns its stdout.
func (f *folder) ok(args ...string) string {
	f.t.Helper()
	r := f.run(args...)
	if r.code != 0 {
		f.t.Fatalf("command failed:\n%s", r)
	}
	return r.stdout
}

// fails runs a command that must fail with a one-line reason containing want.
func (f *folder) fails(want string, args ...string) result {
	f.t.Helper()
	r := f.run(args...)
	expectFailure(f.t, r, want)
	return r
}

// expectFailure checks a failed run: non-zero exit, nothing on stdout, and
// exactly one line on stderr, the reason, containing want.
func expectFailure(t *testing.T, r result, want string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("succeeded, want a failure with %q:\n%s", want, r)
	}
	if r.stdout != "" {
		t.Errorf("a failure wrote to stdout:\n%s", r)
	}
	if !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("want exactly one line on stderr:\n%s", r)
	}
	line := strings.TrimSuffix(r.stderr, "\n")
	if !strings.HasPrefix(line, "sspr: ") {
		t.Errorf("message does not start with \"sspr: \": %q", line)
	}
	if !strings.Contains(line, want) {
		t.Errorf("message %q does not contain %q", line, want)
	}
	checkMessage(t, line)
}

// checkMessage flags the ugly: sentinel words left at the end, a prefix said
// twice ("add user: add user:"), escaped escapes and raw control characters.
func checkMessage(t *testing.T, line string) {
	t.Helper()
	for _, sentinel := range []string{": invalid", ": " + flows.ErrInvalid.Error()} {
		if strings.HasSuffix(line, sentinel) || strings.Contains(line, sentinel+":") {
			t.Errorf("message keeps the sentinel %q: %q", sentinel, line)
		}
	}
	parts := strings.Split(line, ": ")
	for i := 1; i < len(parts); i++ {
		if parts[i] == parts[i-1] {
			t.Errorf("message repeats %q: %q", parts[i], line)
		}
	}
	if strings.Contains(line, `\\`) {
		t.Errorf("message has doubled backslashes: %q", line)
	}
	for _, r := range line {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Errorf("message holds control character %U: %q", r, line)
		}
	}
	if _, r, why := invisible.Find(line); why != invisible.Seen {
		t.Errorf("message holds %s %U: %+q", why, r, line)
	}
}

// listedUser is one entry of `user list --format json`.
type listedUser struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	Admin       bool   `json:"admin"`
	Disabled    bool   `json:"disabled"`
}

func (f *folder) users() []listedUser {
	f.t.Helper()
	var out []listedUser
	if err := json.Unmarshal([]byte(f.ok("user", "list", "--format", "json")), &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *folder) usernames() []string {
	f.t.Helper()
	var names []string
	for _, u := range f.users() {
		names = append(names, u.Username)
	}
	return names
}

// shownUser is `user show NAME --format json`.
type shownUser struct {
	Username        string   `json:"username"`
	DisplayName     string   `json:"display_name"`
	Email           string   `json:"email"`
	Phone           string   `json:"phone"`
	Admin           bool     `json:"admin"`
	Disabled        bool     `json:"disabled"`
	Temporary       bool     `json:"temporary_password"`
	Groups          []string `json:"groups"`
	Methods         []string `json:"methods"`
	Enabled         bool     `json:"enabled_for_sspr"`
	CanReset        bool     `json:"able_to_reset"`
	Blocked         bool     `json:"blocked"`
	RegistrationDue bool     `json:"registration_due"`
}

func (f *folder) show(name string) shownUser {
	f.t.Helper()
	var u shownUser
	if err := json.Unmarshal([]byte(f.ok("user", "show", name, "--format", "json")), &u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *folder) policyJSON() map[string]string {
	f.t.Helper()
	var p map[string]string
	if err := json.Unmarshal([]byte(f.ok("policy", "show", "--format", "json")), &p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *folder) auditRecords() []map[string]any {
	f.t.Helper()
	var out []map[string]any
	for line := range strings.Lines(f.ok("audit", "export")) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			f.t.Fatalf("audit export line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// service opens the folder in this process, to set up what the CLI cannot
// (registered methods, failed sign-ins), and closes it when fn returns.
func (f *folder) service(fn func(ctx context.Context, svc *flows.Service)) {
	f.t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, f.dir, nil, clock.Real{}, true)
	if err != nil {
		f.t.Fatal(err)
	}
	defer a.Close()
	fn(ctx, a.svc)
}

// sqlDB opens the folder's database file directly, as someone tampering
// with it would.
func (f *folder) sqlDB() *sql.DB {
	f.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "sspr.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	return db
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const importHeader = "username,display_name,email,phone,groups,admin\n"

func TestVersion(t *testing.T) {
	r := runEnv(t, cleanEnv(), "", "version")
	if r.code != 0 || r.stdout != "sspr dev\n" || r.stderr != "" {
		t.Fatalf("version:\n%s", r)
	}
}

func TestDataFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "from-env")
	r := runEnv(t, cleanEnv("SSPR_DATA_PATH="+dir), "", "group", "add", "staff")
	if r.code != 0 {
		t.Fatalf("with SSPR_DATA_PATH:\n%s", r)
	}
	// First start writes the commented config, the database and the key
	// file, the key readable by its owner only.
	for _, name := range []string{"config.yaml", "sspr.db", "sspr.key"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "sspr.key" && st.Mode().Perm() != 0o600 {
			t.Errorf("sspr.key has mode %v, want 0600", st.Mode().Perm())
		}
	}
	if cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err != nil || !bytes.Contains(cfg, []byte("#")) {
		t.Errorf("config.yaml is not the commented template: %v", err)
	}
	f := &folder{t: t, dir: dir}
	if out := f.ok("group", "list"); !strings.Contains(out, "staff") {
		t.Fatalf("--data and SSPR_DATA_PATH name different folders: %q", out)
	}
	// --data wins over the environment.
	other := filepath.Join(t.TempDir(), "flag")
	r = runEnv(t, cleanEnv("SSPR_DATA_PATH="+dir), "", "--data", other, "group", "list")
	if r.code != 0 || strings.Contains(r.stdout, "staff") {
		t.Fatalf("--data did not win over SSPR_DATA_PATH:\n%s", r)
	}
}

// TestTUINeedsATerminal: the kiosk and the demo on this terminal say in one
// line that they need one, before they touch any data, instead of failing
// deep inside the TUI.
func TestTUINeedsATerminal(t *testing.T) {
	f := newFolder(t)
	f.fails("the kiosk needs a terminal: run sspr kiosk on the kiosk's console or in a terminal window", "kiosk")
	if _, err := os.Stat(f.dir); !os.IsNotExist(err) {
		t.Fatalf("a refused kiosk created its data folder: %v", err)
	}
	r := runEnv(t, cleanEnv(), "", "demo")
	expectFailure(t, r, "the demo needs a terminal: run sspr demo in a terminal window, or serve it over SSH with --listen ADDR")
}

// TestLooseStoreModeTightened: a store others can read (a copy or a restore
// that kept 0644) is made 0600 when sspr opens it, with a warning that says
// so; once private, nothing is said.
func TestLooseStoreModeTightened(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	db := filepath.Join(f.dir, "sspr.db")
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.run("group", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "staff") {
		t.Fatalf("group list on a 0644 store:\n%s", r)
	}
	if !strings.Contains(r.stderr, "WARN") || !strings.Contains(r.stderr, "readable by others") ||
		!strings.Contains(r.stderr, db) || !strings.Contains(r.stderr, "was=0644") {
		t.Errorf("no warning naming the store and its old mode:\n%s", r)
	}
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("sspr.db has mode %#o after the run; want 0600", st.Mode().Perm())
	}
	if r := f.run("group", "list"); r.code != 0 || r.stderr != "" {
		t.Errorf("a private store should open without a word:\n%s", r)
	}
}

func TestUnknownCommandsFail(t *testing.T) {
	f := newFolder(t)
	f.fails(`unknown command "frob" for "sspr"`, "frob")
	for _, group := range []string{"user", "group", "policy", "report", "audit"} {
		f.fails(`unknown command "frob" for "sspr `+group+`"`, group, "frob")
	}
	f.fails("unknown flag: --bogus", "user", "add", "x", "--bogus")
	f.fails("accepts 1 argument, received 0", "user", "add")
	f.fails("policy set takes KEY VALUE, got 1 argument", "policy", "set", "reconfirm_days")
	f.fails(`policy set takes KEY VALUE and then flags; "extra" is neither`, "policy", "set", "reconfirm_days", "30", "extra")
	// A group command alone shows its help.
	if r := f.run("user"); r.code != 0 || !strings.Contains(r.stdout, "import") {
		t.Fatalf("sspr user:\n%s", r)
	}
}

var temporaryPassword = regexp.MustCompile(`^[a-z0-9]{5}(-[a-z0-9]{5}){3}\n$`)

func TestUserAdd(t *testing.T) {
	f := newFolder(t)
	r := f.run("user", "add", "Alice", "--display-name", "Alice Example", "--email", "alice@example.com",
		"--phone", "+1 (555) 123-4567", "--admin")
	if r.code != 0 || !temporaryPassword.MatchString(r.stdout) {
		t.Fatalf("user add with a temporary password:\n%s", r)
	}
	if !strings.Contains(r.stderr, "added alice") || !strings.Contains(r.stderr, "must be changed at first use") {
		t.Errorf("user add message: %q", r.stderr)
	}
	u := f.show("alice")
	want := shownUser{Username: "alice", DisplayName: "Alice Example", Email: "alice@example.com", Phone: "+15551234567",
		Admin: true, Temporary: true, Groups: []string{}, Methods: []string{}, Enabled: true, RegistrationDue: true}
	if fmt.Sprint(u) != fmt.Sprint(want) {
		t.Fatalf("user show alice = %+v\nwant %+v", u, want)
	}
	table := f.ok("user", "show", "alice")
	for _, line := range []string{"display name      Alice Example", "state             admin, temporary password",
		"able to reset     no"} {
		if !strings.Contains(table, line) {
			t.Errorf("user show table lacks %q:\n%s", line, table)
		}
	}

	// A temporary password is different each time.
	r2 := f.run("user", "add", "bob")
	if r2.code != 0 || !temporaryPassword.MatchString(r2.stdout) || r2.stdout == r.stdout {
		t.Fatalf("second temporary password:\n%s", r2)
	}

	// --password-stdin: nothing on stdout, the password works, no temporary mark.
	f.ok("group", "add", "staff")
	r = f.runIn("correct horse battery staple 2026\n", "user", "add", "carol", "--display-name", "Carol Example",
		"--password-stdin", "--groups", "staff")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "added carol") {
		t.Fatalf("user add --password-stdin:\n%s", r)
	}
	if u := f.show("carol"); u.Temporary || !slices.Equal(u.Groups, []string{"staff"}) {
		t.Fatalf("carol = %+v", u)
	}
	f.service(func(ctx context.Context, svc *flows.Service) {
		if _, err := svc.SignIn(ctx, "carol", "correct horse battery staple 2026", "test"); err != nil {
			t.Fatalf("the password from stdin does not work: %v", err)
		}
	})

	list := f.ok("user", "list")
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "USERNAME") || !strings.Contains(lines[1], "admin, temporary password") {
		t.Fatalf("user list:\n%s", list)
	}
	if n := len(f.users()); n != 3 {
		t.Fatalf("user list --format json has %d users", n)
	}
	if out := f.ok("user", "list", "--search", "carol"); !strings.Contains(out, "carol") || strings.Contains(out, "alice") {
		t.Fatalf("user list --search carol:\n%s", out)
	}
}

func TestUserAddBadInput(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "alice", "--display-name", "Alice Example")
	f.ok("group", "add", "staff")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate", "", []string{"alice"}, `user "alice": already exists`},
		{"duplicate other case", "", []string{" ALICE "}, `user "alice": already exists`},
		{"escape in username", "", []string{"al\x1bice"}, `username "al\x1bice" may hold only letters, digits and . _ @ -`},
		{"space in username", "", []string{"al ice"}, "may hold only letters, digits"},
		{"overlong username", "", []string{strings.Repeat("a", 65)}, "username is longer than 64 characters"},
		{"escape in display name", "", []string{"bob", "--display-name", "Bob\x1b[31m Red"},
			`display name "Bob\x1b[31m Red" holds control or escape characters`},
		{"OSC 8 link in display name", "", []string{"bob", "--display-name", "\x1b]8;;https://evil.example\x07Bob\x1b]8;;\x07"},
			"holds control or escape characters"},
		{"bidi override in display name", "", []string{"bob", "--display-name", "Bob \u202eevil"},
			`display name "Bob \u202eevil" holds control or escape characters`},
		{"carriage return in display name", "", []string{"bob", "--display-name", "Bob\rAlice"}, "holds control or escape characters"},
		{"C1 control in display name", "", []string{"bob", "--display-name", "Bob\u009b31m"}, "holds control or escape characters"},
		{"zero-width space in username", "", []string{"ad\u200bmin"},
			`username "ad<U+200B>min" holds an invisible character (U+200B)`},
		{"soft hyphen in display name", "", []string{"bob", "--display-name", "Admin\u00ad"},
			`display name "Admin<U+00AD>" holds an invisible character (U+00AD)`},
		{"zero-width joiner in display name", "", []string{"bob", "--display-name", "Ad\u200dmin"},
			`display name "Ad<U+200D>min" holds an invisible character (U+200D)`},
		{"BOM in display name", "", []string{"bob", "--display-name", "\ufeffAdmin"}, "holds an invisible character (U+FEFF)"},
		{"Hangul filler as display name", "", []string{"bob", "--display-name", "\u3164"},
			`display name "<U+3164>" holds an invisible character (U+3164)`},
		{"pile of combining marks in display name", "", []string{"bob", "--display-name", "B\u0335\u0321\u0322ob"},
			"display name \"B\u0335\u0321<U+0322>ob\" holds more than 2 combining marks on one letter (U+0322)"},
		{"combining mark first in display name", "", []string{"bob", "--display-name", "\u0301Bob"},
			"holds a combining mark with no letter to sit on (U+0301)"},
		{"overlong display name", "", []string{"bob", "--display-name", strings.Repeat("B", 129)},
			"display name is longer than 128 characters"},
		{"email without domain", "", []string{"bob", "--email", "x"}, `email "x" is not an address`},
		{"email with a name", "", []string{"bob", "--email", "Bob <bob@example.com>"}, "is not an address"},
		{"overlong email", "", []string{"bob", "--email", strings.Repeat("b", 250) + "@example.com"}, "is not an address"},
		{"local phone number", "", []string{"bob", "--phone", "555 1234"}, "is not in E.164 form (like +15551234567)"},
		{"phone with leading zero", "", []string{"bob", "--phone", "+0155512345"}, "is not in E.164 form"},
		{"phone too long", "", []string{"bob", "--phone", "+1555123456789012"}, "is not in E.164 form"},
		{"phone with letters", "", []string{"bob", "--phone", "+1555CALLBOB"}, "is not in E.164 form"},
		{"unknown group", "", []string{"bob", "--groups", "staff,nosuch"}, `group "nosuch" does not exist`},
		{"bad group name", "", []string{"bob", "--groups", "st aff"}, "group name \"st aff\" may hold only"},
		{"weak password", "password123\n", []string{"bob", "--password-stdin"}, "password does not meet the rules"},
		{"short password", "short\n", []string{"bob", "--password-stdin"}, "At least 12 characters"},
		{"overlong password", strings.Repeat("long enough ", 11) + "\n", []string{"bob", "--password-stdin"},
			"At most 128 characters"},
		{"empty stdin", "", []string{"bob", "--password-stdin"}, "standard input is empty"},
	}
	before := f.usernames()
	audit := len(f.auditRecords())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.runIn(tc.stdin, append([]string{"user", "add"}, tc.args...)...)
			expectFailure(t, r, tc.want)
		})
	}
	if after := f.usernames(); !slices.Equal(after, before) {
		t.Fatalf("refused adds changed the users: %v → %v", before, after)
	}
	if n := len(f.auditRecords()); n != audit {
		t.Fatalf("refused adds wrote %d audit rows", n-audit)
	}
}

func TestUserImport(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	f.ok("group", "add", "helpdesk")
	r := f.run("user", "import", "testdata/users.csv")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "imported 5 users") {
		t.Fatalf("import users.csv:\n%s", r)
	}
	if got := f.usernames(); !slices.Equal(got, []string{"ada", "alice", "bob", "carol", "dave"}) {
		t.Fatalf("users = %v", got)
	}
	alice := f.show("alice")
	if alice.DisplayName != "Example, Alice" || !slices.Equal(alice.Groups, []string{"helpdesk", "staff"}) ||
		alice.Phone != "+15551230001" || alice.Admin || alice.Temporary {
		t.Fatalf("alice = %+v", alice)
	}
	if !f.show("ada").Admin || f.show("bob").Admin {
		t.Fatal("the admin column was not applied")
	}
	if out := f.ok("group", "list"); !regexp.MustCompile(`(?m)^helpdesk\s+2$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^staff\s+2$`).MatchString(out) {
		t.Fatalf("group list after import:\n%s", out)
	}

	// A BOM, CRLF line ends, quoted commas and doubled quotes are accepted.
	r = f.run("user", "import", "testdata/users_bom_crlf.csv")
	if r.code != 0 || !strings.Contains(r.stderr, "imported 3 users") {
		t.Fatalf("import users_bom_crlf.csv:\n%s", r)
	}
	for name, display := range map[string]string{"erin": "Example, Erin", "frank": `Frank "Frankie" Example`,
		"grace": "Example, Grace, PhD"} {
		if u := f.show(name); u.DisplayName != display {
			t.Errorf("%s display name = %q, want %q", name, u.DisplayName, display)
		}
	}
	if !f.show("grace").Admin || f.show("erin").Phone != "+15551230005" {
		t.Fatal("the last fields of a CRLF line were misread")
	}
	// Each on its own as well.
	for name, content := range map[string]string{
		"bom":  "\ufeff" + importHeader + "heidi,\"Example, Heidi\",heidi@example.com,,,\n",
		"crlf": strings.ReplaceAll(importHeader+"ivan,\"Example, Ivan\",ivan@example.com,,staff,yes\n", "\n", "\r\n"),
	} {
		r = f.run("user", "import", writeFile(t, name+".csv", content))
		if r.code != 0 || !strings.Contains(r.stderr, "imported 1 user\n") {
			t.Fatalf("import with %s:\n%s", name, r)
		}
	}
	if u := f.show("heidi"); u.DisplayName != "Example, Heidi" {
		t.Errorf("heidi = %+v", u)
	}
	if u := f.show("ivan"); u.DisplayName != "Example, Ivan" || !u.Admin || !slices.Equal(u.Groups, []string{"staff"}) {
		t.Errorf("ivan = %+v", u)
	}

	// Imported people have no password until they reset: the list says so
	// in the admin panel's words.
	list := f.ok("user", "list")
	for _, want := range []*regexp.Regexp{regexp.MustCompile(`(?m)^alice .*\sno password$`),
		regexp.MustCompile(`(?m)^ada .*\sadmin, no password$`)} {
		if !want.MatchString(list) {
			t.Errorf("user list does not match %s:\n%s", want, list)
		}
	}

	recs := f.auditRecords()
	recs = recs[:len(recs)-2]
	last := recs[len(recs)-1]
	if last["event"] != "user.created" || last["target"] != "import" || last["detail"] != "imported 3 users, skipped 0" {
		t.Fatalf("import audit row = %v", last)
	}
}

func TestUserImportBadRowImportsNothing(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	r := f.run("user", "import", "testdata/bad_email_line17.csv")
	expectFailure(t, r, `line 17: email "x" is not an address`)
	if got := f.usernames(); len(got) != 0 {
		t.Fatalf("a bad row still imported %v", got)
	}

	r = f.run("user", "import", "--skip-invalid", "testdata/bad_email_line17.csv")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("import --skip-invalid:\n%s", r)
	}
	if !strings.Contains(r.stderr, "skipped line 17: email \"x\" is not an address\n") ||
		!strings.Contains(r.stderr, "imported 18 users, skipped 1") {
		t.Fatalf("import --skip-invalid messages: %q", r.stderr)
	}
	got := f.usernames()
	if len(got) != 18 || slices.Contains(got, "user17") || !slices.Contains(got, "user20") {
		t.Fatalf("imported %v", got)
	}
}

// TestUserImportListsEveryBadRow: a file with several bad rows names each of
// them in one run (up to a cap), and imports nothing.
func TestUserImportListsEveryBadRow(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	data := importHeader + "amy,Amy,amy@,,,\n" + "ben,Ben,ben@example.com,,nosuch,\n" + "cal,Cal,,,,maybe\n" +
		"dee,Dee,dee@example.com,,staff,\n"
	r := f.run("user", "import", writeFile(t, "three.csv", data))
	want := "line 2: email \"amy@\" is not an address\n" + "line 3: group \"nosuch\" does not exist\n" +
		"line 4: admin \"maybe\" must be true or false\n" +
		"sspr: import: 3 bad rows (listed above); nothing was imported: fix them, or import the good rows with --skip-invalid\n"
	if r.code == 0 || r.stdout != "" || r.stderr != want {
		t.Fatalf("import with three bad rows:\n%s", r)
	}
	if got := f.usernames(); len(got) != 0 {
		t.Fatalf("a refused import wrote %v", got)
	}

	var many strings.Builder
	many.WriteString(importHeader)
	for i := range flows.MaxImportProblems + 10 {
		fmt.Fprintf(&many, "user%d,User,bad@,,,\n", i)
	}
	r = f.run("user", "import", writeFile(t, "many.csv", many.String()))
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code == 0 || len(lines) != flows.MaxImportProblems+2 || lines[len(lines)-2] != "… and 10 more" ||
		!strings.Contains(lines[len(lines)-1], fmt.Sprintf("%d bad rows", flows.MaxImportProblems+10)) {
		t.Fatalf("import with %d bad rows: %d lines:\n%s", flows.MaxImportProblems+10, len(lines), r)
	}
}

func TestUserImportBadInput(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	f.ok("user", "add", "alice")
	tests := []struct {
		name string
		file string // in testdata, or written from content
		data string
		want string
	}{
		{name: "duplicate in the file", file: "dup_in_file.csv", want: `line 4: user "henry" is also on line 2`},
		{name: "duplicate of an existing user", file: "dup_existing.csv", want: `line 3: user "alice" already exists`},
		{name: "unknown group", file: "unknown_group.csv", want: `line 3: group "nosuch" does not exist`},
		{name: "wrong column", file: "wrong_header.csv",
			want: "line 1: the header must be username,display_name,email,phone,groups,admin"},
		{name: "missing columns", file: "missing_columns.csv", want: "line 1: the header must be"},
		{name: "no header", data: "henry,Henry,henry@example.com,,,\n", want: "line 1: the header must be"},
		{name: "short row", file: "wrong_field_count.csv", want: "line 3: expected 6 fields, found 3"},
		{name: "long row", data: importHeader + "henry,Henry,henry@example.com,,,,extra\n", want: "line 2: expected 6 fields, found 7"},
		{name: "phone not E.164", file: "bad_phone.csv", want: `line 3: phone "5551234" is not in E.164 form`},
		{name: "admin not a boolean", file: "bad_admin.csv", want: `line 2: admin "maybe" must be true or false`},
		{name: "unterminated quote", file: "unterminated_quote.csv", want: "line 3"},
		{name: "overlong field", data: importHeader + "henry," + strings.Repeat("H", 1100) + ",,,,\n",
			want: "line 2: display_name is longer than 1024 bytes"},
		{name: "overlong display name", data: importHeader + "henry," + strings.Repeat("H", 129) + ",,,,\n",
			want: "line 2: display name is longer than 128 characters"},
		{name: "overlong username", data: importHeader + strings.Repeat("h", 65) + ",Henry,,,,\n",
			want: "line 2: username is longer than 64 characters"},
		{name: "escape in display name", data: importHeader + "henry,\"Henry\x1b[2J\",,,,\n",
			want: `line 2: display name "Henry\x1b[2J" holds control or escape characters`},
		{name: "OSC 8 in display name", data: importHeader + "henry,\x1b]8;;https://evil.example\x07Henry\x1b]8;;\x07,,,,\n",
			want: "line 2: display name"},
		{name: "bidi in display name", data: importHeader + "henry,Henry \u202egnp.exe,,,,\n",
			want: "holds control or escape characters"},
		{name: "control character in username", data: importHeader + "hen\x07ry,Henry,,,,\n",
			want: `line 2: username "hen\ary" may hold only`},
		{name: "bad email", data: importHeader + "henry,Henry,henry@,,,\n", want: `line 2: email "henry@" is not an address`},
		{name: "empty username", data: importHeader + ",Henry,,,,\n", want: "line 2: username is empty"},
		{name: "invisible character in username", data: importHeader + "ad\u200bmin,Admin,,,,\n",
			want: `line 2: username "ad<U+200B>min" holds an invisible character (U+200B)`},
		{name: "invisible characters in display name", data: importHeader + "ivan,Ad\u200bmin\u00ad,,,,\n",
			want: `line 2: display name "Ad<U+200B>min<U+00AD>" holds an invisible character (U+200B)`},
		{name: "empty file", data: "", want: "the file is empty"},
		{name: "BOM only", data: "\ufeff", want: "the file is empty"},
	}
	before := f.usernames()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			if tc.file == "" {
				path = writeFile(t, "users.csv", tc.data)
			}
			expectFailure(t, f.run("user", "import", path), tc.want)
			if after := f.usernames(); !slices.Equal(after, before) {
				t.Fatalf("a refused import changed the users: %v → %v", before, after)
			}
		})
	}
	f.fails("import: open testdata/nosuch.csv: no such file or directory", "user", "import", "testdata/nosuch.csv")

	// --skip-invalid keeps the good rows of the same files and lists the bad.
	r := f.run("user", "import", "--skip-invalid", "testdata/dup_existing.csv")
	if r.code != 0 || !strings.Contains(r.stderr, `skipped line 3: user "alice" already exists`) ||
		!strings.Contains(r.stderr, "imported 1 user, skipped 1") {
		t.Fatalf("import --skip-invalid dup_existing.csv:\n%s", r)
	}
	if got := f.usernames(); !slices.Equal(got, []string{"alice", "henry"}) {
		t.Fatalf("users = %v", got)
	}
	// Every row with a character nobody could see is named, and nothing is
	// imported; with --skip-invalid the others are.
	r = f.run("user", "import", "testdata/hidden_characters.csv")
	if r.code == 0 || !strings.Contains(r.stderr, `line 3: username "ad<U+200B>min"`) ||
		!strings.Contains(r.stderr, `line 7: display name "<U+3164>"`) || !strings.Contains(r.stderr, "5 bad rows") {
		t.Fatalf("import hidden_characters.csv:\n%s", r)
	}
	r = f.run("user", "import", "--skip-invalid", "testdata/hidden_characters.csv")
	for _, want := range []string{
		`skipped line 3: username "ad<U+200B>min" holds an invisible character (U+200B)`,
		`skipped line 4: display name "Ad<U+200B>min<U+00AD>" holds an invisible character (U+200B)`,
		`skipped line 5: display name "Judy<U+FEFF>" holds an invisible character (U+FEFF)`,
		"skipped line 6: display name \"K\u0335\u0321<U+0322>im\" holds more than 2 combining marks on one letter (U+0322)",
		`skipped line 7: display name "<U+3164>" holds an invisible character (U+3164)`,
		"imported 2 users, skipped 5",
	} {
		if r.code != 0 || !strings.Contains(r.stderr, want) {
			t.Fatalf("import --skip-invalid hidden_characters.csv: no %q in\n%s", want, r)
		}
	}
	if got := f.show("mia"); got.DisplayName != "Mia Nguye\u0302\u0303n 👩\u200d💻" {
		t.Fatalf("mia's display name is %+q", got.DisplayName)
	}
	// A bad header is not a row to skip.
	expectFailure(t, f.run("user", "import", "--skip-invalid", "testdata/wrong_header.csv"), "line 1: the header must be")
}

// TestUserListShowsHiddenCharacters plants what the flows refuse, as someone
// who can write the database would: the table shows each character nobody
// could see written out, so the planted row does not read "admin".
func TestUserListShowsHiddenCharacters(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "admin", "--display-name", "Admin", "--admin")
	if _, err := f.sqlDB().Exec(`INSERT INTO users (username, display_name, created_at, updated_at) VALUES (?, ?, 1, 1)`,
		"ad\u200bmin", "Ad\u200bmin\u00ad"); err != nil {
		t.Fatal(err)
	}
	list := f.ok("user", "list")
	if !strings.Contains(list, "ad<U+200B>min") || !strings.Contains(list, "Ad<U+200B>min<U+00AD>") {
		t.Fatalf("user list:\n%s", list)
	}
	if _, r, why := invisible.Find(list); why != invisible.Seen {
		t.Fatalf("user list holds %s %U:\n%+q", why, r, list)
	}
}

func TestUserAdminCommands(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "ada", "--admin")
	f.ok("user", "add", "bob", "--email", "bob@example.com")

	for _, step := range []struct {
		args  []string
		msg   string
		check func(u shownUser) bool
	}{
		{[]string{"disable", "bob"}, "disabled bob", func(u shownUser) bool { return u.Disabled }},
		{[]string{"enable", "bob"}, "enabled bob", func(u shownUser) bool { return !u.Disabled }},
		{[]string{"set-admin", "bob"}, "bob is now an administrator", func(u shownUser) bool { return u.Admin }},
		{[]string{"unset-admin", "bob"}, "bob is no longer an administrator", func(u shownUser) bool { return !u.Admin }},
		{[]string{"require-registration", "bob"}, "bob must register again", func(u shownUser) bool { return u.RegistrationDue }},
	} {
		r := f.run(append([]string{"user"}, step.args...)...)
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, step.msg) {
			t.Fatalf("user %v:\n%s", step.args, r)
		}
		if u := f.show("bob"); !step.check(u) {
			t.Fatalf("after user %v: %+v", step.args, u)
		}
	}

	// The last administrator stays one, and stays enabled.
	f.fails("there must be at least one administrator", "user", "disable", "ada")
	f.fails("there must be at least one administrator", "user", "unset-admin", "ada")
	f.ok("user", "disable", "bob")
	f.fails(`user "bob" is disabled`, "user", "set-admin", "bob")
	f.ok("user", "enable", "bob")

	// A voucher goes to stdout alone; the message to stderr.
	r := f.run("user", "voucher", "bob")
	if r.code != 0 || !regexp.MustCompile(`^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}\n$`).MatchString(r.stdout) ||
		!strings.Contains(r.stderr, "voucher for bob, valid until") || strings.Contains(r.stderr, strings.TrimSpace(r.stdout)) {
		t.Fatalf("user voucher:\n%s", r)
	}
	// The voucher is a method the reset flow now accepts.
	f.service(func(ctx context.Context, svc *flows.Service) {
		rs, err := svc.StartReset(ctx, "bob", "test")
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, strings.TrimSpace(r.stdout))
		if err != nil || !p.Done {
			t.Fatalf("the printed voucher does not verify: %+v %v", p, err)
		}
	})

	// unlock clears a real block.
	f.service(func(ctx context.Context, svc *flows.Service) {
		for range flows.AccountFailLimit {
			_, _ = svc.SignIn(ctx, "bob", "not bob's password at all", "test")
		}
	})
	if !f.show("bob").Blocked {
		t.Fatal("five wrong passwords did not block bob")
	}
	if out := f.ok("user", "show", "bob"); !regexp.MustCompile(`blocked\s+until \d{4}-`).MatchString(out) {
		t.Fatalf("user show of a blocked user:\n%s", out)
	}
	r = f.run("user", "unlock", "bob")
	if r.code != 0 || r.stderr != "unlocked bob\n" || f.show("bob").Blocked {
		t.Fatalf("user unlock:\n%s\nblocked after unlock: %v", r, f.show("bob").Blocked)
	}
	events := map[string]int{}
	for _, rec := range f.auditRecords() {
		events[rec["event"].(string)]++
	}
	for _, ev := range []string{"user.disabled", "user.enabled", "admin.granted", "admin.revoked", "voucher.issued",
		"block.applied", "block.cleared"} {
		if events[ev] == 0 {
			t.Errorf("no %s row in the audit log: %v", ev, events)
		}
	}

	for _, cmd := range []string{"show", "disable", "enable", "set-admin", "voucher"} {
		t.Run(cmd+" unknown", func(t *testing.T) {
			f.fails(`user "nobody": not found`, "user", cmd, "nobody")
		})
	}
	f.fails(`username "bad\x1bname" may hold only`, "user", "show", "bad\x1bname")
	f.fails("format \"xml\": use table or json", "user", "list", "--format", "xml")
}

// TestUserVoucherReadOut checks what the helpdesk reads to a caller: four
// groups of four on stdout, each group spelled out on stderr, and the
// lifetime from vouchers.lifetime.
func TestUserVoucherReadOut(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "bob")
	env := cleanEnv("SSPR_VOUCHERS_LIFETIME=720h")
	before := time.Now()
	r := runEnv(t, env, "", "--data", f.dir, "user", "voucher", "bob")
	code := strings.TrimSpace(r.stdout)
	if r.code != 0 || !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$`).MatchString(code) {
		t.Fatalf("user voucher:\n%s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "it works once") {
		t.Fatalf("want a sentence and four groups on stderr:\n%s", r)
	}
	for i, g := range strings.Split(code, "-") {
		if !regexp.MustCompile(`^  ` + g + `  [a-z-]+( [a-z-]+){3}$`).MatchString(lines[i+1]) {
			t.Fatalf("group %d read out as %q", i+1, lines[i+1])
		}
	}
	m := regexp.MustCompile(`valid until (\S+ \S+);`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("no end time in %q", lines[0])
	}
	until, err := time.ParseInLocation(time.DateTime, m[1], time.Local)
	if err != nil {
		t.Fatal(err)
	}
	if d := until.Sub(before); d < 30*24*time.Hour-time.Minute || d > 30*24*time.Hour+time.Minute {
		t.Fatalf("valid for %v, want 30 days", d)
	}
	r = runEnv(t, cleanEnv("SSPR_VOUCHERS_LIFETIME=745h"), "", "--data", f.dir, "user", "voucher", "bob")
	if r.code == 0 || !strings.Contains(r.stderr, "vouchers.lifetime") {
		t.Fatalf("a bad lifetime was taken:\n%s", r)
	}
}

func TestGroupCommands(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "alice")
	r := f.run("group", "add", "Staff")
	if r.code != 0 || r.stdout != "" || r.stderr != "added group Staff\n" {
		t.Fatalf("group add:\n%s", r)
	}
	f.fails(`group "staff": already exists`, "group", "add", "staff")
	f.fails(`group name "st aff" may hold only lower-case letters, digits and . _ -`, "group", "add", "st aff")
	f.fails(`group name "st\x1baff" may hold only`, "group", "add", "st\x1baff")
	f.fails("group name is longer than 64 characters", "group", "add", strings.Repeat("g", 65))

	f.ok("group", "add-member", "staff", "alice")
	if out := f.ok("group", "list"); out != "GROUP  MEMBERS\nstaff  1\n" {
		t.Fatalf("group list:\n%q", out)
	}
	if u := f.show("alice"); !slices.Equal(u.Groups, []string{"staff"}) {
		t.Fatalf("alice's groups = %v", u.Groups)
	}
	f.fails("alice is already in staff", "group", "add-member", "staff", "alice")
	f.fails(`group "nosuch": not found`, "group", "add-member", "nosuch", "alice")
	f.fails(`user "nobody": not found`, "group", "add-member", "staff", "nobody")

	r = f.run("group", "remove-member", "staff", "alice")
	if r.code != 0 || r.stderr != "removed alice from staff\n" {
		t.Fatalf("group remove-member:\n%s", r)
	}
	f.fails("alice is not in staff", "group", "remove-member", "staff", "alice")
	if out := f.ok("group", "list"); out != "GROUP  MEMBERS\nstaff  0\n" {
		t.Fatalf("group list after remove:\n%q", out)
	}
}

func TestPolicyShow(t *testing.T) {
	f := newFolder(t)
	p := f.policyJSON()
	want := map[string]string{"enabled_for": "all", "enabled_group": "", "methods_required": "1",
		"methods_allowed": "email,sms,authenticator,recovery_codes,voucher", "questions_to_register": "3",
		"questions_to_answer": "3", "require_registration": "true", "reconfirm_days": "180",
		"notify_users_on_reset": "true", "notify_admins_on_admin_reset": "true", "helpdesk_contact": "",
		"password_min_length": "12", "password_history": "5", "password_min_strength": "3", "banned_words": "",
		"allow_unlock": "true", "lockout_threshold": "10", "lockout_duration": "15m"}
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Fatalf("policy show --format json:\n got %v\nwant %v", p, want)
	}
	for _, args := range [][]string{{"policy", "show"}, {"policy", "show", "--format", "table"}} {
		out := f.ok(args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(want)+1 || !regexp.MustCompile(`^KEY\s+VALUE$`).MatchString(lines[0]) {
			t.Fatalf("%v:\n%s", args, out)
		}
		for k, v := range want {
			if !regexp.MustCompile(`(?m)^` + k + `\s+` + regexp.QuoteMeta(v) + `$`).MatchString(out) {
				t.Errorf("%v lacks %s = %q", args, k, v)
			}
		}
	}
	f.fails(`format "yaml": use table or json`, "policy", "show", "--format", "yaml")
}

func TestPolicySet(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	for _, kv := range [][3]string{
		{"reconfirm_days", "90", `reconfirm_days: "180" → "90"`},
		{"methods_required", "2", `methods_required: "1" → "2"`},
		{"methods_allowed", "email, sms,questions", `methods_allowed: "email,sms,authenticator,recovery_codes,voucher" → "email,sms,questions"`},
		{"enabled_group", "staff", `enabled_group: "" → "staff"`},
		{"enabled_for", "group", `enabled_for: "all" → "group"`},
		{"helpdesk_contact", "https://help.example.com/reset", `helpdesk_contact: "" → "https://help.example.com/reset"`},
		{"banned_words", "Contoso, fabrikam", `banned_words: "" → "contoso,fabrikam"`},
		{"require_registration", "false", `require_registration: "true" → "false"`},
	} {
		// First what the change means, as the admin panel shows it, then
		// the change.
		r := f.run("policy", "set", kv[0], kv[1])
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 0 || r.stdout != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], kv[0]+": ") || lines[1] != kv[2] {
			t.Fatalf("policy set %s %s:\n%s", kv[0], kv[1], r)
		}
	}
	saved := f.policyJSON()
	if saved["reconfirm_days"] != "90" || saved["enabled_for"] != "group" || saved["methods_required"] != "2" {
		t.Fatalf("policy after set: %v", saved)
	}
	audit := len(f.auditRecords())

	tests := []struct {
		key, value, want string
	}{
		{"reconfirm_days", "731", "days before re-confirm must be 0–730"},
		{"reconfirm_days", "abc", "days before re-confirm must be 0–730"},
		{"methods_required", "0", "methods required must be 1 or 2"},
		{"methods_required", "3", "methods required must be 1 or 2"},
		{"password_min_length", "7", "password minimum length must be 8–64"},
		{"password_min_length", "65", "password minimum length must be 8–64"},
		{"password_history", "25", "password history must be 0–24"},
		{"password_min_strength", "5", "password minimum strength must be 0–4"},
		{"questions_to_register", "6", "questions to register must be 3–5"},
		{"questions_to_answer", "2", "questions to answer must be 3–5"},
		{"questions_to_answer", "5", "questions to register (3) must be at least questions to answer (5)"},
		{"enabled_for", "everyone", "enabled for must be none, group or all"},
		{"enabled_group", "nosuch", `group "nosuch" does not exist`},
		{"require_registration", "maybe", "require registration must be true or false"},
		{"methods_allowed", "email,bogus", `methods allowed: unknown method "bogus"`},
		{"methods_allowed", "questions",
			"with methods required 2, methods allowed must include at least 2 methods other than security questions"},
		{"helpdesk_contact", "call Bob", "helpdesk contact must be an email address or an http(s) URL"},
		{"helpdesk_contact", "help@example.com\x1b[2J", "helpdesk contact must not contain control characters"},
		{"banned_words", "ab", `banned words must be 3–64 characters each ("ab" is not)`},
		{"banned_words", strings.Repeat("x", 5000), "banned words must be 3–64 characters each (one has 5000)"},
		{"nope", "1", `unknown policy key "nope"; known keys: enabled_for, enabled_group,`},
		{"Reconfirm_Days", "5", `unknown policy key "Reconfirm_Days"; did you mean reconfirm_days?`},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value[:min(len(tc.value), 20)], func(t *testing.T) {
			r := f.run("policy", "set", tc.key, tc.value)
			expectFailure(t, r, "set policy: "+tc.want)
			if len(r.stderr) > 400 {
				t.Errorf("a %d-byte message", len(r.stderr))
			}
		})
	}
	// A negative number reaches the policy rules, with or without "--", and
	// is refused like any value out of range.
	f.fails("set policy: days before re-confirm must be 0–730", "policy", "set", "reconfirm_days", "-1")
	f.fails("set policy: days before re-confirm must be 0–730", "policy", "set", "--", "reconfirm_days", "-1")

	if got := f.policyJSON(); fmt.Sprint(got) != fmt.Sprint(saved) {
		t.Fatalf("refused values changed the policy:\n got %v\nwant %v", got, saved)
	}
	if n := len(f.auditRecords()); n != audit {
		t.Fatalf("refused values wrote %d audit rows", n-audit)
	}
}

// TestPolicySetValueStartingWithDash checks that a value beginning with a
// dash is the value, not a flag: the policy rules judge it, refusing a
// negative number with their own reason and storing a valid word list.
func TestPolicySetValueStartingWithDash(t *testing.T) {
	f := newFolder(t)
	before := f.policyJSON()
	audit := len(f.auditRecords())
	for _, tc := range []struct{ key, value, want string }{
		{"reconfirm_days", "-1", "set policy: days before re-confirm must be 0–730"},
		{"password_history", "-5", "set policy: password history must be 0–24"},
		{"methods_required", "-2", "set policy: methods required must be 1 or 2"},
		{"banned_words", "-x", `set policy: banned words must be 3–64 characters each ("-x" is not)`},
	} {
		r := f.run("policy", "set", tc.key, tc.value)
		expectFailure(t, r, tc.want)
		if strings.Contains(r.stderr, "flag") {
			t.Errorf("policy set %s %s: the flag parser answered:\n%s", tc.key, tc.value, r)
		}
	}
	if got := f.policyJSON(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("refused values changed the policy:\n got %v\nwant %v", got, before)
	}
	if n := len(f.auditRecords()); n != audit {
		t.Fatalf("refused values wrote %d audit rows", n-audit)
	}

	r := f.run("policy", "set", "banned_words", "-foo")
	if r.code != 0 || r.stdout != "" || r.stderr != "banned_words: 1 banned word will be refused in new passwords; "+
		"current passwords stay valid until next changed\n"+`banned_words: "" → "-foo"`+"\n" {
		t.Fatalf("policy set banned_words -foo:\n%s", r)
	}
	if got := f.policyJSON()["banned_words"]; got != "-foo" {
		t.Fatalf("banned_words = %q, want %q", got, "-foo")
	}
	// Flags before KEY are still flags.
	if out := f.ok("policy", "set", "--help"); !strings.Contains(out, "policy set KEY VALUE") {
		t.Fatalf("policy set --help:\n%s", out)
	}
}

// TestPolicySetFlagsAfterArguments: flags may follow KEY VALUE, as they may
// follow the arguments of every other command; --dry-run prints what the
// change would mean, as the admin panel does, and saves nothing.
func TestPolicySetFlagsAfterArguments(t *testing.T) {
	f := newFolder(t)
	audit := len(f.auditRecords())
	r := f.run("policy", "set", "methods_required", "2", "--dry-run", "--data", f.dir)
	want := "methods_required: with 2 methods required, 0 of 0 enabled users could not reset today (now 0)\n" +
		"dry run: nothing was saved\n"
	if r.code != 0 || r.stdout != "" || r.stderr != want {
		t.Fatalf("policy set --dry-run:\n%s", r)
	}
	if got := f.policyJSON()["methods_required"]; got != "1" {
		t.Fatalf("a dry run saved methods_required = %s", got)
	}
	if n := len(f.auditRecords()); n != audit {
		t.Fatalf("a dry run wrote %d audit rows", n-audit)
	}
	// --data after the arguments names the folder: the change lands there.
	other := filepath.Join(t.TempDir(), "other")
	r = runEnv(t, cleanEnv(), "", "policy", "set", "password_min_length", "14", "--data", other)
	if r.code != 0 || !strings.Contains(r.stderr, `password_min_length: "12" → "14"`) {
		t.Fatalf("policy set … --data DIR:\n%s", r)
	}
	if got := runEnv(t, cleanEnv(), "", "--data", other, "policy", "show", "--format", "json"); !strings.Contains(got.stdout, `"password_min_length": "14"`) {
		t.Fatalf("the change did not land in --data:\n%s", got)
	}
	if got := f.policyJSON()["password_min_length"]; got != "12" {
		t.Fatalf("the change landed in the wrong folder: %s", got)
	}
	// A value starting with a dash still reaches the policy rules, also
	// with flags after it.
	f.fails("set policy: days before re-confirm must be 0–730", "policy", "set", "reconfirm_days", "-1", "--dry-run")
}

// withChannels configures an SMTP relay and an SMS gateway in the folder's
// config (nothing listens there; reports only need them configured), and
// returns how to remove them again.
func (f *folder) withChannels() (remove func()) {
	f.t.Helper()
	path := filepath.Join(f.dir, "config.yaml")
	orig, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	cfg := strings.Replace(string(orig), "smtp:\n  host: \"\"", "smtp:\n  host: \"127.0.0.1\"", 1)
	cfg = strings.Replace(cfg, "  from: \"\"", "  from: \"sspr@example.com\"", 1)
	cfg = strings.Replace(cfg, "sms:\n  # The gateway endpoint, http:// or https://.\n  url: \"\"",
		"sms:\n  # The gateway endpoint, http:// or https://.\n  url: \"http://127.0.0.1:9/send\"", 1)
	cfg = strings.Replace(cfg, "  body_template: \"\"", "  body_template: '{\"to\":\"{{.To}}\",\"text\":\"{{.Text}}\"}'", 1)
	if cfg == string(orig) || strings.Count(cfg, "127.0.0.1") != 2 {
		f.t.Fatal("the config template changed: channels not set")
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestReportRegistrations(t *testing.T) {
	f := newFolder(t)
	f.ok("group", "add", "staff")
	removeChannels := f.withChannels()
	f.ok("user", "add", "ada", "--admin")
	f.ok("user", "add", "bob", "--groups", "staff")
	f.ok("user", "add", "carol", "--groups", "staff")
	f.ok("user", "add", "dave")
	f.service(func(ctx context.Context, svc *flows.Service) {
		actor := flows.Actor{Name: "test", Source: "test"}
		for _, reg := range []struct {
			user  string
			m     policy.Method
			value string
		}{
			{"bob", policy.Email, "bob@example.com"},
			{"bob", policy.SMS, "+15551230002"},
			{"ada", policy.Email, "ada@example.com"},
			{"dave", policy.SMS, "+15551230004"},
		} {
			if err := svc.RegisterVerified(ctx, actor, reg.user, reg.m, reg.value); err != nil {
				t.Fatal(err)
			}
		}
	})
	header := []string{"username", "enabled_for_sspr", "registered_methods", "able_to_reset", "last_confirmed"}

	// csv: a header row, then one row per user.
	out := f.ok("report", "registrations", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || !slices.Equal(rows[0], header) {
		t.Fatalf("report registrations --format csv:\n%s", out)
	}
	byUser := map[string][]string{}
	for _, row := range rows[1:] {
		byUser[row[0]] = row
	}
	check := func(name, enabled, methods, canReset string, confirmed bool) {
		t.Helper()
		row := byUser[name]
		if row == nil || row[1] != enabled || row[2] != methods || row[3] != canReset {
			t.Errorf("%s: %q, want enabled %s, methods %q, able %s", name, row, enabled, methods, canReset)
			return
		}
		if confirmed {
			if _, err := time.Parse(time.RFC3339, row[4]); err != nil {
				t.Errorf("%s: last confirmed %q: %v", name, row[4], err)
			}
		} else if row[4] != "" {
			t.Errorf("%s: last confirmed %q, want empty", name, row[4])
		}
	}
	check("ada", "true", "email", "false", true) // an admin needs two methods
	check("bob", "true", "email;sms", "true", true)
	check("carol", "true", "", "false", false)
	check("dave", "true", "sms", "true", true)

	// Under a group scope, dave is outside it.
	f.ok("policy", "set", "enabled_group", "staff")
	f.ok("policy", "set", "enabled_for", "group")
	rows, _ = csv.NewReader(strings.NewReader(f.ok("report", "registrations", "--format", "csv"))).ReadAll()
	for _, row := range rows[1:] {
		byUser[row[0]] = row
	}
	check("dave", "false", "sms", "false", true)
	check("bob", "true", "email;sms", "true", true)
	check("ada", "true", "email", "false", true)

	// With no relay and no gateway, codes cannot be sent: email and text
	// messages do not count, as in the reset itself.
	removeChannels()
	rows, _ = csv.NewReader(strings.NewReader(f.ok("report", "registrations", "--format", "csv"))).ReadAll()
	for _, row := range rows[1:] {
		byUser[row[0]] = row
	}
	check("bob", "true", "email;sms", "false", true)
	f.withChannels()

	// table: the same header in capitals and one line per user.
	table := f.ok("report", "registrations")
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != 5 || strings.Join(strings.Fields(lines[0]), " ") != strings.ToUpper(strings.Join(header, " ")) {
		t.Fatalf("report registrations (table):\n%s", table)
	}
	if !regexp.MustCompile(`(?m)^bob\s+true\s+email;sms\s+true\s+\d{4}-\d\d-\d\dT`).MatchString(table) {
		t.Fatalf("table row of bob:\n%s", table)
	}

	// json: one object per user; "never confirmed" has no date.
	var lines2 []map[string]any
	if err := json.Unmarshal([]byte(f.ok("report", "registrations", "--format", "json")), &lines2); err != nil {
		t.Fatal(err)
	}
	if len(lines2) != 4 {
		t.Fatalf("json has %d users", len(lines2))
	}
	for _, l := range lines2 {
		if l["username"] == "carol" {
			if _, has := l["last_confirmed"]; has {
				t.Errorf("carol never confirmed but json says %v", l["last_confirmed"])
			}
			if m, ok := l["registered_methods"].([]any); !ok || len(m) != 0 {
				t.Errorf("carol's methods = %v, want []", l["registered_methods"])
			}
		}
		if l["username"] == "bob" && (l["able_to_reset"] != true || l["enabled_for_sspr"] != true) {
			t.Errorf("bob = %v", l)
		}
	}
	f.fails(`format "xml": use table, csv or json`, "report", "registrations", "--format", "xml")
}

func TestReportActivity(t *testing.T) {
	f := newFolder(t)
	f.ok("user", "add", "bob")
	f.service(func(ctx context.Context, svc *flows.Service) {
		for range 2 {
			_, _ = svc.SignIn(ctx, "bob", "not bob's password at all", "test")
		}
	})
	today := time.Now().UTC().Format("2006-01-02")

	out := f.ok("report", "activity", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 31 || !slices.Equal(rows[0], []string{"day", "resets", "changes", "failures", "blocks"}) {
		t.Fatalf("report activity --format csv:\n%s", out)
	}
	if last := rows[30]; !slices.Equal(last, []string{today, "0", "0", "2", "0"}) {
		t.Fatalf("today's row = %v", last)
	}

	table := f.ok("report", "activity", "--days", "7")
	if !regexp.MustCompile(`^DAY\s+RESETS\s+CHANGES\s+FAILURES\s+BLOCKS\n`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^total\s+0\s+0\s+2\s+0$`).MatchString(table) ||
		!strings.Contains(table, "0 of 1 enabled users (0.0%) can reset") {
		t.Fatalf("report activity (table):\n%s", table)
	}
	var act flows.Activity
	if err := json.Unmarshal([]byte(f.ok("report", "activity", "--format", "json", "--days", "3")), &act); err != nil {
		t.Fatal(err)
	}
	if len(act.Days) != 3 || act.Failures != 2 || act.Coverage.Users != 1 {
		t.Fatalf("report activity --format json = %+v", act)
	}
	f.fails("days must be 1–366", "report", "activity", "--days", "0")
	f.fails(`format "xml": use table, csv or json`, "report", "activity", "--format", "xml")
}

func TestAuditExportAndVerify(t *testing.T) {
	f := newFolder(t)
	if out := f.ok("audit", "verify"); out != "audit log intact: 0 rows\n" {
		t.Fatalf("verify of an empty log: %q", out)
	}
	f.ok("user", "add", "alice", "--admin")
	f.ok("group", "add", "staff")
	f.ok("group", "add-member", "staff", "alice")
	f.ok("policy", "set", "reconfirm_days", "30")
	f.ok("user", "add", "bob")

	recs := f.auditRecords()
	if len(recs) != 5 {
		t.Fatalf("audit export has %d rows, want 5", len(recs))
	}
	prev := strings.Repeat("0", 64)
	for i, rec := range recs {
		if rec["id"] != float64(i+1) || rec["prev_hash"] != prev {
			t.Fatalf("row %d does not chain: %v", i+1, rec)
		}
		prev = rec["hash"].(string)
	}
	if recs[3]["event"] != "policy.changed" || recs[3]["actor"] == "" || recs[3]["source"] != "cli" {
		t.Fatalf("policy change row = %v", recs[3])
	}

	out := f.ok("audit", "export", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || strings.Join(rows[0], ",") != "id,at,event,actor,target,source,outcome,detail,prev_hash,hash" ||
		rows[5][9] != prev {
		t.Fatalf("audit export --format csv:\n%s", out)
	}
	f.fails(`format "xml": use jsonl or csv`, "audit", "export", "--format", "xml")

	if out := f.ok("audit", "verify"); out != "audit log intact: 5 rows\n" {
		t.Fatalf("audit verify: %q", out)
	}

	// Each kind of tampering, on its own copy of the folder; the commands
	// above left a checkpoint of the 5 rows beside the key.
	tamper := []struct {
		name string
		sql  string
		want []string
	}{
		{"edited detail", `UPDATE audit SET detail = 'nothing happened' WHERE id = 4`,
			[]string{"row 4 was edited (MAC mismatch)"}},
		{"edited actor", `UPDATE audit SET actor = 'someone-else' WHERE id = 1`, []string{"row 1 was edited (MAC mismatch)"}},
		{"deleted middle row", `DELETE FROM audit WHERE id = 3`, []string{"rows missing between 2 and 4",
			"head does not match: the log has 4 rows, the head counts 5", "the log has 4 rows up to row 5, the checkpoint says 5"}},
		{"deleted first row", `DELETE FROM audit WHERE id = 1`, []string{
			"rows missing before 2 (the first row links to a row that is gone)",
			"head does not match: the log has 4 rows, the head counts 5", "the log has 4 rows up to row 5, the checkpoint says 5"}},
		{"deleted last row", `DELETE FROM audit WHERE id = 5`, []string{
			"rows missing after 4 (the head says 5 rows, ending at row 5)", "rows missing after 4 (checkpoint says 5 rows)"}},
		{"deleted everything", `DELETE FROM audit`, []string{"the audit table was emptied (the head says 5 rows)",
			"the audit table was emptied (checkpoint says 5 rows)"}},
		{"deleted the head", `DELETE FROM audit_head`, []string{"the head is missing"}},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			g := copyFolder(t, f)
			if _, err := g.sqlDB().Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			expectFindings(t, g.run("audit", "verify"), tc.want...)
		})
	}
}

// expectFindings checks a failed audit verify: non-zero exit, nothing on
// stdout, and on stderr one line per finding, in order.
func expectFindings(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code == 0 || r.stdout != "" {
		t.Fatalf("want a failure with nothing on stdout:\n%s", r)
	}
	var lines []string
	for line := range strings.Lines(r.stderr) {
		line = strings.TrimSuffix(line, "\n")
		checkMessage(t, line)
		lines = append(lines, strings.TrimPrefix(line, "sspr: audit log is broken: "))
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s\n%s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "), r)
	}
	if !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "sspr: audit log is broken: ") != len(want) {
		t.Fatalf("each line must start \"sspr: audit log is broken: \":\n%s", r)
	}
}

// copyFolder copies a data folder (closed, so the database is whole).
func copyFolder(t *testing.T, f *folder) *folder {
	t.Helper()
	g := newFolder(t)
	if err := os.CopyFS(g.dir, os.DirFS(f.dir)); err != nil {
		t.Fatal(err)
	}
	// CopyFS makes files 0666 less the umask; sspr refuses a readable key
	// and makes a readable store private with a warning.
	for _, name := range []string{"sspr.key", "sspr.db"} {
		if err := os.Chmod(filepath.Join(g.dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// auditFolder is a data folder whose audit log holds n rows (one group
// created each) and whose checkpoint pins them, as a running sspr leaves it.
func auditFolder(t *testing.T, n int) *folder {
	t.Helper()
	f := newFolder(t)
	f.service(func(ctx context.Context, svc *flows.Service) {
		for i := range n {
			if err := svc.AddGroup(ctx, cliActor(), fmt.Sprintf("group%02d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
	})
	if out := f.ok("audit", "verify"); out != fmt.Sprintf("audit log intact: %d rows\n", n) {
		t.Fatalf("audit verify: %q", out)
	}
	return f
}

// TestAuditVerifyFindsTampering: someone who can write the database but not
// read sspr.key changes the log with plain SQL; audit verify names what was
// done, one line per finding, and fails.
func TestAuditVerifyFindsTampering(t *testing.T) {
	f := auditFolder(t, 57)
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB)
		want   []string
	}{
		{
			name:   "a row's detail edited",
			tamper: execAll(`UPDATE audit SET detail = '{}' WHERE id = 17`),
			want:   []string{"row 17 was edited (MAC mismatch)"},
		},
		{
			name: "a row edited, every later link and the head recomputed with plain SHA-256",
			tamper: func(t *testing.T, db *sql.DB) {
				execAll(`UPDATE audit SET actor = 'someone-else' WHERE id = 17`)(t, db)
				rows, err := db.Query(`SELECT id, prev_hash, at, event, actor, target, source, outcome, detail
					FROM audit WHERE id >= 17 ORDER BY id`)
				if err != nil {
					t.Fatal(err)
				}
				var q []string
				var prev string
				for rows.Next() {
					var id, at int64
					var p string
					f := make([]string, 6)
					if err := rows.Scan(&id, &p, &at, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]); err != nil {
						t.Fatal(err)
					}
					if prev == "" {
						prev = p
					}
					h := legacyHash(prev, id, at, f)
					q = append(q, fmt.Sprintf(`UPDATE audit SET prev_hash = '%s', hash = '%s' WHERE id = %d`, prev, h, id))
					prev = h
				}
				rows.Close()
				headMAC := sha256.Sum256([]byte("57 57 " + prev))
				execAll(append(q, fmt.Sprintf(`UPDATE audit_head SET last_hash = '%s', mac = '%x'`, prev, headMAC))...)(t, db)
			},
			want: []string{"rows 17 to 57 were edited (MAC mismatch)", "head does not match (MAC mismatch)",
				"the log does not match the checkpoint at row 57 (rows up to it were changed)"},
		},
		{
			name: "the last rows deleted and the head moved back",
			tamper: execAll(`DELETE FROM audit WHERE id > 41`,
				`UPDATE audit_head SET last_id = 41, rows = 41, last_hash = (SELECT hash FROM audit WHERE id = 41)`),
			want: []string{"head does not match (MAC mismatch)", "rows missing after 41 (checkpoint says 57 rows)"},
		},
		{
			name:   "every row and the head deleted",
			tamper: execAll(`DELETE FROM audit`, `DELETE FROM audit_head`),
			want:   []string{"the audit table was emptied (checkpoint says 57 rows)"},
		},
		{
			name: "a row inserted",
			tamper: execAll(`UPDATE audit SET id = id + 1000 WHERE id >= 12`, `UPDATE audit SET id = id - 999 WHERE id >= 1012`,
				`INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
					SELECT 12, at, 'user.created', 'admin:mallory', 'mallory', 'cli', 'ok', '', hash, hash FROM audit WHERE id = 11`),
			want: []string{"row inserted at 12", "head does not match: the log goes on to row 58, the head ends at row 57",
				"the log does not match the checkpoint at row 57 (rows up to it were changed)"},
		},
		{
			name: "two rows swapped",
			tamper: execAll(`UPDATE audit SET id = -1 WHERE id = 8`, `UPDATE audit SET id = 8 WHERE id = 9`,
				`UPDATE audit SET id = 9 WHERE id = -1`),
			want: []string{"rows 8 and 9 swapped (out of order)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := copyFolder(t, f)
			tc.tamper(t, g.sqlDB())
			expectFindings(t, g.run("audit", "verify"), tc.want...)
			// A second look finds the same: verifying changed nothing, the
			// checkpoint included.
			expectFindings(t, g.run("audit", "verify"), tc.want...)
		})
	}
}

func execAll(statements ...string) func(t *testing.T, db *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		t.Helper()
		for _, q := range statements {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// oldAuditFolder makes a data folder as the version before the keyed chain
// left it: the first two migrations and n audit rows linked with SHA-256
// (spelt out here independently of the code under test), with the head the
// second migration derives from them; then tamper runs on it.
func oldAuditFolder(t *testing.T, n int, tamper ...string) *folder {
	t.Helper()
	f := newFolder(t)
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db := f.sqlDB()
	migration := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "store", "migrations", "sqlite", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	statements := []string{migration("0001_init.sql")}
	prev := strings.Repeat("0", 64)
	for i := range int64(n) {
		id, at := i+1, int64(1740819600)+i*60
		fields := []string{"group.created", "cli:admin", fmt.Sprintf("group%02d", id), "cli", "ok", ""}
		hash := legacyHash(prev, id, at, fields)
		statements = append(statements, fmt.Sprintf(`INSERT INTO audit (id, at, event, actor, target, source, outcome,
			detail, prev_hash, hash) VALUES (%d, %d, '%s', '%s', '%s', '%s', '%s', '%s', '%s', '%s')`,
			id, at, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], prev, hash))
		prev = hash
	}
	statements = append(statements, migration("0002_audit_head_outbox_html.sql"),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 0), (2, 0)`)
	execAll(append(statements, tamper...)...)(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Private, as sspr makes its stores, so that no warning about the
	// file's mode comes before what the tests read.
	if err := os.Chmod(filepath.Join(f.dir, "sspr.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// legacyHash is the link of the audit chain before it had a key, spelt out
// here independently of the code under test: hex SHA-256 of the previous
// link and the row, each field with its length, under a version tag. It is
// all someone without the key needed to recompute the chain then.
func legacyHash(prev string, id, at int64, fields []string) string {
	h := sha256.New()
	h.Write([]byte(prev))
	field := func(b []byte) {
		var l [8]byte
		be.BigEndian.PutUint64(l[:], uint64(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	num := func(v int64) { field(be.BigEndian.AppendUint64(nil, uint64(v))) }
	field([]byte("sspr-audit-v1"))
	num(id)
	num(at)
	for _, s := range fields {
		field([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestAuditRekeyOnFirstStart: the first start with the key re-keys an old
// log once and marks where the keyed chain starts; a break in the old chain
// stays visible after it.
func TestAuditRekeyOnFirstStart(t *testing.T) {
	f := oldAuditFolder(t, 6)
	const intact = "audit log intact: 7 rows, keyed from row 7 (the rows before it were re-keyed from their SHA-256 chain)\n"
	if out := f.ok("audit", "verify"); out != intact {
		t.Fatalf("audit verify of an old log: %q", out)
	}
	f.ok("group", "add", "staff")
	recs := f.auditRecords()
	keyed := 0
	for _, rec := range recs {
		if rec["event"] == "audit.keyed" {
			keyed++
			if rec["id"] != float64(7) || rec["detail"] != `{"rekeyed_rows":6,"unkeyed_chain":"intact"}` {
				t.Errorf("marker row = %v", rec)
			}
		}
	}
	if keyed != 1 || len(recs) != 8 {
		t.Fatalf("%d marker rows in %d rows, want 1 in 8", keyed, len(recs))
	}
	if out := f.ok("audit", "verify"); out != strings.Replace(intact, "7 rows", "8 rows", 1) {
		t.Fatalf("audit verify after more starts: %q", out)
	}

	g := oldAuditFolder(t, 6, `UPDATE audit SET detail = 'rewritten' WHERE id = 2`)
	expectFindings(t, g.run("audit", "verify"),
		"before the chain was keyed at row 7, its unkeyed SHA-256 chain was already broken: "+
			"row 2 does not match its hash (it was edited)")
	expectFindings(t, g.run("audit", "verify"),
		"before the chain was keyed at row 7, its unkeyed SHA-256 chain was already broken: "+
			"row 2 does not match its hash (it was edited)")
}
