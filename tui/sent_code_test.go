package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// TestSentCodeBehindOption pins the one difference between the screens that
// share sentCode: where delivery is behind the screen (reset codes) the
// seconds to a resend and the way out are shown and named in the refusal;
// registration, told of a failed send at once, shows neither.
func TestSentCodeBehindOption(t *testing.T) {
	st := styles.New(true)
	en := locale.Embedded().Source()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sent := flows.CodeSent{Destination: "a•••e@example.com", ExpiresAt: now.Add(flows.CodeLifetime), ResendAt: now.Add(30 * time.Second)}

	reset := sentCode{behind: true}
	reset.got(sent, now)
	if reset.note != "" {
		t.Errorf("the first code is announced as a resend: %q", reset.note)
	}
	if got := reset.refusal(en); got != "You can ask for a new code in 30s." {
		t.Errorf("reset refusal = %q", got)
	}
	hint := reset.hint(en, &st)
	for _, want := range []string{"No code? You can ask for another in 30s.", "Still nothing? Press esc to choose another way."} {
		if !strings.Contains(hint, want) {
			t.Errorf("reset hint %q lacks %q", hint, want)
		}
	}

	reg := sentCode{}
	reg.got(sent, now)
	if got := reg.refusal(en); got != "Wait a little before asking for another code." {
		t.Errorf("registration refusal = %q", got)
	}
	if got := reg.hint(en, &st); got != "" {
		t.Errorf("registration shows a hint: %q", got)
	}

	// Once the cooldown is over a resend may go, and the second code is
	// announced as replacing the first.
	reg.now = sent.ResendAt
	if got := reg.refusal(en); got != "" {
		t.Errorf("refusal after the cooldown = %q", got)
	}
	reg.got(sent, sent.ResendAt)
	if reg.note != resentNote {
		t.Errorf("a resend is not announced: %q", reg.note)
	}
	reg.keyed()
	if reg.note != "" {
		t.Errorf("a key leaves the note: %q", reg.note)
	}
}
