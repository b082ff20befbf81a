package flows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// importCSV is a user import file of n users in group staff.
func importCSV(n int) string {
	var b strings.Builder
	b.WriteString(strings.Join(flows.ImportHeader, ",") + "\n")
	for i := range n {
		fmt.Fprintf(&b, "person%05d,Person %d,person%05d@example.com,+15551234567,staff,false\n", i, i, i)
	}
	return b.String()
}

// tableCounts counts the rows of every table the copy moves.
func tableCounts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range store.CopiedTables() {
		var n int64
		if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// TestCopyStoreToPostgres: a SQLite store of 10,000 imported users, a few
// who registered every kind of method through the flows, and thousands of
// audit rows is copied into
// PostgreSQL with every table's count equal, and its audit chain verifies
// there with the same key. A service on the copy, with the same key, then
// resets a copied user with their authenticator (the sealed secret, and the
// replay memory: the step used at registration is still refused) and a
// recovery code (the keyed hashes), resets another by an email code, and
// gives a new user a fresh id.
func TestCopyStoreToPostgres(t *testing.T) {
	ctx := context.Background()
	h := flowstest.New(t)
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	if err := h.Svc.AddGroup(ctx, h.Admin, "staff"); err != nil {
		t.Fatal(err)
	}
	const imported = 10_000
	if _, err := h.Svc.ImportUsers(ctx, h.Admin, strings.NewReader(importCSV(imported)), flows.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	h.RegisterVerified(t, "alice", policy.SMS, "+15551234567")
	registeredAt := h.Clock.Now()
	totpSecret := h.RegisterAuthenticator(t, "alice")
	sid := h.SignIn(t, "alice")
	codes, err := h.Svc.NewRecoveryCodes(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.RegisterQuestions(ctx, sid, []flows.QuestionAnswer{
		{Question: "What was the name of your first stuffed animal?", Answer: "Mr Bear"},
		{Question: "In which town did your grandmother live?", Answer: "Kirkwall"},
		{Question: "What was your childhood nickname?", Answer: "Dodo"},
	}); err != nil {
		t.Fatal(err)
	}
	h.AddUser(t, "bob", false)
	h.RegisterEmail(t, "bob")
	if _, err := h.Svc.SignIn(ctx, "bob", "not the password", flowstest.Source); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	h.AddUser(t, "carol", false)
	if _, err := h.Svc.IssueVoucher(ctx, h.Admin, "carol"); err != nil {
		t.Fatal(err)
	}
	// Audit rows by the thousand, each appended by the flows under the key.
	for i := range 2000 {
		h.SetPolicy(t, "reconfirm_days", fmt.Sprint(100+i%2))
	}
	h.Settle()
	want := tableCounts(t, h.DB)

	dsn := pgtest.DSN(t)
	var reported []string
	start := time.Now()
	res, err := h.Svc.CopyStore(ctx, dsn, "", func(c flows.CopiedTable) { reported = append(reported, c.Table) })
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("copied %d users (%d rows) to PostgreSQL and verified the audit chain in %v", want["users"], res.Rows(),
		took.Round(time.Millisecond))
	if len(reported) != len(store.CopiedTables()) || len(res.Tables) != len(reported) {
		t.Errorf("heard of tables %v, reported %+v; want every table once", reported, res.Tables)
	}
	for _, c := range res.Tables {
		if c.Rows != want[c.Table] {
			t.Errorf("%s: copied %d rows; the source has %d", c.Table, c.Rows, want[c.Table])
		}
	}
	for _, table := range []string{"users", "methods", "recovery_codes", "question_answers", "vouchers", "throttle_events",
		"password_history", "audit", "audit_head", "outbox", "memberships", "policy", "groups", "challenges"} {
		if want[table] == 0 {
			t.Errorf("the source has no %s rows: the copy of them is untested", table)
		}
	}
	if want["users"] < imported {
		t.Fatalf("the source has %d users", want["users"])
	}
	if !res.Audit.OK || res.Audit.Rows != int(want["audit"]) || want["audit"] < 2000 {
		t.Fatalf("the copy's audit log: %+v; want intact with %d rows", res.Audit, want["audit"])
	}

	// A service on the copy, with the same key, at the same moment.
	pg := flowstest.New(t, flowstest.Options{DSN: dsn, Dir: h.Dir, Start: h.Clock.Now()})
	if got := tableCounts(t, pg.DB); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the copy holds %v; the source %v", got, want)
	}
	if r, err := pg.Svc.VerifyAudit(ctx); err != nil || !r.OK {
		t.Fatalf("audit verify on the copy: %+v, %v", r, err)
	}
	pg.SetPolicy(t, "methods_required", "2")
	rs := pg.StartReset(t, "alice")
	// The code of the step used to register, still inside the window, was
	// used there: the copy remembers.
	if _, err := pg.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, pg.TOTP(t, totpSecret, registeredAt)); !errors.Is(err, flows.ErrReplay) {
		t.Fatalf("the copy took an authenticator code of a step already used in the source: %v", err)
	}
	pg.Clock.Advance(30 * time.Second)
	if _, err := pg.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, pg.TOTP(t, totpSecret, pg.Clock.Now())); err != nil {
		t.Fatalf("authenticator code on the copy: %v", err)
	}
	p, err := pg.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, codes[0])
	if err != nil || !p.Done {
		t.Fatalf("recovery code on the copy: %+v, %v", p, err)
	}
	newPassword := "copied and reset " + goodPassword
	if err := pg.Svc.CompleteReset(ctx, rs.FlowID, newPassword); err != nil {
		t.Fatalf("reset on the copy: %v", err)
	}
	if _, err := pg.Svc.SignIn(ctx, "alice", newPassword, flowstest.Source); err != nil {
		t.Fatalf("the new password does not work on the copy: %v", err)
	}

	pg.SetPolicy(t, "methods_required", "1")
	rs = pg.StartReset(t, "bob")
	pg.SendCode(t, rs.FlowID, policy.Email)
	if p, err := pg.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, pg.Inbox.LastCode(t, "bob@example.com")); err != nil || !p.Done {
		t.Fatalf("email code on the copy: %+v, %v", p, err)
	}
	if err := pg.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatalf("bob's reset on the copy: %v", err)
	}

	pg.AddUser(t, "newcomer", false)
	u, err := store.UserByName(ctx, pg.DB, "newcomer")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != want["users"]+1 {
		t.Errorf("a user added to the copy has id %d; want %d, after the copied ones", u.ID, want["users"]+1)
	}
	if r, err := pg.Svc.VerifyAudit(ctx); err != nil || !r.OK {
		t.Fatalf("audit verify after resets on the copy: %+v, %v", r, err)
	}
}
