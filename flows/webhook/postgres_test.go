package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/webhook"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Three replicas sharing one PostgreSQL store, each with its own
// connections and sender, deliver every queued event exactly once.
func TestReplicasOnPostgresDeliverEachOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	clk := clock.NewFake(flowstest.Start)
	r := newReceiver(t, clk.Now)
	ep := r.endpoint(config.WebhookPolicyChanged)
	var senders []*webhook.Sender
	var dbs []*store.DB
	for range 3 {
		db, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
		senders = append(senders, webhook.New(db, clk, []webhook.Endpoint{ep},
			webhook.Options{Record: func(context.Context, *store.Tx, audit.Entry) error { return nil }}))
	}
	const events = 30
	for i := range events {
		p := webhook.Payload{Event: config.WebhookPolicyChanged, Time: fmt.Sprint(i), Actor: "admin:root", Outcome: "ok"}
		if err := senders[0].QueuePayload(ctx, dbs[0], p); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() {
			if _, _, err := s.DeliverDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := r.deliveries()
	seen := map[string]bool{}
	for _, d := range got {
		var p webhook.Payload
		if err := json.Unmarshal(d.body, &p); err != nil || d.invalid != "" {
			t.Fatalf("delivery %s: %v %s", d.body, err, d.invalid)
		}
		if seen[p.Time] {
			t.Errorf("event %s delivered twice", p.Time)
		}
		seen[p.Time] = true
	}
	if len(got) != events {
		t.Fatalf("%d deliveries of %d events", len(got), events)
	}
}
