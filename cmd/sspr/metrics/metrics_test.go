package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sspr-kiosk/sspr/flows/audit"
)

func TestEventsCountedWithBoundedLabels(t *testing.T) {
	m := New()
	m.Event(audit.Entry{Event: audit.EventBlockApplied, Target: "alice"})
	m.Event(audit.Entry{Event: audit.EventBlockApplied, Target: "source:ssh:192.0.2.7"})
	m.Event(audit.Entry{Event: audit.EventBlockApplied, Target: "source:ssh:192.0.2.8"})
	m.Event(audit.Entry{Event: audit.EventPasswordChanged, Target: "bob", Outcome: "ok"})
	m.Event(audit.Entry{Event: audit.EventVerifyFailed, Target: "bob", Outcome: "wrong code for bob@example.org"})
	m.Event(audit.Entry{Event: audit.EventUserUnlocked, Target: "carol", Actor: "admin:root"})
	m.Event(audit.Entry{Event: audit.EventAccountUnlocked, Target: "carol", Actor: "admin:root"})
	m.Event(audit.Entry{Event: audit.EventAccountUnlocked, Target: "dave", Actor: "dave", Outcome: "not locked"})
	m.Refused("per-address connection cap")
	m.Refused("per-address connection cap")
	m.WebhookAttempt("siem", false, time.Second)
	m.StoreError(errors.New("database is locked"))
	for name, tc := range map[string]struct {
		got, want float64
	}{
		"account blocks": {testutil.ToFloat64(m.blocks.WithLabelValues("account")), 1},
		"source blocks":  {testutil.ToFloat64(m.blocks.WithLabelValues("source")), 2},
		"changes":        {testutil.ToFloat64(m.passwords.WithLabelValues("change", "ok")), 1},
		"unlocks":        {testutil.ToFloat64(m.passwords.WithLabelValues("unlock", "ok")), 1},
		"not locked":     {testutil.ToFloat64(m.passwords.WithLabelValues("unlock", "other")), 1},
		"odd outcome":    {testutil.ToFloat64(m.events.WithLabelValues("verify.failed", "other")), 1},
		"refused":        {testutil.ToFloat64(m.refused.WithLabelValues("per-address connection cap")), 2},
		"webhook":        {testutil.ToFloat64(m.webhooks.WithLabelValues("siem", "failed")), 1},
		"store":          {testutil.ToFloat64(m.storeErrors), 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", name, tc.got, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler(func(context.Context) error { return nil }).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, leak := range []string{"192.0.2", "alice", "bob", "carol", "example.org"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("the exposition holds %q", leak)
		}
	}
}

// /readyz follows the store and the drain; /healthz only the process.
func TestReadiness(t *testing.T) {
	m := New()
	var storeErr error
	h := m.Handler(func(context.Context) error { return storeErr })
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	if get("/readyz") != http.StatusOK || get("/healthz") != http.StatusOK {
		t.Fatal("not ready at start")
	}
	storeErr = errors.New("connection refused")
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d with the store down", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz %d with the store down", got)
	}
	storeErr = nil
	m.Draining()
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d while draining", got)
	}
}
