package flows_test

import (
	"testing"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// TestConfigured checks which methods a server can offer: email and text
// only with their channel, the others always.
func TestConfigured(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Channels: func(db *store.DB, clk clock.Clock) map[string]dispatch.Channel {
		return map[string]dispatch.Channel{dispatch.ChannelEmail: dispatch.NewOutboxChannel(db, clk)}
	}})
	for m, want := range map[policy.Method]bool{policy.Email: true, policy.SMS: false, policy.Authenticator: true,
		policy.RecoveryCodes: true, policy.Voucher: true, policy.Questions: true} {
		if got := h.Svc.Configured(m); got != want {
			t.Errorf("Configured(%s) = %v, want %v", m, got, want)
		}
	}
}
