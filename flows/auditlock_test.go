package flows_test

import (
	"context"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/store"
)

// TestAuditChainHeldOnlyForTheCommit: on a PostgreSQL store shared by two
// replicas, a transaction that records an audit entry and then goes on with
// slow work does not hold the chain meanwhile: the other replica's entries
// are appended at once, not after the slow work, and the chain verifies.
func TestAuditChainHeldOnlyForTheCommit(t *testing.T) {
	a := flowstest.New(t, flowstest.Options{Engine: store.Postgres})
	b := flowstest.New(t, flowstest.Options{DSN: a.DSN(), Dir: a.Dir})
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.Svc.RecordThenHold(ctx, audit.Entry{Event: audit.EventSignIn, Actor: "slow", Target: "slow", Source: "test"},
			held, release)
	}()
	<-held
	start := time.Now()
	// The other replica signs in a user who does not exist: a failed
	// sign-in, recorded in the audit log in a transaction of its own.
	_, err := b.Svc.SignIn(ctx, "nobody", "wrong password", "test:b")
	waited := time.Since(start)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err == nil {
		t.Fatal("a sign-in of nobody succeeded")
	}
	// The slow transaction held on for as long as the sign-in took; a
	// sign-in that queued behind it would never have returned before
	// release. A generous bound still tells the two apart.
	if waited > 3*time.Second {
		t.Fatalf("the other replica waited %s for the chain", waited)
	}
	res, err := b.Svc.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Rows < 2 {
		t.Fatalf("audit chain after two writers: %+v", res)
	}
}
