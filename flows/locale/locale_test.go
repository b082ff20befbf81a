package locale_test

import (
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
