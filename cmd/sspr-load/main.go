// Command sspr-load is a load generator for the sspr SSH portal. It opens N
// concurrent PTY sessions against a portal on this machine, waits for each
// one's first frame, optionally walks a password reset in each, holds them
// for a while, and reports sessions held, connect-to-first-frame latency,
// errors and the server's memory per session.
//
// It refuses any address that is not loopback, and it is bounded in count
// and in time: it stops by itself.
//
//	sspr demo --data /tmp/d --listen 127.0.0.1:2222 --seed-users 100 &
//	sspr-load --addr 127.0.0.1:2222 --sessions 100 --reset --data /tmp/d --server-pid $!
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/store"
)

// Bounds: the tool is for this machine, not for knocking anything over.
const (
	maxSessions = 2000
	maxParallel = 200
	maxDuration = 10 * time.Minute
	maxHold     = 5 * time.Minute
	maxSources  = 250
)

// Screen texts the tool waits for.
const (
	textWelcome  = "Reset a forgotten password"
	textIdentify = "Enter your username"
	textMethods  = "Email me a code"
	textSent     = "We sent a code to"
	textNewPW    = "Type it again"
	textDone     = "Your password has been changed"
)

type options struct {
	addr       string
	sessions   int
	parallel   int
	hold       time.Duration
	settle     time.Duration
	timeout    time.Duration
	stepWait   time.Duration
	sources    int
	rows, cols int
	user       string
	identity   string
	reset      bool
	data       string
	userPrefix string
	firstUser  int
	newPW      string
	serverPID  int
	tree       bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:2222", "portal address (loopback only)")
	flag.IntVar(&o.sessions, "sessions", 10, fmt.Sprintf("concurrent sessions to open (at most %d)", maxSessions))
	flag.IntVar(&o.parallel, "parallel", 0, fmt.Sprintf("sessions connecting at once (default: all; at most %d)", maxParallel))
	flag.DurationVar(&o.hold, "hold", 3*time.Second, "how long to hold every session open once all have their first frame")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "wait before reading the server's memory with every session held "+
		"(sspr's sessions rest 1s after their first frame, and their memory goes back to the system 5s after that)")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "stop everything after this long (at most 10m)")
	flag.DurationVar(&o.stepWait, "step-timeout", 30*time.Second, "longest wait for any one screen")
	flag.IntVar(&o.sources, "sources", 0, "spread client sockets over this many loopback addresses 127.0.0.2… (default: one per 4 sessions, at most 250)")
	flag.IntVar(&o.rows, "rows", 24, "terminal rows")
	flag.IntVar(&o.cols, "cols", 80, "terminal columns")
	flag.StringVar(&o.user, "user", "reset", "SSH user name")
	flag.StringVar(&o.identity, "identity", "", "private key for public key authentication (for an sshd to compare with)")
	flag.BoolVar(&o.reset, "reset", false, "walk a full password reset in each session (needs --data)")
	flag.StringVar(&o.data, "data", "", "the portal's data folder, to read codes from the outbox table and count audit rows")
	flag.StringVar(&o.userPrefix, "user-prefix", "load", "reset users PREFIX001, PREFIX002, … (sspr demo --seed-users N)")
	flag.IntVar(&o.firstUser, "first-user", 1, "number of the first reset user")
	flag.StringVar(&o.newPW, "new-password", "Saffron kettle orbit 71 pines", "new password each reset sets")
	flag.IntVar(&o.serverPID, "server-pid", 0, "PID of the server, to measure its memory (PSS) per session")
	flag.BoolVar(&o.tree, "tree", false, "measure the server's whole process tree (sshd: every per-session process)")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "sspr-load:", err)
		os.Exit(2)
	}
	rep, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sspr-load:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if rep.errors() > 0 {
		os.Exit(1)
	}
}

func (o *options) check() error {
	if err := loopbackOnly(o.addr); err != nil {
		return err
	}
	if o.sessions < 1 || o.sessions > maxSessions {
		return fmt.Errorf("--sessions takes 1 to %d", maxSessions)
	}
	if o.parallel <= 0 {
		o.parallel = min(o.sessions, maxParallel)
	}
	if o.parallel > maxParallel {
		return fmt.Errorf("--parallel takes 1 to %d", maxParallel)
	}
	if o.timeout <= 0 || o.timeout > maxDuration {
		return fmt.Errorf("--timeout takes up to %s", maxDuration)
	}
	if o.hold < 0 || o.hold > maxHold {
		return fmt.Errorf("--hold takes up to %s", maxHold)
	}
	if o.sources <= 0 {
		o.sources = min(max((o.sessions+3)/4, 1), maxSources)
	}
	if o.sources > maxSources {
		return fmt.Errorf("--sources takes 1 to %d", maxSources)
	}
	if o.rows < 1 || o.cols < 1 || o.rows > 1000 || o.cols > 1000 {
		return errors.New("--rows and --cols take 1 to 1000")
	}
	if o.reset && o.data == "" {
		return errors.New("--reset needs --data, to read the codes")
	}
	return nil
}

// loopbackOnly refuses any address that is not on this machine.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if host == "localhost" {
		found, err := net.LookupIP(host)
		if err != nil {
			return fmt.Errorf("--addr: %w", err)
		}
		ips = found
	}
	if len(ips) == 0 {
		return fmt.Errorf("--addr %s: give a loopback IP address (127.0.0.1, ::1) or localhost", addr)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("--addr %s: %s is not a loopback address; sspr-load only loads this machine", addr, ip)
		}
	}
	return nil
}

// sourceAddr is the local address session i connects from: spreading
// sources keeps the portal's per-address limits from counting every
// session as one client.
func (o *options) sourceAddr(i int) *net.TCPAddr {
	host, _, _ := net.SplitHostPort(o.addr)
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil || o.sources <= 1 {
		return nil // ::1 or localhost: let the system choose
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%o.sources))}
}

func run(o options) (*report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	rep := &report{o: o, errs: map[string]int{}}
	start := time.Now()

	// The portal takes anyone through keyboard-interactive, with no question.
	cfg := &gossh.ClientConfig{User: o.user, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: o.stepWait,
		Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(noQuestions)}}
	if o.identity != "" {
		pem, err := os.ReadFile(o.identity)
		if err != nil {
			return nil, err
		}
		signer, err := gossh.ParsePrivateKey(pem)
		if err != nil {
			return nil, fmt.Errorf("--identity: %w", err)
		}
		cfg.Auth = append([]gossh.AuthMethod{gossh.PublicKeys(signer)}, cfg.Auth...)
	}

	var db *store.ReadOnly
	resets := store.AuditFilter{Events: []string{"password.reset"}}
	if o.data != "" {
		var err error
		db, err = store.OpenReadOnly(filepath.Join(o.data, "sspr.db"))
		if err != nil {
			return nil, err
		}
		defer db.Close()
		if rep.auditBefore, err = store.CountAudit(ctx, db, resets); err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
	}

	if o.serverPID > 0 {
		m, err := readMem(o.serverPID, o.tree)
		if err != nil {
			return nil, fmt.Errorf("--server-pid: %w", err)
		}
		rep.memBefore = m
	}

	var (
		mu       sync.Mutex
		sessions = make([]*session, o.sessions)
		opened   atomic.Int64
		failed   atomic.Int64
	)
	record := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		stage := "other"
		var se *stepError
		if errors.As(err, &se) {
			stage = se.stage
		}
		rep.errs[stage]++
		if len(rep.errSamples) < 5 {
			rep.errSamples = append(rep.errSamples, err.Error())
		}
	}

	// Open every session, o.parallel at a time, and walk the resets.
	sem := make(chan struct{}, o.parallel)
	allOpen := make(chan struct{})
	var wg sync.WaitGroup
	var readyWg sync.WaitGroup
	readyWg.Add(o.sessions)
	for i := range o.sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &session{i: i, o: &o}
			sessions[i] = s
			sem <- struct{}{}
			err := s.open(ctx, cfg)
			<-sem
			if err != nil {
				failed.Add(1)
				readyWg.Done()
				record(err)
				return
			}
			opened.Add(1)
			mu.Lock()
			rep.firsts = append(rep.firsts, s.first)
			rep.handshakes = append(rep.handshakes, s.handshake)
			rep.shells = append(rep.shells, s.shell)
			rep.firstBytes = append(rep.firstBytes, s.firstByte)
			mu.Unlock()
			readyWg.Done()
			if o.reset {
				user := fmt.Sprintf("%s%03d", o.userPrefix, o.firstUser+i)
				if err := s.walkReset(ctx, db, user); err != nil {
					record(err)
				} else {
					mu.Lock()
					rep.resets = append(rep.resets, s.resetIn)
					mu.Unlock()
				}
			}
			// Hold the session until everyone is in and the hold is over.
			select {
			case <-allOpen:
			case <-ctx.Done():
			}
		}()
	}
	readyWg.Wait()
	rep.opened = int(opened.Load())

	if o.reset {
		// Resets run after each first frame: wait for them all.
		for ctx.Err() == nil {
			mu.Lock()
			n := len(rep.resets) + rep.errors() - int(failed.Load())
			mu.Unlock()
			if n >= rep.opened {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// With every session in (and its first frame drawn), let the server
	// settle, then measure, and hold.
	if o.serverPID > 0 {
		sleepCtx(ctx, o.settle)
		rep.held = countAlive(sessions)
		m, err := readMem(o.serverPID, o.tree)
		if err != nil {
			rep.memNote = err.Error()
		}
		rep.memHeld, rep.memPeak = m, m
		holdStart, cpuStart := time.Now(), cpuTicks(o.serverPID, o.tree)
		deadline := holdStart.Add(o.hold)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			sleepCtx(ctx, min(500*time.Millisecond, time.Until(deadline)))
			if m, err := readMem(o.serverPID, o.tree); err == nil && m.pss > rep.memPeak.pss {
				rep.memPeak = m
			}
		}
		if el := time.Since(holdStart); el > 0 {
			// Linux reports CPU time in clock ticks of 1/100 s.
			rep.holdCPU = float64(cpuTicks(o.serverPID, o.tree)-cpuStart) / 100 / el.Seconds() * 100
		}
	} else {
		sleepCtx(ctx, o.hold)
	}
	alive := countAlive(sessions)
	if rep.held == 0 {
		rep.held = alive
	}
	if alive < rep.opened {
		// Sessions the server dropped while they were held.
		rep.errs["dropped"] += rep.opened - alive
	}
	close(allOpen)
	wg.Wait()
	for _, s := range sessions {
		if s != nil {
			s.close()
		}
	}
	if ctx.Err() != nil {
		rep.errs["timeout"]++
	}
	if db != nil && o.reset {
		// The audit row commits with the password change, before the done
		// screen is drawn: nothing to wait for.
		var err error
		if rep.auditAfter, err = store.CountAudit(context.Background(), db, resets); err != nil {
			return nil, err
		}
		rep.auditChecked = true
		if rep.auditAfter-rep.auditBefore != len(rep.resets) {
			rep.errs["audit"]++
		}
	}
	rep.wall = time.Since(start)
	return rep, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// countAlive counts sessions whose connection still answers.
func countAlive(sessions []*session) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for _, s := range sessions {
		if s == nil || s.client == nil || s.first == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			done := make(chan bool, 1)
			go func() {
				ok, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
				_ = ok // the portal refuses global requests: any reply means alive
				done <- err == nil
			}()
			select {
			case ok := <-done:
				if ok {
					n.Add(1)
				}
			case <-time.After(5 * time.Second):
			}
		}()
	}
	wg.Wait()
	return int(n.Load())
}
