package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestStrengthChecksDoNotPileUp: however fast keys arrive, the new-password
// screen runs one strength check at a time, and the last one checks what
// is in the field at the end.
func TestStrengthChecksDoNotPileUp(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(2, "alice")
	np := at[*newPassword](d)

	// Keys arrive faster than checks finish: their commands are held back.
	var inFlight []tea.Cmd
	typed := "Tangerine velvet harbour 93 lamps"
	for _, r := range typed {
		if cmd := d.update(tea.KeyPressMsg{Code: r, Text: string(r)}); cmd != nil {
			for _, msg := range messages(cmd) {
				if _, ok := msg.(evaluatedMsg); ok {
					inFlight = append(inFlight, func() tea.Msg { return msg })
				}
			}
		}
	}
	// The first key started a check; the others waited for it.
	if len(inFlight) != 1 || !np.evaluating {
		t.Fatalf("%d checks started for %d keys; want one at a time", len(inFlight), len(typed))
	}
	// Each result that arrives for an older value starts one more check, for
	// the value now in the field, until one answers for it.
	for rounds := 0; len(inFlight) > 0; rounds++ {
		if rounds > 3 {
			t.Fatal("checks keep starting with nothing typed")
		}
		msg := inFlight[0]()
		inFlight = inFlight[1:]
		for _, next := range messages(d.update(msg)) {
			if _, ok := next.(evaluatedMsg); ok {
				inFlight = append(inFlight, func() tea.Msg { return next })
			}
		}
	}
	if np.evaluating || np.evaluated != np.evalReq.seq {
		t.Fatalf("no check answers for the final value (evaluating %v, answered %d, latest %d)",
			np.evaluating, np.evaluated, np.evalReq.seq)
	}
	d.see("✓ At least 12 characters")
}
