package flows

import (
	"testing"

	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestMethodChannelsAreDispatchChannels ties the method table's channels to
// the dispatcher's names: canSend asks the dispatcher by that name, so a
// channel spelled differently would quietly never be offered.
func TestMethodChannelsAreDispatchChannels(t *testing.T) {
	known := map[string]bool{dispatch.ChannelEmail: true, dispatch.ChannelSMS: true}
	for _, m := range policy.AllMethods() {
		if ch := m.Describe().Channel; ch != policy.ChannelNone && !known[string(ch)] {
			t.Errorf("%s: channel %q is not a dispatch channel", m, ch)
		}
	}
}
