package flows_test

import (
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// TestTidy: spent records go once no rule needs them, and not before;
// a message still waiting to be sent is never deleted.
func TestTidy(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "00000000"); err == nil {
		t.Fatal("a wrong code was accepted")
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	// The reset's notice to alice is sent; a second copy waits in the queue
	// (its server down, say) for as long as it takes.
	rows, err := store.ListOutbox(ctx, h.DB, 0, 100)
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox: %d rows, %v", len(rows), err)
	}
	waiting := rows[0]
	waiting.ID, waiting.State = 0, "queued"
	if _, err := store.EnqueueOutbox(ctx, h.DB, waiting); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkOutboxSent(ctx, h.DB, rows[0].ID, h.Clock.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	counts := func() (events, challenges, sent, queued int) {
		t.Helper()
		n, err := storetest.CountTidyable(ctx, h.DB)
		if err != nil {
			t.Fatal(err)
		}
		return n.ThrottleEvents, n.Challenges, n.OutboxDone, n.OutboxQueued
	}
	e0, c0, s0, q0 := counts()
	if e0 == 0 || c0 == 0 || s0 == 0 || q0 == 0 {
		t.Fatalf("nothing to tidy: %d events, %d challenges, %d sent, %d queued", e0, c0, s0, q0)
	}

	h.Clock.Advance(time.Hour)
	if err := h.Svc.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	if e, c, s, q := counts(); e != e0 || c != c0 || s != s0 || q != q0 {
		t.Fatalf("after an hour: %d/%d events, %d/%d challenges, %d/%d sent, %d/%d queued kept",
			e, e0, c, c0, s, s0, q, q0)
	}

	h.Clock.Advance(25 * time.Hour)
	if err := h.Svc.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	if e, c, s, q := counts(); e != 0 || c != 0 || s != 0 || q != q0 {
		t.Fatalf("after a day: %d events, %d challenges, %d sent, %d/%d queued", e, c, s, q, q0)
	}
}
