package flows_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// statementLog records the statements a store sends to PostgreSQL, each
// one a round trip (BEGIN and COMMIT included: pgx sends them as
// statements).
type statementLog struct {
	mu   sync.Mutex
	sent []string
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, strings.Join(strings.Fields(d.SQL), " "))
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the statements recorded since the last take.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sent
	l.sent = nil
	return out
}

// TestResetStatements counts the statements a full reset by emailed code
// sends to a PostgreSQL store, step by step, with a full password history:
// each is a round trip, which over a network is what a reset costs besides
// its hashing. The bounds are what a reset sends today; a change that adds
// one should say why, here. Run with -v to see them.
func TestResetStatements(t *testing.T) {
	log := &statementLog{}
	e := flowstest.New(t, flowstest.Options{Engine: store.Postgres, Tracer: log})
	e.AddUser(t, "alice", false)
	e.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	// Fill the password history, and let every connection of the pool
	// prepare its statements: what is counted is a reset on a warm portal.
	for range 6 {
		benchReset(t, e, "alice")
	}
	ctx := context.Background()
	steps := []struct {
		name string
		max  int
		run  func(flowID *string)
	}{
		// The account's and the kiosk's blocks, the policy, the user, their
		// methods, an active voucher.
		{"StartReset", 5, func(flowID *string) {
			rs, err := e.Svc.StartReset(ctx, "alice", "kiosk-bench")
			if err != nil {
				t.Fatal(err)
			}
			*flowID = rs.FlowID
		}},
		// The blocks; then BEGIN, the account's throttle lock, the send
		// counted under its limit, the code's challenge replacing any open
		// one, the audit head locked, the audit row with the new head,
		// COMMIT.
		{"SendCode", 8, func(flowID *string) {
			if _, err := e.Svc.SendCode(ctx, *flowID, policy.Email); err != nil {
				t.Fatal(err)
			}
		}},
		// The blocks and the kiosk's pace; then BEGIN, the challenge, it
		// marked verified, the audit head, the audit row, COMMIT.
		{"VerifyCode", 8, func(flowID *string) {
			p, err := e.Svc.VerifyCode(ctx, *flowID, policy.Email, e.Inbox.NewestCode())
			if err != nil || !p.Done {
				t.Fatalf("verify: %+v %v", p, err)
			}
		}},
		// The user, the policy, the password history (hashed outside the
		// transaction); then BEGIN, the proof consumed, the new password,
		// the history with its trim, the account's throttle and block
		// cleared, its lockout lifted with the wrong passwords it counted,
		// the audit head, the audit row, the contacts to tell, the
		// notification, COMMIT.
		{"CompleteReset", 14, func(flowID *string) {
			if err := e.Svc.CompleteReset(ctx, *flowID, resetPassword(resetCounter.Add(1))); err != nil {
				t.Fatal(err)
			}
		}},
	}
	log.take()
	var flowID string
	total := 0
	for _, st := range steps {
		st.run(&flowID)
		e.Settle()
		sent := log.take()
		total += len(sent)
		for i, q := range sent {
			t.Logf("%s %2d: %.110s", st.name, i+1, q)
		}
		if len(sent) > st.max {
			t.Errorf("%s sent %d statements, more than %d", st.name, len(sent), st.max)
		}
	}
	t.Logf("a reset sends %d statements", total)
}
