package flows_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// TestOrganisationName: authenticator apps list the account under the
// organisation's name, and its emails carry it in their subject; without
// one, sspr's own.
func TestOrganisationName(t *testing.T) {
	for _, tc := range []struct{ organisation, issuer string }{{"Contoso Ltd", "Contoso Ltd"}, {"", "sspr"}} {
		h := flowstest.New(t, flowstest.Options{Organisation: tc.organisation})
		ctx := context.Background()
		h.AddUser(t, "erin", false)
		enr, err := h.Svc.BeginAuthenticator(ctx, h.SignIn(t, "erin"))
		if err != nil {
			t.Fatal(err)
		}
		escaped := strings.ReplaceAll(tc.issuer, " ", "%20")
		if !strings.HasPrefix(enr.URI, "otpauth://totp/"+escaped+":erin?") || !strings.Contains(enr.URI, "issuer="+strings.ReplaceAll(tc.issuer, " ", "+")) {
			t.Errorf("%q: enrolment URI %s", tc.organisation, enr.URI)
		}
		h.RegisterEmail(t, "erin")
		if got, want := h.Inbox.Last(t).Subject, "Your "+tc.issuer+" verification code"; got != want {
			t.Errorf("%q: code subject %q, want %q", tc.organisation, got, want)
		}
		rs := h.StartReset(t, "erin")
		h.SendCode(t, rs.FlowID, policy.Email)
		if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "erin@example.com")); err != nil {
			t.Fatal(err)
		}
		if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a much longer passphrase 2026"); err != nil {
			t.Fatal(err)
		}
		rows, err := store.ListOutbox(ctx, h.DB, 0, 100)
		if err != nil || len(rows) == 0 {
			t.Fatalf("outbox: %d rows, %v", len(rows), err)
		}
		if got, want := rows[len(rows)-1].Subject, "Your "+tc.issuer+" password was reset"; got != want {
			t.Errorf("%q: notification subject %q, want %q", tc.organisation, got, want)
		}
	}
}
