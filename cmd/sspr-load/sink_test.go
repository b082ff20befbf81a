package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/dispatch"
)

// sinkChannel is sspr's own SMTP channel, as sspr serve configures it,
// pointed at the sink.
func sinkChannel(t *testing.T, sink *mailSink) *dispatch.SMTPChannel {
	t.Helper()
	host, port, err := net.SplitHostPort(sink.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	ch, err := dispatch.NewSMTPChannel(dispatch.SMTPConfig{Host: host, Port: p, TLS: dispatch.TLSNone,
		From: "sspr@example.org", FromName: "Example Org", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// render fills one of sspr's message templates.
func render(t *testing.T, name string, data any, to string) dispatch.Message {
	t.Helper()
	r, err := dispatch.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(name, data)
	if err != nil {
		t.Fatal(err)
	}
	m.Channel, m.To = dispatch.ChannelEmail, to
	return m
}

// TestMailSinkTakesCodes: the code sspr mails (its own template, through its
// own SMTP channel, multipart with HTML) reaches the session waiting for
// its recipient, whatever the case of the address; a password-reset
// notification is not taken for a code; and a wait ends when the session's
// connection does.
func TestMailSinkTakesCodes(t *testing.T) {
	sink, err := startMailSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.close()
	ch := sinkChannel(t, sink)
	ctx := context.Background()

	reset := render(t, "reset", dispatch.ResetData{Organisation: "Example Org", DisplayName: "Load 1",
		Time: time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC), Source: "ssh 127.0.0.2", Helpdesk: "+1 555 0100 12345678"},
		"load001@example.com")
	if err := ch.Send(ctx, reset); err != nil {
		t.Fatal(err)
	}
	code := render(t, "code", dispatch.CodeData{Organisation: "Example Org", Code: "48151623", Minutes: 10,
		DisplayName: "Load 1", Purpose: "reset"}, "Load001@Example.com")
	if code.HTML == "" {
		t.Fatal("the code message has no HTML part: the test would not cover multipart mail")
	}
	if err := ch.Send(ctx, code); err != nil {
		t.Fatal(err)
	}
	gone := make(chan struct{})
	got, err := sink.take(ctx, "load001@example.com", 30*time.Second, gone)
	if err != nil || got != "48151623" {
		t.Fatalf("took %q, %v; want 48151623", got, err)
	}
	sink.mu.Lock()
	received, unreadable := sink.received, sink.unreadable
	sink.mu.Unlock()
	if received != 2 || unreadable != 0 {
		t.Fatalf("%d received, %d unreadable; want 2 and 0", received, unreadable)
	}

	// The notification left nothing to take.
	close(gone)
	if got, err := sink.take(ctx, "load001@example.com", 30*time.Second, gone); err != errConnClosed {
		t.Fatalf("after the only code: took %q, %v; want the closed connection", got, err)
	}
	if _, err := sink.take(ctx, "load002@example.com", 10*time.Millisecond, make(chan struct{})); err == nil ||
		!strings.Contains(err.Error(), "no code mailed to load002@example.com") {
		t.Fatalf("no mail: %v", err)
	}
}

// TestCodeOfMail reads the message encodings a mail client may use.
func TestCodeOfMail(t *testing.T) {
	for _, name := range []string{"base64.eml", "qp-multipart.eml", "plain.eml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		code, isCode, err := codeOfMail(raw)
		if err != nil || !isCode || code != "27182818" {
			t.Errorf("%s: %q, %v, %v; want 27182818", name, code, isCode, err)
		}
	}
	if _, isCode, err := codeOfMail([]byte("Subject: Your password was reset\r\n\r\nAt 20261204 from ssh.\r\n")); isCode || err != nil {
		t.Errorf("a notification read as a code: %v, %v", isCode, err)
	}
	if _, _, err := codeOfMail([]byte("Subject: Your code\r\n\r\nno digits\r\n")); err == nil {
		t.Error("a code message without a code was accepted")
	}
}

// FuzzCodeOfMail: any message is read or refused, never a panic, and a
// code found is eight digits.
func FuzzCodeOfMail(f *testing.F) {
	for _, name := range []string{"base64.eml", "qp-multipart.eml", "plain.eml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("Subject: code\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		code, isCode, err := codeOfMail(raw)
		if err == nil && isCode && !codePattern.MatchString(code) {
			t.Fatalf("code %q", code)
		}
	})
}
