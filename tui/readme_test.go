package tui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCapture is a capture in the README that stands for a golden screen.
var readmeCapture = regexp.MustCompile("(?s)<!-- golden: ([a-z_]+) -->\n```text\n(.*?)\n```")

// TestREADMECaptures: every screen the README shows as a golden's capture is
// that golden, with trailing spaces and runs of blank lines folded, so the
// README cannot fall behind the screens.
func TestREADMECaptures(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	found := readmeCapture.FindAllStringSubmatch(string(readme), -1)
	if len(found) < 6 {
		t.Fatalf("the README has %d marked captures; want at least 6", len(found))
	}
	for _, m := range found {
		g, err := os.ReadFile(filepath.Join("testdata", "TestGoldenREADME", m[1]+".golden"))
		if err != nil {
			t.Errorf("capture %s: %v", m[1], err)
			continue
		}
		if want := foldCapture(string(g)); m[2] != want {
			t.Errorf("the README's %s capture is not its golden; it should read:\n%s", m[1], want)
		}
	}
}

// foldCapture is a screen as the README shows it: no trailing spaces, one
// blank line where the screen has several, none at the end.
func foldCapture(screen string) string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		l = strings.TrimRight(l, " ")
		if l == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}
