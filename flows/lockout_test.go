package flows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

const (
	counter9 = "kiosk:counter-9"
	sshAddr  = "ssh:203.0.113.9"
)

// madeUp is the i-th made-up username: a different name for each failure,
// so no account block gets in the way of the source's.
func madeUp(i int) string { return fmt.Sprintf("visitor%03d", i) }

// blockSource makes failed sign-ins from a source, as fast as a script
// would, until it is blocked, and returns when the block began.
func blockSource(t *testing.T, h *flowstest.Harness, source string) time.Time {
	t.Helper()
	ctx := context.Background()
	for i := range flows.SourceFailLimit {
		_, err := h.Svc.SignIn(ctx, madeUp(i), "wrong password", source)
		if errors.Is(err, flows.ErrBlocked) && i < flows.SourceFailLimit-1 {
			t.Fatalf("blocked after %d failures, want %d", i, flows.SourceFailLimit)
		}
	}
	started := h.Clock.Now()
	if _, err := h.Svc.SignIn(ctx, "someone", "wrong password", source); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("%s after %d failures: %v", source, flows.SourceFailLimit, err)
	}
	return started
}

func blockedError(t *testing.T, err error) *flows.BlockedError {
	t.Helper()
	var b *flows.BlockedError
	if !errors.As(err, &b) || !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("want a *BlockedError that is ErrBlocked, got %v", err)
	}
	return b
}

// TestSourceBlockSaysWhereAndUntil: a block names what is blocked (a
// terminal, a network address, an account) and until when, in the
// service's time; a terminal's block is shorter than an address's.
func TestSourceBlockSaysWhereAndUntil(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		source string
		scope  flows.BlockScope
		name   string
		length time.Duration
	}{
		{counter9, flows.BlockTerminal, "counter-9", flows.TerminalBlockFor},
		{sshAddr, flows.BlockAddress, "203.0.113.9", flows.SourceBlockFor},
	} {
		t.Run(string(tc.scope), func(t *testing.T) {
			h := flowstest.New(t)
			h.AddUser(t, "alice", false)
			h.RegisterEmail(t, "alice")
			began := blockSource(t, h, tc.source)
			for _, err := range []error{
				func() error { _, err := h.Svc.StartReset(ctx, "alice", tc.source); return err }(),
				func() error { _, err := h.Svc.StartReset(ctx, "nobody-at-all", tc.source); return err }(),
				func() error { _, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, tc.source); return err }(),
			} {
				b := blockedError(t, err)
				if b.Scope != tc.scope || b.Source != tc.source || flows.SourceName(b.Source) != tc.name {
					t.Fatalf("blocked %+v, want %s %s", b, tc.scope, tc.source)
				}
				if !b.Until.Equal(began.Add(tc.length)) || b.Until.Location() != h.Clock.Now().Location() {
					t.Fatalf("until %v, want %v in the service's time", b.Until, began.Add(tc.length))
				}
			}
			h.Clock.Advance(tc.length)
			if _, err := h.Svc.StartReset(ctx, "alice", tc.source); err != nil {
				t.Fatalf("after the block: %v", err)
			}
		})
	}
}

// TestAccountBlockTellsNothing: an account block carries its scope and
// end, and reads the same for a real account and a made-up name; when the
// source is blocked as well, the source's block is the one told.
func TestAccountBlockTellsNothing(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	for i := range flows.AccountFailLimit {
		for _, name := range []string{"alice", "nobody"} {
			// One source each, waiting out the pace: only the accounts block.
			_, _ = h.Svc.SignIn(ctx, name, "wrong password", fmt.Sprintf("kiosk:%s-%d", name, i))
		}
	}
	real := blockedError(t, func() error { _, err := h.Svc.StartReset(ctx, "alice", counter9); return err }())
	made := blockedError(t, func() error { _, err := h.Svc.StartReset(ctx, "nobody", counter9); return err }())
	if real.Scope != flows.BlockAccount || real.Source != "" || real.Error() != made.Error() || !real.Until.Equal(made.Until) {
		t.Fatalf("real account %+v (%v), made-up name %+v (%v)", real, real, made, made)
	}
	if !real.Until.Equal(h.Clock.Now().Add(flows.AccountBlockFor)) {
		t.Fatalf("until %v", real.Until)
	}
	blockSource(t, h, counter9)
	if b := blockedError(t, func() error { _, err := h.Svc.StartReset(ctx, "alice", counter9); return err }()); b.Scope != flows.BlockTerminal {
		t.Fatalf("blocked account at a blocked terminal: %+v", b)
	}
}

// TestSourcePaceGrows: from the fifth failure at a source, each further
// proof waits a delay that doubles up to a cap; a proof that comes too soon
// is refused unchecked, says until when, and counts against the source but
// not the account.
func TestSourcePaceGrows(t *testing.T) {
	want := []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for n, d := range want {
		if got := flows.SourceDelay(n); got != d {
			t.Errorf("SourceDelay(%d) = %v, want %v", n, got, d)
		}
	}

	h, ctx := aliceWithEmail(t)
	fail := func(i int) {
		t.Helper()
		if _, err := h.Svc.SignIn(ctx, madeUp(i), "wrong password", counter9); !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for i := range flows.SourceSlowAfter {
		fail(i) // no wait yet
	}
	for n := flows.SourceSlowAfter; n < flows.SourceSlowAfter+7; n++ {
		delay := flows.SourceDelay(n)
		h.Clock.Advance(delay - time.Second)
		if delay > time.Second {
			// One second early: refused with when to come back, which
			// the failure it counts has pushed back.
			_, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, counter9)
			var wait *flows.WaitError
			if !errors.As(err, &wait) || !errors.Is(err, flows.ErrSlowDown) {
				t.Fatalf("after %d failures, %v early: %v", n, time.Second, err)
			}
			if got := wait.Until.Sub(h.Clock.Now()); got != flows.SourceDelay(n+1) {
				t.Fatalf("after %d failures and one too soon: wait %v, want %v", n, got, flows.SourceDelay(n+1))
			}
			n++
			h.Clock.Advance(flows.SourceDelay(n))
		} else {
			h.Clock.Advance(time.Second)
		}
		fail(n)
	}
	// Ten proofs refused as too soon were never checked against alice.
	for range 10 {
		if _, err := h.Svc.SignIn(ctx, "alice", "wrong password", counter9); !errors.Is(err, flows.ErrSlowDown) &&
			!errors.Is(err, flows.ErrBlocked) {
			t.Fatalf("hammering: %v", err)
		}
	}
	if _, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, "kiosk:elsewhere"); err != nil {
		t.Fatalf("alice after proofs refused unchecked: %v", err)
	}
}

// TestPaceKeepsOneVisitorFromBlocking: someone who fails at a kiosk for
// half an hour without pause, waiting only as long as the screen says
// (SourceState, which the screen shows as a countdown), never blocks it, and
// the next person's first proof is taken once the longest delay is over.
func TestPaceKeepsOneVisitorFromBlocking(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	end := h.Clock.Now().Add(30 * time.Minute)
	failures := 0
	for h.Clock.Now().Before(end) {
		_, err := h.Svc.SignIn(ctx, madeUp(failures%200), "wrong password", counter9)
		if !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("after %d failures in %v: %v", failures, h.Clock.Now().Sub(flowstest.Start), err)
		}
		failures++
		st, err := h.Svc.SourceState(ctx, counter9)
		if err != nil || st.Blocked != nil {
			t.Fatalf("state after %d failures: %+v %v", failures, st, err)
		}
		// Typing takes a second; the countdown may ask for longer.
		h.Clock.Set(later(h.Clock.Now().Add(time.Second), st.WaitUntil))
	}
	if failures < flows.SourceFailLimit {
		t.Fatalf("only %d failures in half an hour: the pace is slower than it says", failures)
	}
	h.Clock.Advance(flows.SourceMaxDelay)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatalf("the next person's first proof: %v", err)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestAdminSignsInAtBlockedSource: a blocked kiosk refuses everyone but an
// administrator, who signs in with a password and two methods (after the
// pace), reaches the panel and clears the block, audited. Their own
// account's throttle still applies, and their failures count against the
// source too.
func TestAdminSignsInAtBlockedSource(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	h.AddUser(t, "root", true)
	h.RegisterEmail(t, "root")
	secret := h.RegisterAuthenticator(t, "root")
	h.Clock.Advance(time.Minute) // past the authenticator step used to register
	blockSource(t, h, counter9)

	// The pace holds for administrators too, right after the failures.
	if _, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, counter9); !errors.Is(err, flows.ErrSlowDown) {
		t.Fatalf("admin sign-in at once after the failures: %v", err)
	}
	h.Clock.Advance(flows.SourceMaxDelay)
	rs, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, counter9)
	if err != nil {
		t.Fatalf("admin sign-in at a blocked kiosk: %v", err)
	}
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "root@example.com")); err != nil {
		t.Fatalf("admin's emailed code: %v", err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, h.TOTP(t, secret, h.Clock.Now())); err != nil {
		t.Fatalf("admin's authenticator: %v", err)
	}
	info, err := h.Svc.CompleteAdminSignIn(ctx, rs.FlowID)
	if err != nil {
		t.Fatal(err)
	}
	actor, err := h.Svc.AdminActor(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Everyone else is still refused.
	blockedError(t, func() error { _, err := h.Svc.StartReset(ctx, "alice", counter9); return err }())

	blocks, total, err := h.Svc.Blocks(ctx, 0)
	if err != nil || total != 1 || len(blocks) != 1 {
		t.Fatalf("blocks %+v, %d, %v", blocks, total, err)
	}
	if b := blocks[0]; b.Scope != flows.BlockTerminal || b.Key != counter9 || b.Reason != "30 failures in 5 minutes" {
		t.Fatalf("listed %+v", b)
	}
	if err := h.Svc.ClearBlock(ctx, actor, flows.BlockTerminal, counter9); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.ClearBlock(ctx, actor, flows.BlockTerminal, counter9); !errors.Is(err, flows.ErrNotFound) {
		t.Fatalf("clearing it again: %v", err)
	}
	// Cleared with its failures: the next person is neither blocked nor slowed.
	rs2 := h.StartReset(t, "alice")
	if _, err := h.Svc.StartReset(ctx, "alice", counter9); err != nil {
		t.Fatalf("after the clear: %v", err)
	}
	h.SendCode(t, rs2.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs2.FlowID, policy.Email, "00000000"); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("first proof after the clear: %v", err)
	}
	entries, err := h.Svc.AuditEntries(ctx, audit.Filter{Events: []audit.Event{audit.EventBlockCleared}})
	if err != nil || len(entries) != 1 || entries[0].Actor != "root" || entries[0].Target != "source:"+counter9 ||
		entries[0].Source != counter9 {
		t.Fatalf("block.cleared rows: %+v %v", entries, err)
	}

	// The administrator's own account is throttled as anyone's, and a
	// wrong password at the (again) blocked kiosk counts against both.
	blockSource(t, h, counter9)
	for i := range flows.AccountFailLimit {
		h.Clock.Advance(flows.SourceMaxDelay)
		if _, err := h.Svc.StartAdminSignIn(ctx, "root", "wrong password", counter9); !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("wrong admin password: %v", err)
		}
		if i == 0 {
			// It counted against the source: the next try waits.
			if _, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, counter9); !errors.Is(err, flows.ErrSlowDown) {
				t.Fatalf("at once after a wrong admin password: %v", err)
			}
		}
	}
	h.Clock.Advance(flows.SourceMaxDelay)
	b := blockedError(t, func() error { _, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, counter9); return err }())
	if b.Scope != flows.BlockAccount {
		t.Fatalf("admin after five wrong passwords: %+v", b)
	}
}

// TestClearBlockRefusals: only blocks in force are cleared, of a kind that
// exists, and an account is named as typed.
func TestClearBlockRefusals(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	if err := h.Svc.ClearBlock(ctx, h.Admin, flows.BlockAccount, "alice"); !errors.Is(err, flows.ErrNotFound) {
		t.Fatalf("clear an account that is not blocked: %v", err)
	}
	if err := h.Svc.ClearBlock(ctx, h.Admin, "group", "x"); !errors.Is(err, flows.ErrInvalid) {
		t.Fatalf("clear a group: %v", err)
	}
	if err := h.Svc.ClearBlock(ctx, h.Admin, flows.BlockAddress, ""); !errors.Is(err, flows.ErrInvalid) {
		t.Fatalf("clear an empty source: %v", err)
	}
	for i := range flows.AccountFailLimit {
		_, _ = h.Svc.SignIn(ctx, "Nobody", "wrong password", fmt.Sprintf("kiosk:k%d", i))
	}
	blocks, _, err := h.Svc.Blocks(ctx, 0)
	if err != nil || len(blocks) != 1 || blocks[0].Scope != flows.BlockAccount || blocks[0].Key != "nobody" ||
		blocks[0].Reason != "5 failures in 24 hours" || !blocks[0].Until.Equal(blocks[0].Since.Add(flows.AccountBlockFor)) {
		t.Fatalf("blocks: %+v %v", blocks, err)
	}
	if err := h.Svc.ClearBlock(ctx, h.Admin, flows.BlockAccount, "NOBODY"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.StartReset(ctx, "nobody", counter9); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}
