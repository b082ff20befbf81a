package assets

import (
	"slices"
	"strings"
	"testing"
)

func TestBlocklist(t *testing.T) {
	list := Blocklist()
	// SECURITY.md requires at least the top 10,000.
	if len(list) < 10000 {
		t.Fatalf("blocklist has %d entries, want at least 10000", len(list))
	}
	if list[0] != "123456" || list[1] != "password" {
		t.Errorf("blocklist does not start with the most common passwords: %q", list[:2])
	}
	for i, w := range list {
		if w == "" || w != strings.TrimSpace(w) || w != strings.ToLower(w) {
			t.Fatalf("entry %d = %q: want trimmed, lower-case, non-empty", i, w)
		}
	}
}

func TestBlocklistReturnsFreshCopy(t *testing.T) {
	a := Blocklist()
	a[0] = "changed"
	if b := Blocklist(); b[0] == "changed" {
		t.Fatal("modifying the returned slice changed the next result")
	}
}

func TestBanner(t *testing.T) {
	b := Banner()
	if b == "" {
		t.Fatal("empty banner")
	}
	if strings.HasSuffix(b, "\n") {
		t.Error("banner ends with a newline")
	}
	rows := strings.Split(b, "\n")
	if len(rows) > 5 {
		t.Errorf("banner has %d lines, want at most 5", len(rows))
	}
	for i, r := range rows {
		if len(r) > 40 {
			t.Errorf("line %d is %d columns, want at most 40", i, len(r))
		}
		if r != strings.TrimRight(r, " ") {
			t.Errorf("line %d has trailing spaces", i)
		}
		for _, c := range []byte(r) {
			// Printable ASCII only: a control byte here would reach the
			// terminal unsanitised.
			if c < 0x20 || c > 0x7e {
				t.Errorf("line %d has non-printable or non-ASCII byte %#x", i, c)
			}
		}
	}
}

func TestLines(t *testing.T) {
	text := "  A \n\n# note\r\nB\r\n   \n#C"
	if got, want := lines(text, true, strings.ToLower), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("with comments: got %q, want %q", got, want)
	}
	if got, want := lines(text, false, nil), []string{"A", "# note", "B", "#C"}; !slices.Equal(got, want) {
		t.Errorf("without comments: got %q, want %q", got, want)
	}
}
