package dispatch

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	mailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/store"
)

// testCA is a self-signed certificate for 127.0.0.1 and localhost, made once.
var testCA = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sspr test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
})

// mailServer is a go-smtp server on loopback that keeps what it receives.
type mailServer struct {
	host string
	port int

	mu        sync.Mutex
	msgs      []received
	auths     []string // "mech user password ok"
	mails     int      // MAIL commands seen
	sessions  int
	failMail  error
	failRcpt  error
	failData  func(to string, attempt int) error
	attempts  map[string]int // DATA attempts per recipient
	dataBlock chan struct{}  // when set, DATA waits for it to close
	echoAuth  bool           // a refused AUTH quotes the credentials back
}

type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

type serverOptions struct {
	starttls     bool // offer STARTTLS with the test certificate
	implicit     bool // TLS from the first byte
	mechs        []string
	insecureAuth bool // offer AUTH without TLS
}

const (
	testUser = "sspr-mailer"
	testPass = "correct horse battery staple"
)

func startMailServer(t testing.TB, o serverOptions) *mailServer {
	t.Helper()
	ms := &mailServer{attempts: map[string]int{}}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ms.mu.Lock()
		ms.sessions++
		ms.mu.Unlock()
		return &mailSession{ms: ms, conn: c, mechs: o.mechs}, nil
	}))
	s.Domain = "mail.test"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = o.insecureAuth
	s.ErrorLog = log.New(io.Discard, "", 0)
	cert, _ := testCA()
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.starttls {
		s.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicit {
		l = tls.NewListener(l, tlsConfig)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() {
		ms.mu.Lock()
		if ms.dataBlock != nil {
			select {
			case <-ms.dataBlock:
			default:
				close(ms.dataBlock)
			}
		}
		ms.mu.Unlock()
		_ = s.Close()
	})
	addr := l.Addr().(*net.TCPAddr)
	ms.host, ms.port = "127.0.0.1", addr.Port
	return ms
}

// set changes the server's behaviour under its lock.
func (ms *mailServer) set(fn func(ms *mailServer)) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	fn(ms)
}

func (ms *mailServer) received() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.msgs...)
}

func (ms *mailServer) authLog() []string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]string(nil), ms.auths...)
}

type mailSession struct {
	ms    *mailServer
	conn  *smtp.Conn
	mechs []string
	from  string
	to    []string
	user  string
}

func (s *mailSession) AuthMechanisms() []string { return s.mechs }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		ok := user == testUser && pass == testPass
		s.ms.mu.Lock()
		s.ms.auths = append(s.ms.auths, fmt.Sprintf("%s %s %s %v", mech, user, pass, ok))
		echo := s.ms.echoAuth
		s.ms.mu.Unlock()
		if !ok {
			if echo {
				// A careless server quoting back what it was sent.
				plain := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
					Message: "credentials " + user + "/" + pass + " (AUTH PLAIN " + plain + ") rejected"}
			}
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	s.ms.mails++
	if s.ms.failMail != nil {
		return s.ms.failMail
	}
	if len(s.mechs) > 0 && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	if s.ms.failRcpt != nil {
		return s.ms.failRcpt
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.mu.Lock()
	block := s.ms.dataBlock
	s.ms.mu.Unlock()
	if block != nil {
		<-block
	}
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	to := strings.Join(s.to, ",")
	s.ms.attempts[to]++
	if s.ms.failData != nil {
		if err := s.ms.failData(to, s.ms.attempts[to]); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ms.msgs = append(s.ms.msgs, received{from: s.from, to: append([]string(nil), s.to...), data: data, tls: isTLS,
		user: s.user})
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl no
// longer ships.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil {
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, errors.New("unexpected response")
}

func smtpConfig(ms *mailServer, mode string) SMTPConfig {
	_, pool := testCA()
	return SMTPConfig{Host: ms.host, Port: ms.port, TLS: mode, From: "sspr@example.org", FromName: "Contoso Helpdesk",
		RootCAs: pool, Timeout: 10 * time.Second}
}

func newSMTP(t testing.TB, c SMTPConfig) *SMTPChannel {
	t.Helper()
	ch, err := NewSMTPChannel(c)
	if err != nil {
		t.Fatalf("NewSMTPChannel: %v", err)
	}
	return ch
}

func codeEmail(t testing.TB, to, code string) Message {
	t.Helper()
	m, err := Render("code", CodeData{Organisation: "sspr", Code: code, Minutes: 10, DisplayName: "Alice <b>Liddell</b>",
		Purpose: "reset"})
	if err != nil {
		t.Fatal(err)
	}
	m.Kind, m.Channel, m.To = KindCode, ChannelEmail, to
	return m
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	header    netmail.Header
	rawHeader string
	text      string
	html      string
}

func parseMail(t testing.TB, raw []byte) parsedMail {
	t.Helper()
	var p parsedMail
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header/body separator in\n%s", raw)
	}
	p.rawHeader = string(head)
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	p.header = msg.Header
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("content type %q, want multipart/alternative", mediaType)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		ct, ctParams, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(ctParams["charset"], "utf-8") {
			t.Errorf("part %s has charset %q", ct, ctParams["charset"])
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		switch ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return p
}

func sendOne(t testing.TB, ch *SMTPChannel, m Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ch.Send(ctx, m)
}

func TestSMTPPlainDeliversHeadersAndBothBodies(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	ch := newSMTP(t, smtpConfig(ms, TLSNone))
	m := codeEmail(t, "alice@example.com", "31415926")
	if err := sendOne(t, ch, m); err != nil {
		t.Fatal(err)
	}
	got := ms.received()
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	r := got[0]
	if r.from != "sspr@example.org" || len(r.to) != 1 || r.to[0] != "alice@example.com" || r.tls || r.user != "" {
		t.Fatalf("envelope %+v", r)
	}
	p := parseMail(t, r.data)
	from, err := netmail.ParseAddress(p.header.Get("From"))
	if err != nil || from.Name != "Contoso Helpdesk" || from.Address != "sspr@example.org" {
		t.Errorf("From = %q (%v)", p.header.Get("From"), err)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "alice@example.com" {
		t.Errorf("To = %q (%v)", p.header.Get("To"), err)
	}
	if got := p.header.Get("Subject"); got != "Your sspr verification code" {
		t.Errorf("Subject = %q", got)
	}
	if _, err := p.header.Date(); err != nil {
		t.Errorf("Date = %q: %v", p.header.Get("Date"), err)
	}
	if id := p.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-ID = %q", id)
	}
	for k, want := range map[string]string{"Mime-Version": "1.0", "Auto-Submitted": "auto-generated",
		"X-Auto-Response-Suppress": "All", "Content-Language": "en"} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if p.header.Get("User-Agent") != "" || p.header.Get("X-Mailer") != "" {
		t.Errorf("the message names its mailer: %q %q", p.header.Get("User-Agent"), p.header.Get("X-Mailer"))
	}
	if p.text != m.Text { // crlf normalised by parseMail
		t.Errorf("text part = %q, want %q", p.text, m.Text)
	}
	if p.html != m.HTML {
		t.Errorf("html part = %q, want %q", p.html, m.HTML)
	}
	if !strings.Contains(p.html, "Alice &lt;b&gt;Liddell&lt;/b&gt;") || !strings.Contains(p.html, "31415926") {
		t.Errorf("html part = %q", p.html)
	}
}

func TestSMTPTextOnly(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	ch := newSMTP(t, smtpConfig(ms, TLSNone))
	if err := sendOne(t, ch, Message{To: "bob@example.com", Subject: "Hi", Text: "just text\n"}); err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(ms.received()[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestSMTPStartTLSWithAuth(t *testing.T) {
	for _, mechs := range [][]string{{sasl.Plain, sasl.Login}, {sasl.Login}} {
		t.Run(strings.Join(mechs, "+"), func(t *testing.T) {
			ms := startMailServer(t, serverOptions{starttls: true, mechs: mechs})
			c := smtpConfig(ms, TLSStartTLS)
			c.Username, c.Password = testUser, testPass
			if err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "27182818")); err != nil {
				t.Fatal(err)
			}
			got := ms.received()
			if len(got) != 1 || !got[0].tls || got[0].user != testUser {
				t.Fatalf("received %+v", got)
			}
			if log := ms.authLog(); len(log) != 1 || log[0] != mechs[0]+" "+testUser+" "+testPass+" true" {
				t.Errorf("auth log %q", log)
			}
			p := parseMail(t, got[0].data)
			if !strings.Contains(p.text, "27182818") || !strings.Contains(p.html, "27182818") {
				t.Errorf("bodies %q / %q", p.text, p.html)
			}
		})
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	ms := startMailServer(t, serverOptions{implicit: true, mechs: []string{sasl.Plain}})
	c := smtpConfig(ms, TLSImplicit)
	c.Username, c.Password = testUser, testPass
	if err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "16180339")); err != nil {
		t.Fatal(err)
	}
	if got := ms.received(); len(got) != 1 || !got[0].tls || got[0].user != testUser {
		t.Fatalf("received %+v", got)
	}
}

func TestSMTPUntrustedCertificateSendsNothing(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			ms := startMailServer(t, serverOptions{starttls: mode == TLSStartTLS, implicit: mode == TLSImplicit,
				mechs: []string{sasl.Plain}})
			c := smtpConfig(ms, mode)
			c.RootCAs = x509.NewCertPool() // trusts nothing
			c.Username, c.Password = testUser, testPass
			err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "12345678"))
			var ce *ChannelError
			if !errors.As(err, &ce) || !errors.Is(err, ErrUnreachable) || ce.Temporary || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("err = %v", err)
			}
			// Not temporary, but not final either: the server's certificate
			// or the trusted roots may be fixed before the next attempt.
			if errors.Is(err, ErrPermanent) {
				t.Errorf("an untrusted certificate counts as permanent: %v", err)
			}
			if len(ms.received()) != 0 || len(ms.authLog()) != 0 {
				t.Fatal("something was sent over an unverified connection")
			}
		})
	}
}

func TestSMTPStartTLSNotOfferedSendsNothing(t *testing.T) {
	// A server (or a man in the middle) that does not offer STARTTLS gets
	// neither the password nor the message.
	ms := startMailServer(t, serverOptions{mechs: []string{sasl.Plain}, insecureAuth: true})
	c := smtpConfig(ms, TLSStartTLS)
	c.Username, c.Password = testUser, testPass
	err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "12345678"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Errorf("the error holds the password: %v", err)
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.msgs) != 0 || len(ms.auths) != 0 || ms.mails != 0 {
		t.Fatalf("sent without TLS: %d messages, auths %q, %d MAIL", len(ms.msgs), ms.auths, ms.mails)
	}
}

func TestSMTPAuthWithoutTLS(t *testing.T) {
	ms := startMailServer(t, serverOptions{mechs: []string{sasl.Plain}, insecureAuth: true})
	c := smtpConfig(ms, TLSNone)
	c.Username, c.Password = testUser, testPass
	if _, err := NewSMTPChannel(c); err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("auth over plain SMTP was accepted: %v", err)
	}
	// Explicitly allowed, it works.
	c.AllowInsecureAuth = true
	if err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "12345678")); err != nil {
		t.Fatal(err)
	}
	if got := ms.received(); len(got) != 1 || got[0].user != testUser || got[0].tls {
		t.Fatalf("received %+v", got)
	}
	// And the mechanism itself refuses a plain connection unless allowed,
	// even to localhost, which go-mail's own mechanisms let through.
	a := &smtpAuth{user: "u", pass: "p", host: "127.0.0.1"}
	if _, _, err := a.Start(&mailsmtp.ServerInfo{Name: "127.0.0.1", Auth: []string{"PLAIN"}}); !errors.Is(err, errAuthWithoutTLS) {
		t.Errorf("Start over plain = %v", err)
	}
}

func TestSMTPAuthFailure(t *testing.T) {
	ms := startMailServer(t, serverOptions{starttls: true, mechs: []string{sasl.Plain}})
	c := smtpConfig(ms, TLSStartTLS)
	c.Username, c.Password = testUser, "wrong password 987654321"
	err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "12345678"))
	var ce *ChannelError
	if !errors.As(err, &ce) || !errors.Is(err, ErrRejected) || ce.Code != 535 || ce.Temporary {
		t.Fatalf("err = %v (%+v)", err, ce)
	}
	// Wrong credentials are the operator's to fix, not the message's fault:
	// queued notifications keep being retried.
	if ce.Permanent() || errors.Is(err, ErrPermanent) {
		t.Fatalf("an authentication refusal counts as permanent: %v", err)
	}
	if strings.Contains(err.Error(), "wrong password") || strings.Contains(err.Error(), "12345678") {
		t.Errorf("err = %v", err)
	}
	if len(ms.received()) != 0 {
		t.Fatal("delivered without authentication")
	}
}

// TestSMTPAuthFailureEchoed: a server that quotes the credentials back in
// its refusal does not put the password into sspr's error, which goes to
// the log and the outbox table.
func TestSMTPAuthFailureEchoed(t *testing.T) {
	ms := startMailServer(t, serverOptions{starttls: true, mechs: []string{sasl.Plain}})
	ms.set(func(ms *mailServer) { ms.echoAuth = true })
	c := smtpConfig(ms, TLSStartTLS)
	const wrong = "Wrong-Passw0rd-Zebra"
	c.Username, c.Password = testUser, wrong
	err := sendOne(t, newSMTP(t, c), codeEmail(t, "alice@example.com", "12345678"))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	msg := err.Error()
	for _, secret := range []string{wrong, base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + wrong))} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error quotes the password: %q", msg)
		}
	}
	if !strings.Contains(msg, "535") || !strings.Contains(msg, "[password]") {
		t.Errorf("err = %q; want the 535 refusal with the password blanked", msg)
	}
}

func TestSMTPServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	ch := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "sspr@example.org"})
	start := time.Now()
	err = sendOne(t, ch, codeEmail(t, "alice@example.com", "12345678"))
	var ce *ChannelError
	if !errors.As(err, &ce) || !errors.Is(err, ErrUnreachable) || !ce.Temporary || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("err does not name the server: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s", el)
	}
}

func TestSMTPErrorReplies(t *testing.T) {
	const code = "55501234"
	echo := func(msg string) error {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: msg}
	}
	tests := []struct {
		name      string
		set       func(*mailServer)
		code      int
		temporary bool
	}{
		{"mail 451", func(ms *mailServer) {
			ms.failMail = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}, 451, true},
		{"rcpt 550", func(ms *mailServer) {
			ms.failRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
		}, 550, false},
		{"data 452", func(ms *mailServer) {
			ms.failData = func(string, int) error {
				return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "mailbox full"}
			}
		}, 452, true},
		{"data 554 echoing the code", func(ms *mailServer) {
			ms.failData = func(string, int) error {
				return echo("content rejected: " + code + " is your code to reset your password")
			}
		}, 554, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMailServer(t, serverOptions{})
			ms.set(tt.set)
			m := codeEmail(t, "alice@example.com", code)
			err := sendOne(t, newSMTP(t, smtpConfig(ms, TLSNone)), m)
			var ce *ChannelError
			if !errors.As(err, &ce) || !errors.Is(err, ErrRejected) || ce.Code != tt.code || ce.Temporary != tt.temporary {
				t.Fatalf("err = %v (%+v)", err, ce)
			}
			if errors.Is(err, ErrPermanent) == tt.temporary || ce.Permanent() == tt.temporary {
				t.Errorf("a %d reply: ErrPermanent %v, want %v", tt.code, errors.Is(err, ErrPermanent), !tt.temporary)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tt.code)) {
				t.Errorf("err does not give the reply: %v", err)
			}
			if strings.Contains(err.Error(), code) || strings.Contains(err.Error(), strings.TrimSpace(m.Text)) {
				t.Errorf("err holds the message: %v", err)
			}
			if len(ms.received()) != 0 {
				t.Error("a refused message was kept")
			}
		})
	}
}

func TestSMTPSlowServer(t *testing.T) {
	t.Run("silent after connect", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var conns []net.Conn
		var mu sync.Mutex
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		ch := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: TLSNone,
			From: "sspr@example.org", Timeout: time.Hour})
		assertTimesOut(t, ch, 150*time.Millisecond)
	})
	t.Run("stalls in DATA", func(t *testing.T) {
		ms := startMailServer(t, serverOptions{})
		ms.set(func(ms *mailServer) { ms.dataBlock = make(chan struct{}) })
		c := smtpConfig(ms, TLSNone)
		c.Timeout = time.Hour
		assertTimesOut(t, newSMTP(t, c), 300*time.Millisecond)
	})
	t.Run("channel timeout without a deadline", func(t *testing.T) {
		ms := startMailServer(t, serverOptions{})
		ms.set(func(ms *mailServer) { ms.dataBlock = make(chan struct{}) })
		c := smtpConfig(ms, TLSNone)
		c.Timeout = 200 * time.Millisecond
		start := time.Now()
		err := newSMTP(t, c).Send(context.Background(), codeEmail(t, "alice@example.com", "12345678"))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("err = %v after %s", err, time.Since(start))
		}
	})
}

func assertTimesOut(t *testing.T, ch *SMTPChannel, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := ch.Send(ctx, codeEmail(t, "alice@example.com", "12345678"))
	el := time.Since(start)
	var ce *ChannelError
	if !errors.As(err, &ce) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnreachable) || !ce.Temporary {
		t.Fatalf("err = %v", err)
	}
	if el < timeout/2 || el > timeout+3*time.Second {
		t.Errorf("returned after %s with a %s timeout", el, timeout)
	}
}

func TestSMTPCancel(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	ms.set(func(ms *mailServer) { ms.dataBlock = make(chan struct{}) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err := newSMTP(t, smtpConfig(ms, TLSNone)).Send(ctx, codeEmail(t, "alice@example.com", "12345678"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestSMTPRefusesBadDestinations(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	ch := newSMTP(t, smtpConfig(ms, TLSNone))
	for _, to := range []string{
		"", "alice", "alice@", "@example.com", "alice@example", "alice@example.com.",
		"alice@example.com\r\nBcc: eve@example.com", "alice@example.com\nBcc: eve@example.com",
		"Alice <alice@example.com>", "alice@example.com, eve@example.com", "alice@example.com>\r\nX: y",
		"\"a b\"@example.com", "alice@[127.0.0.1]", "alice@exa\x00mple.com", "alice@example.com\u2028",
		"alice(comment)@example.com", strings.Repeat("a", 250) + "@example.com", "bad\xff@example.com",
	} {
		err := sendOne(t, ch, Message{To: to, Subject: "s", Text: "t\n"})
		if !errors.Is(err, ErrBadDestination) || !errors.Is(err, ErrPermanent) {
			t.Errorf("Send to %q: err = %v", to, err)
		}
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.sessions != 0 {
		t.Errorf("%d connections for invalid recipients", ms.sessions)
	}
}

func TestNewSMTPChannelChecks(t *testing.T) {
	ok := SMTPConfig{Host: "mail.example.org", From: "sspr@example.org"}
	if ch, err := NewSMTPChannel(ok); err != nil || ch.String() != "SMTP mail.example.org:587 (starttls)" {
		t.Fatalf("%v, %v", ch, err)
	}
	if ch, _ := NewSMTPChannel(SMTPConfig{Host: "::1", TLS: TLSImplicit, From: "a@b.example"}); ch.String() != "SMTP [::1]:465 (tls)" {
		t.Errorf("String = %q", ch.String())
	}
	bad := map[string]func(*SMTPConfig){
		"no host":        func(c *SMTPConfig) { c.Host = "" },
		"host with CRLF": func(c *SMTPConfig) { c.Host = "mail\r\n.example.org" },
		"unix socket":    func(c *SMTPConfig) { c.Host = "unix:///run/smtp" },
		"host with port": func(c *SMTPConfig) { c.Host = "mail.example.org:25" },
		"host as URL":    func(c *SMTPConfig) { c.Host = "smtp://mail.example.org" },
		"tls mode":       func(c *SMTPConfig) { c.TLS = "ssl" },
		"port":           func(c *SMTPConfig) { c.Port = 70000 },
		"from missing":   func(c *SMTPConfig) { c.From = "" },
		"from with name": func(c *SMTPConfig) { c.From = "Helpdesk <sspr@example.org>" },
		"from with CRLF": func(c *SMTPConfig) { c.From = "sspr@example.org\r\nBcc: eve@example.com" },
		"name with CRLF": func(c *SMTPConfig) { c.FromName = "Helpdesk\r\nBcc: eve@example.com" },
		"name with LF":   func(c *SMTPConfig) { c.FromName = "Helpdesk\nX: y" },
		"name with bidi": func(c *SMTPConfig) { c.FromName = "Help\u202edesk" },
		"name too long":  func(c *SMTPConfig) { c.FromName = strings.Repeat("n", 129) },
		"user only":      func(c *SMTPConfig) { c.Username = "u" },
		"password only":  func(c *SMTPConfig) { c.Password = "p" },
		"auth without tls": func(c *SMTPConfig) {
			c.Username, c.Password, c.TLS = "u", "p", TLSNone
		},
	}
	for name, mutate := range bad {
		c := ok
		mutate(&c)
		if _, err := NewSMTPChannel(c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error has a line break: %q", name, err)
		}
	}
}

func TestSMTPSubjectAndNameCannotInject(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	c := smtpConfig(ms, TLSNone)
	c.FromName = `Help "desk", <Contoso>;  Ltd.`
	m := Message{To: "alice@example.com", Subject: "Code\r\nBcc: eve@example.com\nX-Evil: 1\u2028more", Text: "t\n",
		HTML: "<p>t</p>"}
	if err := sendOne(t, newSMTP(t, c), m); err != nil {
		t.Fatal(err)
	}
	r := ms.received()[0]
	if len(r.to) != 1 || r.to[0] != "alice@example.com" {
		t.Fatalf("recipients %q", r.to)
	}
	p := parseMail(t, r.data)
	checkHeaderLines(t, p.rawHeader)
	if got := p.header.Get("Subject"); got != "Code Bcc: eve@example.com X-Evil: 1 more" {
		t.Errorf("Subject = %q", got)
	}
	from, err := netmail.ParseAddress(p.header.Get("From"))
	if err != nil || from.Name != `Help "desk", <Contoso>; Ltd.` || from.Address != "sspr@example.org" {
		t.Errorf("From = %q: %+v, %v", p.header.Get("From"), from, err)
	}
	if p.header.Get("Bcc") != "" || p.header.Get("X-Evil") != "" {
		t.Error("injected header")
	}
}

// allowedHeaders are the header fields the channel writes; anything else in
// a message was injected.
var allowedHeaders = map[string]bool{"Date": true, "Message-Id": true, "Mime-Version": true, "Subject": true,
	"From": true, "To": true, "Auto-Submitted": true, "X-Auto-Response-Suppress": true, "Content-Type": true,
	"Content-Transfer-Encoding": true}

// checkHeaderLines checks that every header line is either a continuation
// or one of the allowed fields, each at most once, and that none is longer
// than SMTP allows.
func checkHeaderLines(t testing.TB, head string) {
	t.Helper()
	seen := map[string]int{}
	for i, line := range strings.Split(head, "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line %d is %d bytes long", i, len(line))
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("header line %d holds a bare CR or LF: %q", i, line)
		}
		if i > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if !ok || !allowedHeaders[canon] {
			t.Errorf("unexpected header line %q in\n%s", line, head)
			continue
		}
		seen[canon]++
	}
	for name, n := range seen {
		if n > 1 {
			t.Errorf("header %s appears %d times in\n%s", name, n, head)
		}
	}
	for _, name := range []string{"From", "To", "Subject", "Date", "Message-Id"} {
		if seen[name] != 1 {
			t.Errorf("header %s appears %d times in\n%s", name, seen[name], head)
		}
	}
}

// TestDispatcherOverSMTP sends a code through the dispatcher and the real
// channel: a failure reaches the caller at once, scrubbed.
func TestDispatcherOverSMTP(t *testing.T) {
	ms := startMailServer(t, serverOptions{starttls: true})
	db := openStore(t, "")
	d := New(map[string]Channel{ChannelEmail: newSMTP(t, smtpConfig(ms, TLSStartTLS))}, db, clock.NewFake(t0),
		Options{CodeTimeout: 5 * time.Second})
	if err := d.SendCode(context.Background(), ChannelEmail, "alice@example.com", codeEmail(t, "", "24681357")); err != nil {
		t.Fatal(err)
	}
	if got := ms.received(); len(got) != 1 || !bytes.Contains(got[0].data, []byte("24681357")) {
		t.Fatalf("received %d", len(got))
	}
	ms.set(func(ms *mailServer) {
		ms.failData = func(string, int) error {
			return &smtp.SMTPError{Code: 554, Message: "rejected 97531864 content"}
		}
	})
	err := d.SendCode(context.Background(), ChannelEmail, "alice@example.com", codeEmail(t, "", "97531864"))
	if !errors.Is(err, ErrDeliveryFailed) || strings.Contains(err.Error(), "97531864") || !strings.Contains(err.Error(), "554") {
		t.Fatalf("err = %v", err)
	}
}

// TestSMTPPermanentFailuresAreNotRetried queues a notification for a real
// mail server and drives the dispatcher through every retry it would make:
// a 5xx reply ends it after one attempt, while a 4xx reply or a refused
// connection is tried MaxAttempts times. A code sent the same way fails
// with ErrPermanent exactly for the 5xx replies.
func TestSMTPPermanentFailuresAreNotRetried(t *testing.T) {
	const maxAttempts = 4
	tests := []struct {
		name      string
		set       func(*mailServer)
		down      bool // nothing listens on the configured port
		permanent bool
	}{
		{"rcpt 550 mailbox unavailable", func(ms *mailServer) {
			ms.failRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
		}, false, true},
		{"data 554 rejected", func(ms *mailServer) {
			ms.failData = func(string, int) error {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected"}
			}
		}, false, true},
		{"mail 451 try later", func(ms *mailServer) {
			ms.failMail = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}, false, false},
		{"rcpt 450 greylisted", func(ms *mailServer) {
			ms.failRcpt = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "greylisted"}
		}, false, false},
		{"connection refused", func(*mailServer) {}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMailServer(t, serverOptions{})
			ms.set(tt.set)
			cfg := smtpConfig(ms, TLSNone)
			if tt.down {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				cfg.Port = l.Addr().(*net.TCPAddr).Port
				_ = l.Close()
			}
			d, want := failsAfter(t, newSMTP(t, cfg), ChannelEmail, "alice@example.com", tt.permanent, maxAttempts)
			if !tt.down {
				ms.mu.Lock()
				mails := ms.mails
				ms.mu.Unlock()
				if mails != want {
					t.Fatalf("the server saw %d attempts, want %d", mails, want)
				}
			}

			err := d.SendCode(context.Background(), ChannelEmail, "alice@example.com", codeEmail(t, "", "13572468"))
			if !errors.Is(err, ErrDeliveryFailed) || errors.Is(err, ErrPermanent) != tt.permanent {
				t.Fatalf("SendCode: err = %v; want ErrDeliveryFailed, ErrPermanent %v", err, tt.permanent)
			}
		})
	}
}

// TestRestartMidRetriesDeliversOnce queues notifications for a mail server
// that refuses each of them three times, restarts the dispatcher (a new
// store handle on the same file) in the middle of the retries, and checks
// that each arrives exactly once.
func TestRestartMidRetriesDeliversOnce(t *testing.T) {
	const failures = 3
	ctx := context.Background()
	ms := startMailServer(t, serverOptions{})
	ms.set(func(ms *mailServer) {
		ms.failData = func(_ string, attempt int) error {
			if attempt <= failures {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			}
			return nil
		}
	})
	path := filepath.Join(t.TempDir(), "sspr.db")
	clk := clock.NewFake(t0)
	opts := Options{BaseBackoff: 30 * time.Second, MaxAttempts: 8, CodeTimeout: 5 * time.Second}
	recipients := []string{"alice@example.com", "bob@example.com", "carol@example.com"}

	db1, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d1 := New(map[string]Channel{ChannelEmail: newSMTP(t, smtpConfig(ms, TLSNone))}, db1, clk, opts)
	for _, to := range recipients {
		m, err := Render("reset", ResetData{DisplayName: "Someone", Time: t0, Source: "kiosk-1", Helpdesk: "help@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		m.Channel, m.To = ChannelEmail, to
		if err := d1.Notify(ctx, db1, m); err != nil {
			t.Fatal(err)
		}
	}
	pass := func(d *Dispatcher, wantSent, wantFailed int) {
		t.Helper()
		sent, failed, err := d.DeliverDue(ctx)
		if err != nil || sent != wantSent || failed != wantFailed {
			t.Fatalf("at +%s: DeliverDue = %d sent, %d failed, %v; want %d, %d", clk.Now().Sub(t0), sent, failed, err,
				wantSent, wantFailed)
		}
	}
	pass(d1, 0, 3) // attempt 1
	clk.Advance(30 * time.Second)
	pass(d1, 0, 3) // attempt 2; next in 60s
	if err := db1.Close(); err != nil {
		t.Fatal(err)
	}

	db2 := openStore(t, path)
	d2 := New(map[string]Channel{ChannelEmail: newSMTP(t, smtpConfig(ms, TLSNone))}, db2, clk, opts)
	pass(d2, 0, 0) // not due yet: the backoff survived the restart
	clk.Advance(time.Minute)
	pass(d2, 0, 3) // attempt 3
	clk.Advance(2 * time.Minute)
	pass(d2, 3, 0) // attempt 4 succeeds
	for range 5 {
		clk.Advance(time.Hour)
		pass(d2, 0, 0)
	}

	count := map[string]int{}
	for _, r := range ms.received() {
		count[strings.Join(r.to, ",")]++
		if !bytes.Contains(r.data, []byte("kiosk-1")) {
			t.Errorf("message without its text: %s", r.data)
		}
	}
	for _, to := range recipients {
		if count[to] != 1 {
			t.Errorf("%s received %d times", to, count[to])
		}
	}
	rows, err := store.ListOutbox(ctx, db2, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.State != store.OutboxSent || r.Attempts != failures || r.LastError != "" {
			t.Errorf("row %d: state %s, attempts %d, last error %q", r.ID, r.State, r.Attempts, r.LastError)
		}
	}
}

// FuzzHeaders sends a message with a fuzzed sender name, recipient and
// subject to a real SMTP server and checks that the raw message it
// receives has no header line the channel did not write, and that the
// envelope and the From and To headers hold exactly the intended addresses.
func FuzzHeaders(f *testing.F) {
	ms := startMailServer(f, serverOptions{})
	f.Fuzz(func(t *testing.T, name, to, subject string) {
		c := smtpConfig(ms, TLSNone)
		c.FromName = name
		ch, err := NewSMTPChannel(c)
		if err != nil {
			if !strings.ContainsFunc(name, unsafeHeaderRune) && !strings.Contains(name, "=?") && utf8.RuneCountInString(strings.Join(strings.Fields(name), " ")) <= maxFromNameLength {
				t.Fatalf("name %q refused: %v", name, err)
			}
			return
		}
		ms.set(func(ms *mailServer) { ms.msgs = nil })
		err = sendOne(t, ch, Message{To: to, Subject: subject, Text: "Hello.\n", HTML: "<p>Hello.</p>"})
		got := ms.received()
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("Send failed (%v) but the server kept a message", err)
			}
			if checkAddress(to) == nil && !errors.Is(err, ErrRejected) {
				t.Fatalf("Send to valid %q: %v", to, err)
			}
			return
		}
		if checkAddress(to) != nil {
			t.Fatalf("Send to invalid %q succeeded", to)
		}
		if len(got) != 1 {
			t.Fatalf("received %d messages", len(got))
		}
		r := got[0]
		if r.from != c.From || len(r.to) != 1 || r.to[0] != to {
			t.Fatalf("envelope from %q to %q, want %q to %q", r.from, r.to, c.From, to)
		}
		head, _, _ := bytes.Cut(r.data, []byte("\r\n\r\n"))
		checkHeaderLines(t, string(head))
		msg, err := netmail.ReadMessage(bytes.NewReader(r.data))
		if err != nil {
			t.Fatal(err)
		}
		from, err := msg.Header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Address != c.From {
			t.Fatalf("From %q parses as %v (%v)", msg.Header.Get("From"), from, err)
		}
		rcpts, err := msg.Header.AddressList("To")
		if err != nil || len(rcpts) != 1 || rcpts[0].Address != to {
			t.Fatalf("To %q parses as %v (%v)", msg.Header.Get("To"), rcpts, err)
		}
		var dec mime.WordDecoder
		subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subj != cleanSubject(subject) {
			t.Fatalf("Subject %q decodes to %q (%v), want %q", msg.Header.Get("Subject"), subj, err, cleanSubject(subject))
		}
	})
}
