package sanitize

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/invisible"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain ascii", "alice", "alice"},
		{"unicode kept", "Zoë 日本語 🙂", "Zoë 日本語 🙂"},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"sgr colour", "\x1b[31mred\x1b[0m", "red"},
		{"csi private mode", "\x1b[?1049hx\x1b[?25l", "x"},
		{"clear screen", "bob\x1b[2J\x1b[H", "bob"},
		{"csi with intermediates", "a\x1b[1 qb", "ab"},
		{"osc 8 hyperlink st", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"osc 8 hyperlink bel", "\x1b]8;;https://evil.example\aclick\x1b]8;;\a", "click"},
		{"osc title", "\x1b]0;pwned\atext", "text"},
		{"osc 52 clipboard", "\x1b]52;c;aGk=\x07ok", "ok"},
		{"osc unterminated", "alice\x1b]0;rest of it", "alice"},
		{"osc cancelled", "\x1b]0;x\x18after", "after"},
		{"osc aborted by esc", "\x1b]0;x\x1b[1mbold", "bold"},
		{"osc 8-bit st rune", "\x1b]0;x\u009cafter", "after"},
		{"osc 8-bit st byte", "\x1b]0;x\x9cafter", "after"},
		{"osc payload with continuation byte 0x9c", "\x1b]0;✜\x07ok", "ok"},
		{"dcs", "\x1bPq#0;2;0;0;0\x1b\\ok", "ok"},
		{"dcs ignores bel", "\x1bPdata\ahidden\x1b\\ok", "ok"},
		{"apc", "\x1b_Gf=100;AAAA\x1b\\img", "img"},
		{"pm", "\x1b^privacy\x1b\\x", "x"},
		{"sos", "\x1bXstring\x1b\\x", "x"},
		{"c1 csi rune", "\u009b31mred", "red"},
		{"c1 csi byte", "\x9b31mred", "red"},
		{"c1 osc rune", "\u009d8;;http://x\u009clink", "link"},
		{"c1 osc byte", "\x9d0;t\x07x", "x"},
		{"c1 dcs rune", "\u0090data\u009cx", "x"},
		{"c1 apc byte", "\x9fdata\x9cx", "x"},
		{"c1 other dropped", "a\u0085b\u0080c\u009cd", "a bcd"},
		{"esc alone", "a\x1b", "a"},
		{"esc two byte reset", "a\x1bcb", "ab"},
		{"esc save cursor", "a\x1b7b\x1b8", "ab"},
		{"esc charset nF", "a\x1b(Bb\x1b)0c", "abc"},
		{"esc before control", "a\x1b\nb", "a b"},
		{"esc before unicode", "a\x1bébc", "aébc"},
		{"carriage return", "password\rfake", "password fake"},
		{"crlf once", "a\r\nb", "a b"},
		{"tab and newline", "a\tb\nc", "a b c"},
		{"vertical tab form feed", "a\vb\fc", "a b c"},
		{"c0 dropped", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"bidi override", "user\u202Egnp.exe", "usergnp.exe"},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"bidi marks", "a\u200eb\u200fc\u061cd", "abcd"},
		{"line separators", "a\u2028b\u2029c", "a b c"},
		{"zwj emoji kept", "👩\u200d💻", "👩\u200d💻"},
		{"invalid utf8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"encoded surrogate", "a\xed\xa0\x80b", "a\uFFFD\uFFFD\uFFFDb"},
		{"csi broken by control", "\x1b[31\nm", " m"},
		{"csi broken by unicode", "\x1b[31é", "é"},

		// Characters a terminal would not show are written out.
		{"issue example", "Ad\u200bmin\u00ad", "Ad<U+200B>min<U+00AD>"},
		{"zero-width space", "alice\u200b", "alice<U+200B>"},
		{"zero-width non-joiner", "Ad\u200cmin", "Ad<U+200C>min"},
		{"zero-width joiner between letters", "Ad\u200dmin", "Ad<U+200D>min"},
		{"word joiner", "Ad\u2060min", "Ad<U+2060>min"},
		{"byte-order mark", "\ufeffAdmin", "<U+FEFF>Admin"},
		{"invisible operator", "a\u2062b", "a<U+2062>b"},
		{"mongolian vowel separator", "a\u180eb", "a<U+180E>b"},
		{"prepended concatenation mark", "\u0600a", "<U+0600>a"},
		{"tag characters", "a\U000E0061\U000E007F", "a<U+E0061><U+E007F>"},
		{"reserved ignorable", "a\U000E0FFF", "a<U+E0FFF>"},
		{"hangul filler", "\u3164\u3164", "<U+3164><U+3164>"},
		{"halfwidth hangul filler", "ad\uffa0min", "ad<U+FFA0>min"},
		{"hangul choseong and jungseong fillers", "\u115f\u1160", "<U+115F><U+1160>"},
		{"braille blank", "a\u2800b", "a<U+2800>b"},
		{"combining grapheme joiner", "a\u034fb", "a<U+034F>b"},
		{"variation selector after a letter", "Admin\ufe0f", "Admin<U+FE0F>"},
		{"ideographic variation selector", "葛\U000E0100", "葛<U+E0100>"},
		{"joiner at the end of an emoji", "👩\u200d", "👩<U+200D>"},
		{"joiner before a removed control", "👩\u200d\x07💻", "👩<U+200D>💻"},
		{"joiner after a letter", "a\u200d💻", "a<U+200D>💻"},
		{"emoji presentation kept", "❤\ufe0f", "❤\ufe0f"},
		{"emoji zwj with selector kept", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		{"emoji zwj with skin tone kept", "👩🏽\u200d💻", "👩🏽\u200d💻"},
		{"spaces kept", "Ada\u00a0Lovelace 山田\u3000太郎", "Ada\u00a0Lovelace 山田\u3000太郎"},

		// Combining marks: two on a letter, the rest written out.
		{"two marks kept", "Nguye\u0302\u0303n", "Nguye\u0302\u0303n"},
		{"thai kept", "ที่", "ที่"},
		{"third mark written out", "a\u0301\u0302\u0303b", "a\u0301\u0302<U+0303>b"},
		{"zalgo", "Z\u0335\u0321\u0322\u0327o", "Z\u0335\u0321<U+0322><U+0327>o"},
		{"enclosing marks count", "a\u20dd\u20dd\u20dd", "a\u20dd\u20dd<U+20DD>"},
		{"mark at the start", "\u0301alice", "<U+0301>alice"},
		{"mark after a written-out character", "e\u200b\u0301", "e<U+200B><U+0301>"},
		{"marks joined by a removed control", "a\u0301\u0302\x07\u0303", "a\u0301\u0302<U+0303>"},
		{"marks joined by a removed sequence", "a\u0301\x1b]0;t\x07\u0302\x1b[1m\u0303", "a\u0301\u0302<U+0303>"},
		{"mark at the start after a removed sequence", "\x1b[31m\u0301", "<U+0301>"},
		{"marks apart by a tab", "a\u0301\u0302\t\u0303", "a\u0301\u0302 \u0303"},
		{"mark on a replacement character", "\xff\u0301", "\uFFFD\u0301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Fatalf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			assertSafe(t, got)
			assertSeen(t, got)
			if again := String(got); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestStyled(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keeps sgr and newlines", "\x1b[1;38;2;1;2;3mtitle\x1b[m\nbody", "\x1b[1;38;2;1;2;3mtitle\x1b[m\nbody"},
		{"keeps colon sgr", "\x1b[4:3mx\x1b[0m", "\x1b[4:3mx\x1b[0m"},
		{"drops osc 8 in styled text", "\x1b[1m\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[m", "\x1b[1mclick\x1b[m"},
		{"drops cursor movement", "a\x1b[2J\x1b[10;10Hb\x1b[?25l", "ab"},
		{"drops private sgr-like", "a\x1b[?1mb", "ab"},
		{"drops unterminated sgr", "a\x1b[31", "a"},
		{"crlf to lf", "a\r\nb", "a\nb"},
		{"lone cr", "a\rb", "a b"},
		{"bidi", "\x1b[1m\u202euser\x1b[m", "\x1b[1muser\x1b[m"},
		{"c1 csi", "\u009b2Jx", "x"},
		{"invisible", "\x1b[1mAd\u200bmin\x1b[m", "\x1b[1mAd<U+200B>min\x1b[m"},
		{"marks across sgr", "a\u0301\x1b[1m\u0302\u0303\x1b[m", "a\u0301\x1b[1m\u0302<U+0303>\x1b[m"},
		{"mark at a line start", "a\n\u0301b", "a\n<U+0301>b"},
		{"mark after a line start and sgr", "a\u0301\n\x1b[1m\u0302", "a\u0301\n\x1b[1m<U+0302>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Styled(tt.in)
			if got != tt.want {
				t.Fatalf("Styled(%q) = %q, want %q", tt.in, got, tt.want)
			}
			assertSafeStyled(t, got)
			assertSeenStyled(t, got)
			if again := Styled(got); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestNoAllocWhenClean(t *testing.T) {
	for _, s := range []string{"alice@example.com", "Zoë Ångström 日本語", "Nguye\u0302\u0303n", "ที่"} {
		if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
			t.Errorf("String(%q) allocated %v times, want 0", s, n)
		}
	}
	styledText := "\x1b[1;38;2;107;80;255mTitle\x1b[m\n\x1b[38;2;1;2;3mbody\x1b[m"
	if n := testing.AllocsPerRun(100, func() { _ = Styled(styledText) }); n != 0 {
		t.Errorf("Styled allocated %v times, want 0", n)
	}
}

func TestInput(t *testing.T) {
	// typed is what Typed makes of the same text: the same, but line
	// breaks at the ends become spaces.
	tests := []struct{ in, want, typed string }{
		{"hunter2 correct horse\n", "hunter2 correct horse", "hunter2 correct horse "},
		{"\r\nsecret\r\n", "secret", " secret "},
		{"  spaced  \n", "  spaced  ", "  spaced   "},
		{"two\nlines\n", "two lines", "two lines "},
		{"\x1b[200~pasted\x1b[201~", "pasted", "pasted"},
		{"tab\tsep", "tab sep", "tab sep"},
		{"\x1b[2Ja\r", "a", "a "},
		{"\u202e", "", ""},
		// A field holds what was typed; the screen that draws it shows
		// what cannot be seen written out.
		{"alice\u200b", "alice\u200b", "alice\u200b"},
		{"Ad\u200bmin\u00ad\r\n", "Ad\u200bmin\u00ad", "Ad\u200bmin\u00ad "},
		{"mi\u200cxam", "mi\u200cxam", "mi\u200cxam"},
		{"Z\u0335\u0321\u0322\u0327", "Z\u0335\u0321\u0322\u0327", "Z\u0335\u0321\u0322\u0327"},
		{"\u0301\x1b[31ma\u202e\u200b", "\u0301a\u200b", "\u0301a\u200b"},
	}
	for _, tt := range tests {
		if got := Input(tt.in); got != tt.want {
			t.Errorf("Input(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Typed(tt.in); got != tt.typed {
			t.Errorf("Typed(%q) = %q, want %q", tt.in, got, tt.typed)
		}
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"alice", 10, "alice"},
		{"alice", 5, "alice"},
		{"alice", 4, "ali…"},
		{"alice", 1, "…"},
		{"alice", 0, ""},
		{"alice", -3, ""},
		{"日本語テキスト", 6, "日本…"},
		{"\x1b[31mredredred\x1b[0m", 5, "redr…"},
		{"\x1b]8;;http://evil\x07click here\x1b]8;;\x07", 20, "click here"},
		{"Ad\u200bmin", 20, "Ad<U+200B>min"},
		{"Ad\u200bmin", 6, "Ad<U+…"},
	}
	for _, tt := range tests {
		got := Line(tt.in, tt.width)
		if got != tt.want {
			t.Errorf("Line(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		if w := ansi.StringWidth(got); w > max(tt.width, 0) {
			t.Errorf("Line(%q, %d) is %d cells wide", tt.in, tt.width, w)
		}
	}
}

// assertSafe fails the test when s holds anything a terminal could act on.
func assertSafe(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 in %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			t.Fatalf("control byte %#x at %d in %q", s[i], i, s)
		}
	}
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			t.Fatalf("C1 control %U in %q", r, s)
		}
		if isBidi(r) {
			t.Fatalf("bidi control %U in %q", r, s)
		}
	}
}

// assertSeen fails the test when s holds what a terminal would not show: a
// format, default-ignorable or blank character (other than a joiner between
// emoji, or a presentation selector right after one), a combining mark with
// no character before it, or more than invisible.MaxMarks marks on one.
// It reads Unicode's tables itself rather than asking flows/invisible.
func assertSeen(t *testing.T, s string) {
	t.Helper()
	marks := -1 // marks on the current character; -1 before any
	prev := rune(-1)
	for i, r := range s {
		switch {
		case r == 0x200d:
			next, _ := utf8.DecodeRuneInString(s[i+len("\u200d"):])
			if !invisible.Pictographic(emojiBefore(s[:i])) || !invisible.Pictographic(next) {
				t.Fatalf("zero-width joiner outside an emoji sequence at %d in %+q", i, s)
			}
			marks = 0
		case r == 0xfe0e || r == 0xfe0f:
			if !invisible.Pictographic(prev) {
				t.Fatalf("presentation selector %U after %U at %d in %+q", r, prev, i, s)
			}
		case r == 0x00ad || r == 0x2800 || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point,
			unicode.Variation_Selector):
			t.Fatalf("invisible character %U at %d in %+q", r, i, s)
		case unicode.In(r, unicode.Mn, unicode.Me):
			if marks < 0 {
				t.Fatalf("combining mark %U with nothing to sit on at %d in %+q", r, i, s)
			}
			if marks++; marks > invisible.MaxMarks {
				t.Fatalf("%d combining marks on one character at %d in %+q", marks, i, s)
			}
		default:
			marks = 0
		}
		prev = r
	}
}

// emojiBefore returns the emoji that ends s, past the presentation
// selectors and skin tones it carries, or -1.
func emojiBefore(s string) rune {
	for s != "" {
		r, n := utf8.DecodeLastRuneInString(s)
		if r != 0xfe0f && r != 0xfe0e && (r < 0x1f3fb || r > 0x1f3ff) {
			return r
		}
		s = s[:len(s)-n]
	}
	return -1
}

// assertSeenStyled is assertSeen for each line of the output of Styled,
// without its SGR sequences.
func assertSeenStyled(t *testing.T, s string) {
	t.Helper()
	for _, line := range strings.Split(sgrPattern.ReplaceAllString(s, ""), "\n") {
		assertSeen(t, line)
	}
}

// sgrPattern matches the SGR sequences that Styled keeps.
var sgrPattern = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// assertSafeStyled is assertSafe for the output of Styled: line feeds and
// SGR sequences are allowed, nothing else.
func assertSafeStyled(t *testing.T, s string) {
	t.Helper()
	for _, line := range strings.Split(sgrPattern.ReplaceAllString(s, ""), "\n") {
		assertSafe(t, line)
	}
}

func FuzzString(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzString.
	f.Add("alice")
	f.Add("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\")
	f.Add("Ad\u200bmin\u00ad")
	f.Fuzz(func(t *testing.T, in string) {
		out := String(in)
		assertSafe(t, out)
		assertSeen(t, out)
		if again := String(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		inp := Input(in)
		assertSafe(t, inp)
		if again := Input(inp); again != inp {
			t.Fatalf("Input not idempotent: %q -> %q -> %q", in, inp, again)
		}
		// A field keeps what cannot be seen; what draws it writes it out.
		typed := Typed(in)
		assertSafe(t, typed)
		if again := Typed(typed); again != typed {
			t.Fatalf("Typed not idempotent: %q -> %q -> %q", in, typed, again)
		}
		assertSeen(t, String(typed))
		st := Styled(in)
		assertSafeStyled(t, st)
		assertSeenStyled(t, st)
		if again := Styled(st); again != st {
			t.Fatalf("Styled not idempotent: %q -> %q -> %q", in, st, again)
		}
		line := Line(in, 12)
		assertSafe(t, line)
		assertSeen(t, line)
		if w := ansi.StringWidth(line); w > 12 {
			t.Fatalf("Line(%q, 12) is %d cells wide", in, w)
		}
	})
}

var sink string

func BenchmarkString(b *testing.B) {
	cases := []struct{ name, in string }{
		{"ascii_clean", "alice.smith@example.com"},
		{"unicode_clean", "Zoë Ångström — 日本語テキスト"},
		{"hostile", "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x1b[31mred\x1b[0m\r\u202Euser\x9b2J\xff"},
		{"long_mixed", strings.Repeat("name \x1b[1mbold\x1b[0m\t", 200)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			b.ReportAllocs()
			for b.Loop() {
				sink = String(c.in)
			}
		})
	}
}
