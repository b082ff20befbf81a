package locale_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/locale"
)

func TestEnglishLoads(t *testing.T) {
	c := locale.Embedded()
	p := c.Source()
	if got := p.T("welcome.title"); got != "Password self-service" {
		t.Fatalf("welcome.title = %q", got)
	}
	if got := p.N("duration.minutes", 1, nil); got != "1 minute" {
		t.Fatalf("1 minute = %q", got)
	}
	if got := p.N("duration.minutes", 1204, nil); got != "1,204 minutes" {
		t.Fatalf("1204 minutes = %q", got)
	}
	if got := p.Duration(90 * time.Second); got != "2 minutes" {
		t.Fatalf("90 s = %q", got)
	}
	if got := p.T("no.such.message"); got != "no.such.message" {
		t.Fatalf("missing = %q", got)
	}
}

// TestMatch proves a locale picks the language it names, and that one sspr
// does not speak is refused rather than taken for English.
func TestMatch(t *testing.T) {
	c := locale.Embedded()
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"en_GB.UTF-8", "en"}, {"en", "en"}, {"C", ""}, {"POSIX", ""}, {"", ""}, {"tlh", ""}, {"xx_YY.UTF-8", ""},
		{"C.UTF-8", ""}, {"en_US@euro", "en"}, {strings.Repeat("a", 100), ""}, {"de_DE\x1b[31m", ""},
	} {
		l, ok := c.Match(tc.in)
		if got := map[bool]string{true: l.Code}[ok]; got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := c.Lookup("tlh"); err == nil {
		t.Error("Lookup(tlh) took an unknown language")
	}
	env := []string{"LANG=en_US.UTF-8", "LC_ALL=tlh"}
	if _, ok := c.FromEnviron(env); ok {
		t.Error("LC_ALL names a language sspr does not speak, and decides")
	}
}
