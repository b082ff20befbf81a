package components

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestWrapKeepsWordsWhole checks, at every width from a word's length up,
// that a sentence is broken only between words: every line is made of
// whole words, none is wider than the width, and reading the lines in
// order gives the sentence back.
func TestWrapKeepsWordsWhole(t *testing.T) {
	sentences := []string{
		"There must be at least one administrator, and this would leave none.",
		"That password doesn't meet every rule yet: see the list.",
		"Self-service password reset is not turned on for this account.",
		"Überprüfen Sie die Größe des Fensters — und versuchen Sie es erneut.",
	}
	st := dark()
	for _, s := range sentences {
		words := strings.Fields(s)
		longest := 0
		for _, w := range words {
			longest = max(longest, ansi.StringWidth(w))
		}
		for width := longest; width <= 80; width++ {
			for _, styled := range []bool{false, true} {
				in := s
				if styled {
					in = st.Error.Render(s)
				}
				out := Wrap(in, width)
				assertWithin(t, out, width)
				var got []string
				for _, line := range strings.Split(ansi.Strip(out), "\n") {
					got = append(got, strings.Fields(line)...)
				}
				if strings.Join(got, " ") != s {
					t.Fatalf("width %d: a word was cut or lost:\n%s", width, ansi.Strip(out))
				}
			}
		}
	}
}

// TestWrapBreaksOnlyOverlongWords: a word longer than the line is the one
// thing cut, and nothing is lost.
func TestWrapBreaksOnlyOverlongWords(t *testing.T) {
	out := Wrap("code JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP here", 10)
	assertWithin(t, out, 10)
	if got := strings.ReplaceAll(strings.ReplaceAll(out, "\n", ""), " ", ""); got != "codeJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPhere" {
		t.Fatalf("lost text: %q", out)
	}
	if first := strings.Split(out, "\n")[0]; strings.TrimSpace(first) != "code" {
		t.Fatalf("the short word shares a line with the broken one: %q", out)
	}
	// Wide characters never make a line wider than the width, even at 1.
	for w := 1; w < 6; w++ {
		assertWithin(t, Wrap("密码重置 完成了", w), w)
	}
	if got := Wrap("a\nb", 10); got != "a\nb" {
		t.Fatalf("line breaks changed: %q", got)
	}
}

func TestWrapHanging(t *testing.T) {
	got := WrapHanging("email 4 · text 1 · app 2 · recovery 0 · voucher 0 · questions 0", 36, 10)
	want := "email 4 · text 1 · app 2 ·\n" +
		"          recovery 0 · voucher 0 ·\n" +
		"          questions 0"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	assertWithin(t, strings.Repeat("x", 10)+got, 46)
	for w := 1; w < 12; w++ {
		assertWithin(t, WrapHanging("a few short words here", w, 10), w)
	}
}

func TestWrapValueBreaksAfterCommas(t *testing.T) {
	got := WrapValue(`"harbour,lantern,meadow,quartz,saffron"`, 28, 8)
	want := "\"harbour,lantern,\n        meadow,quartz,\n        saffron\""
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got := WrapHanging("1,250.00 EUR saved", 13, 0); !strings.HasPrefix(got, "1,250.00") {
		t.Fatalf("prose wrap broke a number: %q", got)
	}
}
