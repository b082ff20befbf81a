package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/store"
)

// sink is a go-smtp server on loopback that keeps the messages it gets.
type sink struct {
	port int
	mu   sync.Mutex
	msgs [][]byte
	rcpt []string
}

func startSink(t *testing.T) *sink {
	t.Helper()
	k := &sink{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }))
	s.Domain = "sink.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	k.port = l.Addr().(*net.TCPAddr).Port
	return k
}

type sinkSession struct {
	k  *sink
	to []string
}

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	s.k.msgs = append(s.k.msgs, b)
	s.k.rcpt = append(s.k.rcpt, s.to...)
	return nil
}
func (s *sinkSession) Reset()        { s.to = nil }
func (s *sinkSession) Logout() error { return nil }

func (k *sink) received() ([][]byte, []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]byte(nil), k.msgs...), append([]string(nil), k.rcpt...)
}

// deliverFolder makes a data folder whose config.yaml is body.
func deliverFolder(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runDeliver runs "sspr --data dir deliver test ARGS..." in process and
// returns stdout, stderr and the error.
func runDeliver(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SilenceErrors, root.SilenceUsage = true, true
	root.SetArgs(append([]string{"--data", dir, "deliver", "test"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return stdout.String(), stderr.String(), err
}

func oneLine(t *testing.T, s string) {
	t.Helper()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Errorf("want one line, got %q", s)
	}
}

func TestDeliverTestEmail(t *testing.T) {
	k := startSink(t)
	dir := deliverFolder(t, fmt.Sprintf("smtp:\n  host: 127.0.0.1\n  port: %d\n  tls: none\n  from: sspr@example.org\n"+
		"  from_name: Contoso Helpdesk\n", k.port))
	stdout, stderr, err := runDeliver(t, dir, "email", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q", stdout)
	}
	oneLine(t, stderr)
	if !strings.HasPrefix(stderr, "sent a test email to alice@example.com") ||
		!strings.Contains(stderr, fmt.Sprintf("SMTP 127.0.0.1:%d (none)", k.port)) {
		t.Errorf("stderr = %q", stderr)
	}
	msgs, rcpt := k.received()
	if len(msgs) != 1 || len(rcpt) != 1 || rcpt[0] != "alice@example.com" ||
		!bytes.Contains(msgs[0], []byte("Subject: sspr delivery test")) ||
		!bytes.Contains(msgs[0], []byte(`From: "Contoso Helpdesk" <sspr@example.org>`)) {
		t.Fatalf("received %q to %q", msgs, rcpt)
	}
}

func TestDeliverTestEmailFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	down := deliverFolder(t, fmt.Sprintf("smtp:\n  host: 127.0.0.1\n  port: %d\n  tls: none\n  from: sspr@example.org\n", port))
	unset := deliverFolder(t, "")
	tests := []struct {
		name string
		dir  string
		args []string
		want []string
	}{
		{"server down", down, []string{"email", "alice@example.com"},
			[]string{"email to alice@example.com", fmt.Sprintf("127.0.0.1:%d", port), "server unreachable", "refused"}},
		{"not configured", unset, []string{"email", "alice@example.com"}, []string{"email delivery is not configured", "smtp.host"}},
		{"sms not configured", unset, []string{"sms", "+15551234567"}, []string{"text delivery is not configured", "sms.url"}},
		{"bad address", down, []string{"email", "alice@example.com\r\nBcc: eve@example.com"}, []string{"not an address"}},
		{"bad number", down, []string{"sms", "5551234"}, []string{"E.164"}},
		{"bad channel", down, []string{"fax", "+15551234567"}, []string{"email or sms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runDeliver(t, tt.dir, tt.args...)
			if err == nil {
				t.Fatalf("succeeded: %q", stderr)
			}
			msg := describe(err)
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
	if _, _, err := runDeliver(t, down, "email"); err == nil {
		t.Error("one argument accepted")
	}
}

func TestDeliverTestSMS(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	status := http.StatusOK
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, string(b))
		st := status
		mu.Unlock()
		w.WriteHeader(st)
	}))
	defer gw.Close()
	dir := deliverFolder(t, "sms:\n  url: "+gw.URL+"/send\n"+
		"  body_template: '{\"to\":\"{{.To}}\",\"text\":\"{{.Text}}\"}'\n  auth_header_file: gw-token\n")
	if err := os.WriteFile(filepath.Join(dir, "gw-token"), []byte("Bearer from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runDeliver(t, dir, "sms", "+1 (555) 123-4567")
	if err != nil {
		t.Fatal(err)
	}
	oneLine(t, stderr)
	if stdout != "" || !strings.HasPrefix(stderr, "the gateway accepted a test text to +15551234567") ||
		!strings.Contains(stderr, "SMS gateway POST "+gw.URL+"/send") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer from-file" ||
		!strings.HasPrefix(bodies[0], `{"to":"+15551234567","text":"sspr test message`) {
		t.Errorf("gateway got %d requests: %q", len(got), bodies)
	}
	status = http.StatusUnauthorized
	mu.Unlock()

	// The environment's auth header wins over nothing in the file, and a
	// refusal is a failure.
	env := []string{"SSPR_SMS_AUTH_HEADER=Bearer from-env", "SSPR_SMS_AUTH_HEADER_FILE="}
	var out bytes.Buffer
	err = deliverTest(context.Background(), &out, dir, env, "sms", "+15551234567")
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || strings.Contains(err.Error(), "from-env") {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[1].Header.Get("Authorization") != "Bearer from-env" {
		t.Errorf("second request: %d, %q", len(got), got[len(got)-1].Header.Get("Authorization"))
	}
}

func TestDeliveryChannels(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "sspr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := clock.NewFake(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	cfg := config.Default()
	cfg.DataDir = dir
	outbox := dispatch.NewOutboxChannel(db, clk)

	chs, err := deliveryChannels(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 0 {
		t.Errorf("channels without any configured outside the demo: %v", chs)
	}
	chs, err = deliveryChannels(cfg, outbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := chs["email"].(*dispatch.OutboxChannel); !ok {
		t.Errorf("email without smtp.host: %T", chs["email"])
	}
	if _, ok := chs["sms"].(*dispatch.OutboxChannel); !ok {
		t.Errorf("sms without sms.url: %T", chs["sms"])
	}

	cfg.SMTP.Host, cfg.SMTP.From = "mail.example.org", "sspr@example.org"
	cfg.SMS.URL, cfg.SMS.BodyTemplate = "https://gw.example.org/send", `{"to":"{{.To}}","text":"{{.Text}}"}`
	chs, err = deliveryChannels(cfg, outbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := chs["email"].(*dispatch.SMTPChannel); !ok {
		t.Errorf("email with smtp.host: %T", chs["email"])
	}
	if _, ok := chs["sms"].(*dispatch.SMSChannel); !ok {
		t.Errorf("sms with sms.url: %T", chs["sms"])
	}

	// A secret that cannot be read stops the start, naming the setting.
	cfg.SMTP.Username, cfg.SMTP.PasswordFile = "mailer", "no-such-file"
	if _, err := deliveryChannels(cfg, outbox); err == nil || !strings.Contains(err.Error(), "smtp.password_file") {
		t.Errorf("missing password file: %v", err)
	}
	cfg.SMTP.Username, cfg.SMTP.PasswordFile = "", ""
	cfg.SMS.BodyTemplate = `{"to":{{.To}}}`
	if _, err := deliveryChannels(cfg, outbox); err == nil || !strings.Contains(err.Error(), "text delivery") {
		t.Errorf("bad template: %v", err)
	}
	var ce *dispatch.ChannelError
	if errors.As(err, &ce) {
		t.Error("a configuration error is not a delivery error")
	}
}
