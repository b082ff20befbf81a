package components

import (
	"strings"
	"testing"
	"unicode/utf8"

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
	for _, s := range sentences {
		longest := 0
		for _, w := range strings.Fields(s) {
			longest = max(longest, ansi.StringWidth(w))
		}
		wrapEach(t, s, longest, func(width int, out string) {
			var got []string
			for _, line := range strings.Split(ansi.Strip(out), "\n") {
				got = append(got, strings.Fields(line)...)
			}
			if strings.Join(got, " ") != s {
				t.Fatalf("width %d: a word was cut or lost:\n%s", width, ansi.Strip(out))
			}
		})
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

// TestWrapJapaneseAndChinese: text without spaces breaks between
// characters, never before a closing bracket, stop or comma and never
// after an opening bracket (kinsoku); nothing is lost or added, no line is
// wider than the width, and each line is as full as those rules let it be.
func TestWrapJapaneseAndChinese(t *testing.T) {
	sentences := []string{
		"パスワードをお忘れですか？登録済みの方法（メール、認証アプリなど）で本人確認を行い、新しいパスワードを設定してください。",
		"コードを alice@example.com に送信しました。「コードを入力」を選んでください。",
		"请输入您的用户名。然后用您之前设置的方法（例如电子邮件）证明是您本人，再设置新密码。",
	}
	for _, s := range sentences {
		// From 8 cells: a run that may not break (（メー) is at most three
		// characters, and a narrower line has to cut it.
		wrapEach(t, s, 8, func(width int, out string) {
			lines := strings.Split(ansi.Strip(out), "\n")
			if got := strings.Join(lines, ""); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(s, " ", "") {
				t.Fatalf("width %d: text lost or added:\n%s", width, strings.Join(lines, "\n"))
			}
			if strings.Contains(out, breakMark) {
				t.Fatalf("width %d: a break mark was left in", width)
			}
			for i, l := range lines {
				first, _ := utf8.DecodeRuneInString(l)
				last, _ := utf8.DecodeLastRuneInString(l)
				// (A word of Latin letters longer than the line is cut
				// anywhere, as in any language.)
				if i > 0 && strings.ContainsRune(noLineStart, first) && ansi.StringWidth(string(first)) == 2 {
					t.Fatalf("width %d: line %d begins with %q:\n%s", width, i+1, first, strings.Join(lines, "\n"))
				}
				if i < len(lines)-1 && strings.ContainsRune(noLineEnd, last) && ansi.StringWidth(string(last)) == 2 {
					t.Fatalf("width %d: line %d ends with %q:\n%s", width, i+1, last, strings.Join(lines, "\n"))
				}
				// Full: where the next line begins with a character of
				// such text, it would not have fitted here (with the
				// one kinsoku may have kept with it).
				if i < len(lines)-1 {
					next, _ := utf8.DecodeRuneInString(lines[i+1])
					if ansi.StringWidth(string(next)) == 2 && ansi.StringWidth(l)+4 <= width &&
						!strings.ContainsRune(noLineEnd, next) && !strings.ContainsRune(noLineStart, next) {
						t.Fatalf("width %d: line %d stops short:\n%s", width, i+1, strings.Join(lines, "\n"))
					}
				}
			}
		})
	}
}

// wrapEach wraps s, plain and styled, at every width from from to 80,
// checks that no line is wider, and hands each result to check.
func wrapEach(t *testing.T, s string, from int, check func(width int, out string)) {
	t.Helper()
	st := dark()
	for width := from; width <= 80; width++ {
		for _, in := range []string{s, st.Error.Render(s)} {
			out := Wrap(in, width)
			assertWithin(t, out, width)
			check(width, out)
		}
	}
}

// FuzzWrap: whatever the text (any script, escape sequences, invalid
// UTF-8) and width, no line is wider than the width, and the marks where
// text without spaces may break never reach the screen.
func FuzzWrap(f *testing.F) {
	f.Add("パスワードをお忘れですか？（メール）", 10)
	f.Add("请输入您的用户名。", 3)
	f.Add("\x1b[31mコード\x1b[0mを alice@example.com に", 7)
	f.Add("a\u200bb c", 2)
	f.Add("\xff\xfe「」", 1)
	f.Fuzz(func(t *testing.T, s string, width int) {
		width = width%120 + 1
		if width < 1 {
			width = -width + 1
		}
		out := Wrap(s, width)
		for _, l := range strings.Split(out, "\n") {
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("a line of %d cells at width %d: %q", w, width, l)
			}
		}
		if !strings.Contains(s, breakMark) && strings.Contains(out, breakMark) {
			t.Fatalf("a break mark reached the screen: %q", out)
		}
	})
}
