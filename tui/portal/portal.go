// Package portal serves the sspr TUI over SSH: anyone may connect, with any
// username and with or without a key, straight into the reset screens; a
// key the client signed with can prove one way of who they are. It is the
// public front door, so everything a client can ask for beyond one terminal
// session is refused, and every resource a client can hold is bounded.
package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/ratelimiter"
	"charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// Messages a refused client reads, one line each.
const (
	msgNeedPTY    = "sspr needs a terminal: connect with ssh -t"
	msgDumbTerm   = "sspr needs a terminal that can move its cursor, and TERM=dumb cannot: connect from a terminal window"
	msgNoCommands = "sspr runs no commands: connect with ssh -t and no command"
	msgBusy       = "sspr is busy, try again in a minute"
	msgRestarting = "The portal is restarting — please finish within %s."
	msgOneSession = "one session per connection"
)

// Options configure a portal.
type Options struct {
	// SSH holds the listen address, limits and timeouts.
	SSH config.SSH
	// HostKeyPath is the ed25519 host key, created (0600) on first start.
	HostKeyPath string
	// Service runs the flows.
	Service *flows.Service
	// Mode is the TUI mode of every session (tui.ModeSSH, or tui.ModeDemo
	// for a demo served over SSH).
	Mode tui.Mode
	// IdleTimeout wipes a session's journey after this long without a key.
	IdleTimeout time.Duration
	// DoneTimeout returns from the "done" screen to the start.
	DoneTimeout time.Duration
	// Banner is drawn on the welcome screen.
	Banner string
	// Logger records sessions and refusals; nil logs nothing.
	Logger *log.Logger
	// OnRefuse hears the reason of every connection or session turned
	// away (one of a few fixed phrases), for operators' metrics; nil
	// drops them.
	OnRefuse func(reason string)
	// Clock tells the refusal log the time (it logs an address at most
	// once a minute); nil is the real clock.
	Clock clock.Clock
	// RatePerSecond and RateBurst bound new sessions per client address.
	RatePerSecond float64
	RateBurst     int
	// CostPerCall and Currency price a helpdesk call in the admin panel's
	// insights (config insights.cost_per_call and insights.currency).
	CostPerCall float64
	Currency    string
	// Language is the portal's language (ui.language), for a client whose
	// LANG or LC_ALL names none sspr speaks.
	Language string
}

// Server is a running SSH portal.
type Server struct {
	opts Options
	srv  *ssh.Server

	rests        atomic.Uint64  // sessions put to rest, ever
	connections  atomic.Int64   // open TCP connections; changed under doorMu
	unauthorised atomic.Int64   // connections that have not reached a session yet; changed under doorMu
	sessions     sync.WaitGroup // sessions in serveTUI

	// doorMu guards the places connections hold (door.go).
	doorMu sync.Mutex
	addrs  map[string]*addrPlaces // by addrKey
	// refusals logs connections turned away.
	refusals *refusalLog

	// theme is shared by every session: styles are only read.
	theme *styles.Theme
	// reclaim returns the memory of programs put to rest.
	reclaim *reclaimer

	mu       sync.Mutex
	live     map[*tuiSession]struct{}
	perConn  map[string]int // sessions opened per connection (ssh session id)
	draining bool
	closed   bool
	grace    time.Duration
}

// New builds the portal: its host key, limits and middleware.
func New(opts Options) (*Server, error) {
	if opts.Service == nil {
		return nil, errors.New("portal: no service")
	}
	if opts.RatePerSecond <= 0 {
		opts.RatePerSecond = 1
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = 10
	}
	// Per-address caps and the session-request deadline are never off:
	// left unset, they take the configuration's defaults.
	def := config.Default().SSH
	if opts.SSH.MaxHandshakesPerAddress <= 0 {
		opts.SSH.MaxHandshakesPerAddress = def.MaxHandshakesPerAddress
	}
	if opts.SSH.MaxConnectionsPerAddress <= 0 {
		opts.SSH.MaxConnectionsPerAddress = def.MaxConnectionsPerAddress
	}
	if opts.SSH.SessionRequestTimeout <= 0 {
		opts.SSH.SessionRequestTimeout = def.SessionRequestTimeout
	}
	s := &Server{opts: opts, theme: styles.NewTheme(), live: map[*tuiSession]struct{}{}, perConn: map[string]int{},
		addrs: map[string]*addrPlaces{}, refusals: newRefusalLog(opts.Logger, opts.Clock),
		reclaim: &reclaimer{delay: reclaimDelay, minRests: reclaimMinRests, free: debug.FreeOSMemory}}
	s.refusals.onRefuse = opts.OnRefuse
	limiter := ratelimiter.NewRateLimiter(rate.Limit(opts.RatePerSecond), opts.RateBurst, 10_000)
	srv, err := wish.NewServer(
		wish.WithAddress(opts.SSH.Listen),
		wish.WithHostKeyPath(opts.HostKeyPath),
		wish.WithVersion("sspr"),
		// Anyone gets in: with any key the client can sign with, or with
		// keyboard-interactive and no question for those without one.
		// "none" is refused only so that clients offer their keys (OpenSSH
		// stops at a "none" that succeeds). The key a session reports is
		// the one its client signed with (the library keeps, per key, what
		// this callback returned, and the session the verified key's); a
		// key merely offered here proves nothing (CVE-2024-45337).
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		wish.WithKeyboardInteractiveAuth(func(ctx ssh.Context, _ gossh.KeyboardInteractiveChallenge) bool {
			s.authenticated(ctx)
			return true
		}),
		// Middleware listed last runs first.
		wish.WithMiddleware(
			// Bubble Tea, innermost: the session's TUI, with the session's
			// own colour profile, size, environment and context. A session
			// at rest on the welcome screen keeps its model but no program
			// (session.go).
			func(ssh.Handler) ssh.Handler { return s.serveTUI },
			// Only terminal sessions reach the TUI; everything else gets a
			// one-line reason.
			s.terminalOnly,
			// At most RateBurst sessions at once from one address, refilled
			// at RatePerSecond: a client cannot open sessions in a loop.
			s.rateLimit(limiter),
			// Beyond the connection cap, a one-line "busy".
			s.capacity,
			// Remote address, duration and outcome; never anything typed.
			s.logging,
			// Outermost: a panic in one session ends that session only.
			recover.Middleware(),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	if err := ensureKeyMode(opts.HostKeyPath); err != nil {
		return nil, fmt.Errorf("portal: host key: %w", err)
	}
	srv.HandshakeTimeout = opts.SSH.HandshakeTimeout
	srv.IdleTimeout = opts.SSH.IdleTimeout
	srv.MaxTimeout = opts.SSH.MaxSessionTime
	srv.EnableProxyProtocol = opts.SSH.ProxyProtocol
	srv.ConnCallback = s.onConnect
	// A client's handshake is over when it has proved a key by signing,
	// or passed keyboard-interactive (above).
	srv.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
		return &gossh.ServerConfig{VerifiedPublicKeyCallback: func(_ gossh.ConnMetadata, _ gossh.PublicKey,
			perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			s.authenticated(ctx)
			return perms, nil
		}}
	}
	// Port forwarding stays refused: no forwarding callbacks, no
	// direct-tcpip or tcpip-forward handlers. Subsystems (sftp) get a
	// message; the session channel is wrapped to refuse agent and X11
	// forwarding and a second session on one connection.
	srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{"default": func(sess ssh.Session) {
		_, _ = fmt.Fprintln(sess.Stderr(), msgNoCommands)
		_ = sess.Exit(1)
	}}
	srv.RequestHandlers = map[string]ssh.RequestHandler{}
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
	s.srv = srv
	return s, nil
}

// Stats is a snapshot of the portal's sessions.
type Stats struct {
	// Connections is the number of open SSH connections, sessions or not.
	Connections int
	// Open is the number of sessions showing the TUI.
	Open int
	// Drawing is how many of them run a Bubble Tea program; the others rest.
	Drawing int
	// Rests counts every time a session was put to rest since the start.
	Rests uint64
}

// Stats reports the portal's sessions.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	live := make([]*tuiSession, 0, len(s.live))
	for t := range s.live {
		live = append(live, t)
	}
	s.mu.Unlock()
	st := Stats{Connections: int(s.connections.Load()), Open: len(live), Rests: s.rests.Load()}
	for _, t := range live {
		t.mu.Lock()
		if t.program != nil {
			st.Drawing++
		}
		t.mu.Unlock()
	}
	return st
}

// HostKeyFingerprint is the SHA-256 fingerprint of the host key, for admins
// to publish.
func (s *Server) HostKeyFingerprint() string {
	if len(s.srv.HostSigners) == 0 {
		return ""
	}
	return gossh.FingerprintSHA256(s.srv.HostSigners[0].PublicKey())
}

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Close drops every connection at once.
func (s *Server) Close() error {
	s.reclaim.stop()
	return s.srv.Close()
}

// Shutdown stops accepting connections, tells everyone connected to finish
// within the grace period, waits for their sessions to end (or the grace
// period, or ctx), then closes what is left.
func (s *Server) Shutdown(ctx context.Context, grace time.Duration) error {
	s.reclaim.stop()
	s.mu.Lock()
	s.draining = true
	s.grace = grace
	notice := s.restartNotice()
	live := make([]*tuiSession, 0, len(s.live))
	for t := range s.live {
		live = append(live, t)
	}
	s.mu.Unlock()
	for _, t := range live {
		t.notify(notice)
	}

	// Stop accepting; live connections keep going.
	shutdownCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(shutdownCtx) }()

	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case err := <-done:
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	case <-timer.C:
	case <-ctx.Done():
	}
	cancel()
	err := s.srv.Close()
	s.mu.Lock()
	s.closed = true // no session starts after this, so none is missed below
	s.mu.Unlock()
	s.sessions.Wait()
	<-done
	if errors.Is(err, ssh.ErrServerClosed) {
		err = nil
	}
	return err
}

// onConnect takes a place for a new connection, or closes it at once when
// its address or everyone together holds too many: a refused connection
// costs nothing more and holds nothing.
func (s *Server) onConnect(ctx ssh.Context, conn net.Conn) net.Conn {
	key := addrKey(conn.RemoteAddr())
	if reason, ok := s.admit(key); !ok {
		s.refusals.refuse(key, reason)
		_ = conn.Close()
		return nil
	}
	d := &door{key: key, conn: conn, waiting: true}
	ctx.SetValue(doorKey{}, d)
	// The context ends when the connection closes, whichever way (a failed
	// handshake, a port scanner, ssh-keyscan, a timeout): its places go
	// back then, or enough of them would lock everyone out.
	context.AfterFunc(ctx, func() { s.left(d) })
	return conn
}

// sessionChannel accepts the first session channel of a connection and
// refuses any other; its requests are filtered before the session sees them.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	id := ctx.SessionID()
	s.mu.Lock()
	n := s.perConn[id]
	s.perConn[id] = n + 1
	s.mu.Unlock()
	if n > 0 {
		_ = newChan.Reject(gossh.Prohibited, msgOneSession)
		return
	}
	// AfterFunc, not a goroutine parked on Done: one fewer stack per session.
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		delete(s.perConn, id)
		s.mu.Unlock()
	})
	ssh.DefaultSessionHandler(srv, conn, filteredChannel{newChan}, ctx)
}

// filteredChannel refuses agent forwarding and X11 before the session
// handler sees them (the handler would accept an agent request).
type filteredChannel struct{ gossh.NewChannel }

// Accept accepts the channel and filters its requests.
func (f filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			switch r.Type {
			case "auth-agent-req@openssh.com", "x11-req":
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
				continue
			}
			out <- r
		}
	}()
	return ch, out, nil
}

// logging records each session: remote address, duration and outcome.
func (s *Server) logging(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		o := &outcome{}
		sess.Context().SetValue(outcomeKey{}, o)
		next(sess)
		if s.opts.Logger != nil && !o.quiet.Load() {
			s.opts.Logger.Info("session", "remote", sess.RemoteAddr().String(), "duration",
				time.Since(start).Round(time.Millisecond), "outcome", o.get(sess), "rests", o.rests.Load())
		}
	}
}

// outcome is how a session ended, for the log: set by whichever part of
// the portal ended it, first one wins.
type outcome struct {
	mu    sync.Mutex
	what  string
	rests atomic.Int64
	quiet atomic.Bool // logged as a refusal instead
}

type outcomeKey struct{}

// ended records why a session ended, unless a reason is already known.
func ended(ctx context.Context, what string) {
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.mu.Lock()
		if o.what == "" {
			o.what = what
		}
		o.mu.Unlock()
	}
}

// rested counts a session put to rest: in the stats, for the reclaimer,
// and in the session's log line.
func (s *Server) rested(ctx context.Context) {
	s.rests.Add(1)
	s.reclaim.rested()
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.rests.Add(1)
	}
}

func hasPTY(sess ssh.Session) bool {
	_, _, ok := sess.Pty()
	return ok
}

func (o *outcome) get(sess ssh.Session) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.what != "":
		return o.what
	case sess.Context().Err() != nil:
		return "disconnected"
	}
	return "ended"
}

// capacity turns clients away beyond the connection cap, and while the
// portal drains for a restart.
func (s *Server) capacity(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if !s.reached(sess.Context()) {
			// Closed at its session-request deadline as the request came.
			return
		}
		s.mu.Lock()
		draining := s.draining
		s.mu.Unlock()
		switch {
		case draining:
			s.refuseSession(sess, refusedDraining)
		case s.connections.Load() > int64(s.opts.SSH.MaxConnections):
			s.refuseSession(sess, refusedBusy)
		default:
			next(sess)
			return
		}
		wish.Fatalln(sess, msgBusy)
	}
}

// rateLimit refuses a session beyond the address's rate of new sessions.
func (s *Server) rateLimit(limiter ratelimiter.RateLimiter) wish.Middleware {
	return func(next ssh.Handler) ssh.Handler {
		return func(sess ssh.Session) {
			if err := limiter.Allow(sess); err != nil {
				s.refuseSession(sess, refusedRateLimit)
				wish.Fatal(sess, err)
				return
			}
			next(sess)
		}
	}
}

// refuseSession records a session turned away at the door: in the
// refusal log, once a minute per address, instead of a line of its own.
func (s *Server) refuseSession(sess ssh.Session, reason string) {
	ended(sess.Context(), "refused: "+reason)
	if o, ok := sess.Context().Value(outcomeKey{}).(*outcome); ok {
		o.quiet.Store(true)
	}
	s.refusals.refuse(addrKey(sess.RemoteAddr()), reason)
}

// terminalOnly refuses commands, sessions without a terminal and sessions
// on a terminal that cannot show the TUI (TERM=dumb).
func (s *Server) terminalOnly(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if sess.RawCommand() != "" {
			ended(sess.Context(), "refused: command")
			wish.Fatalln(sess, msgNoCommands)
			return
		}
		if !hasPTY(sess) {
			ended(sess.Context(), "refused: no terminal")
			wish.Fatalln(sess, msgNeedPTY)
			return
		}
		if pty, _, _ := sess.Pty(); styles.Dumb([]string{"TERM=" + pty.Term}) {
			// Every screen moves the cursor and redraws in place: on a
			// terminal that cannot, it would be a scroll of garbage.
			ended(sess.Context(), "refused: dumb terminal")
			wish.Fatalln(sess, msgDumbTerm)
			return
		}
		next(sess)
	}
}

// restartNotice is what every session shows while the portal drains.
// The caller holds s.mu.
func (s *Server) restartNotice() tui.NoticeMsg {
	return tui.NoticeMsg{Text: fmt.Sprintf(msgRestarting, s.grace.Round(time.Second))}
}

// logError records a session failure, if there is a logger.
func (s *Server) logError(what string, err error) {
	if s.opts.Logger != nil {
		s.opts.Logger.Error(what, "err", err)
	}
}

// closeWhenIdle returns the session's input, and closes the connection once
// no key has arrived for the idle timeout. The SSH library's own idle
// timeout also counts output, and a screen with a countdown writes every
// second, so on its own it would never fire there.
func (s *Server) closeWhenIdle(sess ssh.Session) io.Reader {
	in := &inputClock{Reader: sess}
	in.last.Store(time.Now().UnixNano())
	d := s.opts.SSH.IdleTimeout
	if d <= 0 {
		return in
	}
	var mu sync.Mutex
	var timer *time.Timer
	check := func() {
		idle := time.Since(time.Unix(0, in.last.Load()))
		if idle >= d {
			ended(sess.Context(), "idle timeout")
			if conn, ok := sess.Context().Value(ssh.ContextKeyConn).(gossh.Conn); ok {
				_ = conn.Close()
			}
			_ = sess.Close()
			return
		}
		mu.Lock()
		timer.Reset(d - idle)
		mu.Unlock()
	}
	mu.Lock()
	timer = time.AfterFunc(d, check)
	mu.Unlock()
	context.AfterFunc(sess.Context(), func() { timer.Stop() })
	return in
}

// inputClock is a reader that notes when it last read anything.
type inputClock struct {
	io.Reader
	last atomic.Int64 // unix nanoseconds
}

// Read implements io.Reader.
func (r *inputClock) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if n > 0 {
		r.last.Store(time.Now().UnixNano())
	}
	return n, err
}

func clampLimits(c config.SSH) (int, int) {
	w, h := c.MaxWidth, c.MaxHeight
	if w <= 0 {
		w = tui.MaxWidth
	}
	if h <= 0 {
		h = tui.MaxHeight
	}
	return w, h
}

// hostOf is the client's IP address without the port: the audit source and
// the key for per-source throttling.
func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// ensureKeyMode tightens the host key's permissions if an older file is
// readable by others.
func ensureKeyMode(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, 0o600)
	}
	return nil
}
