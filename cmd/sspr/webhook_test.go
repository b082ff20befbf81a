package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/webhook/webhooktest"
)

// `sspr webhook test NAME` pings the receiver with a signed event and
// prints its status; a refusal is a one-line failure naming the status.
func TestWebhookTestCommand(t *testing.T) {
	var mu sync.Mutex
	status := http.StatusOK
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if why := webhooktest.Verify(webhooktest.SpecSecret, r.Header, body, time.Now()); why != "" {
			t.Errorf("ping refused by the receiver: %s", why)
		}
		var p map[string]string
		if err := json.Unmarshal(body, &p); err != nil || p["event"] != "ping" || p["source"] != "cli" {
			t.Errorf("ping payload %s: %v", body, err)
		}
		got = append(got, r.Header.Get("webhook-id"))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	f := newFolder(t)
	env := cleanEnv(`SSPR_WEBHOOKS=[{name: siem, url: "`+srv.URL+`", events: [password.reset]}]`,
		"SSPR_WEBHOOK_SIEM_SECRET="+webhooktest.SpecSecret)
	r := runEnv(t, env, "", "--data", f.dir, "webhook", "test", "siem")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "siem: 200 OK in ") {
		t.Fatalf("ping:\n%s", r)
	}
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	expectFailure(t, runEnv(t, env, "", "--data", f.dir, "webhook", "test", "siem"), "503 Service Unavailable")
	expectFailure(t, runEnv(t, env, "", "--data", f.dir, "webhook", "test", "crm"), "no such webhook")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] == got[1] {
		t.Errorf("pings %q, want two with their own ids", got)
	}
}
