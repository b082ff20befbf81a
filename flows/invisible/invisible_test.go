package invisible

import (
	"strings"
	"testing"
	"unicode"
)

func TestPictographic(t *testing.T) {
	for _, r := range []rune{'©', '®', '‼', '❤', '☺', '😀', '👩', '💻', '🔥', '🏳', '🌈', '🫠'} {
		if !Pictographic(r) {
			t.Errorf("%U %c is an emoji", r, r)
		}
	}
	for _, r := range []rune{'a', '1', '#', '*', ' ', 'é', '日', 'ß', 0x200d, 0xfe0f, 0x1f3fb, 0x0301, -1, 0x110000} {
		if Pictographic(r) {
			t.Errorf("%U is not an emoji", r)
		}
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		in   string
		at   int // byte offset of the first unseen character; -1 for none
		why  Reason
	}{
		{"plain", "Alice Example", -1, Seen},
		{"accents", "Zoë Ångström", -1, Seen},
		{"cjk with ideographic space", "山田\u3000太郎", -1, Seen},
		{"no-break space", "Ada\u00a0Lovelace", -1, Seen},
		{"vietnamese decomposed", "Nguye\u0302\u0303n", -1, Seen},
		{"vietnamese dot below and circumflex", "e\u0323\u0302", -1, Seen},
		{"thai vowel and tone", "ที่", -1, Seen},
		{"devanagari conjunct", "क्ष", -1, Seen},
		{"mark on a space", "a \u0301", -1, Seen},
		{"emoji zwj sequence", "👩\u200d💻", -1, Seen},
		{"emoji zwj with skin tone", "👩🏽\u200d💻", -1, Seen},
		{"emoji zwj after vs16", "🏳\ufe0f\u200d🌈", -1, Seen},
		{"family", "👨\u200d👩\u200d👧", -1, Seen},
		{"emoji presentation", "❤\ufe0f", -1, Seen},
		{"text presentation", "☺\ufe0e", -1, Seen},
		{"skin tone alone", "🏽", -1, Seen},
		{"spacing marks do not pile", "ကျွေး", -1, Seen},

		{"zero-width space", "Ad\u200bmin", 2, Invisible},
		{"zero-width non-joiner", "Ad\u200cmin", 2, Invisible},
		{"zero-width joiner between letters", "Ad\u200dmin", 2, Invisible},
		{"zero-width joiner at the end of an emoji", "👩\u200d", 4, Invisible},
		{"zero-width joiner before a letter", "👩\u200da", 4, Invisible},
		{"zero-width joiner after a letter", "a\u200d💻", 1, Invisible},
		{"word joiner", "Ad\u2060min", 2, Invisible},
		{"soft hyphen", "Admin\u00ad", 5, Invisible},
		{"byte-order mark", "\ufeffAdmin", 0, Invisible},
		{"invisible times", "a\u2062b", 1, Invisible},
		{"mongolian vowel separator", "a\u180eb", 1, Invisible},
		{"tag characters", "a\U000E0041", 1, Invisible},
		{"bidi control", "a\u202eb", 1, Invisible},
		{"arabic letter mark", "a\u061cb", 1, Invisible},
		{"hangul filler", "\u3164", 0, Invisible},
		{"halfwidth hangul filler", "a\uffa0", 1, Invisible},
		{"hangul choseong filler", "a\u115f", 1, Invisible},
		{"hangul jungseong filler", "a\u1160", 1, Invisible},
		{"combining grapheme joiner", "a\u034fb", 1, Invisible},
		{"khmer inherent vowel", "a\u17b4", 1, Invisible},
		{"variation selector after a letter", "a\ufe0f", 1, Invisible},
		{"presentation selector twice", "❤\ufe0f\ufe0f", 6, Invisible},
		{"ideographic variation selector", "葛\U000E0100", 3, Invisible},
		{"braille blank", "a\u2800b", 1, Invisible},
		{"interlinear annotation", "a\ufff9b", 1, Invisible},
		{"reserved default-ignorable", "a\u2065", 1, Invisible},

		{"mark at the start", "\u0301Alice", 0, LoneMark},
		{"mark after an invisible", "a\u200b\u0301", 1, Invisible},
		{"three marks", "a\u0301\u0302\u0303", 5, TooManyMarks},
		{"zalgo", "Z" + strings.Repeat("\u0335", 20), 5, TooManyMarks},
		{"enclosing marks count", "a\u20dd\u20de\u20df", 7, TooManyMarks},
		{"marks after an emoji count", "😀\u0301\u0302\u0303", 8, TooManyMarks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, r, why := Find(tt.in)
			if why != tt.why || (tt.at >= 0 && at != tt.at) {
				t.Fatalf("Find(%+q) = %d %U %v, want %d %v", tt.in, at, r, why, tt.at, tt.why)
			}
			if why == Seen && at != len(tt.in) {
				t.Fatalf("Find(%+q) = %d with nothing found", tt.in, at)
			}
		})
	}
}

// TestTrackerLines checks the state the sanitiser drives: ASCII runs,
// kept line breaks, and marks that follow a character written out.
func TestTrackerLines(t *testing.T) {
	var tr Tracker
	tr.Plain()
	if why := tr.Check(0x301, ""); why != Seen {
		t.Fatalf("mark after ASCII: %v", why)
	}
	tr.LineStart()
	if why := tr.Check(0x301, ""); why != LoneMark {
		t.Fatalf("mark at a line start: %v", why)
	}
	if why := tr.Check(0x302, ""); why != LoneMark {
		t.Fatalf("second mark at a line start: %v", why)
	}
	tr.Plain()
	for range MaxMarks {
		if why := tr.Check(0x301, ""); why != Seen {
			t.Fatalf("mark within the cap: %v", why)
		}
	}
	for range 3 {
		if why := tr.Check(0x301, ""); why != TooManyMarks {
			t.Fatalf("mark beyond the cap: %v", why)
		}
	}
	if why := tr.Check('é', ""); why != Seen {
		t.Fatalf("a letter after a pile: %v", why)
	}
	if why := tr.Check(0x301, ""); why != Seen {
		t.Fatalf("a mark on the next letter: %v", why)
	}
}

func TestReasonString(t *testing.T) {
	for why, want := range map[Reason]string{Seen: "nothing hidden", Invisible: "an invisible character",
		LoneMark: "a combining mark with no letter to sit on", TooManyMarks: "more than 2 combining marks on one letter"} {
		if got := why.String(); got != want {
			t.Errorf("%d: %q, want %q", why, got, want)
		}
	}
}

// TestPlaneZero checks the table that answers for the Basic Multilingual
// Plane against Unicode's own tables, character by character.
func TestPlaneZero(t *testing.T) {
	for r := rune(0); r < bmpSize+0x100; r++ {
		invisible := r == 0x2800 || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point,
			unicode.Variation_Selector)
		if got := Is(r); got != invisible {
			t.Errorf("Is(%U) = %v", r, got)
		}
		if got, want := isMark(r), unicode.In(r, unicode.Mn, unicode.Me); got != want {
			t.Errorf("isMark(%U) = %v", r, got)
		}
	}
}

func TestSpell(t *testing.T) {
	for in, want := range map[string]string{
		"Alice":                     "Alice",
		"Ad\u200bmin\u00ad":         "Ad<U+200B>min<U+00AD>",
		"Z\u0335\u0321\u0322o":      "Z\u0335\u0321<U+0322>o",
		"\u0301a":                   "<U+0301>a",
		"a\U000E0041":               "a<U+E0041>",
		"a\U000E0FFF\u200b":         "a<U+E0FFF><U+200B>",
		"👩\u200d💻 ❤\ufe0f":          "👩\u200d💻 ❤\ufe0f",
		"e\u200b\u0301\u0302":       "e<U+200B><U+0301><U+0302>",
		"\u3164\u3164\u2800":        "<U+3164><U+3164><U+2800>",
		"ok\xff\u200b":              "ok\xff<U+200B>",
		strings.Repeat("\u200b", 3): "<U+200B><U+200B><U+200B>",
	} {
		if got := Spell(in); got != want {
			t.Errorf("Spell(%+q) = %+q, want %+q", in, got, want)
		}
		if _, _, why := Find(Spell(in)); why != Seen {
			t.Errorf("Spell(%+q) = %+q still hides %v", in, Spell(in), why)
		}
	}
}
