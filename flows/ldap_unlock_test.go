package flows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// registerEmail signs a directory user in and registers their mail.
func (e *ldapEnv) registerEmail(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	info := e.signIn(t, user)
	to := slapdtest.Users[user].Mail
	if _, err := e.Svc.BeginContact(ctx, info.ID, policy.Email, to); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.ConfirmContact(ctx, info.ID, policy.Email, e.Inbox.LastCode(t, to)); err != nil {
		t.Fatal(err)
	}
	e.Svc.SignOut(info.ID)
}

// lockByBinds makes ppolicy lock a user out with wrong binds, as a
// mistyped password elsewhere would, and checks that it did.
func (e *ldapEnv) lockByBinds(t *testing.T, user string) {
	t.Helper()
	for range slapdtest.MaxFailure {
		if e.passwordIs(t, user, "a wrong password") {
			t.Fatal("a wrong password bound")
		}
	}
	if e.passwordIs(t, user, slapdtest.Users[user].Password) {
		t.Fatalf("%s still binds after %d wrong binds", user, slapdtest.MaxFailure)
	}
}

// proveEmail starts an unlock or a reset for user and proves their mail.
func (e *ldapEnv) proveEmail(t *testing.T, user string, start func(context.Context, string, string) (flows.ResetStart, error)) string {
	t.Helper()
	ctx := context.Background()
	rs, err := start(ctx, user, "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		t.Fatal(err)
	}
	if p, err := e.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, e.Inbox.LastCode(t, slapdtest.Users[user].Mail)); err != nil || !p.Done {
		t.Fatalf("verify: %+v, %v", p, err)
	}
	return rs.FlowID
}

// TestLDAPUnlockBySelfService: an account ppolicy locked out after wrong
// binds is unlocked by self-service, with the proofs of a reset, and the
// old password binds again.
func TestLDAPUnlockBySelfService(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	e.registerEmail(t, "grace")
	e.lockByBinds(t, "grace")

	out, err := e.Svc.CompleteUnlock(ctx, e.proveEmail(t, "grace", e.Svc.StartUnlock))
	if err != nil || !out.Unlocked {
		t.Fatalf("unlock: %+v, %v", out, err)
	}
	if !e.passwordIs(t, "grace", slapdtest.Users["grace"].Password) {
		t.Fatal("the old password does not bind after the unlock")
	}
	if n := e.CountEvents(t, audit.EventAccountUnlocked); n != 1 {
		t.Fatalf("account.unlocked rows = %d", n)
	}
	out, err = e.Svc.CompleteUnlock(ctx, e.proveEmail(t, "grace", e.Svc.StartUnlock))
	if err != nil || out.Unlocked {
		t.Fatalf("unlock of an account not locked: %+v, %v", out, err)
	}
}

// TestLDAPResetUnlocks: a reset of an account ppolicy locked out sets the
// password and ends the lockout: the new password binds at once.
func TestLDAPResetUnlocks(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	e.registerEmail(t, "kim")
	e.lockByBinds(t, "kim")
	const next = "Copper Lantern Meadow 77"
	if err := e.Svc.CompleteReset(ctx, e.proveEmail(t, "kim", e.Svc.StartReset), next); err != nil {
		t.Fatal(err)
	}
	if !e.passwordIs(t, "kim", next) {
		t.Fatal("the new password does not bind after a reset of a locked account")
	}
}

// TestLDAPUnlockRefused: a service account without the right to write
// pwdAccountLockedTime gets the person one sentence, and the admin a log
// line that names the attribute and the entry; nothing is recorded as
// unlocked.
func TestLDAPUnlockRefused(t *testing.T) {
	faults, log := newFaults(clock.Real{})
	e := newLDAPEnv(t, flows.LDAPOptions{Faults: faults}, func(cfg *ldapdir.Config) {
		cfg.BindDN, cfg.BindPassword = slapdtest.Users["carol"].DN(), slapdtest.Users["carol"].Password
	})
	ctx := context.Background()
	e.registerEmail(t, "heidi")
	e.lockByBinds(t, "heidi")
	_, err := e.Svc.CompleteUnlock(ctx, e.proveEmail(t, "heidi", e.Svc.StartUnlock))
	if !errors.Is(err, flows.ErrUnlockRefused) {
		t.Fatalf("unlock without the right: %v", err)
	}
	log.expect(t, 1, `msg="directory unlock failed"`, "no right to write pwdAccountLockedTime",
		slapdtest.Users["heidi"].DN())
	if n := e.CountEvents(t, audit.EventAccountUnlocked); n != 0 {
		t.Fatalf("account.unlocked rows = %d after a refusal", n)
	}
}

// TestLDAPAdminUnlock: an administrator's unlock (the panel's, `sspr user
// unlock`) lifts the directory's lockout too, even of someone sspr has never
// met, with the password unchanged.
func TestLDAPAdminUnlock(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	e.lockByBinds(t, "ivan")
	out, err := e.Svc.Unlock(ctx, e.Admin, "ivan")
	if err != nil || !out.Unlocked {
		t.Fatalf("admin unlock: %+v, %v", out, err)
	}
	if !e.passwordIs(t, "ivan", slapdtest.Users["ivan"].Password) {
		t.Fatal("the old password does not bind after the admin's unlock")
	}
	if n := e.CountEvents(t, audit.EventAccountUnlocked); n != 1 {
		t.Fatalf("account.unlocked rows = %d", n)
	}
}
