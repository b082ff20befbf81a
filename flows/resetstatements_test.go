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

// statementLog records the round trips a store makes to PostgreSQL: a
// statement sent alone, or several sent together in one pipeline (a
// transaction's BEGIN and the writes that need no answer go with the next
// statement; see store/pgpipe.go).
type statementLog struct {
	mu   sync.Mutex
	sent [][]string
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, []string{strings.Join(strings.Fields(d.SQL), " ")})
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *statementLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	sqls := make([]string, len(d.Batch.QueuedQueries))
	for i, q := range d.Batch.QueuedQueries {
		sqls[i] = strings.Join(strings.Fields(q.SQL), " ")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, sqls)
	return ctx
}

func (l *statementLog) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (l *statementLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// take returns the round trips recorded since the last take, each the
// statements it sent.
func (l *statementLog) take() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sent
	l.sent = nil
	return out
}

// TestResetStatements counts the round trips a full reset by emailed code
// makes to a PostgreSQL store, step by step, with a full password history:
// over a network they are what a reset costs besides its hashing. A round
// trip is one statement, or several in one pipeline (a transaction's BEGIN
// and the writes that need no answer go with the next statement, the audit
// row with COMMIT, and reads named ahead with the statement before them). The bounds are what a reset sends today; a change that
// adds one should say why, here. Run with -v to see them.
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
		// 1 the account's and the kiosk's blocks with the policy, and read
		// ahead with them the user and their methods with whether they
		// hold an active voucher.
		{"StartReset", 1, func(flowID *string) {
			rs, err := e.Svc.StartReset(ctx, "alice", "kiosk-bench")
			if err != nil {
				t.Fatal(err)
			}
			*flowID = rs.FlowID
		}},
		// 1 the blocks; 2 BEGIN, the code's challenge replacing any open
		// one, the account's throttle lock, the send counted under its
		// limit and the audit head locked (read ahead); 3 the audit row
		// with the new head and COMMIT.
		{"SendCode", 3, func(flowID *string) {
			if _, err := e.Svc.SendCode(ctx, *flowID, policy.Email); err != nil {
				t.Fatal(err)
			}
		}},
		// 1 the blocks with the kiosk's pace, and the code's challenge read
		// ahead; 2 BEGIN, the challenge marked verified and the audit head
		// (read ahead); 3 the audit row and COMMIT.
		{"VerifyCode", 3, func(flowID *string) {
			p, err := e.Svc.VerifyCode(ctx, *flowID, policy.Email, e.Inbox.NewestCode())
			if err != nil || !p.Done {
				t.Fatalf("verify: %+v %v", p, err)
			}
		}},
		// 1 the user with the policy and the password history (hashed
		// before the transaction); 2 BEGIN, the proof consumed and the
		// contacts to tell (read ahead); 3 the new password; 4 the history
		// with its trim, the account's throttle and block cleared, its
		// lockout lifted with the wrong passwords it counted, and the audit
		// head (read ahead); 5 the notification queued, the audit row and
		// COMMIT.
		{"CompleteReset", 5, func(flowID *string) {
			if err := e.Svc.CompleteReset(ctx, *flowID, resetPassword(resetCounter.Add(1))); err != nil {
				t.Fatal(err)
			}
		}},
	}
	log.take()
	var flowID string
	total, statements := 0, 0
	for _, st := range steps {
		st.run(&flowID)
		e.Settle()
		sent := log.take()
		total += len(sent)
		for _, trip := range sent {
			statements += len(trip)
		}
		for i, trip := range sent {
			for j, q := range trip {
				if j == 0 {
					t.Logf("%s %2d: %.100s", st.name, i+1, q)
				} else {
					t.Logf("%s     + %.100s", strings.Repeat(" ", len(st.name)), q)
				}
			}
		}
		if len(sent) > st.max {
			t.Errorf("%s made %d round trips, more than %d", st.name, len(sent), st.max)
		}
	}
	t.Logf("a reset sends %d statements in %d round trips", statements, total)
	if total > resetRoundTrips || statements > resetStatements {
		t.Errorf("a reset sent %d statements in %d round trips, more than %d in %d", statements, total,
			resetStatements, resetRoundTrips)
	}
}

// What a full reset costs PostgreSQL (TestResetStatements), as the README's
// capacity model counts it: the statements the server runs, BEGIN and
// COMMIT included, and the round trips that carry them.
const (
	resetStatements = 30
	resetRoundTrips = 12
)
