package flows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestLapsedFlowsAndSessions moves the injected clock past the lifetime of
// some flows and sessions: every lookup refuses them at once, while the
// memory they hold is freed by the first insert a sweep interval after the
// last sweep, not by every insert.
func TestLapsedFlowsAndSessions(t *testing.T) {
	if flows.FlowLifetime != flows.SessionLifetime {
		t.Fatal("the test steps both lifetimes together")
	}
	ctx := context.Background()
	h := flowstest.New(t)
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		h.AddUser(t, name, false)
	}
	held := func(wantFlows, wantSessions int) {
		t.Helper()
		if f, s := h.Svc.HeldInMemory(); f != wantFlows || s != wantSessions {
			t.Fatalf("at +%s: %d flows and %d sessions held, want %d and %d",
				h.Clock.Now().Sub(flowstest.Start), f, s, wantFlows, wantSessions)
		}
	}
	expired := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, flows.ErrFlowExpired) {
			t.Fatalf("%s of a lapsed id: err = %v, want ErrFlowExpired", what, err)
		}
	}

	// At the start: three flows and three sessions that will lapse first.
	oldFlows := []string{h.StartReset(t, "alice").FlowID, h.StartReset(t, "bob").FlowID, h.StartReset(t, "carol").FlowID}
	oldSessions := []string{h.SignIn(t, "alice"), h.SignIn(t, "bob"), h.SignIn(t, "carol")}
	held(3, 3)

	// Half a minute before they lapse, one more of each; these inserts
	// sweep (the last sweep was at the start) but nothing has lapsed yet.
	h.Clock.Advance(flows.FlowLifetime - 30*time.Second)
	liveFlow, liveSession := h.StartReset(t, "dave").FlowID, h.SignIn(t, "dave")
	sweptAt := h.Clock.Now()
	held(4, 4)

	// Now the first ones have lapsed: no lookup returns them.
	h.Clock.Advance(31 * time.Second)
	_, err := h.Svc.PasswordRulesFor(ctx, oldFlows[0])
	expired("PasswordRulesFor (flow)", err)
	_, err = h.Svc.SendCode(ctx, oldFlows[1], policy.Email)
	expired("SendCode", err)
	_, err = h.Svc.PasswordRulesFor(ctx, oldSessions[0])
	expired("PasswordRulesFor (session)", err)
	_, err = h.Svc.Overview(ctx, oldSessions[1])
	expired("Overview", err)
	// Those lookups dropped what they refused; the third of each is still
	// held, and an insert within the interval does not sweep it.
	held(2, 2)
	h.StartReset(t, "erin")
	h.SignIn(t, "erin")
	held(3, 3)

	// The first insert a full interval after the last sweep frees it: each
	// count stays at 3 where, unswept, it would reach 4.
	h.Clock.Set(sweptAt.Add(flows.SweepInterval))
	h.StartReset(t, "erin")
	held(3, 3)
	h.SignIn(t, "erin")
	held(3, 3)
	_, err = h.Svc.PasswordRulesFor(ctx, oldFlows[2])
	expired("PasswordRulesFor (swept flow)", err)
	_, err = h.Svc.Session(ctx, oldSessions[2])
	expired("Session (swept session)", err)

	// The ones that have not lapsed are still there.
	if _, err := h.Svc.PasswordRulesFor(ctx, liveFlow); err != nil {
		t.Fatalf("live flow: %v", err)
	}
	if _, err := h.Svc.Session(ctx, liveSession); err != nil {
		t.Fatalf("live session: %v", err)
	}
}
