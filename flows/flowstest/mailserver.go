package flowstest

import (
	"io"
	"log"
	"net"
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
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return refusingSession{}, nil }))
	s.Domain = "mail.test"
	s.AllowInsecureAuth = true
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
