package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/clock"
)

// gateway is an httptest SMS gateway that records its requests.
type gateway struct {
	*httptest.Server
	mu       sync.Mutex
	requests []gatewayRequest
	status   int
	reply    string
	block    chan struct{}
}

type gatewayRequest struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   string
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{status: http.StatusAccepted, reply: `{"status":"queued"}`}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.requests = append(g.requests, gatewayRequest{method: r.Method, path: r.URL.Path, query: r.URL.Query(),
			header: r.Header.Clone(), body: string(body)})
		status, reply, block := g.status, g.reply, g.block
		g.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
		}
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(func() {
		g.mu.Lock()
		if g.block != nil {
			close(g.block)
			g.block = nil
		}
		g.mu.Unlock()
		g.Close()
	})
	return g
}

func (g *gateway) set(fn func(g *gateway)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

func (g *gateway) got() []gatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.requests...)
}

const jsonTemplate = `{"to":"{{.To}}","text":"{{.Text}}","from":"sspr"}`

func newSMSChannel(t *testing.T, c SMSConfig) *SMSChannel {
	t.Helper()
	ch, err := NewSMSChannel(c)
	if err != nil {
		t.Fatalf("NewSMSChannel: %v", err)
	}
	return ch
}

func smsCode(t *testing.T, code string) Message {
	t.Helper()
	m := codeMessage(t, code)
	m.Kind, m.Channel, m.To = KindCode, ChannelSMS, "+15551234567"
	return m
}

func TestSMSJSONEscapesAndSendsAuth(t *testing.T) {
	g := startGateway(t)
	ch := newSMSChannel(t, SMSConfig{URL: g.URL + "/v1/messages", BodyTemplate: jsonTemplate,
		AuthHeader: "Bearer s3cr3t-token"})
	text := "Code 12345678 \"quoted\" \\ back\nslash\t<b>&amp;</b> \u2028 ünïcode 🙂 \x01"
	if err := ch.Send(context.Background(), Message{To: "+15551234567", Text: text}); err != nil {
		t.Fatal(err)
	}
	reqs := g.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/v1/messages" {
		t.Errorf("%s %s", r.method, r.path)
	}
	if got := r.header.Get("Authorization"); got != "Bearer s3cr3t-token" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	if len(body) != 3 || body["to"] != "+15551234567" || body["text"] != text || body["from"] != "sspr" {
		t.Errorf("body = %q", body)
	}
}

func TestSMSJSONInjectionStaysInTheString(t *testing.T) {
	g := startGateway(t)
	ch := newSMSChannel(t, SMSConfig{URL: g.URL, BodyTemplate: jsonTemplate})
	text := `", "to": "+19995550000", "x": "`
	if err := ch.Send(context.Background(), Message{To: "+15551234567", Text: text}); err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(g.got()[0].body), &body); err != nil {
		t.Fatal(err)
	}
	if body["to"] != "+15551234567" || body["text"] != text || len(body) != 3 {
		t.Errorf("body = %q", body)
	}
}

func TestSMSForm(t *testing.T) {
	g := startGateway(t)
	ch := newSMSChannel(t, SMSConfig{URL: g.URL + "/send", Method: "PUT", ContentType: "application/x-www-form-urlencoded",
		BodyTemplate: "To={{.To}}&Body={{.Text}}&From=sspr"})
	text := "a&b=c d+e%f\nline é"
	if err := ch.Send(context.Background(), Message{To: "+447700900123", Text: text}); err != nil {
		t.Fatal(err)
	}
	r := g.got()[0]
	v, err := url.ParseQuery(r.body)
	if err != nil || r.method != http.MethodPut || v.Get("To") != "+447700900123" || v.Get("Body") != text ||
		v.Get("From") != "sspr" || len(v) != 3 {
		t.Fatalf("%s %q: %v (%v)", r.method, r.body, v, err)
	}
	if got := r.header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q without one configured", got)
	}
}

func TestSMSGet(t *testing.T) {
	g := startGateway(t)
	ch := newSMSChannel(t, SMSConfig{URL: g.URL + "/api?key=k1", Method: "GET"})
	text := "Your code & more"
	if err := ch.Send(context.Background(), Message{To: "+15551234567", Text: text}); err != nil {
		t.Fatal(err)
	}
	r := g.got()[0]
	if r.method != http.MethodGet || r.query.Get("key") != "k1" || r.query.Get("to") != "+15551234567" ||
		r.query.Get("text") != text || r.body != "" {
		t.Fatalf("%+v", r)
	}
}

func TestSMSURLTemplate(t *testing.T) {
	g := startGateway(t)
	text := "Code & more/ünïcode?"
	ch := newSMSChannel(t, SMSConfig{URL: g.URL + "/numbers/{{.To}}/send?msg={{.Text}}&key=k1", Method: "GET"})
	if err := ch.Send(context.Background(), Message{To: "+15551234567", Text: text}); err != nil {
		t.Fatal(err)
	}
	// A POST with the number in the URL and the text in the body.
	ch = newSMSChannel(t, SMSConfig{URL: g.URL + "/to/{{.To}}", BodyTemplate: `{"text":"{{.Text}}"}`})
	if err := ch.Send(context.Background(), Message{To: "+15551234567", Text: text}); err != nil {
		t.Fatal(err)
	}
	reqs := g.got()
	if r := reqs[0]; r.method != http.MethodGet || r.path != "/numbers/+15551234567/send" || r.query.Get("msg") != text ||
		r.query.Get("key") != "k1" || len(r.query) != 2 {
		t.Errorf("GET: %+v", r)
	}
	if r := reqs[1]; r.method != http.MethodPost || r.path != "/to/+15551234567" || r.body != `{"text":"Code \u0026 more/ünïcode?"}` {
		t.Errorf("POST: %+v", r)
	}
	for name, u := range map[string]string{
		"host":        "https://gw{{.To}}.example.org/send?t={{.Text}}",
		"syntax":      "https://gw.example.org/send?to={{.To}&t={{.Text}}",
		"no text":     "https://gw.example.org/send?to={{.To}}",
		"field":       "https://gw.example.org/send?to={{.To}}&t={{.Text}}&c={{.Code}}",
		"userinfo to": "https://{{.Text}}@gw.example.org/send?to={{.To}}",
	} {
		if _, err := NewSMSChannel(SMSConfig{URL: u, Method: "GET"}); err == nil {
			t.Errorf("%s: %s accepted", name, u)
		}
	}
}

func TestSMSErrorStatuses(t *testing.T) {
	const code = "86420975"
	tests := []struct {
		status    int
		temporary bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusFound, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			g := startGateway(t)
			m := smsCode(t, code)
			// Gateways echo the request in their errors.
			g.set(func(g *gateway) {
				g.status = tt.status
				g.reply = `{"error":"invalid","message":"` + m.Text + `"}`
			})
			ch := newSMSChannel(t, SMSConfig{URL: g.URL + "/send?api_key=topsecret", BodyTemplate: jsonTemplate,
				AuthHeader: "Basic dXNlcjpwYXNz"})
			err := ch.Send(context.Background(), m)
			var ce *ChannelError
			if !errors.As(err, &ce) || !errors.Is(err, ErrRejected) || ce.Code != tt.status || ce.Temporary != tt.temporary {
				t.Fatalf("err = %v (%+v)", err, ce)
			}
			// A redirect or a refused key is a setup to fix, not a refusal
			// of the message.
			permanent := tt.status >= 400 && !tt.temporary && tt.status != http.StatusUnauthorized
			if errors.Is(err, ErrPermanent) != permanent {
				t.Errorf("status %d: ErrPermanent %v, want %v", tt.status, errors.Is(err, ErrPermanent), permanent)
			}
			for _, secret := range []string{code, "topsecret", "dXNlcjpwYXNz", "invalid", strings.TrimSpace(m.Text)} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("err holds %q: %v", secret, err)
				}
			}
			if !strings.Contains(err.Error(), http.StatusText(tt.status)) || !strings.Contains(err.Error(), g.Listener.Addr().String()) {
				t.Errorf("err = %v", err)
			}
			if n := len(g.got()); n != 1 {
				t.Errorf("%d requests (a redirect was followed?)", n)
			}
		})
	}
}

func TestSMSTimeout(t *testing.T) {
	g := startGateway(t)
	g.set(func(g *gateway) { g.block = make(chan struct{}) })
	ch := newSMSChannel(t, SMSConfig{URL: g.URL, BodyTemplate: jsonTemplate, Timeout: 150 * time.Millisecond})
	start := time.Now()
	err := ch.Send(context.Background(), smsCode(t, "12345678"))
	var ce *ChannelError
	if !errors.As(err, &ce) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnreachable) || !ce.Temporary {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %s with a 150ms timeout", el)
	}
	// The caller's shorter deadline wins over the channel's timeout.
	ch = newSMSChannel(t, SMSConfig{URL: g.URL, BodyTemplate: jsonTemplate, Timeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ch.Send(ctx, smsCode(t, "12345678")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestSMSGatewayDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	m := smsCode(t, "12345678")
	ch := newSMSChannel(t, SMSConfig{URL: "http://" + addr + "/send?key=topsecret", Method: "GET"})
	err = ch.Send(context.Background(), m)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v", err)
	}
	// With GET the message is in the URL, which the HTTP client's error
	// quotes; the channel's does not.
	for _, secret := range []string{"12345678", "topsecret", "reset+your"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("err holds %q: %v", secret, err)
		}
	}
}

func TestSMSRefusesBadNumbers(t *testing.T) {
	g := startGateway(t)
	ch := newSMSChannel(t, SMSConfig{URL: g.URL, BodyTemplate: jsonTemplate})
	for _, to := range []string{"", "15551234567", "+1555", "+0123456789", "+1555123456\r\nX: y", "+1 555 123 4567",
		"+15551234567,+15557654321", "+1234567890123456", "alice@example.com"} {
		if err := ch.Send(context.Background(), Message{To: to, Text: "x"}); !errors.Is(err, ErrBadDestination) ||
			!errors.Is(err, ErrPermanent) {
			t.Errorf("Send to %q: %v", to, err)
		}
	}
	if n := len(g.got()); n != 0 {
		t.Errorf("%d requests for invalid numbers", n)
	}
}

func TestNewSMSChannelChecks(t *testing.T) {
	ok := SMSConfig{URL: "https://user:pw@gw.example.org/v1/send?key=secret", BodyTemplate: jsonTemplate}
	ch, err := NewSMSChannel(ok)
	if err != nil {
		t.Fatal(err)
	}
	if got := ch.String(); got != "SMS gateway POST https://gw.example.org/v1/send" {
		t.Errorf("String = %q", got)
	}
	bad := map[string]func(*SMSConfig){
		"url scheme":           func(c *SMSConfig) { c.URL = "ftp://gw.example.org" },
		"url without host":     func(c *SMSConfig) { c.URL = "https:///send" },
		"method":               func(c *SMSConfig) { c.Method = "DELETE" },
		"no template":          func(c *SMSConfig) { c.BodyTemplate = "" },
		"template syntax":      func(c *SMSConfig) { c.BodyTemplate = `{"to":"{{.To}"}` },
		"unknown field":        func(c *SMSConfig) { c.BodyTemplate = `{"to":"{{.To}}","text":"{{.Text}}","x":"{{.Code}}"}` },
		"no text":              func(c *SMSConfig) { c.BodyTemplate = `{"to":"{{.To}}"}` },
		"no to":                func(c *SMSConfig) { c.BodyTemplate = `{"text":"{{.Text}}"}` },
		"unquoted JSON":        func(c *SMSConfig) { c.BodyTemplate = `{"to":{{.To}},"text":{{.Text}}}` },
		"auth header CRLF":     func(c *SMSConfig) { c.AuthHeader = "Bearer x\r\nX-Evil: 1" },
		"content type":         func(c *SMSConfig) { c.ContentType = "json" },
		"content type control": func(c *SMSConfig) { c.ContentType = "application/json\r\nX: y" },
	}
	for name, mutate := range bad {
		c := ok
		mutate(&c)
		if _, err := NewSMSChannel(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Plain text and XML bodies.
	for ct, tmpl := range map[string]string{"text/plain": "{{.To}}: {{.Text}}",
		"application/xml": "<sms><to>{{.To}}</to><text>{{.Text}}</text></sms>"} {
		if _, err := NewSMSChannel(SMSConfig{URL: "https://gw.example.org", ContentType: ct, BodyTemplate: tmpl}); err != nil {
			t.Errorf("%s: %v", ct, err)
		}
	}
}

func TestSMSXMLEscapes(t *testing.T) {
	g := startGateway(t)
	ch := newSMSChannel(t, SMSConfig{URL: g.URL, ContentType: "application/xml; charset=utf-8",
		BodyTemplate: "<sms><to>{{.To}}</to><text>{{.Text}}</text></sms>"})
	if err := ch.Send(context.Background(), Message{To: "+15551234567", Text: "</text><to>+1999</to>&"}); err != nil {
		t.Fatal(err)
	}
	if got := g.got()[0].body; got != "<sms><to>+15551234567</to><text>&lt;/text&gt;&lt;to&gt;+1999&lt;/to&gt;&amp;</text></sms>" {
		t.Errorf("body = %q", got)
	}
}

// TestDispatcherOverSMS sends a code through the dispatcher and the real
// gateway channel.
func TestDispatcherOverSMS(t *testing.T) {
	g := startGateway(t)
	d := New(map[string]Channel{ChannelSMS: newSMSChannel(t, SMSConfig{URL: g.URL, BodyTemplate: jsonTemplate})},
		openStore(t, ""), clock.NewFake(t0), Options{CodeTimeout: 5 * time.Second})
	if err := d.SendCode(context.Background(), ChannelSMS, "+15551234567", codeMessage(t, "11223344")); err != nil {
		t.Fatal(err)
	}
	if got := g.got(); len(got) != 1 || !strings.Contains(got[0].body, "11223344 is your code") {
		t.Fatalf("requests %+v", got)
	}
	g.set(func(g *gateway) { g.status = http.StatusBadGateway })
	err := d.SendCode(context.Background(), ChannelSMS, "+15551234567", codeMessage(t, "55667788"))
	if !errors.Is(err, ErrDeliveryFailed) || strings.Contains(err.Error(), "55667788") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v", err)
	}
}

// TestSMSPermanentFailuresAreNotRetried queues a text notification for the
// gateway and drives the dispatcher through every retry it would make: a
// 4xx status other than 408 and 429 ends it after one request, while those
// two, a 5xx status and a refused connection are tried MaxAttempts times.
func TestSMSPermanentFailuresAreNotRetried(t *testing.T) {
	const maxAttempts = 4
	tests := []struct {
		status    int // 0: nothing listens
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusNotFound, true},
		{http.StatusUnprocessableEntity, true},
		// The gateway refusing sspr's own key is a setup to fix, not a
		// message to give up on.
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
		{0, false},
	}
	for _, tt := range tests {
		name := http.StatusText(tt.status)
		if tt.status == 0 {
			name = "connection refused"
		}
		t.Run(name, func(t *testing.T) {
			g := startGateway(t)
			g.set(func(g *gateway) { g.status = tt.status })
			u := g.URL
			if tt.status == 0 {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				u = "http://" + l.Addr().String()
				_ = l.Close()
			}
			d, want := failsAfter(t, newSMSChannel(t, SMSConfig{URL: u, BodyTemplate: jsonTemplate}),
				ChannelSMS, "+15551234567", tt.permanent, maxAttempts)
			if tt.status != 0 {
				if n := len(g.got()); n != want {
					t.Fatalf("the gateway saw %d requests, want %d", n, want)
				}
			}

			err := d.SendCode(context.Background(), ChannelSMS, "+15551234567", codeMessage(t, "24680135"))
			if !errors.Is(err, ErrDeliveryFailed) || errors.Is(err, ErrPermanent) != tt.permanent {
				t.Fatalf("SendCode: err = %v; want ErrDeliveryFailed, ErrPermanent %v", err, tt.permanent)
			}
		})
	}
}
