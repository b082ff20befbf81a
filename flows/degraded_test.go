package flows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// Without a way to deliver email, nobody is offered an emailed code: not to
// register, not to reset, and not on the decoy path either.
func TestNoChannelNoMethod(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Channels: func(*store.DB, clock.Clock) map[string]dispatch.Channel {
		return map[string]dispatch.Channel{}
	}})
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	sid := h.SignIn(t, "alice")
	if _, err := h.Svc.BeginContact(ctx, sid, policy.Email, "alice@example.com"); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("registering an email with no way to send it: %v", err)
	}
	ov, err := h.Svc.Overview(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ov.Methods {
		if (m.Method == policy.Email || m.Method == policy.SMS) && m.Allowed {
			t.Fatalf("overview offers %s with no channel", m.Method)
		}
	}
	// An email registered earlier (say, before the mail server went away)
	// is not offered; the authenticator is.
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	h.RegisterAuthenticator(t, "alice")
	real := h.StartReset(t, "alice")
	for _, o := range real.Options {
		if o.Method == policy.Email {
			t.Fatalf("email offered with no channel: %+v", real.Options)
		}
	}
	if len(real.Options) == 0 || real.Options[0].Method != policy.Authenticator {
		t.Fatalf("options = %+v", real.Options)
	}
	decoy := h.StartReset(t, "nobody")
	if len(decoy.Options) == 0 || decoy.Options[0].Method != policy.Authenticator || decoy.Options[0].Label != real.Options[0].Label {
		t.Fatalf("decoy options %+v vs real %+v", decoy.Options, real.Options)
	}
	if _, err := h.Svc.VerifyCode(ctx, decoy.FlowID, policy.Authenticator, "123456"); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("decoy authenticator code: %v", err)
	}
}

// An email address nobody can send to does not count as a way to prove
// who you are anywhere: the person is asked to register another way, the
// registrations report says they cannot reset, and so does the coverage
// the admin panel's insights and what-if lines are computed from.
func TestUndeliverableMethodsDoNotCount(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Channels: func(*store.DB, clock.Clock) map[string]dispatch.Channel {
		return map[string]dispatch.Channel{}
	}})
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.RegisterVerified(t, "alice", policy.Email, "alice@example.com")
	info, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, flowstest.Source)
	if err != nil {
		t.Fatal(err)
	}
	if !info.RegistrationDue {
		t.Fatal("with only an undeliverable email, registration is not due")
	}
	report, err := h.Svc.RegistrationReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range report {
		if line.Username == "alice" && line.CanReset {
			t.Fatalf("the report says alice can reset with only an email nobody can send: %+v", line)
		}
	}
	if c, err := h.Svc.Coverage(ctx); err != nil || c.AbleToReset != 0 {
		t.Fatalf("coverage counts %d able to reset (%v); want 0", c.AbleToReset, err)
	}
	// Once she has a way that works, all is well.
	h.RegisterAuthenticator(t, "alice")
	info, err = h.Svc.SignIn(ctx, "alice", flowstest.Password, flowstest.Source)
	if err != nil {
		t.Fatal(err)
	}
	if info.RegistrationDue {
		t.Fatalf("registration still due with an authenticator: %s", info.DueReason)
	}
}

// A stored value the rules refuse (an older version wrote it, or someone
// edited the table) must not stop every reset, and an admin can repair it.
func TestInvalidStoredPolicyValue(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	if err := store.SetPolicyValue(ctx, h.DB, "helpdesk_contact", "call \x1b[31mme", 1); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPolicyValue(ctx, h.DB, "methods_required", "7", 1); err != nil {
		t.Fatal(err)
	}
	pol, err := h.Svc.Policy(ctx)
	if err != nil {
		t.Fatalf("policy with a bad stored value: %v", err)
	}
	if pol.HelpdeskContact != "" || pol.MethodsRequired != policy.Defaults().MethodsRequired {
		t.Fatalf("bad values were not replaced by defaults: %+v", pol)
	}
	if rs := h.StartReset(t, "alice"); rs.Required != 1 {
		t.Fatalf("required = %d", rs.Required)
	}
	h.SetPolicy(t, "helpdesk_contact", "helpdesk@example.com")
	if pol, _ = h.Svc.Policy(ctx); pol.HelpdeskContact != "helpdesk@example.com" {
		t.Fatalf("repair did not take: %q", pol.HelpdeskContact)
	}
}
