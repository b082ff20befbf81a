package flows_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestOperatorsHearOnlyCommittedEntries: the metrics hear an audit entry
// once the transaction that recorded it has committed. A step that fails
// after recording rolls its entry back, and nobody hears of it; a reset is
// heard once for each thing it did.
func TestOperatorsHearOnlyCommittedEntries(t *testing.T) {
	var mu sync.Mutex
	var heard []audit.Event
	h := flowstest.New(t, flowstest.Options{OnRecord: func(e audit.Entry) {
		mu.Lock()
		heard = append(heard, e.Event)
		mu.Unlock()
	}})
	h.AddUser(t, "alice", false)
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	mu.Lock()
	heard = nil
	mu.Unlock()

	ctx := context.Background()
	failed := errors.New("the step after the audit entry failed")
	err := h.Svc.RecordThenFail(ctx, audit.Entry{Event: audit.EventPasswordReset, Actor: "alice", Target: "alice"}, failed)
	if !errors.Is(err, failed) {
		t.Fatalf("the failing step: %v", err)
	}
	if n := h.CountEvents(t, audit.EventPasswordReset); n != 0 {
		t.Fatalf("%d password.reset rows after a rollback", n)
	}
	mu.Lock()
	if len(heard) != 0 {
		t.Errorf("an entry rolled back was heard: %v", heard)
	}
	mu.Unlock()

	benchReset(t, h, "alice")
	h.Settle()
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range []audit.Event{audit.EventVerifySucceeded, audit.EventPasswordReset} {
		if n := countOf(heard, ev); n != 1 {
			t.Errorf("a reset was heard with %d %s, want 1 (heard %v)", n, ev, heard)
		}
	}
}

func countOf(events []audit.Event, ev audit.Event) int {
	n := 0
	for _, e := range events {
		if e == ev {
			n++
		}
	}
	return n
}
