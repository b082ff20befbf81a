// Package pgtest runs PostgreSQL for tests: a throwaway cluster made with
// initdb in a temporary folder and started on a random loopback port, or the
// server named by SSPR_TEST_POSTGRES_DSN, with one fresh, empty database per
// test.
//
// DSN hands out databases on one cluster shared by the whole test binary. It
// is started by the first test that asks and stopped by Main, which every
// package that calls DSN should run from its TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// A package that forgets TestMain still leaves no server behind: the
// postmaster is started with a parent-death signal (SIGQUIT, PostgreSQL's
// immediate shutdown) tied to a thread that lives exactly as long as the
// server, so it goes when the test binary exits, and the folder it leaves is
// removed by the next run of any test that starts a cluster. NewCluster gives
// a test a cluster of its own, which it may stop and start again.
//
// The server runs with fsync, synchronous_commit and full_page_writes off:
// a crash loses data, which a test that throws the cluster away never needs.
// Connections are over TCP on 127.0.0.1 with a password (SCRAM), as in
// production; the role that owns the test databases is not a superuser.
//
// It lives outside the test files because store, flows and cmd/sspr use it;
// nothing but tests should import it.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv makes missing PostgreSQL binaries a test failure instead of a
// skip.
const RequireEnv = "SSPR_REQUIRE_INTEGRATION"

// DSNEnv names a postgres:// URL of a server to use instead of starting one.
// Its user must be allowed to create and drop databases.
const DSNEnv = "SSPR_TEST_POSTGRES_DSN"

// ErrNotInstalled means the PostgreSQL server binaries (initdb, postgres) are
// not on this machine, or there is no postgres user to run them as root.
var ErrNotInstalled = errors.New("PostgreSQL server is not installed (apt-get install postgresql)")

// AppUser is the role, not a superuser, that owns the databases a Cluster
// makes and that their DSNs log in as.
const AppUser = "sspr"

// adminUser is the superuser initdb makes; only pgtest uses it, to create and
// drop databases.
const adminUser = "pgtest"

// libRoot is where Debian's packages put each major version's binaries.
const libRoot = "/usr/lib/postgresql"

// Slow starts on a loaded 2-core machine must not fail a test.
const (
	initdbTimeout = 2 * time.Minute
	readyTimeout  = time.Minute
	stopTimeout   = 30 * time.Second
	adminTimeout  = time.Minute
)

// Main runs the tests of a package and then stops the cluster DSN shared
// between them and removes its folder. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain with work of its own to do after the tests:
// it runs them, stops the shared cluster and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	common.stop()
	return code
}

// DSN returns a postgres:// URL, for database/sql's "pgx" driver, of a fresh,
// empty database made for t and dropped when t ends. The database is on the
// cluster shared by the test binary (started the first time it is needed), or
// on the server SSPR_TEST_POSTGRES_DSN names. It skips t when PostgreSQL is
// not installed, unless SSPR_REQUIRE_INTEGRATION=1, when it fails t.
func DSN(t testing.TB) string {
	t.Helper()
	return common.dsn(t)
}

// common is the cluster the test binary's DSN calls share; it has to be
// package state because it outlives every single test.
var common = &shared{loc: defaultLocator(), external: os.Getenv(DSNEnv)}

// shared starts one cluster on first use and hands out databases on it.
type shared struct {
	loc      locator
	external string

	mu      sync.Mutex
	tried   bool
	cluster *Cluster
	err     error
}

func (s *shared) dsn(t testing.TB) string {
	t.Helper()
	if s.external != "" {
		return externalDB(t, s.external)
	}
	s.mu.Lock()
	if !s.tried {
		s.tried = true
		s.cluster, s.err = newCluster(s.loc)
	}
	c, err := s.cluster, s.err
	s.mu.Unlock()
	if err != nil {
		skipOrFail(t, err)
	}
	return c.CreateDB(t)
}

func (s *shared) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cluster != nil {
		_ = s.cluster.Close()
	}
}

// skipOrFail ends t for a cluster that could not start.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("%v; set %s=1 to make this a failure", err, RequireEnv)
	}
	t.Fatalf("start PostgreSQL: %v", err)
}

// externalDB makes a database for t on the server base names, as base's user.
func externalDB(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", DSNEnv)
	}
	name := dbName()
	if err := createDB(base, name, ""); err != nil {
		t.Fatalf("create test database on %s: %v", u.Host, err)
	}
	t.Cleanup(func() {
		if err := dropDB(base, name); err != nil {
			t.Errorf("drop test database %s on %s: %v", name, u.Host, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Cluster is a PostgreSQL cluster of a test's own, in a temporary folder.
type Cluster struct {
	// InitTime and StartTime are how long initdb and the first start took.
	InitTime, StartTime time.Duration

	dir     string
	binDir  string
	port    int
	cred    *syscall.Credential
	adminPW string
	appPW   string

	mu     sync.Mutex
	proc   *process
	closed bool
}

// NewCluster starts a cluster for t and removes it when t ends. It skips t
// when PostgreSQL is not installed, unless SSPR_REQUIRE_INTEGRATION=1, when it
// fails t. SSPR_TEST_POSTGRES_DSN does not apply: the test means to stop and
// start this server.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := newCluster(defaultLocator())
	if err != nil {
		skipOrFail(t, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// DSN returns the postgres:// URL of the database "sspr" made with the
// cluster, as AppUser. It stays the same across Stop and Start.
func (c *Cluster) DSN() string { return c.dsn(AppUser, c.appPW, AppUser) }

// Port is the TCP port on 127.0.0.1 the cluster listens on, the same after
// Start as before Stop.
func (c *Cluster) Port() int { return c.port }

func (c *Cluster) dsn(user, pw, db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", user, pw, c.port, db)
}

func (c *Cluster) adminDSN() string { return c.dsn(adminUser, c.adminPW, "postgres") }

// CreateDB makes a fresh, empty database owned by AppUser, drops it when t
// ends, and returns its postgres:// URL.
func (c *Cluster) CreateDB(t testing.TB) string {
	t.Helper()
	name := dbName()
	if err := createDB(c.adminDSN(), name, AppUser); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if !c.running() {
			return // stopped by the test; the whole folder goes with the cluster
		}
		if err := dropDB(c.adminDSN(), name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return c.dsn(AppUser, c.appPW, name)
}

// Stop shuts the server down (PostgreSQL's fast shutdown: open sessions are
// ended) and keeps its data, as a database server that went away. Stopping a
// stopped cluster does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked()
}

// Start starts a stopped server again on the same port with the same data,
// so DSNs handed out before still work; it fails if something else took the
// port meanwhile. Starting a running cluster does nothing.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("start PostgreSQL: the cluster was closed")
	}
	if c.proc != nil {
		return nil
	}
	p, err := c.launch()
	if err != nil {
		return err
	}
	c.proc = p
	return nil
}

// Close stops the server and removes its folder. It is safe to call twice.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.stopLocked()
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}

func (c *Cluster) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc != nil
}

func (c *Cluster) stopLocked() error {
	p := c.proc
	if p == nil {
		return nil
	}
	c.proc = nil
	return p.stop(syscall.SIGINT)
}

// newCluster makes a cluster with initdb and starts it.
func newCluster(loc locator) (*Cluster, error) {
	sweep()
	binDir, err := loc.binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", dirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	c := &Cluster{dir: dir, binDir: binDir, cred: cred, adminPW: randHex(16), appPW: randHex(16)}
	if err := c.init(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) init() error {
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	pwFile := filepath.Join(c.dir, "pw")
	if err := os.WriteFile(pwFile, []byte(c.adminPW+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(c.dir, "sock"), 0o700); err != nil {
		return err
	}
	for _, p := range []string{c.dir, pwFile, filepath.Join(c.dir, "sock")} {
		if err := c.chown(p); err != nil {
			return err
		}
	}
	began := time.Now()
	log := &cappedBuffer{}
	cmd := c.command("initdb", "-D", filepath.Join(c.dir, "data"), "-U", adminUser, "--pwfile="+pwFile,
		"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Stdout, cmd.Stderr = log, log
	p, err := startProcess(cmd, log)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	select {
	case <-p.done:
	case <-time.After(initdbTimeout):
		p.killGroup()
		<-p.done
		return fmt.Errorf("initdb did not finish within %v: %s", initdbTimeout, p.output())
	}
	if p.err != nil {
		return fmt.Errorf("initdb: %v: %s", p.err, p.output())
	}
	c.InitTime = time.Since(began)
	_ = os.Remove(pwFile)

	// A port picked by listening on :0 can be taken by someone else before
	// postgres binds it; try a few.
	began = time.Now()
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return err
		}
		c.port = port
		if c.proc, lastErr = c.launch(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return lastErr
	}
	c.StartTime = time.Since(began)
	if err := c.setup(); err != nil {
		_ = c.Stop()
		return err
	}
	return nil
}

// setup makes the application role and its database.
func (c *Cluster) setup() error {
	err := adminExec(c.adminDSN(),
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", AppUser, c.appPW),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s TEMPLATE template0", AppUser, AppUser))
	if err != nil {
		return fmt.Errorf("make role and database %s: %w", AppUser, err)
	}
	return nil
}

// launch starts postgres on c.port and waits until it takes connections.
func (c *Cluster) launch() (*process, error) {
	log := &cappedBuffer{}
	cmd := c.command("postgres", "-D", filepath.Join(c.dir, "data"), "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+filepath.Join(c.dir, "sock"),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		// Three store pools of about 20 each, the tests' own and a margin.
		"-c", "max_connections=300",
		"-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = log, log
	p, err := startProcess(cmd, log)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("postgres exited at start: %s", p.output())
		default:
		}
		if c.ready() {
			return p, nil
		}
		if time.Now().After(deadline) {
			_ = p.stop(syscall.SIGQUIT)
			return nil, fmt.Errorf("postgres did not take connections within %v: %s", readyTimeout, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ready says whether the server accepts a login: it listens some time before
// it leaves recovery and lets sessions in.
func (c *Cluster) ready() bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.port), time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pc, err := pgx.Connect(ctx, c.adminDSN())
	if err != nil {
		return false
	}
	_ = pc.Close(ctx)
	return true
}

// command runs a server binary as the user that owns the cluster, in its
// folder (the postgres user cannot read root's working directory), with the
// C locale so initdb does not depend on the caller's.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=/usr/bin:/bin", "HOME=" + c.dir}
	cmd.SysProcAttr = sysProcAttr(c.cred)
	return cmd
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

// runAs returns the postgres user's identity when running as root, since
// PostgreSQL refuses to run as root, and nil otherwise.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("%w: running as root and there is no postgres user to run the server as", ErrNotInstalled)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres user has ids %q/%q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// locator finds the server binaries: where pg_config on path says, else the
// newest version under root.
type locator struct {
	path string
	root string
}

func defaultLocator() locator { return locator{path: os.Getenv("PATH"), root: libRoot} }

func (l locator) binDir() (string, error) {
	for _, d := range filepath.SplitList(l.path) {
		if d == "" {
			continue
		}
		pgConfig := filepath.Join(d, "pg_config")
		if !executable(pgConfig) {
			continue
		}
		out, err := exec.Command(pgConfig, "--bindir").Output()
		if err != nil {
			break
		}
		if bin := strings.TrimSpace(string(out)); hasServer(bin) {
			return bin, nil
		}
		break // pg_config of the client library alone (libpq-dev): try the versions below
	}
	dirs, _ := filepath.Glob(filepath.Join(l.root, "*", "bin"))
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	for _, d := range dirs {
		if hasServer(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: no pg_config on PATH names a folder with initdb and postgres, nor does %s/*/bin",
		ErrNotInstalled, l.root)
}

func hasServer(dir string) bool {
	return executable(filepath.Join(dir, "initdb")) && executable(filepath.Join(dir, "postgres"))
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// process is a server binary running in a process group of its own.
type process struct {
	cmd  *exec.Cmd
	log  *cappedBuffer
	done chan struct{}
	err  error
}

// startProcess starts cmd from a goroutine locked to its thread, which stays
// until the process ends: the parent-death signal fires when the thread that
// started the child ends, and Go ends threads of its own accord otherwise.
func startProcess(cmd *exec.Cmd, log *cappedBuffer) (*process, error) {
	p := &process{cmd: cmd, log: log, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop sends sig to the server and waits for it; after stopTimeout, or once
// it has gone, whatever is left of its process group is killed.
func (p *process) stop(sig syscall.Signal) error {
	_ = p.cmd.Process.Signal(sig)
	var err error
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		err = fmt.Errorf("postgres did not stop within %v; killed: %s", stopTimeout, p.output())
	}
	p.killGroup()
	<-p.done
	return err
}

func (p *process) killGroup() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

func (p *process) output() string { return strings.TrimSpace(p.log.String()) }

// cappedBuffer keeps the first MiB a server writes, for error messages.
type cappedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b.Len() < 1<<20 {
		c.b.Write(p)
	}
	return len(p), nil
}

// String returns what was written.
func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

func createDB(adminDSN, name, owner string) error {
	q := "CREATE DATABASE " + name + " TEMPLATE template0"
	if owner != "" {
		q += " OWNER " + owner
	}
	return adminExec(adminDSN, q)
}

// dropDB drops a test's database, ending the sessions a test left open.
func dropDB(adminDSN, name string) error {
	return adminExec(adminDSN, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

// adminExec runs statements one by one on a connection of its own, since
// CREATE and DROP DATABASE cannot run in a transaction.
func adminExec(dsn string, queries ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, q := range queries {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// dbName is unique across test binaries sharing one server.
func dbName() string { return "sspr_test_" + randHex(8) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Folders of clusters live in the temporary folder under dirPrefix, with the
// pid of the test binary that made them in ownerFile.
const (
	dirPrefix = "sspr-pgtest-"
	ownerFile = "owner.pid"
)

// sweep removes the folders of clusters whose test binary died without
// removing them (killed, or no TestMain); their server went with it.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		if alive(filepath.Join(d, ownerFile)) || alive(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, ownerFile)); err != nil {
			// Being made right now, or not ours to judge; only the old go.
			if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < time.Hour {
				continue
			}
		}
		_ = os.RemoveAll(d)
	}
}

// alive says whether the pid on the first line of file is a live process.
func alive(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
