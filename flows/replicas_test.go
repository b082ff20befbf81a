package flows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

// What must hold across sspr processes sharing one PostgreSQL store, each
// test driving n services, one per store handle (its own pool), as n
// replicas behind a load balancer would be. They run on PostgreSQL whatever
// SSPR_TEST_STORE says: on SQLite every write transaction holds the whole
// file, which proves nothing about row locks.

// replicas returns n harnesses on one PostgreSQL database, sharing the key
// and the clock.
func replicas(t *testing.T, n int, opts ...flowstest.Options) []*flowstest.Harness {
	t.Helper()
	var o flowstest.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.Engine = store.Postgres
	hs := []*flowstest.Harness{flowstest.New(t, o)}
	for len(hs) < n {
		hs = append(hs, hs[0].Replica(t))
	}
	return hs
}

// TestVoucherOnceAcrossReplicas: the helpdesk reads a voucher out, and it is
// typed at two replicas at once (two screens, or a second person who
// overheard it). Both flows take it, since taking it only proves who someone
// is, but only one reset completes with it; the other is told the voucher
// can't be used any more. 200 rounds.
func TestVoucherOnceAcrossReplicas(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.AddUser(t, "frank", false)
	for round := range 200 {
		v, err := a.Svc.IssueVoucher(ctx, a.Admin, "frank")
		if err != nil {
			t.Fatal(err)
		}
		fa, fb := a.StartReset(t, "frank"), b.StartReset(t, "frank")
		for _, step := range []struct {
			h  *flowstest.Harness
			id string
		}{{a, fa.FlowID}, {b, fb.FlowID}} {
			if _, err := step.h.Svc.VerifyCode(ctx, step.id, policy.Voucher, v.Code); err != nil {
				t.Fatalf("round %d: voucher: %v", round, err)
			}
		}
		storetest.ExactlyOnce(t, fmt.Sprintf("round %d: reset with one voucher", round), storetest.AtOnce(
			func() error { return a.Svc.CompleteReset(ctx, fa.FlowID, fmt.Sprintf("%s %d a", goodPassword, round)) },
			func() error { return b.Svc.CompleteReset(ctx, fb.FlowID, fmt.Sprintf("%s %d b", goodPassword, round)) },
		), flows.ErrChallengeVoid)
	}
	if n := a.CountEvents(t, audit.EventPasswordReset); n != 200 {
		t.Fatalf("%d password.reset rows, want 200", n)
	}
}

// TestTwoProofsOnceAcrossReplicas: two replicas each hold a flow proven with
// the same voucher and the same recovery code, and complete them at once.
// One reset wins and the other is told its proof is used, every round, and
// never with a deadlock: both transactions take the proofs' rows in one
// order, and the audit chain's head last.
func TestTwoProofsOnceAcrossReplicas(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.AddUser(t, "frank", false)
	a.SetPolicy(t, "methods_allowed", "recovery_codes,voucher")
	a.SetPolicy(t, "methods_required", "2")
	pw := flowstest.Password
	var codes []string
	for round := range 200 {
		if len(codes) == 0 {
			info, err := a.Svc.SignIn(ctx, "frank", pw, flowstest.Source)
			if err != nil {
				t.Fatal(err)
			}
			if codes, err = a.Svc.NewRecoveryCodes(ctx, info.ID); err != nil {
				t.Fatal(err)
			}
			a.Svc.SignOut(info.ID)
		}
		code := codes[0]
		codes = codes[1:]
		v, err := a.Svc.IssueVoucher(ctx, a.Admin, "frank")
		if err != nil {
			t.Fatal(err)
		}
		fa, fb := a.StartReset(t, "frank"), b.StartReset(t, "frank")
		for _, step := range []struct {
			h  *flowstest.Harness
			id string
		}{{a, fa.FlowID}, {b, fb.FlowID}} {
			if _, err := step.h.Svc.VerifyCode(ctx, step.id, policy.Voucher, v.Code); err != nil {
				t.Fatalf("round %d: voucher: %v", round, err)
			}
			if _, err := step.h.Svc.VerifyCode(ctx, step.id, policy.RecoveryCodes, code); err != nil {
				t.Fatalf("round %d: recovery code: %v", round, err)
			}
		}
		pwA, pwB := fmt.Sprintf("%s %d a", goodPassword, round), fmt.Sprintf("%s %d b", goodPassword, round)
		errs := storetest.AtOnce(
			func() error { return a.Svc.CompleteReset(ctx, fa.FlowID, pwA) },
			func() error { return b.Svc.CompleteReset(ctx, fb.FlowID, pwB) })
		storetest.ExactlyOnce(t, fmt.Sprintf("round %d: reset with one voucher and one recovery code", round), errs, flows.ErrChallengeVoid)
		if pw = pwA; errs[0] != nil {
			pw = pwB
		}
	}
}

// TestAuthenticatorStepOnceAcrossReplicas: the same authenticator code,
// typed at two replicas in the same 30 seconds, proves who someone is at one
// of them only; the other is told it was already used. 200 rounds, a day
// apart so that the replays counted as failures never add up to a block.
func TestAuthenticatorStepOnceAcrossReplicas(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.AddUser(t, "frank", false)
	secret := a.RegisterAuthenticator(t, "frank")
	for round := range 200 {
		a.Clock.Advance(flows.AccountFailWindow + time.Minute)
		fa, fb := a.StartReset(t, "frank"), b.StartReset(t, "frank")
		code := a.TOTP(t, secret, a.Clock.Now())
		storetest.ExactlyOnce(t, fmt.Sprintf("round %d: one authenticator step", round), storetest.AtOnce(
			func() error { _, err := a.Svc.VerifyCode(ctx, fa.FlowID, policy.Authenticator, code); return err },
			func() error { _, err := b.Svc.VerifyCode(ctx, fb.FlowID, policy.Authenticator, code); return err },
		), flows.ErrReplay)
	}
}

// TestFailuresBlockAcrossReplicas: five wrong codes for one account, typed
// at once at three replicas (from five terminals, so that no terminal's own
// pace or block gets in the way), block the account, and the audit log says
// so once: each replica counts the failures the others committed before it.
// 20 rounds, each a day and more after the last.
func TestFailuresBlockAcrossReplicas(t *testing.T) {
	hs := replicas(t, 3)
	ctx := context.Background()
	hs[0].AddUser(t, "frank", false)
	secret := hs[0].RegisterAuthenticator(t, "frank")
	for round := range 20 {
		hs[0].Clock.Advance(flows.AccountBlockFor + flows.AccountFailWindow + time.Minute)
		wrong := wrongTOTP(t, hs[0], secret)
		var fns []func() error
		for i := range flows.AccountFailLimit {
			h := hs[i%len(hs)]
			rs, err := h.Svc.StartReset(ctx, "frank", fmt.Sprintf("kiosk:r%d-%d", round, i))
			if err != nil {
				t.Fatalf("round %d: start: %v", round, err)
			}
			fns = append(fns, func() error {
				_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, wrong)
				return err
			})
		}
		for i, err := range storetest.AtOnce(fns...) {
			if !errors.Is(err, flows.ErrWrongCode) {
				t.Fatalf("round %d: failure %d: %v, want a wrong code", round, i, err)
			}
		}
		for i, h := range hs {
			if _, err := h.Svc.StartReset(ctx, "frank", "kiosk:after"); !errors.Is(err, flows.ErrBlocked) {
				t.Fatalf("round %d: replica %d after %d failures: %v, want the account blocked",
					round, i, flows.AccountFailLimit, err)
			}
		}
		if n := hs[1].CountEvents(t, audit.EventBlockApplied); n != round+1 {
			t.Fatalf("round %d: %d block.applied rows, want %d", round, n, round+1)
		}
	}
}

// wrongTOTP returns a six-digit code that is neither the current nor the
// previous step's code of secret.
func wrongTOTP(t *testing.T, h *flowstest.Harness, secret string) string {
	t.Helper()
	now := h.Clock.Now()
	right := map[string]bool{h.TOTP(t, secret, now): true, h.TOTP(t, secret, now.Add(-30*time.Second)): true}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !right[c] {
			return c
		}
	}
}

// TestOutboxDrainedOnceAcrossReplicas: notifications queued by three
// replicas are delivered by the three replicas' dispatchers running their
// passes at once, and each message reaches its recipient exactly once.
func TestOutboxDrainedOnceAcrossReplicas(t *testing.T) {
	hs := replicas(t, 3)
	ctx := context.Background()
	const queued = 300
	for i := range queued {
		h := hs[i%len(hs)]
		m := dispatch.Message{Channel: dispatch.ChannelEmail, To: fmt.Sprintf("u%03d@example.org", i),
			Subject: "Your password was changed", Text: fmt.Sprintf("notice %d", i)}
		if err := h.Dispatcher.Notify(ctx, h.DB, m); err != nil {
			t.Fatal(err)
		}
	}
	var fns []func() error
	for _, h := range hs {
		fns = append(fns, func() error {
			// Passes until one finds nothing due: batches are 50, so a
			// pass with nothing sent means the queue is empty.
			for {
				sent, failed, err := h.Dispatcher.DeliverDue(ctx)
				if err != nil || failed > 0 {
					return fmt.Errorf("deliver: sent %d, failed %d: %w", sent, failed, err)
				}
				due, err := store.DueOutbox(ctx, h.DB, h.Clock.Now().Unix(), 1)
				if err != nil {
					return err
				}
				if len(due) == 0 {
					return nil
				}
			}
		})
	}
	for _, err := range storetest.AtOnce(fns...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for _, h := range hs {
		for _, m := range h.Inbox.Messages() {
			got[m.To]++
		}
	}
	for i := range queued {
		if to := fmt.Sprintf("u%03d@example.org", i); got[to] != 1 {
			t.Errorf("%s got %d messages, want 1", to, got[to])
		}
	}
	if len(got) != queued {
		t.Errorf("%d recipients, want %d", len(got), queued)
	}
}

// TestAuditOneChainAcrossReplicas: many people failing to sign in at three
// replicas at once, each failure an audit row (and throttle rows) written by
// its own replica, leave one chain that verifies, with every row in it.
func TestAuditOneChainAcrossReplicas(t *testing.T) {
	hs := replicas(t, 3)
	ctx := context.Background()
	before := hs[0].CountEvents(t, audit.EventSignInFailed)
	const writers, each = 24, 10
	var fns []func() error
	for w := range writers {
		h := hs[w%len(hs)]
		fns = append(fns, func() error {
			for i := range each {
				_, err := h.Svc.SignIn(ctx, fmt.Sprintf("nobody%02d-%d", w, i), "wrong", fmt.Sprintf("kiosk:%02d-%d", w, i))
				if !errors.Is(err, flows.ErrBadCredentials) {
					return fmt.Errorf("writer %d sign-in %d: %w", w, i, err)
				}
			}
			return nil
		})
	}
	for _, err := range storetest.AtOnce(fns...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := hs[2].CountEvents(t, audit.EventSignInFailed) - before; n != writers*each {
		t.Fatalf("%d sign-in failures audited, want %d", n, writers*each)
	}
	rep, err := hs[1].Svc.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("the audit chain does not verify after concurrent appends: %+v", rep)
	}
}

// TestTidyOneReplicaAtATime: while one replica tidies the store, another's
// hourly tidy finds it taken and leaves it alone; once the first is done,
// the other tidies.
func TestTidyOneReplicaAtATime(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.AddUser(t, "frank", false)
	a.RegisterEmail(t, "frank")
	if _, err := b.Svc.SignIn(ctx, "frank", "wrong", "kiosk:1"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatal(err)
	}
	a.Clock.Advance(flows.AccountFailWindow + 48*time.Hour)
	before, err := storetest.CountTidyable(ctx, a.DB)
	if err != nil {
		t.Fatal(err)
	}
	if before.ThrottleEvents == 0 || before.Challenges == 0 {
		t.Fatalf("nothing to tidy: %+v", before)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.DB.WithTx(ctx, func(tx *store.Tx) error {
			mine, err := store.TryExclusive(ctx, tx, "tidy")
			if err != nil || !mine {
				return fmt.Errorf("first tidy lock: %v, %w", mine, err)
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatal(err)
	}
	if err := b.Svc.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	during, err := storetest.CountTidyable(ctx, a.DB)
	if err != nil {
		t.Fatal(err)
	}
	if during != before {
		t.Fatalf("a second replica tidied while the first held the tidy: %+v, was %+v", during, before)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := b.Svc.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := storetest.CountTidyable(ctx, a.DB)
	if err != nil {
		t.Fatal(err)
	}
	if after.ThrottleEvents != 0 || after.Challenges != 0 {
		t.Fatalf("the tidy once free left %+v", after)
	}
}

// TestManyResetsAtOnceAcrossReplicas: forty people each have two flows, at
// two replicas, proven with the same voucher and recovery code, and all
// eighty resets are completed at once, more than the two pools have
// connections. Each person's password is reset once, the other flow is told
// its proof is used, and nothing waits out the statement timeout: every
// transaction takes the audit chain's head last and holds it briefly.
func TestManyResetsAtOnceAcrossReplicas(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.SetPolicy(t, "methods_allowed", "recovery_codes,voucher")
	a.SetPolicy(t, "methods_required", "2")
	const people, rounds = 40, 3
	codes := make([][]string, people)
	for p := range people {
		name := fmt.Sprintf("person%02d", p)
		a.AddUser(t, name, false)
		info, err := a.Svc.SignIn(ctx, name, flowstest.Password, flowstest.Source)
		if err != nil {
			t.Fatal(err)
		}
		if codes[p], err = a.Svc.NewRecoveryCodes(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
		a.Svc.SignOut(info.ID)
	}
	for round := range rounds {
		var fns []func() error
		for p := range people {
			name := fmt.Sprintf("person%02d", p)
			v, err := a.Svc.IssueVoucher(ctx, a.Admin, name)
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range []*flowstest.Harness{a, b} {
				rs := h.StartReset(t, name)
				if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); err != nil {
					t.Fatal(err)
				}
				if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, codes[p][round]); err != nil {
					t.Fatal(err)
				}
				fns = append(fns, func() error {
					return h.Svc.CompleteReset(ctx, rs.FlowID, fmt.Sprintf("%s %d %d", goodPassword, round, i))
				})
			}
		}
		errs := storetest.AtOnce(fns...)
		for p := range people {
			storetest.ExactlyOnce(t, fmt.Sprintf("round %d: person %d", round, p), errs[2*p:2*p+2], flows.ErrChallengeVoid)
		}
	}
	if n := a.CountEvents(t, audit.EventPasswordReset); n != people*rounds {
		t.Fatalf("%d password.reset rows, want %d", n, people*rounds)
	}
}

// TestResendWhileVerifying: a person asks for a new code and enters the old
// one at the same moment (two keys pressed in quick succession; the screen
// runs both). On PostgreSQL the two transactions touch the flow's challenge
// and the account's counters; they take them in one order, so each ends as
// it would alone, never with a deadlock. 200 rounds.
func TestResendWhileVerifying(t *testing.T) {
	h := replicas(t, 1)[0]
	ctx := context.Background()
	h.AddUser(t, "frank", false)
	h.RegisterEmail(t, "frank")
	for round := range 200 {
		h.Clock.Advance(flows.AccountBlockFor + flows.AccountFailWindow + time.Minute)
		rs := h.StartReset(t, "frank")
		h.SendCode(t, rs.FlowID, policy.Email)
		h.Clock.Advance(flows.ResendCooldown + time.Second)
		errs := storetest.AtOnce(
			func() error { _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); return err },
			func() error { _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "00000000"); return err })
		if errs[0] != nil {
			t.Fatalf("round %d: resend: %v", round, errs[0])
		}
		// The wrong code meets the old challenge, or the new one, or the
		// old one voided by the resend.
		if !errors.Is(errs[1], flows.ErrWrongCode) && !errors.Is(errs[1], flows.ErrChallengeVoid) {
			t.Fatalf("round %d: the wrong code: %v", round, errs[1])
		}
	}
}

// TestBlockWhileResetAcrossReplicas: someone guessing frank's password at
// one replica reaches the failure that blocks his account at the moment
// frank, proven at another replica, sets his new password. Both finish as
// they would alone, never with a deadlock: the failed sign-in's transaction
// writes the block and the lockout count before the audit rows, as the
// reset clears them before its own. 100 rounds.
func TestBlockWhileResetAcrossReplicas(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.AddUser(t, "frank", false)
	a.RegisterEmail(t, "frank")
	for round := range 100 {
		a.Clock.Advance(flows.AccountBlockFor + flows.AccountFailWindow + time.Hour)
		for i := range flows.AccountFailLimit - 1 {
			_, err := a.Svc.SignIn(ctx, "frank", fmt.Sprintf("wrong %d %d", round, i), fmt.Sprintf("kiosk:%d-%d", round, i))
			if !errors.Is(err, flows.ErrBadCredentials) {
				t.Fatalf("round %d: wrong password %d: %v", round, i, err)
			}
		}
		rs := b.StartReset(t, "frank")
		b.SendCode(t, rs.FlowID, policy.Email)
		if _, err := b.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, b.Inbox.LastCode(t, "frank@example.com")); err != nil {
			t.Fatal(err)
		}
		errs := storetest.AtOnce(
			func() error {
				_, err := a.Svc.SignIn(ctx, "frank", fmt.Sprintf("wrong %d last", round), fmt.Sprintf("kiosk:%d-last", round))
				return err
			},
			func() error { return b.Svc.CompleteReset(ctx, rs.FlowID, fmt.Sprintf("%s %d", goodPassword, round)) })
		if !errors.Is(errs[0], flows.ErrBadCredentials) {
			t.Fatalf("round %d: the wrong password that blocks: %v", round, errs[0])
		}
		if errs[1] != nil {
			t.Fatalf("round %d: the reset: %v", round, errs[1])
		}
	}
}

// TestAdminUnlockWhileGuessingAcrossReplicas: an administrator unlocks
// frank at one replica while someone types another wrong password for him
// at a second. Both finish as they would alone, never with a deadlock: the
// unlock clears the lockout before it appends to the audit chain, as the
// failed sign-in counts it before its own. 100 rounds.
func TestAdminUnlockWhileGuessingAcrossReplicas(t *testing.T) {
	hs := replicas(t, 2)
	a, b := hs[0], hs[1]
	ctx := context.Background()
	a.AddUser(t, "frank", false)
	for round := range 100 {
		a.Clock.Advance(flows.AccountBlockFor + flows.AccountFailWindow + time.Hour)
		// A wrong password already counted: frank's lockout row exists.
		if _, err := b.Svc.SignIn(ctx, "frank", fmt.Sprintf("wrong %d first", round), "kiosk:first"); !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("round %d: %v", round, err)
		}
		errs := storetest.AtOnce(
			func() error {
				_, err := b.Svc.SignIn(ctx, "frank", fmt.Sprintf("wrong %d second", round), "kiosk:second")
				return err
			},
			func() error { _, err := a.Svc.Unlock(ctx, a.Admin, "frank"); return err })
		if !errors.Is(errs[0], flows.ErrBadCredentials) {
			t.Fatalf("round %d: the wrong password: %v", round, errs[0])
		}
		if errs[1] != nil {
			t.Fatalf("round %d: the unlock: %v", round, errs[1])
		}
	}
}
