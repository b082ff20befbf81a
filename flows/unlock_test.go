package flows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// lockoutHarness has alice with a registered email, and a lockout after
// three different wrong passwords, for fifteen minutes. Three, the lowest
// threshold, stays under sspr's own block of self-service (five failed
// proofs a day), which the tests keep apart by letting a day pass.
func lockoutHarness(t *testing.T) (*flowstest.Harness, context.Context) {
	t.Helper()
	h, ctx := aliceWithEmail(t)
	h.SetPolicy(t, policy.KeyLockoutThreshold, "3")
	return h, ctx
}

// signIn signs alice in with pw from the harness's source, a step after
// the last try so that no pace gets in the way.
func signIn(h *flowstest.Harness, pw string) error {
	h.Clock.Advance(flows.SourceMaxDelay)
	_, err := h.Svc.SignIn(context.Background(), "alice", pw, flowstest.Source)
	return err
}

// lockAlice types three different wrong passwords for alice, the next day,
// so that her failures of the day before are behind her.
func lockAlice(t *testing.T, h *flowstest.Harness) {
	t.Helper()
	h.Clock.Advance(flows.AccountFailWindow + time.Minute)
	for i := range 3 {
		if err := signIn(h, fmt.Sprintf("wrong password %d", i)); !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if err := signIn(h, flowstest.Password); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("the right password after three wrong ones: %v, want the account locked", err)
	}
}

// TestLocalLockout: different wrong passwords lock out an account whose
// password sspr keeps, and the right password is refused while it lasts,
// with the same answer as a wrong one; the same wrong password typed again
// counts once; a right password forgets the wrong ones before it; the
// lockout ends after lockout_duration.
func TestLocalLockout(t *testing.T) {
	h, _ := lockoutHarness(t)
	for range 4 {
		if err := signIn(h, "the same mistake"); !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if err := signIn(h, flowstest.Password); err != nil {
		t.Fatalf("one wrong password typed four times locked the account: %v", err)
	}
	if n := h.CountEvents(t, audit.EventAccountLocked); n != 0 {
		t.Fatalf("account.locked rows = %d", n)
	}

	// Two wrong, a right one, two wrong: no lockout, the count started again.
	h.Clock.Advance(flows.AccountFailWindow + time.Minute)
	for _, pw := range []string{"first", "second", flowstest.Password, "third", "fourth"} {
		err := signIn(h, pw)
		if pw == flowstest.Password && err != nil || pw != flowstest.Password && !errors.Is(err, flows.ErrBadCredentials) {
			t.Fatalf("%s: %v", pw, err)
		}
	}
	h.Clock.Advance(flows.AccountFailWindow + time.Minute)
	if err := signIn(h, flowstest.Password); err != nil {
		t.Fatalf("locked after a right password between wrong ones: %v", err)
	}

	lockAlice(t, h)
	if n := h.CountEvents(t, audit.EventAccountLocked); n != 1 {
		t.Fatalf("account.locked rows = %d, want 1", n)
	}
	h.Clock.Advance(15 * time.Minute)
	if err := signIn(h, flowstest.Password); err != nil {
		t.Fatalf("the right password once the lockout ended: %v", err)
	}
}

// TestResetUnlocksLocalAccount: a reset ends a lockout of sspr's own; the
// new password works at once.
func TestResetUnlocksLocalAccount(t *testing.T) {
	h, ctx := lockoutHarness(t)
	lockAlice(t, h)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	const fresh = "a brand new passphrase for her"
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, fresh); err != nil {
		t.Fatal(err)
	}
	if err := signIn(h, fresh); err != nil {
		t.Fatalf("the new password after a reset of a locked account: %v", err)
	}
	entries, err := h.Svc.AuditEntries(ctx, audit.Filter{Events: []audit.Event{audit.EventPasswordReset}, Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Detail != "methods: email; account unlocked" {
		t.Fatalf("password.reset: %v %v", entries, err)
	}
}

// unlockFlow proves alice's email in an unlock flow and completes it.
func unlockFlow(t *testing.T, h *flowstest.Harness, name string) (flows.UnlockOutcome, error) {
	t.Helper()
	ctx := context.Background()
	rs, err := h.Svc.StartUnlock(ctx, name, flowstest.Source)
	if err != nil {
		t.Fatalf("start unlock: %v", err)
	}
	if len(rs.Options) == 0 || rs.Options[0].Method != policy.Email {
		t.Fatalf("unlock options %+v", rs.Options)
	}
	h.SendCode(t, rs.FlowID, policy.Email)
	code := h.Inbox.LastCode(t, name+"@example.com")
	if _, err := h.Svc.CompleteUnlock(ctx, rs.FlowID); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("complete before the proof: %v", err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, code); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new passphrase"); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("an unlock flow completed as a reset: %v", err)
	}
	return h.Svc.CompleteUnlock(ctx, rs.FlowID)
}

// subjects lists the subjects of the queued notifications to an address,
// but for the one of the registration every test begins with.
func subjects(t *testing.T, h *flowstest.Harness, to string) []string {
	t.Helper()
	const registered = "Your sspr security info changed"

	rows, err := store.ListOutbox(context.Background(), h.DB, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		if r.Destination == to && r.Kind == "notification" && r.Subject != registered {
			out = append(out, r.Subject)
		}
	}
	return out
}

// TestUnlockJourney: the proofs of a reset unlock a locked account with the
// password unchanged, audited and notified; on an account that is not
// locked the same journey ends saying so, and notifies nobody.
func TestUnlockJourney(t *testing.T) {
	h, ctx := lockoutHarness(t)
	lockAlice(t, h)
	out, err := unlockFlow(t, h, "alice")
	if err != nil || !out.Unlocked {
		t.Fatalf("unlock: %+v, %v", out, err)
	}
	if err := signIn(h, flowstest.Password); err != nil {
		t.Fatalf("the old password after the unlock: %v", err)
	}
	entries, err := h.Svc.AuditEntries(ctx, audit.Filter{Events: []audit.Event{audit.EventAccountUnlocked}})
	if err != nil || len(entries) != 1 {
		t.Fatalf("account.unlocked: %v %v", entries, err)
	}
	if e := entries[0]; e.Actor != "alice" || e.Target != "alice" || e.Outcome != "ok" || e.Detail != "self-service; methods: email" {
		t.Fatalf("account.unlocked: %s", e)
	}
	want := []string{"Your sspr account was unlocked"}
	if got := subjects(t, h, "alice@example.com"); !slices.Equal(got, want) {
		t.Fatalf("notifications %q, want %q", got, want)
	}

	out, err = unlockFlow(t, h, "alice")
	if err != nil || out.Unlocked {
		t.Fatalf("unlock of an account not locked: %+v, %v", out, err)
	}
	if got := subjects(t, h, "alice@example.com"); !slices.Equal(got, want) {
		t.Fatalf("notifications after an unlock of nothing %q", got)
	}
	entries, _ = h.Svc.AuditEntries(ctx, audit.Filter{Events: []audit.Event{audit.EventAccountUnlocked}, Limit: 1})
	if len(entries) != 1 || entries[0].Outcome != "not locked" {
		t.Fatalf("account.unlocked of an account not locked: %v", entries)
	}
}

// TestUnlockIsAResetJourney: an unlock starts as a reset does, blocks and
// decoys included, and is refused when the policy turns it off.
func TestUnlockIsAResetJourney(t *testing.T) {
	h, ctx := lockoutHarness(t)
	reset := h.StartReset(t, "nobody-here")
	decoy, err := h.Svc.StartUnlock(ctx, "nobody-here", flowstest.Source)
	if err != nil || len(decoy.Options) != len(reset.Options) || decoy.Options[0].Method != reset.Options[0].Method {
		t.Fatalf("decoy unlock %+v, %v; decoy reset %+v", decoy, err, reset)
	}
	h.SendCode(t, decoy.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, decoy.FlowID, policy.Email, "12345678"); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("a code on the decoy path: %v", err)
	}
	if _, err := h.Svc.CompleteUnlock(ctx, decoy.FlowID); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("complete a decoy unlock: %v", err)
	}

	// sspr's own block stops an unlock as it stops a reset, and is not
	// something an unlock lifts.
	for range flows.AccountFailLimit {
		_ = signIn(h, "not it")
	}
	if _, err := h.Svc.StartUnlock(ctx, "alice", flowstest.Source); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("unlock of a blocked account: %v", err)
	}

	h.SetPolicy(t, policy.KeyAllowUnlock, "false")
	if _, err := h.Svc.StartUnlock(ctx, "bob", flowstest.Source); !errors.Is(err, flows.ErrUnlockOff) ||
		!errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("unlock turned off: %v", err)
	}
}

// TestAdminUnlockLiftsLockout: an administrator's unlock lifts a lockout of
// sspr's own as well as the block, audited with the administrator as actor,
// and the person is told.
func TestAdminUnlockLiftsLockout(t *testing.T) {
	h, ctx := lockoutHarness(t)
	lockAlice(t, h)
	out, err := h.Svc.Unlock(ctx, h.Admin, "alice")
	if err != nil || !out.Unlocked || out.BlockCleared {
		t.Fatalf("admin unlock: %+v, %v", out, err)
	}
	if err := signIn(h, flowstest.Password); err != nil {
		t.Fatalf("the password after an admin's unlock: %v", err)
	}
	entries, err := h.Svc.AuditEntries(ctx, audit.Filter{Events: []audit.Event{audit.EventAccountUnlocked}})
	if err != nil || len(entries) != 1 || entries[0].Actor != h.Admin.Name || entries[0].Target != "alice" {
		t.Fatalf("account.unlocked: %v %v", entries, err)
	}
	if got := subjects(t, h, "alice@example.com"); !slices.Equal(got, []string{"Your sspr account was unlocked"}) {
		t.Fatalf("notifications %q", got)
	}
	// Unknown names still clear their block, with nothing to unlock.
	if out, err := h.Svc.Unlock(ctx, h.Admin, "made-up-name"); err != nil || out.Unlocked {
		t.Fatalf("admin unlock of a made-up name: %+v, %v", out, err)
	}
}
