package tui

import (
	"testing"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestPanelCapitalWholeRunes: a refusal that opens with a letter of more
// than one byte is capitalised whole, and one that already ends a sentence
// in its own script gets no second full stop.
func TestPanelCapitalWholeRunes(t *testing.T) {
	for in, want := range map[string]string{
		"élan must be set":    "Élan must be set.",
		"über 3 Zeichen":      "Über 3 Zeichen.",
		"設定は0〜730の範囲です。":      "設定は0〜730の範囲です。",
		"did you mean x?":     "Did you mean x?",
		"days must be 0–730.": "Days must be 0–730.",
	} {
		if got := panelCapital(in); got != want {
			t.Errorf("panelCapital(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPolicyHintEverySetting: each setting's editor says what it takes;
// only the on/off settings say "true or false".
func TestPolicyHintEverySetting(t *testing.T) {
	p := locale.Embedded().Source()
	for _, k := range policy.Keys() {
		hint := policyHint(p, k)
		if (hint == "true or false") != policy.IsBool(k) {
			t.Errorf("%s: hint %q", k, hint)
		}
	}
	if got := policyHint(p, policy.KeyExpiryReminderDays); got != "a comma list of days from 1 to 90, such as 14,7,3,1" {
		t.Errorf("reminder days hint = %q", got)
	}
}
