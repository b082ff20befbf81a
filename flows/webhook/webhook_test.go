package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/webhook"
	"github.com/sspr-kiosk/sspr/flows/webhook/webhooktest"
	"github.com/sspr-kiosk/sspr/store"
)

const (
	specSecret    = webhooktest.SpecSecret
	specID        = webhooktest.SpecID
	specTimestamp = webhooktest.SpecTimestamp
	specPayload   = webhooktest.SpecPayload
	specSignature = webhooktest.SpecSignature
)

const newPassword = "a brand new correct horse battery staple"

var verify = webhooktest.Verify

func specHeader(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", specTimestamp)
	h.Set("webhook-signature", sig)
	return h
}

// The receiver's check agrees with the spec's published vector, and so
// can judge sspr's signatures; sspr's signer produces the same value.
func TestVerifierAndSignerMatchSpecVector(t *testing.T) {
	at := time.Unix(1614265330, 0)
	if why := verify(specSecret, specHeader(specSignature), []byte(specPayload), at); why != "" {
		t.Fatalf("the spec's own vector fails the receiver's check: %s", why)
	}
	for name, tc := range map[string]struct {
		sig, body string
	}{
		"tampered body": {specSignature, `{"test": 2432232315}`},
		"other sig":     {"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", specPayload},
		"wrong version": {"v2," + strings.TrimPrefix(specSignature, "v1,"), specPayload},
	} {
		if why := verify(specSecret, specHeader(tc.sig), []byte(tc.body), at); why == "" {
			t.Errorf("%s: accepted", name)
		}
	}
	if why := verify(specSecret, specHeader("v1,bm9wZQ== "+specSignature), []byte(specPayload), at); why != "" {
		t.Errorf("one good signature among several refused: %s", why)
	}
	if why := verify(specSecret, specHeader(specSignature), []byte(specPayload), at.Add(6*time.Minute)); why == "" {
		t.Error("an old timestamp was accepted")
	}
	key, err := config.ParseWebhookSecret(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := webhook.Sign(key, specID, 1614265330, []byte(specPayload)); got != specSignature {
		t.Fatalf("Sign = %s, the spec says %s", got, specSignature)
	}
}

// delivery is one request a receiver got.
type delivery struct {
	id      string
	body    []byte
	invalid string
}

// receiver is an HTTP endpoint that checks each request's signature and
// answers with the next status of its script (the last one repeats).
type receiver struct {
	t       *testing.T
	now     func() time.Time
	mu      sync.Mutex
	got     []delivery
	script  []int
	hang    chan struct{}
	arrived chan struct{}
	srv     *httptest.Server
}

func newReceiver(t *testing.T, now func() time.Time, script ...int) *receiver {
	r := &receiver{t: t, now: now, script: script, arrived: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	d := delivery{id: req.Header.Get("webhook-id"), body: body, invalid: verify(specSecret, req.Header, body, r.now())}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		d.invalid = "not a JSON POST"
	}
	r.got = append(r.got, d)
	status := http.StatusOK
	if len(r.script) > 0 {
		status = r.script[min(len(r.got), len(r.script))-1]
	}
	hang := r.hang
	r.mu.Unlock()
	r.arrived <- struct{}{}
	if hang != nil {
		select {
		case <-hang:
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(status)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) endpoint(events ...string) webhook.Endpoint {
	key, err := config.ParseWebhookSecret(specSecret)
	if err != nil {
		r.t.Fatal(err)
	}
	return webhook.Endpoint{Name: "siem", URL: r.srv.URL, Key: key, Events: events, Timeout: 30 * time.Second}
}

// reset takes alice through a reset by emailed code.
func reset(t *testing.T, h *flowstest.Harness, name string) {
	t.Helper()
	ctx := context.Background()
	rs := h.StartReset(t, name)
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, name+"@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, newPassword); err != nil {
		t.Fatal(err)
	}
}

func harness(t *testing.T, r *receiver, events ...string) *flowstest.Harness {
	h := flowstest.New(t, flowstest.Options{Webhooks: []webhook.Endpoint{r.endpoint(events...)}})
	r.now = h.Clock.Now
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	return h
}

func TestResetSendsSignedEventWithoutSecrets(t *testing.T) {
	r := newReceiver(t, nil)
	h := harness(t, r, config.WebhookPasswordReset)
	reset(t, h, "alice")
	// The notification dispatcher leaves webhook events to their sender.
	if _, _, err := h.Dispatcher.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent, failed, err := h.Svc.Webhooks().DeliverDue(context.Background())
	if err != nil || sent != 1 || failed != 0 {
		t.Fatalf("deliver: sent %d failed %d: %v", sent, failed, err)
	}
	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1 (the email registration is not subscribed)", len(got))
	}
	if got[0].invalid != "" {
		t.Fatalf("signature: %s", got[0].invalid)
	}
	var p map[string]string
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"event": "password.reset", "time": h.Clock.Now().UTC().Format(time.RFC3339),
		"actor": "alice", "subject": "alice", "source": flowstest.Source, "outcome": "ok"}
	if !maps(p, want) {
		t.Fatalf("payload %v, want %v", p, want)
	}
	code := h.Inbox.LastCode(t, "alice@example.com")
	for _, secret := range []string{newPassword, flowstest.Password, code, "whsec", "MfKQ9r8"} {
		if strings.Contains(string(got[0].body), secret) {
			t.Errorf("payload holds %q", secret)
		}
	}
	if !strings.HasPrefix(got[0].id, "msg_") || strings.Contains(got[0].id, ".") {
		t.Errorf("webhook-id %q", got[0].id)
	}
	// Delivered once: a second pass sends nothing.
	h.Clock.Advance(time.Hour)
	if sent, _, _ := h.Svc.Webhooks().DeliverDue(context.Background()); sent != 0 || len(r.deliveries()) != 1 {
		t.Fatalf("sent again: %d", sent)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// A receiver that fails three times gets the event a fourth time, with the
// same webhook-id, after the spec's backoff; then never again. A second
// sender on the same store (a restart) keeps the schedule: the wait is in
// the store, not in the process.
func TestRetriedWithSameIDAcrossRestart(t *testing.T) {
	r := newReceiver(t, nil, 500, 500, 500, 200)
	h := harness(t, r, config.WebhookPasswordReset)
	reset(t, h, "alice")
	ctx := context.Background()
	first := h.Svc.Webhooks()
	if _, failed, err := first.DeliverDue(ctx); failed != 1 || err != nil {
		t.Fatalf("first attempt: failed %d, %v", failed, err)
	}
	// Restarted: a new sender over the same store, with nothing in memory.
	restarted := webhook.New(h.DB, h.Clock, []webhook.Endpoint{r.endpoint(config.WebhookPasswordReset)},
		webhook.Options{Record: func(context.Context, *store.Tx, audit.Entry) error { return nil }})
	for i, wait := range []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute} {
		h.Clock.Advance(wait - time.Second)
		if sent, failed, _ := restarted.DeliverDue(ctx); sent+failed != 0 {
			t.Fatalf("retry %d went before its backoff of %v", i+1, wait)
		}
		h.Clock.Advance(time.Second)
		sent, failed, err := restarted.DeliverDue(ctx)
		if err != nil || sent+failed != 1 {
			t.Fatalf("retry %d after %v: sent %d failed %d %v", i+1, wait, sent, failed, err)
		}
	}
	got := r.deliveries()
	if len(got) != 4 {
		t.Fatalf("receiver got %d requests, want 4", len(got))
	}
	for i, d := range got {
		if d.id != got[0].id {
			t.Errorf("attempt %d has webhook-id %s, the first had %s", i+1, d.id, got[0].id)
		}
		if d.invalid != "" {
			t.Errorf("attempt %d: %s", i+1, d.invalid)
		}
		if string(d.body) != string(got[0].body) {
			t.Errorf("attempt %d has another body", i+1)
		}
	}
	h.Clock.Advance(48 * time.Hour)
	if sent, failed, _ := restarted.DeliverDue(ctx); sent+failed != 0 || len(r.deliveries()) != 4 {
		t.Fatal("delivered again after the receiver took it")
	}
}

// A receiver that never takes the event is tried for a day, then the event
// is given up and audited as webhook.failed, once.
func TestGivenUpAfterADayAndAudited(t *testing.T) {
	r := newReceiver(t, nil, 503)
	h := harness(t, r, config.WebhookPasswordReset)
	reset(t, h, "alice")
	ctx := context.Background()
	start := h.Clock.Now()
	for range 400 {
		if _, _, err := h.Svc.Webhooks().DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if h.CountEvents(t, audit.EventWebhookFailed) > 0 {
			break
		}
		h.Clock.Advance(10 * time.Minute)
	}
	elapsed := h.Clock.Now().Sub(start)
	if elapsed < 24*time.Hour || elapsed > 25*time.Hour {
		t.Fatalf("given up after %v, want a day", elapsed)
	}
	n := len(r.deliveries())
	if n < 5 || n > 10 {
		t.Errorf("%d attempts in a day, want the backoff's handful", n)
	}
	entries, err := h.Svc.AuditEntries(ctx, audit.Filter{Events: []audit.Event{audit.EventWebhookFailed}})
	if err != nil || len(entries) != 1 {
		t.Fatalf("webhook.failed rows: %v %v", entries, err)
	}
	e := entries[0]
	if e.Target != "webhook:siem" || e.Outcome != audit.OutcomeFailed || !strings.Contains(e.Detail, "password.reset") ||
		!strings.Contains(e.Detail, r.deliveries()[0].id) || !strings.Contains(e.Detail, "503") {
		t.Errorf("audit entry %+v", e)
	}
	h.Clock.Advance(48 * time.Hour)
	if _, _, err := h.Svc.Webhooks().DeliverDue(ctx); err != nil || len(r.deliveries()) != n {
		t.Fatalf("tried again after giving up: %d, %v", len(r.deliveries()), err)
	}
	if got := h.CountEvents(t, audit.EventWebhookFailed); got != 1 {
		t.Fatalf("webhook.failed audited %d times", got)
	}
}

// A receiver that hangs holds a delivery, never a reset: with the sender
// running and stuck on that receiver, a whole reset takes a small part of
// the receiver's timeout.
func TestHangingReceiverDoesNotSlowReset(t *testing.T) {
	r := newReceiver(t, nil)
	r.hang = make(chan struct{})
	t.Cleanup(func() { close(r.hang) })
	h := harness(t, r, config.WebhookPasswordReset)
	h.AddUser(t, "bob", false)
	h.RegisterEmail(t, "bob")
	ctx, cancel := context.WithCancel(context.Background())
	s := webhook.New(h.DB, h.Clock, []webhook.Endpoint{r.endpoint(config.WebhookPasswordReset)},
		webhook.Options{PollInterval: 10 * time.Millisecond, Record: func(context.Context, *store.Tx, audit.Entry) error { return nil }})
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	reset(t, h, "alice")
	select {
	case <-r.arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the sender never reached the receiver")
	}
	// The sender is now waiting on the receiver, for up to 30 s.
	start := time.Now()
	reset(t, h, "bob")
	took := time.Since(start)
	t.Logf("reset with a hanging receiver took %v", took)
	if took > 5*time.Second {
		t.Fatalf("a reset took %v while the receiver hung", took)
	}
	if n := len(r.deliveries()); n != 1 {
		t.Fatalf("receiver got %d requests while hanging on the first", n)
	}
}

// Two senders sharing a store (two replicas) deliver each event once.
func TestTwoSendersDeliverEachOnce(t *testing.T) {
	r := newReceiver(t, nil)
	h := harness(t, r, config.WebhookPasswordReset, config.WebhookPolicyChanged)
	for _, v := range []string{"13", "14", "15", "16", "17", "18"} {
		h.SetPolicy(t, "password_min_length", v)
	}
	reset(t, h, "alice")
	senders := []*webhook.Sender{h.Svc.Webhooks(), webhook.New(h.DB, h.Clock,
		[]webhook.Endpoint{r.endpoint(config.WebhookPasswordReset, config.WebhookPolicyChanged)},
		webhook.Options{Record: func(context.Context, *store.Tx, audit.Entry) error { return nil }})}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() {
			if _, _, err := s.DeliverDue(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := r.deliveries()
	ids := map[string]bool{}
	events := map[string]int{}
	for _, d := range got {
		if ids[d.id] {
			t.Errorf("%s delivered twice", d.id)
		}
		ids[d.id] = true
		var p webhook.Payload
		_ = json.Unmarshal(d.body, &p)
		events[p.Event]++
	}
	if len(got) != 7 || events["admin.policy_changed"] != 6 || events["password.reset"] != 1 {
		t.Fatalf("deliveries %d: %v", len(got), events)
	}
}

// Every event a receiver can ask for comes from some audit event, but the
// one found outside the log; blocks of a source are not an account's.
func TestEveryEventHasASource(t *testing.T) {
	made := map[string]bool{config.WebhookChainBroken: true}
	for _, ev := range audit.AllEvents() {
		if p, ok := webhook.PayloadOf(audit.Entry{Event: ev, Target: "alice", At: time.Now()}); ok {
			made[p.Event] = true
		}
	}
	for _, ev := range config.WebhookEvents() {
		if !made[ev] {
			t.Errorf("nothing sends %s", ev)
		}
	}
	if _, ok := webhook.PayloadOf(audit.Entry{Event: audit.EventBlockApplied, Target: "source:192.0.2.1"}); ok {
		t.Error("a source block is sent as account.blocked")
	}
	if _, ok := webhook.PayloadOf(audit.Entry{Event: audit.EventAccountUnlocked, Target: "dave", Outcome: "not locked"}); ok {
		t.Error("an unlock of an account that was not locked is sent as account.unlocked")
	}
	p, _ := webhook.PayloadOf(audit.Entry{Event: audit.EventPolicyChanged, Target: "policy", Actor: "admin:root"})
	if p.Subject != "" || p.Actor != "admin:root" {
		t.Errorf("policy change payload %+v", p)
	}
}

// A tampered audit head found by the minute's anchoring is sent as
// audit.chain_broken, once however often it is found again.
func TestBrokenChainSentOnce(t *testing.T) {
	r := newReceiver(t, nil)
	h := harness(t, r, config.WebhookChainBroken)
	ctx := context.Background()
	if _, _, err := h.Svc.AnchorAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DB.ExecContext(ctx, `UPDATE audit_head SET rows = rows - 1`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := h.Svc.AnchorAudit(ctx); !errors.Is(err, audit.ErrHeadMismatch) {
			t.Fatalf("anchor: %v, want a head mismatch", err)
		}
	}
	if _, _, err := h.Svc.Webhooks().DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	var p webhook.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil || p.Event != config.WebhookChainBroken || p.Actor != "system" ||
		p.Outcome != audit.OutcomeFailed || got[0].invalid != "" {
		t.Fatalf("payload %+v (%v), signature %q", p, err, got[0].invalid)
	}
}

// An admin's unlock of a locked-out account is one account.unlocked event;
// the same action on an account that was not locked is none.
func TestUnlockSentOnlyWhenLocked(t *testing.T) {
	r := newReceiver(t, nil)
	h := harness(t, r, config.WebhookAccountUnlocked)
	h.AddUser(t, "bob", false)
	h.SetPolicy(t, policy.KeyLockoutThreshold, "3")
	ctx := context.Background()
	for i := range 3 {
		h.Clock.Advance(flows.SourceMaxDelay)
		if _, err := h.Svc.SignIn(ctx, "alice", fmt.Sprintf("wrong password %d", i), flowstest.Source); !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := h.Svc.Unlock(ctx, h.Admin, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := h.Svc.Webhooks().DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	var p webhook.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil || p.Event != "account.unlocked" || p.Subject != "alice" ||
		p.Actor != h.Admin.Name {
		t.Fatalf("payload %+v %v", p, err)
	}
}
