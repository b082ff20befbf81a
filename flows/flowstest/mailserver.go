package flowstest

import (
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// RefusingMailServer starts an SMTP server on loopback, stopped when t
// ends, that refuses every login, quoting the credentials back as a
// careless server might, and every message sent without one. It returns
// its address.
func RefusingMailServer(t testing.TB) *net.TCPAddr {
	t.Helper()
	return serveSMTP(t, func() smtp.Session { return refusingSession{} }, true)
}

// serveSMTP starts an SMTP server on loopback with a session per
// connection, stopped when t ends, and returns its address. insecureAuth
// lets a client log in without TLS.
func serveSMTP(t testing.TB, session func() smtp.Session, insecureAuth bool) *net.TCPAddr {
	t.Helper()
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return session(), nil }))
	s.Domain = "mail.test"
	s.AllowInsecureAuth = insecureAuth
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return l.Addr().(*net.TCPAddr)
}

type refusingSession struct{}

func (refusingSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (refusingSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
			Message: "login " + user + "/" + pass + " refused"}
	}), nil
}

func (refusingSession) Mail(string, *smtp.MailOptions) error { return smtp.ErrAuthRequired }
func (refusingSession) Rcpt(string, *smtp.RcptOptions) error { return smtp.ErrAuthRequired }
func (refusingSession) Data(io.Reader) error                 { return smtp.ErrAuthRequired }
func (refusingSession) Reset()                               {}
func (refusingSession) Logout() error                        { return nil }

// MailServer is an SMTP server on loopback that accepts every message
// without a login, for tests that follow a message through a real SMTP
// conversation.
type MailServer struct {
	// Host and Port are where it listens.
	Host string
	Port int

	mu   sync.Mutex
	msgs [][]byte
}

// StartMailServer starts a MailServer, stopped when t ends.
func StartMailServer(t testing.TB) *MailServer {
	t.Helper()
	ms := &MailServer{}
	addr := serveSMTP(t, func() smtp.Session { return &acceptingSession{ms: ms} }, false)
	ms.Host, ms.Port = "127.0.0.1", addr.Port
	return ms
}

// Messages returns every message received so far, as sent on the wire.
func (ms *MailServer) Messages() [][]byte {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Clone(ms.msgs)
}

type acceptingSession struct{ ms *MailServer }

func (*acceptingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*acceptingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (*acceptingSession) Reset()                               {}
func (*acceptingSession) Logout() error                        { return nil }

func (s *acceptingSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	s.ms.msgs = append(s.ms.msgs, data)
	return nil
}
