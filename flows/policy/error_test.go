package policy_test

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestErrorInLanguage: a refused value reads the same in English as the CLI
// always printed it, and in another language names the setting in that
// language too, while errors.Is still finds the sentinel.
func TestErrorInLanguage(t *testing.T) {
	var p policy.Policy
	err := p.Set(policy.KeyReconfirmDays, "731")
	if !errors.Is(err, policy.ErrInvalidValue) {
		t.Fatalf("err = %v, want ErrInvalidValue", err)
	}
	if got := err.Error(); got != "days before re-confirm must be 0–730" {
		t.Fatalf("English = %q", got)
	}
	en, rerr := fs.ReadFile(assets.Locales(), "en.yaml")
	if rerr != nil {
		t.Fatal(rerr)
	}
	c, lerr := locale.Load(fstest.MapFS{
		"en.yaml": {Data: en},
		"de.yaml": {Data: []byte("language.name: Deutsch\n" +
			"policy.label.reconfirm_days: Tage bis zur erneuten Bestätigung\n" +
			"policy.error.range: \"{{.Setting}} muss zwischen {{.Min}} und {{.Max}} liegen\"\n")},
	})
	if lerr != nil {
		t.Fatal(lerr)
	}
	var pe *policy.Error
	if !errors.As(err, &pe) {
		t.Fatalf("%T is not a *policy.Error", err)
	}
	if got := pe.In(c.Printer("de")); got != "Tage bis zur erneuten Bestätigung muss zwischen 0 und 730 liegen" {
		t.Fatalf("German = %q", got)
	}
	if policy.Label(policy.KeyPasswordMaxAgeDays) != "password max age (days)" || policy.Label("nope") != "nope" {
		t.Fatalf("labels: %q %q", policy.Label(policy.KeyPasswordMaxAgeDays), policy.Label("nope"))
	}
}
