// Package sanitize makes user-controlled text safe to put on a terminal.
//
// Bubble Tea and Lip Gloss pass escape sequences, carriage returns and bidi
// overrides straight through to the terminal, so a display name such as
// "\x1b]8;;https://evil.example\x07helpdesk\x1b]8;;\x07" would become a
// clickable link, and "\x1b[2J" would wipe the screen of a shared kiosk.
// Every string that a user, a directory or the audit log controls goes
// through this package before it reaches a View.
//
// The guarantee is on the output, not on the parser: whatever the input, the
// result holds no C0 or C1 control, no DEL, no bidi control and no invalid
// UTF-8, so no terminal can find the start of a sequence in it. The parser
// below only decides how much of a hostile sequence's payload to throw away
// with it, and it follows what xterm does so that the payload of an OSC 8
// link or a window-title sequence does not leak into the text.
//
// Nor does the output of String, Line or Styled hold anything that draws
// nothing: "Ad\u200bmin" is shown as "Ad<U+200B>min", not as "Admin", so a
// stored name cannot pose as another (the rules are in flows/invisible).
package sanitize

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/invisible"
)

// Ellipsis is the tail that Line appends to truncated text.
const Ellipsis = "…"

// Control characters the parser needs by name.
const (
	bel = 0x07
	can = 0x18 // cancels a sequence in progress
	sub = 0x1a // cancels a sequence in progress, like CAN
	esc = 0x1b
	del = 0x7f
	nel = 0x85 // C1 "next line"
	st  = 0x9c // C1 string terminator
)

// String returns s with every terminal escape sequence and control
// character removed, so that it can be placed in a View as plain text.
//
//   - CSI, OSC (including OSC 8 hyperlinks), DCS, SOS, PM and APC sequences
//     are removed with their payload, whether introduced by ESC or by an
//     8-bit C1 introducer (as a code point or as a stray byte).
//   - Tab, line feed, vertical tab, form feed, carriage return (a CR LF pair
//     counts once), NEL and the Unicode line and paragraph separators become
//     a single space each, so words on either side stay apart.
//   - Every other C0 control, DEL and every C1 control U+0080–U+009F is
//     removed.
//   - The bidi controls U+061C, U+200E, U+200F, U+202A–U+202E and
//     U+2066–U+2069 are removed ("Trojan Source", CVE-2021-42574): they can
//     make the terminal draw text in a different order from the bytes.
//   - Each invalid UTF-8 byte becomes U+FFFD.
//   - Each character a terminal would not show is written out as its code
//     point, "<U+200B>": zero-width spaces and joiners, the soft hyphen,
//     the BOM and every other format or default-ignorable character, Hangul
//     fillers, and a combining mark with no letter to sit on or beyond the
//     second on one letter (flows/invisible has the rules). Written out
//     rather than dropped, so that two names that differ only there still
//     look different; in a pile of marks the first two stay, so an
//     accented letter keeps its accents and only the excess is spelt out.
//
// String is idempotent, and returns s itself (no allocation) when there is
// nothing to remove, which is the common case.
func String(s string) string { return apply(s, plain) }

// Styled is the safety net for text that is already styled, such as a whole
// screen body built from Lip Gloss output: it applies the rules of String
// but keeps line feeds and SGR sequences (colours and text attributes,
// "ESC [ digits ; : m"). Everything else that a terminal would act on (OSC 8
// links, title and clipboard sequences, cursor movement, screen clearing,
// carriage returns, bidi controls) is still removed, and what it would not
// show is still written out: a line break starts afresh, so a mark at the
// start of a line has nothing to sit on.
//
// Styled does not make raw user text safe to style: SGR in user text would
// survive it. Sanitise user text with String or Line where it enters a
// View; Styled only limits the damage of a place that forgot to.
func Styled(s string) string { return apply(s, styled) }

// Input sanitises text typed or pasted into a field with the rules of
// String, with two differences. Line breaks at the very start and end of
// the text are dropped instead of becoming spaces: copying a line from an
// email or a terminal usually picks up its newline, and in a password field
// a trailing space would silently become part of the new password. And
// characters a terminal would not show are kept as they are, not written
// out: the field holds what the person typed (a password with a zero-width
// non-joiner from a Persian keyboard stays that password), the screen that
// draws the field shows them written out (every screen passes through
// Styled), and a username holding one never matches an account.
//
// Input does not limit the length: the field that receives the paste does,
// and should refuse an oversized paste before calling Input.
func Input(s string) string {
	return apply(strings.Trim(s, "\r\n"), input)
}

// Typed sanitises the text of a key press like Input, but keeps the line
// breaks at its ends as spaces, as String does: a key press is not a copied
// line, and a terminal that sends "a\r" as one key meant both.
func Typed(s string) string { return apply(s, input) }

// Line sanitises s like String and truncates it to at most maxWidth terminal
// cells, ending with an ellipsis when something was cut. Widths are measured
// in grapheme clusters, so wide (East Asian) characters and emoji count as
// two cells and are never split. Line returns "" when maxWidth < 1.
func Line(s string, maxWidth int) string {
	if maxWidth < 1 {
		return ""
	}
	return ansi.Truncate(String(s), maxWidth, Ellipsis)
}

// mode selects what a sanitiser lets through besides plain text.
type mode uint8

const (
	keepNewlines  mode = 1 << iota // keep "\n"
	keepSGR                        // keep SGR sequences
	keepInvisible                  // keep what draws nothing, and piles of marks

	plain  mode = 0
	styled      = keepNewlines | keepSGR
	input       = keepInvisible
)

// apply returns the sanitised form of s, or s itself when it is already
// safe.
func apply(s string, m mode) string {
	if scan(nil, s, m) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	scan(&b, s, m)
	return b.String()
}

// scan writes the sanitised form of s to b. With a nil b it only checks, and
// reports whether s is already safe, stopping at the first thing it would
// change. Runs of text that need no change are copied in one piece, and the
// common bytes (printable ASCII) are tested before anything else, because
// almost every username and email address is printable ASCII.
//
// seen follows the text as it is written out, not as it came: a control
// removed between two marks does not keep them apart on the terminal, so
// it does not reset their count.
func scan(b *strings.Builder, s string, m mode) bool {
	var seen invisible.Tracker
	run := 0 // start of the pending run of bytes that are kept as they are
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < del:
			for i++; i < len(s) && s[i] >= 0x20 && s[i] < del; i++ {
			}
			seen.Plain()
			continue
		case c == '\n' && m&keepNewlines != 0:
			i++
			seen.LineStart()
			continue
		case c == esc && m&keepSGR != 0:
			if n := sgrLen(s[i:]); n > 0 {
				i += n
				continue
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !(r == utf8.RuneError && size == 1) && !isC1(r) && !isBidi(r) && !isLineSeparator(r) {
				if m&keepInvisible != 0 || seen.Check(r, s[i+size:]) == invisible.Seen {
					i += size
					continue
				}
				// A terminal would draw nothing for it, or pile it on
				// the letters around: write it out instead.
				if b == nil {
					return false
				}
				b.WriteString(s[run:i])
				invisible.WriteCodePoint(b, r)
				i += size
				run = i
				continue
			}
		}
		// s[i] starts something to remove or replace.
		if b == nil {
			return false
		}
		b.WriteString(s[run:i])
		i = replace(b, s, i, m, &seen)
		run = i
	}
	if b != nil {
		b.WriteString(s[run:])
	}
	return true
}

// replace writes the replacement (if any) for the control character,
// sequence or invalid byte at s[i] to b, records it in seen, and returns the
// index just past it.
func replace(b *strings.Builder, s string, i int, m mode, seen *invisible.Tracker) int {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		// A stray byte: in a terminal that reads 8-bit controls,
		// 0x9B and friends start a sequence, so skip it as one.
		if kind := c1Introducer(rune(s[i])); kind != notSequence {
			return skipSequence(s, i+1, kind)
		}
		b.WriteRune(utf8.RuneError)
		seen.Plain()
		return i + 1
	}
	switch {
	case r == esc:
		return skipEscape(s, i+1)
	case c1Introducer(r) != notSequence:
		return skipSequence(s, i+size, c1Introducer(r))
	case r == '\r':
		if i+1 < len(s) && s[i+1] == '\n' {
			// CR LF is one line break, not two.
			if m&keepNewlines != 0 {
				return i + 1 // the LF is kept by the caller
			}
			size++
		}
		b.WriteByte(' ')
		seen.Plain()
	case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == nel || isLineSeparator(r):
		b.WriteByte(' ')
		seen.Plain()
	}
	// Anything else (other C0 controls, DEL, C1 controls, bidi controls)
	// is dropped.
	return i + size
}

// sgrLen returns the length of the SGR sequence at the start of s, or 0 if s
// does not start with one. Only the plain form that Lip Gloss writes is
// recognised: ESC [, parameters of digits, ";" and ":", and "m".
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != esc || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case (c >= '0' && c <= '9') || c == ';' || c == ':':
			continue
		default:
			return 0
		}
	}
	return 0
}

// sequence is the kind of control sequence an introducer starts.
type sequence int

const (
	notSequence sequence = iota
	csi                  // ESC [ or 0x9B: parameters, intermediates, final byte
	osc                  // ESC ] or 0x9D: ends with BEL or ST
	str                  // DCS, SOS, PM, APC: end with ST only
)

// c1Introducer returns the sequence that the C1 code r introduces.
func c1Introducer(r rune) sequence {
	switch r {
	case 0x9b:
		return csi
	case 0x9d:
		return osc
	case 0x90, 0x98, 0x9e, 0x9f: // DCS, SOS, PM, APC
		return str
	}
	return notSequence
}

// skipEscape returns the index just past the escape sequence whose ESC sits
// just before s[i].
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipSequence(s, i+1, csi)
	case c == ']':
		return skipSequence(s, i+1, osc)
	case c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipSequence(s, i+1, str)
	case c >= 0x20 && c <= 0x2f:
		// nF escape (ESC ( B and the like): intermediates, then a final byte.
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] < del {
			i++
		}
		return i
	case c >= 0x30 && c < del:
		return i + 1 // two-byte escape: ESC c (reset), ESC 7, ESC M …
	}
	// ESC before a control or non-ASCII text: drop the ESC alone and let
	// the caller deal with what follows.
	return i
}

// skipSequence returns the index just past the body of a sequence of the
// given kind that starts at s[i], after its introducer. A sequence that is
// never terminated runs to the end of s, as it would on a terminal.
func skipSequence(s string, i int, kind sequence) int {
	if kind == csi {
		for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f { // parameters
			i++
		}
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f { // intermediates
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] < del { // final byte
			i++
		}
		// Anything else ends the sequence early and is sanitised as text.
		return i
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(s[i]) // a raw 8-bit ST still terminates
		}
		switch {
		case r == st:
			return i + size
		case r == bel && kind == osc:
			return i + 1
		case r == can || r == sub:
			return i + 1
		case r == esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			// Any other ESC aborts the string and starts a new sequence.
			return i
		}
		i += size
	}
	return i
}

// isC1 reports whether r is a C1 control character.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// isBidi reports whether r is a bidirectional formatting control.
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// isLineSeparator reports whether r is U+2028 or U+2029, which some
// terminals and most text widgets treat as a line break.
func isLineSeparator(r rune) bool { return r == 0x2028 || r == 0x2029 }
