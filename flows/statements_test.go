package flows_test

import (
	"context"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// resetBudget is the most statements (BEGIN and COMMIT included) each step
// of a reset by emailed code may send to PostgreSQL, as measured when it was
// written plus a small margin. On PostgreSQL over a network every statement
// is a round trip, so a step that sends more is slower at every replica, for
// every person: raise a budget only on purpose.
var resetBudget = []struct {
	step      string
	measured  int64
	allowance int64
}{
	// The blocks in force; the policy; the user; their methods; whether
	// they hold a voucher.
	{"start", 5, 1},
	// The blocks; in one transaction (BEGIN, COMMIT): the account's send
	// counter locked, counted and added to, the flow's older code voided,
	// the new one stored, and the audit row (head locked, row, head).
	{"send code", 11, 2},
	// The blocks; the terminal's pace; in one transaction: the challenge
	// read and marked verified, and the audit row.
	{"verify code", 9, 2},
	// The user, the policy and the password history, read before hashing;
	// in one transaction: the challenge read and consumed, the user read
	// and their password set, the history added to and trimmed, the
	// account's failures and block cleared, a lockout of sspr's own
	// cleared (three deletes), the audit row, and the notification queued
	// to the person's contacts.
	{"new password", 21, 2},
}

// TestResetStatementCount counts what a full reset by emailed code sends to
// PostgreSQL, step by step, and fails when a step sends more than its
// budget.
func TestResetStatementCount(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Engine: store.Postgres})
	ctx := context.Background()
	for _, name := range []string{"warm", "frank"} {
		h.AddUser(t, name, false)
		h.RegisterEmail(t, name)
	}
	reset := func(name string, step func(string, func())) {
		var flowID string
		step("start", func() { flowID = h.StartReset(t, name).FlowID })
		step("send code", func() {
			if _, err := h.Svc.SendCode(ctx, flowID, policy.Email); err != nil {
				t.Fatal(err)
			}
			h.Settle()
		})
		code := h.Inbox.LastCode(t, name+"@example.com")
		step("verify code", func() {
			if _, err := h.Svc.VerifyCode(ctx, flowID, policy.Email, code); err != nil {
				t.Fatal(err)
			}
		})
		step("new password", func() {
			if err := h.Svc.CompleteReset(ctx, flowID, "a brand new "+goodPassword); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The first reset fills what the service keeps between requests (the
	// policy, the typical account's shape); the second is what every other
	// person's costs.
	reset("warm", func(_ string, fn func()) { fn() })
	var total int64
	i := 0
	reset("frank", func(step string, fn func()) {
		before := h.DB.Statements()
		fn()
		n := h.DB.Statements() - before
		total += n
		b := resetBudget[i]
		i++
		t.Logf("%s: %d statements", step, n)
		if b.step != step || n > b.measured+b.allowance {
			t.Errorf("%s sent %d statements; its budget is %d (%d measured + %d)", step, n,
				b.measured+b.allowance, b.measured, b.allowance)
		}
	})
	t.Logf("a reset by emailed code: %d statements", total)
}
