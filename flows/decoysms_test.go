package flows_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestWrongTextedCodeReadsTheSameForEveryName: a wrong texted code tells an
// unknown name what it tells a real person (the tries left), as a wrong
// emailed code does, so the answer does not give away that the account is
// made up.
func TestWrongTextedCodeReadsTheSameForEveryName(t *testing.T) {
	h := flowstest.New(t)
	for _, name := range []string{"ann", "ben"} {
		h.AddUser(t, name, false)
		h.RegisterVerified(t, name, policy.SMS, "+447700900001")
	}
	ctx := context.Background()
	said := map[string]string{}
	for _, name := range []string{"ann", "nobody"} {
		rs := h.StartReset(t, name)
		if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.SMS); err != nil {
			t.Fatalf("%s: send: %v", name, err)
		}
		var words string
		for range 2 {
			_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.SMS, "00000000")
			words += fmt.Sprintf("%v | ", err)
		}
		said[name] = words
	}
	if said["ann"] != said["nobody"] {
		t.Fatalf("wrong texted codes: ann was told %q, an unknown name %q", said["ann"], said["nobody"])
	}
}
