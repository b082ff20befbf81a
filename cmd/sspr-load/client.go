package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

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

func (s *session) close() {
	if s.client != nil {
		_ = s.client.Close()
	}
}

// noQuestions answers the portal's keyboard-interactive round, which asks
// nothing.
func noQuestions(_, _ string, questions []string, _ []bool) ([]string, error) {
	return make([]string, len(questions)), nil
}
