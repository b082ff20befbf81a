package flows_test

import (
	"context"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
)

// Ready answers from the store: fine while it is open, an error once it
// cannot be reached.
func TestReadyFollowsStore(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	if err := h.Svc.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	depth, err := h.Svc.OutboxDepth(ctx)
	if err != nil || len(depth) != 0 {
		t.Fatalf("depth %v, %v", depth, err)
	}
	if err := h.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.Ready(ctx); err == nil {
		t.Fatal("ready with the store closed")
	}
}
