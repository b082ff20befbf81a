// Package invisible finds the characters of a text that a reader cannot see,
// so that names can refuse them and screens can show them.
//
// A name that holds a zero-width space, a soft hyphen or a byte-order mark
// looks exactly like the name without it: "Ad\u200bmin" reads "Admin". So
// does a Hangul filler, which draws as blank space. A pile of combining
// marks on one letter spills over the lines around it. The flows refuse such
// names when they are entered, and the terminal sanitiser shows stored text
// that has them with each such character written out (see tui/sanitize), so
// that nothing can pose as another name.
//
// One rule serves both, so that what the screens escape is exactly what
// the validators refuse. A character is unseen when it is
//
//   - invisible: a format character (Unicode category Cf: zero-width space
//     and joiners, soft hyphen, word joiner, BOM, invisible operators, tag
//     characters, the bidi controls), any other default-ignorable code point
//     (combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
//     variation selectors, the reserved ignorable ranges) or the blank
//     braille pattern U+2800;
//   - a combining mark (nonspacing or enclosing, Mn or Me) with no character
//     of its own to sit on: at the start of the text or of a line, or after
//     an unseen character;
//   - a combining mark beyond the MaxMarks-th on one character.
//
// Two exceptions keep emoji whole: a zero-width joiner between two emoji
// (👩‍💻, an emoji ZWJ sequence) and the emoji or text presentation selector
// (U+FE0F, U+FE0E) straight after an emoji are seen, since they change what
// is drawn. Everywhere else those characters draw nothing.
//
// Spaces other than U+0020 (no-break space, ideographic space) are not
// counted: they draw as the space they are.
package invisible

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/graphemes"
)

// MaxMarks is how many nonspacing or enclosing marks one character may
// carry. Two covers every Latin, Greek and Cyrillic name even in decomposed
// form (Vietnamese stacks two: ệ is e, U+0323, U+0302), and Thai, Lao and
// the Indic scripts as names are written; a third mark starts to climb into
// the line above in a terminal, and "Zalgo" text stacks dozens.
const MaxMarks = 2

// Reason says why a character is not seen.
type Reason uint8

const (
	// Seen is a character that draws as itself.
	Seen Reason = iota
	// Invisible is a character that draws nothing, or only blank space.
	Invisible
	// LoneMark is a combining mark with no character of its own to sit on.
	LoneMark
	// TooManyMarks is a combining mark beyond MaxMarks on one character.
	TooManyMarks
)

// String says the reason in a few words, for messages.
func (r Reason) String() string {
	switch r {
	case Invisible:
		return "an invisible character"
	case LoneMark:
		return "a combining mark with no letter to sit on"
	case TooManyMarks:
		return "more than " + strconv.Itoa(MaxMarks) + " combining marks on one letter"
	}
	return "nothing hidden"
}

// Special characters the rules name.
const (
	zwj        = 0x200d
	textStyle  = 0xfe0e // VS15: draw the emoji before as text
	emojiStyle = 0xfe0f // VS16: draw the character before as an emoji
)

// Tracker follows a text as it is written out, one character at a time, and
// says which characters are not seen. Its zero value is at the start of a
// text. Callers that copy runs of printable ASCII at once tell it with
// Plain; Check takes every other character.
type Tracker struct {
	// marks counts the nonspacing marks on the current character; -1
	// means there is no character to sit on (the start, or after an
	// unseen one).
	marks int
	// base is the last character written other than ASCII, a mark, or
	// what an emoji may carry (presentation selectors, skin tones); 0 when
	// something else came after it. A joiner or a selector is seen only
	// after an emoji base.
	base rune
	// bare reports that base was the very last character written, so a
	// presentation selector or a skin tone belongs to it.
	bare bool
	// started is false until anything was written, so the zero value
	// treats a mark at the start as lone.
	started bool
}

// Plain records a printable ASCII character (or a run of them): a
// character of its own, never part of an emoji sequence.
func (t *Tracker) Plain() {
	t.marks, t.base, t.bare, t.started = 0, 0, false, true
}

// LineStart records a line break that the text keeps: a mark after it has
// nothing to sit on.
func (t *Tracker) LineStart() {
	t.marks, t.base, t.bare, t.started = -1, 0, false, true
}

// Check reports whether r, written next, is seen, and records it: as
// written when it is seen, as written out in another form (or refused)
// when it is not. after is the text that follows r; only a joiner looks at
// it, for the emoji it must join.
func (t *Tracker) Check(r rune, after string) Reason {
	if !t.started {
		t.started, t.marks = true, -1
	}
	if r < utf8.RuneSelf {
		t.Plain()
		return Seen
	}
	switch {
	case r == zwj:
		if next, _ := utf8.DecodeRuneInString(after); t.base != 0 && Pictographic(t.base) && Pictographic(next) {
			t.base, t.bare = 0, false
			return Seen
		}
	case r == emojiStyle || r == textStyle:
		if t.bare && Pictographic(t.base) {
			t.bare = false
			return Seen
		}
	case r >= 0x1f3fb && r <= 0x1f3ff:
		// A skin tone: part of the emoji before it, or a swatch of its own.
		if t.bare {
			t.bare = false
			return Seen
		}
	}
	if Is(r) {
		t.marks, t.base, t.bare = -1, 0, false
		return Invisible
	}
	if isMark(r) {
		t.base, t.bare = 0, false
		if t.marks < 0 {
			return LoneMark
		}
		t.marks++
		if t.marks > MaxMarks {
			return TooManyMarks
		}
		return Seen
	}
	t.marks, t.base, t.bare = 0, r, true
	return Seen
}

// Find returns the first character of s that is not seen, its byte offset
// and why; why is Seen when every character is. s is taken as the whole
// text, so a mark at its start is lone.
func Find(s string) (at int, r rune, why Reason) {
	ascii := 0
	for ascii < len(s) && s[ascii] < utf8.RuneSelf {
		ascii++
	}
	if ascii == len(s) {
		return len(s), 0, Seen // most names: nothing to look up
	}
	var t Tracker
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if why := t.Check(c, s[i+size:]); why != Seen {
			return i, c, why
		}
		i += size
	}
	return len(s), 0, Seen
}

// Spell returns s with each character that is not seen written out by
// WriteCodePoint, as the screens show it: "Ad\u200bmin" becomes
// "Ad<U+200B>min". Messages quote names this way.
func Spell(s string) string {
	if _, _, why := Find(s); why == Seen {
		return s
	}
	var t Tracker
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if t.Check(r, s[i+size:]) == Seen {
			b.WriteString(s[i : i+size])
		} else {
			WriteCodePoint(&b, r)
		}
		i += size
	}
	return b.String()
}

// WriteCodePoint writes r in the form the screens show a character that is
// not seen: "<U+200B>", four to six upper-case hex digits as Unicode writes
// code points, in ASCII so that it survives any further sanitising.
func WriteCodePoint(b *strings.Builder, r rune) {
	const hex = "0123456789ABCDEF"
	var buf [len("<U+10FFFF>")]byte
	n := len(buf) - 1
	buf[n] = '>'
	for digits := 0; digits < 4 || r > 0; digits++ {
		n--
		buf[n] = hex[r&0xf]
		r >>= 4
	}
	n -= len("<U+")
	copy(buf[n:], "<U+")
	b.Write(buf[n:])
}

// Is reports whether r draws nothing, or only blank space, whatever is
// around it: a format character, a default-ignorable code point, or the
// blank braille pattern. (Check lets a few of them through beside emoji.)
func Is(r rune) bool {
	if r < 0x300 {
		return r == 0xad // the only one below the combining marks
	}
	if r < bmpSize {
		return planeZero.invisible.has(r)
	}
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// isMark reports a nonspacing or enclosing mark, the marks that stack on the
// character before them. Spacing marks (Mc) take room of their own.
func isMark(r rune) bool {
	if r < 0x300 {
		return false
	}
	if r < bmpSize {
		return planeZero.mark.has(r)
	}
	return unicode.In(r, unicode.Mn, unicode.Me)
}

// bmpSize is where the Basic Multilingual Plane ends.
const bmpSize = 0x10000

// bits is one bit for each character of the Basic Multilingual Plane.
type bits [bmpSize / 64]uint64

func (b *bits) has(r rune) bool { return b[r>>6]&(1<<(r&63)) != 0 }

// add sets the bits of the characters of t below bmpSize.
func (b *bits) add(t *unicode.RangeTable) {
	for _, rg := range t.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			b[r>>6] |= 1 << (r & 63)
		}
	}
}

// planeZero answers Is and isMark for the characters almost every text is
// made of in one step each: the sanitiser asks for every character that
// is not ASCII, and five searches of Unicode's tables made it three times
// slower on accented and East Asian text. Built once, from Go's tables,
// when the package loads, and never changed.
var planeZero = func() *struct{ invisible, mark bits } {
	p := new(struct{ invisible, mark bits })
	p.invisible.add(unicode.Cf)
	p.invisible.add(unicode.Other_Default_Ignorable_Code_Point)
	p.invisible.add(unicode.Variation_Selector)
	p.invisible.add(&unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x2800, Hi: 0x2800, Stride: 1}}})
	p.mark.add(unicode.Mn)
	p.mark.add(unicode.Me)
	return p
}()

// Pictographic reports whether r is an emoji (Unicode's
// Extended_Pictographic property), the characters that may be joined into
// one emoji by a zero-width joiner. Go's unicode package lacks the
// property; the text segmentation rules have it: an emoji, a joiner and
// another emoji make one grapheme cluster, anything else before the joiner
// makes two (UAX #29, GB11).
func Pictographic(r rune) bool {
	if r < 0xa9 || !utf8.ValidRune(r) {
		return false
	}
	var buf [utf8.UTFMax + len("\u200d\U0001F600")]byte
	b := utf8.AppendRune(buf[:0], r)
	b = append(b, "\u200d\U0001F600"...)
	adv, _, _ := graphemes.SplitFunc(b, true)
	return adv == len(b)
}
