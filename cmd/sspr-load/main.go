// Command sspr-load is a load generator for the sspr SSH portal. It opens N
// concurrent PTY sessions against a portal on this machine, or spreads them
// round robin over several portals sharing one store, waits for each one's
// first frame, optionally walks a password reset in each, holds them for a
// while, and reports sessions held, connect-to-first-frame latency, errors
// (per portal when there are several) and the server's memory per session.
//
// It refuses any address that is not loopback, and it is bounded in count
// and in time: it stops by itself.
//
//	sspr demo --data /tmp/d --listen 127.0.0.1:2222 --seed-users 100 &
//	sspr-load --addr 127.0.0.1:2222 --sessions 100 --reset --data /tmp/d --server-pid $!
//
// Portals that send their codes by mail (sspr serve) send them to the mail
// sink --smtp-listen runs, and the resets are counted in their PostgreSQL
// store:
//
//	sspr-load --addr 127.0.0.1:2201,127.0.0.1:2202 --sessions 300 --reset \
//		--smtp-listen 127.0.0.1:2525 --dsn postgres://…
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
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
	// textRules is on the new password screen once its rules are in: an
	// enter typed before then is not taken as a submit, so a typist who
	// does not wait sees nothing happen.
	textRules = "Not a commonly used password"
	textDone  = "Your password has been changed"
)

type options struct {
	// addrs are the portals; session i goes to addrs[i%len(addrs)].
	addrs      addrList
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
	dsn        string
	smtpListen string
	userPrefix string
	firstUser  int
	newPW      string
	serverPID  int
	tree       bool
}

func main() {
	var o options
	flag.Var(&o.addrs, "addr", "portal address (loopback only); repeat it or give a comma list to spread the "+
		"sessions round robin over several portals (default 127.0.0.1:2222)")
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
	flag.BoolVar(&o.reset, "reset", false, "walk a full password reset in each session (needs --data, --dsn or --smtp-listen for the codes)")
	flag.StringVar(&o.data, "data", "", "the portal's data folder, to read codes from the outbox table and count audit rows")
	flag.StringVar(&o.dsn, "dsn", "", "the portals' PostgreSQL store (postgres://…), read-only, instead of --data")
	flag.StringVar(&o.smtpListen, "smtp-listen", "", "receive the portals' mail on this loopback address and read the codes from it "+
		"(for sspr serve with smtp.host pointed here, smtp.tls none)")
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
	if len(o.addrs) == 0 {
		o.addrs = addrList{"127.0.0.1:2222"}
	}
	for _, a := range o.addrs {
		if err := loopbackOnly("--addr", a); err != nil {
			return err
		}
	}
	if o.smtpListen != "" {
		if err := loopbackOnly("--smtp-listen", o.smtpListen); err != nil {
			return err
		}
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
	if o.data != "" && o.dsn != "" {
		return errors.New("--data and --dsn both name a store: give one")
	}
	if o.reset && o.data == "" && o.dsn == "" && o.smtpListen == "" {
		return errors.New("--reset needs --data, --dsn or --smtp-listen, to read the codes")
	}
	return nil
}

// addrList is a flag that may be repeated and takes comma lists.
type addrList []string

// String returns the addresses as one comma list.
func (l *addrList) String() string { return strings.Join(*l, ",") }

// Set adds the addresses of one --addr.
func (l *addrList) Set(v string) error {
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*l = append(*l, a)
		}
	}
	return nil
}

// target is the portal session i connects to.
func (o *options) target(i int) string { return o.addrs[i%len(o.addrs)] }

// loopbackOnly refuses any address that is not on this machine; flag names
// the option that gave it.
func loopbackOnly(flag, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if host == "localhost" {
		found, err := net.LookupIP(host)
		if err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		ips = found
	}
	if len(ips) == 0 {
		return fmt.Errorf("%s %s: give a loopback IP address (127.0.0.1, ::1) or localhost", flag, addr)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s %s: %s is not a loopback address; sspr-load only loads this machine", flag, addr, ip)
		}
	}
	return nil
}

// sourceAddr is the local address session i connects from: spreading
// sources keeps the portal's per-address limits from counting every
// session as one client.
func (o *options) sourceAddr(i int) *net.TCPAddr {
	host, _, _ := net.SplitHostPort(o.target(i))
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

	resets := store.AuditFilter{Events: []string{"password.reset"}}
	db, err := openStore(o)
	if err != nil {
		return nil, err
	}
	var codes codeSource
	if db != nil {
		defer db.Close()
		if rep.auditBefore, err = store.CountAudit(ctx, db, resets); err != nil {
			return nil, fmt.Errorf("read the store: %w", err)
		}
		codes = outboxCodes{db: db}
	}
	if o.smtpListen != "" {
		sink, err := startMailSink(o.smtpListen)
		if err != nil {
			return nil, err
		}
		defer sink.close()
		codes = sink
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
	record := func(s *session, err error) {
		mu.Lock()
		defer mu.Unlock()
		stage := "other"
		var se *stepError
		if errors.As(err, &se) {
			stage = se.stage
		}
		rep.errs[stage]++
		rep.portal(o.target(s.i)).errors++
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
				record(s, err)
				return
			}
			opened.Add(1)
			mu.Lock()
			rep.portal(o.target(i)).opened++
			rep.firsts = append(rep.firsts, s.first)
			rep.handshakes = append(rep.handshakes, s.handshake)
			rep.shells = append(rep.shells, s.shell)
			rep.firstBytes = append(rep.firstBytes, s.firstByte)
			mu.Unlock()
			readyWg.Done()
			if o.reset {
				user := fmt.Sprintf("%s%03d", o.userPrefix, o.firstUser+i)
				if err := s.walkReset(ctx, codes, user); err != nil {
					record(s, err)
				} else {
					mu.Lock()
					rep.resets = append(rep.resets, s.resetIn)
					rep.portal(o.target(i)).resets++
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
		for _, s := range sessions {
			if s != nil && s.first != 0 && !s.alive {
				rep.portal(o.target(s.i)).dropped++
			}
		}
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

// openStore opens the store --data or --dsn names, read-only, or returns
// nil for neither.
func openStore(o options) (*store.ReadOnly, error) {
	switch {
	case o.data != "":
		db, err := store.OpenReadOnly(filepath.Join(o.data, "sspr.db"))
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return db, nil
	case o.dsn != "":
		db, err := store.OpenReadOnlyPostgres(o.dsn)
		if err != nil {
			return nil, fmt.Errorf("--dsn: %w", err)
		}
		return db, nil
	}
	return nil, nil
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
				s.alive = ok
			case <-time.After(5 * time.Second):
				s.alive = false
			}
		}()
	}
	wg.Wait()
	return int(n.Load())
}
