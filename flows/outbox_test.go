package flows_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// demoHarness delivers codes to the outbox table, as the demo does.
func demoHarness(t *testing.T) *flowstest.Harness {
	t.Helper()
	h := flowstest.New(t, flowstest.Options{Channels: func(db *store.DB, clk clock.Clock) map[string]dispatch.Channel {
		ob := dispatch.NewOutboxChannel(db, clk)
		return map[string]dispatch.Channel{dispatch.ChannelEmail: ob, dispatch.ChannelSMS: ob}
	}})
	for _, name := range []string{"alice", "bob", "carol"} {
		h.AddUser(t, name, false)
	}
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	h.RegisterVerified(t, "carol", policy.Email, "carol@example.com")
	return h
}

// read returns what the view shows now, as "to: body" lines.
func read(t *testing.T, h *flowstest.Harness, v *flows.OutboxView) []string {
	t.Helper()
	msgs, err := h.Svc.Outbox(context.Background(), v, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.To+": "+m.Subject)
	}
	return out
}

// TestOutboxViewPerSession: each demo session sees the messages to the
// people it looked up, and nobody else's: session A resets alice, session
// B looks up bob and then resets carol.
func TestOutboxViewPerSession(t *testing.T) {
	h := demoHarness(t)
	ctx := context.Background()
	a, b := flows.NewOutboxView(), flows.NewOutboxView()
	if got := read(t, h, a); len(got) != 0 {
		t.Fatalf("a new session sees %v", got)
	}
	read(t, h, b)

	rsA := h.StartReset(t, "alice")
	a.Watch(rsA.FlowID)
	h.SendCode(t, rsA.FlowID, policy.Email)
	rsBob := h.StartReset(t, "bob")
	b.Watch(rsBob.FlowID)

	gotA := read(t, h, a)
	if len(gotA) != 1 || !strings.HasPrefix(gotA[0], "alice@example.com: ") {
		t.Errorf("session A (alice) sees %v; want alice's code", gotA)
	}
	if gotB := read(t, h, b); len(gotB) != 0 {
		t.Errorf("session B (bob) sees %v; want nothing", gotB)
	}

	rsB := h.StartReset(t, "carol")
	b.Watch(rsB.FlowID)
	h.SendCode(t, rsB.FlowID, policy.Email)
	if gotB := read(t, h, b); len(gotB) != 1 || !strings.HasPrefix(gotB[0], "carol@example.com: ") {
		t.Errorf("session B (carol) sees %v; want carol's code", gotB)
	}
	if gotA := read(t, h, a); len(gotA) != 0 {
		t.Errorf("session A sees %v after carol's code; want nothing new", gotA)
	}

	// Alice's reset ends with a notification to her: A sees it, B does not.
	codeA := h.OutboxCode(t, "alice@example.com")
	if p, err := h.Svc.VerifyCode(ctx, rsA.FlowID, policy.Email, codeA); err != nil || !p.Done {
		t.Fatalf("verify: %+v, %v", p, err)
	}
	if err := h.Svc.CompleteReset(ctx, rsA.FlowID, "Velvet Tangerine Harbour 42"); err != nil {
		t.Fatal(err)
	}
	if gotA := read(t, h, a); len(gotA) == 0 || !strings.HasPrefix(gotA[0], "alice@example.com: ") {
		t.Errorf("session A sees %v after alice's reset; want her notification", gotA)
	}
	if gotB := read(t, h, b); len(gotB) != 0 {
		t.Errorf("session B sees %v after alice's reset; want nothing", gotB)
	}

	// A session that signs in and registers a new address sees the code
	// sent there.
	c := flows.NewOutboxView()
	read(t, h, c)
	sid := h.SignIn(t, "bob")
	c.Watch(sid)
	if _, err := h.Svc.BeginContact(ctx, sid, policy.Email, "bob.new@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, h, c); len(got) != 1 || !strings.HasPrefix(got[0], "bob.new@example.org: ") {
		t.Errorf("session C (bob registering) sees %v; want the code to his new address", got)
	}
	for name, v := range map[string]*flows.OutboxView{"A": a, "B": b} {
		if got := read(t, h, v); len(got) != 0 {
			t.Errorf("session %s sees %v; want nothing of bob's", name, got)
		}
	}
}
