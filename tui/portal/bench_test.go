package portal_test

import (
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/tui/portal"
)

// BenchmarkWakeFromRest times a key pressed on a resting session until the
// screen it opens has arrived: a new program, a full repaint and the key.
//
//	go test ./tui/portal -run '^$' -bench WakeFromRest -benchtime 20x
func BenchmarkWakeFromRest(b *testing.B) {
	h := newHarness(b)
	p := startPortal(b, h, func(o *portal.Options) { o.SSH.RestAfter = 10 * time.Millisecond })
	term := openTerminal(b, dial(b, p.addr), 24, 80)
	term.waitFor("Reset a forgotten password", wait)
	for b.Loop() {
		b.StopTimer()
		rests := p.srv.Stats().Rests
		for st := p.srv.Stats(); st.Drawing != 0 || st.Rests == rests; st = p.srv.Stats() {
			time.Sleep(2 * time.Millisecond)
		}
		b.StartTimer()
		term.send("1")
		term.waitFor("Enter your username", wait)
		b.StopTimer()
		term.send("\x1b")
		term.waitFor("Reset a forgotten password", wait)
		b.StartTimer()
	}
}
