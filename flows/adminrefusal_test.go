package flows_test

import (
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestAdminRefusalsAreCatalogueMessages: an admin operation's refusal is a
// catalogue message the panel writes in the admin's language, names the
// method as the policy does (not a catalogue ID), and still prints for the
// CLI as it always did.
func TestAdminRefusalsAreCatalogueMessages(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	err := h.Svc.RemoveUserMethod(ctx, h.Admin, "alice", policy.Authenticator)
	var refusal *locale.Error
	if !errors.Is(err, flows.ErrNotFound) || !errors.As(err, &refusal) {
		t.Fatalf("remove a method alice lacks: %v", err)
	}
	if got := refusal.In(locale.Embedded().Source()); got != "alice has no authenticator registered" {
		t.Fatalf("message = %q", got)
	}
	err = h.Svc.SetAdmin(ctx, h.Admin, "nobody", true)
	if !errors.Is(err, flows.ErrNotFound) || err.Error() != `set admin: user "nobody": not found` {
		t.Fatalf("unknown user: %v", err)
	}
}
