package portal_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/portal"
)

// TestDemoOutboxPerSessionOverSSH: the demo served over SSH shows each
// connected client the codes of the people it looked up, never another
// client's.
func TestDemoOutboxPerSessionOverSSH(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{Clock: clock.Real{},
		Channels: func(db *store.DB, clk clock.Clock) map[string]dispatch.Channel {
			ob := dispatch.NewOutboxChannel(db, clk)
			return map[string]dispatch.Channel{dispatch.ChannelEmail: ob, dispatch.ChannelSMS: ob}
		}})
	for _, name := range []string{"alice", "carol"} {
		h.AddUser(t, name, false)
		h.RegisterVerified(t, name, policy.Email, name+"@example.com")
	}
	p := startPortal(t, h, func(o *portal.Options) { o.Mode = tui.ModeDemo })

	a := openTerminal(t, dial(t, p.addr), 40, 140)
	walkToCode(t, a, "alice")
	alice := h.OutboxCode(t, "alice@example.com")
	a.waitFor("Code "+alice, wait)

	b := openTerminal(t, dial(t, p.addr), 40, 140)
	b.toUsername()
	// The welcome screen has read the outbox, alice's code in it.
	if strings.Contains(ansi.Strip(b.out.Raw()), alice) {
		t.Fatalf("client B, before looking anyone up, was shown alice's code %s", alice)
	}
	b.askCode("carol")
	carol := h.OutboxCode(t, "carol@example.com")
	b.waitFor("Code "+carol, wait)
	if strings.Contains(ansi.Strip(b.out.Raw()), alice) {
		t.Fatalf("client B (carol) was shown alice's code %s:\n%s", alice, ansi.Strip(b.out.Raw()))
	}

	// Alice finishes; her notification shows on A, which has by then read
	// past carol's code.
	a.typeText(alice)
	a.send("\r")
	a.waitFor("Type it again", wait)
	a.typeText(newPassword)
	a.send("\t")
	a.typeText(newPassword)
	a.waitFor("Both entries match", wait)
	a.send("\r")
	a.waitFor("Your sspr password was reset", wait)
	if strings.Contains(ansi.Strip(a.out.Raw()), carol) {
		t.Errorf("client A (alice) was shown carol's code %s", carol)
	}
	a.leave()
	b.leave()
}
