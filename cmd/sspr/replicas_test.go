package main

// End to end: three `sspr serve` replicas on one PostgreSQL store, loaded by
// sspr-load through their SSH ports, one of them killed mid-wave.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// The replica test's sizes: the 300 concurrent resets, then a
// second wave of 300 during which one replica dies.
const (
	replicaCount  = 3
	waveSize      = 300
	replicaPrefix = "load"
	// killAfter is how many of the second wave's resets complete before
	// the third replica is killed: about a third, so most of its sessions
	// are somewhere between the code and the new password.
	killAfter = 100
)

// replicaStatementTimeout replaces db.statement_timeout's 5s, which also
// bounds a transaction's wait for the audit chain's head row, where every
// audit row of every replica queues. On an idle 2-core machine 300 people
// at once reset under the 5s default with no error; beside the other
// packages' tests under the race detector, a rare one waits longer.
const replicaStatementTimeout = 2 * time.Minute

// replicaHashEnv is the cheapest argon2id config allows (memory_kib ×
// time at its floor of 35840): the test measures sspr's coordination, and
// on a 2-core machine the default hashing would be most of its time.
var replicaHashEnv = []string{"SSPR_HASH_MEMORY_KIB=7168", "SSPR_HASH_TIME=5"}

// buildLoadTool builds cmd/sspr-load beside the sspr binary.
func buildLoadTool(t *testing.T) string {
	t.Helper()
	path := filepath.Join(filepath.Dir(binary), "sspr-load")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	build := exec.Command("go", "build", "-o", path, "../sspr-load")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build sspr-load: %v\n%s", err, out)
	}
	return path
}

// seedReplicaStore makes the store's key in a folder of its own and adds n
// users load001… with a verified email address and no password, through
// flows on the PostgreSQL store. It returns the key file the replicas share.
func seedReplicaStore(t *testing.T, dsn string, n int) string {
	t.Helper()
	ctx := context.Background()
	seed := filepath.Join(t.TempDir(), "seed")
	a, err := openApp(ctx, seed, pgEnv(dsn, replicaHashEnv...), clock.Real{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var csv strings.Builder
	csv.WriteString(strings.Join(flows.ImportHeader, ",") + "\n")
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s%03d", replicaPrefix, i)
		fmt.Fprintf(&csv, "%s,Load %s,%s@example.com,,,\n", name, name, name)
	}
	actor := flows.Actor{Name: "test", Source: "test"}
	if res, err := a.svc.ImportUsers(ctx, actor, strings.NewReader(csv.String()), flows.ImportOptions{}); err != nil || res.Imported != n {
		t.Fatalf("import: %+v, %v", res, err)
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s%03d", replicaPrefix, i)
		if err := a.svc.RegisterVerified(ctx, actor, name, policy.Email, name+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	key, err := os.ReadFile(filepath.Join(seed, "sspr.key"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "shared.key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile
}

// loadRun is what one run of sspr-load printed.
type loadRun struct {
	out     string
	code    int
	took    time.Duration
	errors  int
	resets  int
	portals map[string][5]int // sessions, opened, resets, errors, dropped
}

var (
	loadErrors  = regexp.MustCompile(`(?m)^errors\s+(\d+)`)
	loadResets  = regexp.MustCompile(`(?m)^resets completed\s+(\d+) of`)
	loadPortals = regexp.MustCompile(`(?m)^portal (\S+)\s+(\d+) sessions, (\d+) opened, (\d+) resets, (\d+) errors, (\d+) dropped`)
)

// runLoad runs sspr-load with args and reads its report.
func runLoad(t *testing.T, tool string, args ...string) loadRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = cleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := loadRun{out: out.String() + errOut.String(), took: time.Since(start), portals: map[string][5]int{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run sspr-load: %v", err)
	}
	m := loadErrors.FindStringSubmatch(r.out)
	n := loadResets.FindStringSubmatch(r.out)
	if m == nil || n == nil {
		t.Fatalf("sspr-load printed no report (exit %d):\n%s", r.code, r.out)
	}
	r.errors, _ = strconv.Atoi(m[1])
	r.resets, _ = strconv.Atoi(n[1])
	for _, p := range loadPortals.FindAllStringSubmatch(r.out, -1) {
		var c [5]int
		for i := range c {
			c[i], _ = strconv.Atoi(p[2+i])
		}
		r.portals[p[1]] = c
	}
	return r
}

// userState is what the store holds of one user's reset.
type userState struct {
	hashed                              bool
	resets, consumed, history, notified int
}

// replicaUserStates reads every load user's password, reset rows, consumed
// challenges, history and queued notifications, in one snapshot.
func replicaUserStates(t *testing.T, dsn string) map[string]userState {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT u.username, u.password_hash <> '',
		(SELECT COUNT(*) FROM audit a WHERE a.event = 'password.reset' AND a.target = u.username),
		(SELECT COUNT(*) FROM challenges c WHERE c.user_id = u.id AND c.consumed_at <> 0),
		(SELECT COUNT(*) FROM password_history h WHERE h.user_id = u.id),
		(SELECT COUNT(*) FROM outbox o WHERE o.kind = 'notification' AND o.destination = u.email)
		FROM users u WHERE u.username LIKE 'load%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	states := map[string]userState{}
	for rows.Next() {
		var name string
		var s userState
		if err := rows.Scan(&name, &s.hashed, &s.resets, &s.consumed, &s.history, &s.notified); err != nil {
			t.Fatal(err)
		}
		states[name] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return states
}

// wholeReset says whether s is a reset written whole (true), or none at all
// (false); a half-written one is an error naming what is missing.
func (s userState) wholeReset() (bool, error) {
	switch {
	case s == userState{}:
		return false, nil
	case s == userState{hashed: true, resets: 1, consumed: 1, history: 1, notified: 1}:
		return true, nil
	}
	return false, fmt.Errorf("half-written reset: %+v", s)
}

// TestReplicasShareOnePostgresStore: three `sspr serve` replicas (three
// data folders, one key_file, one PostgreSQL database) take 300 concurrent
// full resets spread over them by sspr-load, which reads each code from
// the mail the replicas send it: no errors, exactly 300 password.reset
// rows, each user's reset written whole, and the chain verifies. In a
// second wave of 300 the third replica is killed with SIGKILL after about a
// third of the wave: the sessions on the other two all complete, and every
// user's reset is in the store whole or not at all (new hash, one audit
// row, one consumed challenge, one history row, one notification; or none
// of them), so nothing the killed replica was writing was half-committed.
//
// Hashing runs at the lowest settings config allows (replicaHashEnv).
func TestReplicasShareOnePostgresStore(t *testing.T) {
	if testing.Short() {
		t.Skip("loads three portals for a minute")
	}
	sshClient(t) // the same requirement as the other portal tests: a full machine
	dsn := pgtest.DSN(t)
	tool := buildLoadTool(t)
	start := time.Now()
	keyFile := seedReplicaStore(t, dsn, 2*waveSize)
	t.Logf("seeded %d users in %s", 2*waveSize, time.Since(start).Round(time.Millisecond))

	smtpPort := freePort(t)
	env := pgEnv(dsn, append([]string{"SSPR_KEY_FILE=" + keyFile, "SSPR_SMTP_HOST=127.0.0.1",
		fmt.Sprintf("SSPR_SMTP_PORT=%d", smtpPort), "SSPR_SMTP_TLS=none", "SSPR_SMTP_FROM=sspr@example.org",
		"SSPR_LOG_LEVEL=warn", "SSPR_DB_STATEMENT_TIMEOUT=" + replicaStatementTimeout.String(),
		// Sessions never rest on the welcome screen: a program put to rest
		// loses a key it read but had not handled within 250 ms, which a
		// machine this loaded does now and then (1 in 600 sessions).
		"SSPR_SSH_REST_AFTER=0"}, replicaHashEnv...)...)
	var portals []*portalProcess
	var addrs []string
	for i := range replicaCount {
		p := startPortalProcess(t, env, "serve", "--data", filepath.Join(t.TempDir(), fmt.Sprintf("replica%d", i+1)))
		portals = append(portals, p)
		addrs = append(addrs, p.addr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range portals {
				t.Logf("replica %d (%s) log:\n%s", i+1, p.addr, p.stderr)
			}
		}
	})
	loadArgs := func(first int) []string {
		return []string{"--addr", strings.Join(addrs, ","), "--sessions", strconv.Itoa(waveSize), "--reset",
			"--smtp-listen", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--dsn", dsn, "--user-prefix", replicaPrefix,
			"--first-user", strconv.Itoa(first), "--hold", "0", "--timeout", "9m", "--step-timeout", "3m"}
	}

	// Wave one: every reset completes, once.
	one := runLoad(t, tool, loadArgs(1)...)
	t.Logf("wave one: %d resets in %s (%.1f resets/s), %d errors\n%s", one.resets, one.took.Round(time.Millisecond),
		float64(one.resets)/one.took.Seconds(), one.errors, one.out)
	if one.code != 0 || one.errors != 0 || one.resets != waveSize {
		t.Fatalf("wave one: exit %d, %d errors, %d of %d resets", one.code, one.errors, one.resets, waveSize)
	}
	for _, addr := range addrs {
		if c := one.portals[addr]; c[2] != waveSize/replicaCount {
			t.Errorf("wave one: portal %s completed %d resets; want %d", addr, c[2], waveSize/replicaCount)
		}
	}
	ro, err := store.OpenReadOnlyPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	resetRows := func() int {
		t.Helper()
		n, err := store.CountAudit(context.Background(), ro, store.AuditFilter{Events: []string{"password.reset"}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := resetRows(); n != waveSize {
		t.Fatalf("%d password.reset rows after wave one; want %d", n, waveSize)
	}
	states := replicaUserStates(t, dsn)
	for i := 1; i <= waveSize; i++ {
		name := fmt.Sprintf("%s%03d", replicaPrefix, i)
		if whole, err := states[name].wholeReset(); !whole {
			t.Errorf("wave one: %s: reset not in the store whole (%v)", name, err)
		}
	}
	if r := runEnv(t, env, "", "--data", t.TempDir(), "audit", "verify"); r.code != 0 || !strings.HasPrefix(r.stdout, "audit log intact") {
		t.Fatalf("audit verify after wave one:\n%s", r)
	}

	// Wave two: the third replica dies a third of the way through.
	victim := portals[replicaCount-1]
	killed := make(chan time.Time, 1)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go func() {
		for watchCtx.Err() == nil {
			n, err := store.CountAudit(watchCtx, ro, store.AuditFilter{Events: []string{"password.reset"}})
			if err == nil && n >= waveSize+killAfter {
				_ = victim.cmd.Process.Signal(syscall.SIGKILL)
				killed <- time.Now()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	two := runLoad(t, tool, loadArgs(waveSize+1)...)
	stopWatch()
	t.Logf("wave two: %d resets in %s, %d errors\n%s", two.resets, two.took.Round(time.Millisecond), two.errors, two.out)
	select {
	case <-killed:
	default:
		t.Fatalf("wave two ended before %d of its resets were in the store: the replica was never killed", killAfter)
	}
	select {
	case err := <-victim.exited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("the victim exited with %v; want killed", err)
		}
	case <-time.After(e2eWait):
		t.Fatal("the killed replica is still running")
	}

	for i, addr := range addrs {
		c, ok := two.portals[addr]
		if !ok {
			t.Fatalf("no report for portal %s:\n%s", addr, two.out)
		}
		if i < replicaCount-1 {
			if c != [5]int{waveSize / replicaCount, waveSize / replicaCount, waveSize / replicaCount, 0, 0} {
				t.Errorf("surviving portal %s: sessions, opened, resets, errors, dropped = %v; want all %d and no errors",
					addr, c, waveSize/replicaCount)
			}
		} else if c[2] >= waveSize/replicaCount || c[3] == 0 {
			t.Errorf("killed portal %s: %v: its sessions did not notice the kill", addr, c)
		}
	}

	// Whole or not at all, user by user; every reset a session saw
	// complete is among the whole ones.
	states = replicaUserStates(t, dsn)
	whole := 0
	for i := 1; i <= 2*waveSize; i++ {
		name := fmt.Sprintf("%s%03d", replicaPrefix, i)
		ok, err := states[name].wholeReset()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if ok {
			whole++
		}
		onSurvivor := i <= waveSize || (i-waveSize-1)%replicaCount != replicaCount-1
		if onSurvivor && !ok {
			t.Errorf("%s, reset through a surviving portal, is not reset in the store: %+v", name, states[name])
		}
	}
	if n := resetRows(); n != whole {
		t.Errorf("%d password.reset rows for %d users reset whole", n, whole)
	}
	if whole < waveSize+two.resets {
		t.Errorf("%d users reset whole; the sessions saw %d resets complete", whole, waveSize+two.resets)
	}
	t.Logf("after the kill: %d of wave two's %d resets in the store (%d seen complete by their sessions)",
		whole-waveSize, waveSize, two.resets)

	// The survivors drain and stop cleanly; the chain verifies with the
	// checkpoint the first wrote as it stopped.
	for _, p := range portals[:replicaCount-1] {
		p.stop(t)
	}
	first := portals[0]
	dataArg := first.cmd.Args[slices.Index(first.cmd.Args, "--data")+1]
	if r := runEnv(t, env, "", "--data", dataArg, "audit", "verify"); r.code != 0 ||
		!strings.HasPrefix(r.stdout, "audit log intact") || !strings.Contains(r.stderr, "checked against the checkpoint") {
		t.Fatalf("audit verify after the kill:\n%s", r)
	}
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

// TestWholeReset: the replica test's check takes a reset written whole or
// not at all, and names every other mix as half-written.
func TestWholeReset(t *testing.T) {
	whole := userState{hashed: true, resets: 1, consumed: 1, history: 1, notified: 1}
	if ok, err := whole.wholeReset(); !ok || err != nil {
		t.Fatalf("a whole reset: %v, %v", ok, err)
	}
	if ok, err := (userState{}).wholeReset(); ok || err != nil {
		t.Fatalf("no reset: %v, %v", ok, err)
	}
	for name, s := range map[string]userState{
		"hash without its audit row":    {hashed: true, consumed: 1, history: 1, notified: 1},
		"audit row without the hash":    {resets: 1, consumed: 1, history: 1, notified: 1},
		"challenge consumed, no reset":  {consumed: 1},
		"reset without its challenge":   {hashed: true, resets: 1, history: 1, notified: 1},
		"two audit rows for one reset":  {hashed: true, resets: 2, consumed: 1, history: 1, notified: 1},
		"reset without its history row": {hashed: true, resets: 1, consumed: 1, notified: 1},
		"reset nobody was told about":   {hashed: true, resets: 1, consumed: 1, history: 1},
	} {
		if ok, err := s.wholeReset(); ok || err == nil {
			t.Errorf("%s: taken as %v, %v", name, ok, err)
		}
	}
}
