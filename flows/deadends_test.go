package flows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// registered lists the methods the overview shows as registered.
func registered(t *testing.T, h *flowstest.Harness, sid string) []policy.Method {
	t.Helper()
	ov, err := h.Svc.Overview(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	var out []policy.Method
	for _, m := range ov.Methods {
		if m.Registered {
			out = append(out, m.Method)
		}
	}
	return out
}

// A re-registration an admin asks for removes what was registered, so the
// old methods prove nothing any more; confirming the info cannot end it;
// methods proven anew end it once they meet the policy.
func TestReregistrationRemovesMethods(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.SetPolicy(t, "methods_required", "2")
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	key := h.RegisterAuthenticator(t, "alice")
	if rs := h.StartReset(t, "alice"); len(rs.Options) < 2 || rs.Options[0].Method != policy.Email {
		t.Fatalf("before: options %+v", rs.Options)
	}

	if err := h.Svc.RequireReregistration(ctx, h.Admin, "alice"); err != nil {
		t.Fatal(err)
	}
	sid := h.SignIn(t, "alice")
	if got := registered(t, h, sid); len(got) != 0 {
		t.Fatalf("still registered after the admin asked for re-registration: %v", got)
	}
	info, err := h.Svc.Session(ctx, sid)
	if err != nil || !info.RegistrationDue || info.DueReason != flows.DueReregister {
		t.Fatalf("due %v, reason %q, err %v", info.RegistrationDue, info.DueReason, err)
	}
	ov, err := h.Svc.Overview(ctx, sid)
	if err != nil || ov.CanConfirm {
		t.Fatalf("confirming is offered: %+v %v", ov, err)
	}
	// The old authenticator no longer proves anything, and no code goes to
	// the old address.
	h.Clock.Advance(time.Minute)
	sent := h.Inbox.Count()
	rs := h.StartReset(t, "alice")
	for _, o := range rs.Options {
		switch o.Method {
		case policy.Email:
			_, _ = h.Svc.SendCode(ctx, rs.FlowID, policy.Email)
			h.Settle()
		case policy.Authenticator:
			if p, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, h.TOTP(t, key, h.Clock.Now())); err == nil {
				t.Fatalf("the removed authenticator still proves: %+v", p)
			}
		}
	}
	if h.Inbox.Count() != sent {
		t.Fatal("a code went to the removed address")
	}
	// One keypress does not end it.
	if err := h.Svc.ConfirmInfo(ctx, sid); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("confirm info: %v", err)
	}
	if info, _ := h.Svc.Session(ctx, sid); !info.RegistrationDue {
		t.Fatal("confirming ended the re-registration")
	}
	entries, err := audit.List(ctx, h.DB, audit.Filter{Events: []audit.Event{audit.EventReregistrationRequired}})
	if err != nil || len(entries) != 1 || entries[0].Detail != "removed authenticator,email" {
		t.Fatalf("audit %+v %v", entries, err)
	}

	// Proving one way again is not enough for a policy of two.
	h.RegisterEmail(t, "alice")
	if info, _ := h.Svc.Session(ctx, sid); !info.RegistrationDue {
		t.Fatal("one method ended a re-registration that policy needs two for")
	}
	h.Clock.Advance(time.Minute)
	h.RegisterAuthenticator(t, "alice")
	if info, _ := h.Svc.Session(ctx, sid); info.RegistrationDue {
		t.Fatalf("still due after registering two ways again: %s", info.DueReason)
	}
	if got := registered(t, h, sid); len(got) != 2 {
		t.Fatalf("registered %v", got)
	}
}

// A reset by someone whose security info falls short (here: a voucher and
// nothing registered) opens a session to register it; a reset by someone
// who can reset on their own opens none. The session cannot change the
// password.
func TestCompleteResetSignedIn(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	h.AddUser(t, "gina", false)
	v, err := h.Svc.IssueVoucher(ctx, h.Admin, "gina")
	if err != nil {
		t.Fatal(err)
	}
	rs := h.StartReset(t, "gina")
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); err != nil {
		t.Fatal(err)
	}
	info, err := h.Svc.CompleteResetSignedIn(ctx, rs.FlowID, "a brand new "+goodPassword)
	if err != nil || info.ID == "" || info.Username != "gina" || !info.RegistrationDue {
		t.Fatalf("after a voucher reset: %+v %v", info, err)
	}
	if err := h.Svc.ChangePassword(ctx, info.ID, "", "yet another "+goodPassword); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("the registration session changed the password: %v", err)
	}
	if _, err := h.Svc.BeginContact(ctx, info.ID, policy.Email, "gina@example.com"); err != nil {
		t.Fatalf("the session cannot register: %v", err)
	}

	rs = h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	info, err = h.Svc.CompleteResetSignedIn(ctx, rs.FlowID, "a brand new "+goodPassword)
	if err != nil || info.ID != "" {
		t.Fatalf("alice can reset on her own, yet got a session: %+v %v", info, err)
	}
}
