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
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/x/ansi"
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

// watch collects a session's output and signals when the text it waits for
// appears. Only output since the last expect is kept, so memory stays small.
type watch struct {
	mu     sync.Mutex
	buf    []byte
	want   string
	found  chan struct{}
	total  int64
	latest string
	// firstAt is when the first output arrived.
	firstAt time.Time
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// Write implements io.Writer.
func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.total == 0 && len(p) > 0 {
		w.firstAt = time.Now()
	}
	w.total += int64(len(p))
	if w.want == "" {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) > 1<<20 {
		w.buf = w.buf[len(w.buf)-(1<<19):]
	}
	if strings.Contains(squash(ansi.Strip(string(w.buf))), w.want) {
		close(w.found)
		w.want, w.buf = "", w.buf[:0]
	}
	return len(p), nil
}

// expect starts waiting for text; call it before the key that leads there.
func (w *watch) expect(text string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want, w.buf, w.latest = squash(text), w.buf[:0], text
	w.found = make(chan struct{})
	return w.found
}

// screen is what arrived since the last expect, for an error message.
func (w *watch) screen() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := strings.Join(strings.Fields(ansi.Strip(string(w.buf))), " ")
	if len(s) > 300 {
		s = "…" + s[len(s)-300:]
	}
	return s
}

// session is one simulated person.
type session struct {
	i       int
	o       *options
	client  *gossh.Client
	sess    *gossh.Session
	stdin   interface{ Write([]byte) (int, error) }
	w       *watch
	first   time.Duration
	resetIn time.Duration
	// phases of the first frame: handshake done, shell accepted, first byte.
	handshake, shell, firstByte time.Duration
}

type stepError struct {
	stage string
	err   error
}

// Error returns the error as one sentence.
func (e *stepError) Error() string { return e.stage + ": " + e.err.Error() }

func fail(stage string, err error) error { return &stepError{stage: stage, err: err} }

var ptyModes = gossh.TerminalModes{gossh.ECHO: 0, gossh.TTY_OP_ISPEED: 38400, gossh.TTY_OP_OSPEED: 38400}

// open connects and waits for the first frame.
func (s *session) open(ctx context.Context, cfg *gossh.ClientConfig) error {
	start := time.Now()
	d := net.Dialer{Timeout: s.o.stepWait}
	if src := s.o.sourceAddr(s.i); src != nil {
		d.LocalAddr = src
	}
	conn, err := d.DialContext(ctx, "tcp", s.o.addr)
	if err != nil {
		return fail("connect", err)
	}
	_ = conn.SetDeadline(time.Now().Add(s.o.stepWait))
	c, chans, reqs, err := gossh.NewClientConn(conn, s.o.addr, cfg)
	if err != nil {
		conn.Close()
		return fail("handshake", err)
	}
	_ = conn.SetDeadline(time.Time{})
	s.handshake = time.Since(start)
	s.client = gossh.NewClient(c, chans, reqs)
	s.sess, err = s.client.NewSession()
	if err != nil {
		return fail("session", err)
	}
	s.w = &watch{}
	s.sess.Stdout, s.sess.Stderr = s.w, s.w
	in, err := s.sess.StdinPipe()
	if err != nil {
		return fail("session", err)
	}
	s.stdin = in
	if err := s.sess.RequestPty("xterm-256color", s.o.rows, s.o.cols, ptyModes); err != nil {
		return fail("pty", err)
	}
	ready := s.w.expect(textWelcome)
	if err := s.sess.Shell(); err != nil {
		return fail("shell", err)
	}
	s.shell = time.Since(start)
	if err := s.await(ctx, "first frame", ready); err != nil {
		return err
	}
	s.first = time.Since(start)
	s.w.mu.Lock()
	s.firstByte = s.w.firstAt.Sub(start)
	s.w.mu.Unlock()
	return nil
}

func (s *session) await(ctx context.Context, stage string, ch <-chan struct{}) error {
	t := time.NewTimer(s.o.stepWait)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return fail(stage, fmt.Errorf("no %q within %s; screen: %q", s.w.latest, s.o.stepWait, s.w.screen()))
	case <-ctx.Done():
		return fail(stage, ctx.Err())
	}
}

// step types keys and waits for the next screen.
func (s *session) step(ctx context.Context, stage, keys, next string) error {
	ch := s.w.expect(next)
	if err := s.typeKeys(keys); err != nil {
		return fail(stage, err)
	}
	return s.await(ctx, stage, ch)
}

// typeKeys sends text a few characters at a time, as a typist would, so the
// terminal layer never takes it for a paste.
func (s *session) typeKeys(keys string) error {
	for len(keys) > 0 {
		n := min(len(keys), 4)
		if _, err := s.stdin.Write([]byte(keys[:n])); err != nil {
			return err
		}
		keys = keys[n:]
		if len(keys) > 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	return nil
}

var codePattern = regexp.MustCompile(`\b\d{8}\b`)

// walkReset resets the password of user through the screens, reading the
// emailed code from the outbox table.
func (s *session) walkReset(ctx context.Context, db *store.ReadOnly, user string) error {
	start := time.Now()
	if err := s.step(ctx, "welcome", "1", textIdentify); err != nil {
		return err
	}
	if err := s.step(ctx, "identify", user+"\r", textMethods); err != nil {
		return err
	}
	if err := s.step(ctx, "choose method", "\r", textSent); err != nil {
		return err
	}
	msgs, err := store.OutboxTo(ctx, db, user+"@example.com")
	if err != nil {
		return fail("read code", err)
	}
	i := slices.IndexFunc(msgs, func(m store.OutboxMessage) bool { return m.Kind == "code" })
	if i < 0 {
		return fail("read code", errors.New("no code message"))
	}
	code := codePattern.FindString(msgs[i].Body)
	if code == "" {
		return fail("read code", errors.New("no 8-digit code in the newest message"))
	}
	if err := s.step(ctx, "code", code+"\r", textNewPW); err != nil {
		return err
	}
	if err := s.step(ctx, "new password", s.o.newPW+"\r"+s.o.newPW+"\r", textDone); err != nil {
		return err
	}
	s.resetIn = time.Since(start)
	return nil
}

func (s *session) close() {
	if s.client != nil {
		_ = s.client.Close()
	}
}

// report is what a run found.
type report struct {
	o          options
	opened     int
	held       int
	firsts     []time.Duration
	handshakes []time.Duration
	shells     []time.Duration
	firstBytes []time.Duration
	resets     []time.Duration
	errs       map[string]int
	errSamples []string
	wall       time.Duration

	memBefore, memHeld, memPeak memSample
	memNote                     string
	// holdCPU is the server's CPU use while every session sat idle, in
	// percent of one core.
	holdCPU float64

	auditBefore, auditAfter int
	auditChecked            bool
}

func (r *report) errors() int {
	n := 0
	for _, c := range r.errs {
		n += c
	}
	return n
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (r *report) print(f *os.File) {
	o := r.o
	fmt.Fprintf(f, "target            %s (%d sessions, %d connecting at once, from %d source addresses, %dx%d)\n",
		o.addr, o.sessions, o.parallel, o.sources, o.cols, o.rows)
	fmt.Fprintf(f, "sessions held     %d of %d (first frame seen by %d)\n", r.held, o.sessions, len(r.firsts))
	fmt.Fprintf(f, "first frame       p50 %s  p99 %s  max %s  (connect to first frame)\n",
		ms(percentile(r.firsts, 0.50)), ms(percentile(r.firsts, 0.99)), ms(percentile(r.firsts, 1)))
	fmt.Fprintf(f, "  phases p50      handshake %s, shell %s, first byte %s\n",
		ms(percentile(r.handshakes, 0.5)), ms(percentile(r.shells, 0.5)), ms(percentile(r.firstBytes, 0.5)))
	if o.reset {
		fmt.Fprintf(f, "resets completed  %d of %d  p50 %s  p99 %s\n", len(r.resets), o.sessions,
			ms(percentile(r.resets, 0.50)), ms(percentile(r.resets, 0.99)))
	}
	fmt.Fprintf(f, "errors            %d", r.errors())
	if len(r.errs) > 0 {
		keys := make([]string, 0, len(r.errs))
		for k := range r.errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, r.errs[k]))
		}
		fmt.Fprintf(f, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(f)
	for _, e := range r.errSamples {
		fmt.Fprintf(f, "  e.g. %s\n", e)
	}
	if o.serverPID > 0 {
		if r.memNote != "" {
			fmt.Fprintf(f, "server memory     %s\n", r.memNote)
		} else {
			per := func(a, b int64) string {
				if r.held == 0 {
					return "-"
				}
				return fmt.Sprintf("%.0f KiB", float64(a-b)/float64(r.held))
			}
			fmt.Fprintf(f, "server memory     PSS %d → %d KiB (peak %d), RSS %d → %d KiB, %d processes → %d\n",
				r.memBefore.pss, r.memHeld.pss, r.memPeak.pss, r.memBefore.rss, r.memHeld.rss, r.memBefore.procs, r.memHeld.procs)
			fmt.Fprintf(f, "per held session  PSS %s (peak %s), RSS %s\n",
				per(r.memHeld.pss, r.memBefore.pss), per(r.memPeak.pss, r.memBefore.pss), per(r.memHeld.rss, r.memBefore.rss))
			fmt.Fprintf(f, "  highest RSS     %d KiB, %s per session over the start (the wave of connections)\n",
				max(r.memPeak.hwm, r.memHeld.hwm), per(max(r.memPeak.hwm, r.memHeld.hwm), r.memBefore.rss))
			if o.hold > 0 {
				fmt.Fprintf(f, "server CPU idle   %.1f%% of one core while the sessions were held for %s\n", r.holdCPU, o.hold)
			}
			if o.tree {
				names := make([]string, 0, len(r.memHeld.byName))
				for n := range r.memHeld.byName {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(f, "  %-15s PSS %s per session\n", n, per(r.memHeld.byName[n], r.memBefore.byName[n]))
				}
			}
		}
	}
	if r.auditChecked {
		done := len(r.resets)
		got := r.auditAfter - r.auditBefore
		fmt.Fprintf(f, "audit             password.reset rows %d → %d: %d new for %d resets", r.auditBefore, r.auditAfter, got, done)
		if got != done {
			fmt.Fprintf(f, "  MISMATCH")
		}
		fmt.Fprintln(f)
	}
	fmt.Fprintf(f, "wall time         %s\n", r.wall.Round(time.Millisecond))
}

func run(o options) (*report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	rep := &report{o: o, errs: map[string]int{}}
	start := time.Now()

	cfg := &gossh.ClientConfig{User: o.user, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: o.stepWait}
	if o.identity != "" {
		pem, err := os.ReadFile(o.identity)
		if err != nil {
			return nil, err
		}
		signer, err := gossh.ParsePrivateKey(pem)
		if err != nil {
			return nil, fmt.Errorf("--identity: %w", err)
		}
		cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
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
		db.SetMaxOpenConns(4)
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

// memSample is a process's (or a process tree's) memory in KiB.
type memSample struct {
	pss, rss int64
	// hwm is the highest RSS the process (or tree) ever had (VmHWM): the
	// wave of connections before sessions settle.
	hwm   int64
	procs int
	// byName is PSS by command name (sshd, sh, sspr) when measuring a tree.
	byName map[string]int64
}

// readMem reads PSS (smaps_rollup) and RSS (status) of pid, or of pid and
// every process below it.
func readMem(pid int, tree bool) (memSample, error) {
	pids := []int{pid}
	if tree {
		pids = descendants(pid)
	}
	m := memSample{byName: map[string]int64{}}
	for _, p := range pids {
		pss, err := procField(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:")
		if err != nil {
			if p == pid {
				return m, err
			}
			continue // a process that just went away
		}
		rss, _ := procField(fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		hwm, _ := procField(fmt.Sprintf("/proc/%d/status", p), "VmHWM:")
		m.pss += pss
		m.rss += rss
		m.hwm += hwm
		m.procs++
		if name, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); err == nil {
			m.byName[strings.TrimSpace(string(name))] += pss
		}
	}
	return m, nil
}

func procField(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}

// descendants returns pid and every process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(p)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// statFields are the fields of /proc/PID/stat after the command name, or
// none when the process is gone.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// cpuTicks is the user and system CPU time of pid (and, for a tree, of every
// process below it), in clock ticks.
func cpuTicks(pid int, tree bool) int64 {
	pids := []int{pid}
	if tree {
		pids = descendants(pid)
	}
	var total int64
	for _, p := range pids {
		// After the name: state(0) ppid(1) … utime(11) stime(12).
		f := statFields(p)
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + st
	}
	return total
}
