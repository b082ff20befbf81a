package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/hooks"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// resetAlice proves alice's email and sets pw, returning CompleteReset's error.
func resetAlice(t *testing.T, h *flowstest.Harness, pw string) error {
	t.Helper()
	ctx := context.Background()
	rs := h.StartReset(t, "alice")
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	return h.Svc.CompleteReset(ctx, rs.FlowID, pw)
}

// A check that does not answer in time does not say yes: the password
// stays as it was.
func TestCheckHookTimeoutKeepsOldPassword(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Hooks: hooks.New([]string{flowstest.HookScript(t, "sleep 30\n")}, nil, time.Second)})
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	pw := "a brand new " + goodPassword
	if err := resetAlice(t, h, pw); !errors.Is(err, flows.ErrCheckUnavailable) {
		t.Fatalf("err = %v, want ErrCheckUnavailable", err)
	}
	if _, err := h.Svc.SignIn(context.Background(), "alice", flowstest.Password, flowstest.Source); err != nil {
		t.Fatalf("the old password stopped working: %v", err)
	}
}

// With on_failure: report, a failed changed program leaves the password
// set, is audited, and every admin is emailed, without the password.
func TestChangedHookFailureAuditedAndAdminsTold(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Hooks: hooks.New(nil, []string{flowstest.HookScript(t, "cat >/dev/null; exit 4\n")},
		10*time.Second), HookReport: true})
	h.AddUser(t, "root", true)
	h.RegisterEmail(t, "root")
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	pw := "a brand new " + goodPassword
	if err := resetAlice(t, h, pw); !errors.Is(err, flows.ErrNotFollowed) {
		t.Fatalf("err = %v, want ErrNotFollowed", err)
	}
	ctx := context.Background()
	if _, err := h.Svc.SignIn(ctx, "alice", pw, flowstest.Source); err != nil {
		t.Fatalf("the new password was not set: %v", err)
	}
	if n := h.CountEvents(t, audit.EventHookFailed); n != 1 {
		t.Fatalf("hook.failed rows %d", n)
	}
	if _, _, err := h.Dispatcher.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	m := h.Inbox.Last(t)
	if m.To != "root@example.com" || !strings.Contains(m.Subject, "did not follow alice") || !strings.Contains(m.Text, "exit status 4") {
		t.Fatalf("admin message %+v", m)
	}
	if strings.Contains(m.Text+m.HTML, pw) {
		t.Fatal("the admin message holds the password")
	}
}

// Without report, the same failure is only the server log's: the reset is
// a plain success.
func TestChangedHookFailureIgnored(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Hooks: hooks.New(nil, []string{flowstest.HookScript(t, "exit 4\n")}, 10*time.Second)})
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	if err := resetAlice(t, h, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	if n := h.CountEvents(t, audit.EventHookFailed); n != 0 {
		t.Fatalf("hook.failed rows %d", n)
	}
}
