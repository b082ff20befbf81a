package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// mailSink is an SMTP server on loopback that keeps the codes the portals
// mail, by recipient, for the sessions to type: a portal that sends its
// codes by mail (sspr serve) keeps none in its store to read.
type mailSink struct {
	srv  *smtp.Server
	addr string

	mu    sync.Mutex
	codes map[string]chan string
	// received counts messages; unreadable counts those that could not be
	// read as mail.
	received, unreadable int
}

// maxMailSize bounds one message: sspr's are a few KiB.
const maxMailSize = 1 << 20

// startMailSink listens on addr and serves until close.
func startMailSink(addr string) (*mailSink, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--smtp-listen: %w", err)
	}
	m := &mailSink{addr: l.Addr().String(), codes: map[string]chan string{}}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: m}, nil }))
	m.srv.Domain = "sspr-load.invalid"
	m.srv.MaxMessageBytes = maxMailSize
	m.srv.MaxRecipients = 10
	m.srv.ReadTimeout, m.srv.WriteTimeout = 30*time.Second, 30*time.Second
	m.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = m.srv.Serve(l) }()
	return m, nil
}

func (m *mailSink) close() { _ = m.srv.Close() }

// box is the recipient's queue of codes. Callers hold m.mu.
func (m *mailSink) box(to string) chan string {
	to = strings.ToLower(to)
	ch, ok := m.codes[to]
	if !ok {
		// One reset sends one code; a few more are a resend or two.
		ch = make(chan string, 8)
		m.codes[to] = ch
	}
	return ch
}

// deliver files the code of a message for each recipient.
func (m *mailSink) deliver(rcpts []string, raw []byte) {
	code, isCode, err := codeOfMail(raw)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.received++
	if err != nil {
		m.unreadable++
		return
	}
	if !isCode {
		return // a notification: password reset, info changed
	}
	for _, to := range rcpts {
		select {
		case m.box(to) <- code:
		default: // nobody is taking this recipient's codes
		}
	}
}

// take waits for the next code mailed to to.
func (m *mailSink) take(ctx context.Context, to string, wait time.Duration, gone <-chan struct{}) (string, error) {
	m.mu.Lock()
	ch := m.box(to)
	m.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case code := <-ch:
		return code, nil
	case <-t.C:
		return "", fmt.Errorf("no code mailed to %s within %s", to, wait)
	case <-gone:
		return "", errConnClosed
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// sinkSession is one SMTP transaction's envelope.
type sinkSession struct {
	sink  *mailSink
	rcpts []string
}

// Mail accepts any sender.
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt notes a recipient.
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data reads the message and files its code.
func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, maxMailSize))
	if err != nil {
		return err
	}
	s.sink.deliver(s.rcpts, raw)
	return nil
}

// Reset forgets the envelope.
func (s *sinkSession) Reset() { s.rcpts = nil }

// Logout ends the session.
func (s *sinkSession) Logout() error { return nil }

// codeOfMail reads a message and returns the code in its plain text, and
// whether it is a code message at all (its subject speaks of a code;
// notifications do not).
func codeOfMail(raw []byte) (string, bool, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", false, fmt.Errorf("read mail: %w", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return "", false, fmt.Errorf("read mail subject: %w", err)
	}
	text, err := plainText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if err != nil {
		return "", false, err
	}
	if !strings.Contains(strings.ToLower(subject), "code") {
		return "", false, nil
	}
	code := codePattern.FindString(text)
	if code == "" {
		return "", false, errors.New("read mail: a code message with no 8-digit code")
	}
	return code, true, nil
}

// maxMIMEDepth bounds nested multiparts.
const maxMIMEDepth = 4

// plainText returns the first text/plain part of a body, decoded.
func plainText(contentType, encoding string, body io.Reader, depth int) (string, error) {
	if contentType == "" {
		contentType = "text/plain"
	}
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("read mail: content type: %w", err)
	}
	if strings.HasPrefix(media, "multipart/") {
		if depth >= maxMIMEDepth {
			return "", errors.New("read mail: multiparts nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return "", fmt.Errorf("read mail: no plain text part: %w", err)
			}
			text, err := plainText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err == nil {
				return text, nil
			}
		}
	}
	if media != "text/plain" {
		return "", fmt.Errorf("read mail: %s is not plain text", media)
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	b, err := io.ReadAll(io.LimitReader(body, maxMailSize))
	if err != nil {
		return "", fmt.Errorf("read mail: %w", err)
	}
	return string(b), nil
}

// newlineStripper drops the line breaks of a base64 body.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
