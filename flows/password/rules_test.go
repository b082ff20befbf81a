package password

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/locale"
)

// src writes the rules in English, the catalogue's source.
var src = locale.Embedded().Source()

var ruleOrder = []RuleID{RuleMinLength, RuleMaxLength, RuleNotCommon, RuleNoBannedWords, RuleNoNames, RuleStrength}

var policy = Rules{
	MinLength:   12,
	MinStrength: 3,
	BannedWords: []string{"Acme", "password"},
	Username:    "jsmith",
	DisplayName: "John Smith",
}

// strongPassword meets every rule of policy.
const strongPassword = "plum-oxide-glacier-wander 42"

func result(t *testing.T, ev Evaluation, id RuleID) Result {
	t.Helper()
	for _, r := range ev.Results {
		if r.Rule == id {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", id, ev.Results)
	return Result{}
}

// only asserts that exactly the rules in failing are unmet.
func only(t *testing.T, ev Evaluation, failing ...RuleID) {
	t.Helper()
	for _, r := range ev.Results {
		if want := !slices.Contains(failing, r.Rule); r.Met != want {
			t.Errorf("%s: Met = %v, want %v", r.Rule, r.Met, want)
		}
	}
	if ev.OK != (len(failing) == 0) {
		t.Errorf("OK = %v with failing %v", ev.OK, failing)
	}
}

func TestEvaluateStrongPassword(t *testing.T) {
	ev := NewChecker().Evaluate(strongPassword, policy)
	only(t, ev)
	ids := make([]RuleID, len(ev.Results))
	for i, r := range ev.Results {
		ids[i] = r.Rule
	}
	if !slices.Equal(ids, ruleOrder) {
		t.Errorf("rule order %v, want %v", ids, ruleOrder)
	}
	if ev.Score != 4 {
		t.Errorf("Score = %d, want 4", ev.Score)
	}
}

func TestLabels(t *testing.T) {
	ev := NewChecker().Evaluate("x", policy)
	want := map[RuleID]string{
		RuleMinLength:     "At least 12 characters",
		RuleMaxLength:     "At most 128 characters",
		RuleNotCommon:     "Not a commonly used password",
		RuleNoBannedWords: "Does not contain a banned word",
		RuleNoNames:       "Does not contain your name or username",
		RuleStrength:      "Strong enough (strength 3 of 4)",
	}
	for id, label := range want {
		if got := result(t, ev, id).In(src); got != label {
			t.Errorf("%s label = %q, want %q", id, got, label)
		}
	}
	if got := NotRecentResult(5, false).In(src); got != "Not one of your last 5 passwords" {
		t.Errorf("NotRecent label = %q", got)
	}
	if got := NotRecentResult(1, false).In(src); got != "Not your previous password" {
		t.Errorf("NotRecent label for 1 = %q", got)
	}
}

func TestMinLength(t *testing.T) {
	c := NewChecker()
	cases := []struct {
		pw   string
		min  int
		want bool
	}{
		{"wander oxide", 12, true},     // exactly 12
		{"wander oxid", 12, false},     // 11
		{"ééééééééééé", 12, false},     // 11 runes, 22 bytes: counts characters
		{"éééééééééééé", 12, true},     // 12 runes
		{"", 12, false},                // empty
		{"wander oxid", 0, false},      // zero means the default, 12
		{"zq8 plum", 8, true},          // policy may lower it
		{"zq8 plu", 8, false},          //
		{"wander oxide gl", 16, false}, // and raise it
	}
	for _, tc := range cases {
		r := result(t, c.Evaluate(tc.pw, Rules{MinLength: tc.min}), RuleMinLength)
		if r.Met != tc.want {
			t.Errorf("Evaluate(%q, min %d): min length met = %v, want %v", tc.pw, tc.min, r.Met, tc.want)
		}
	}
	if got := result(t, c.Evaluate("", Rules{}), RuleMinLength).In(src); got != "At least 12 characters" {
		t.Errorf("default label = %q", got)
	}
}

func TestMaxLength(t *testing.T) {
	c := NewChecker()
	// A pattern-free 64-character passphrase must be accepted outright.
	pw64 := "Quiet lanterns drift over Lake Vänern while 7 herons argue: why?"
	if n := utf8.RuneCountInString(pw64); n != 64 {
		t.Fatalf("fixture is %d runes", n)
	}
	only(t, c.Evaluate(pw64, policy))

	pw128 := pw64 + strings.ToUpper(pw64)
	only(t, c.Evaluate(pw128, policy))

	ev := c.Evaluate(pw128+"!", policy)
	only(t, ev, RuleMaxLength)
	if ev.OK {
		t.Error("129 characters accepted")
	}

	// Runes, not bytes: 128 two-byte runes are 256 bytes and still allowed.
	if r := result(t, c.Evaluate(strings.Repeat("é", 128), policy), RuleMaxLength); !r.Met {
		t.Error("128 multi-byte runes refused")
	}
	if r := result(t, c.Evaluate(strings.Repeat("é", 129), policy), RuleMaxLength); r.Met {
		t.Error("129 multi-byte runes accepted")
	}
}

func TestNotCommon(t *testing.T) {
	c := NewChecker()
	for _, pw := range []string{"password", "PASSWORD", "PassWord", "123456", "P@$$w0rd", "qwerty", "l23456"} {
		if result(t, c.Evaluate(pw, Rules{}), RuleNotCommon).Met {
			t.Errorf("%q: not flagged as common", pw)
		}
	}
	// The same entries with something appended are not exact matches.
	for _, pw := range []string{strongPassword, "password plum oxide"} {
		if !result(t, c.Evaluate(pw, Rules{}), RuleNotCommon).Met {
			t.Errorf("%q: wrongly flagged as common", pw)
		}
	}
}

func TestNoBannedWords(t *testing.T) {
	c := NewChecker()
	cases := []struct {
		pw     string
		banned []string
		want   bool
	}{
		{"P@$$w0rd", []string{"password"}, false},               // the leetspeak example
		{"my-PASSWORD-is-long", []string{"Password"}, false},    // case-insensitive, anywhere
		{"xx p4ssword xx", []string{"password"}, true},          // 4 is not in the mapping
		{"winter ACME rocket", []string{"acme"}, false},         //
		{"winter @cm3 rocket", []string{"acme"}, false},         // @→a, 3→e
		{"launch 2O24 now", []string{"2024"}, false},            // the word is normalised too
		{"wander oxide glacier", []string{"acme", "sso"}, true}, //
		{"wander oxide glacier", []string{"", "  "}, true},      // blank entries ignored
		{"wander oxide glacier", nil, true},                     //
		{"wander ａｃｍｅ glacier", []string{"acme"}, false},        // full-width letters (NFKC)
	}
	for _, tc := range cases {
		r := result(t, c.Evaluate(tc.pw, Rules{BannedWords: tc.banned}), RuleNoBannedWords)
		if r.Met != tc.want {
			t.Errorf("Evaluate(%q, banned %q): met = %v, want %v", tc.pw, tc.banned, r.Met, tc.want)
		}
	}
}

func TestNoNames(t *testing.T) {
	c := NewChecker()
	cases := []struct {
		pw, user, display string
		want              bool
	}{
		{"blue JSMITH river", "jsmith", "", false},
		{"blue j5mith river", "jsmith", "", true}, // 5 is not in the mapping
		{"blue jsm1th river", "jsmith", "", true}, // 1→l, so "jsmlth"
		{"blue j$mith river", "jsmith", "", false},
		{"blue river smith", "", "John Smith", false},
		{"blue john river", "", "John Smith", false},
		{"blue river lake", "", "John Smith", true},
		{"élodie and the river", "", "Élodie Durand", false}, // unicode, case-insensitive
		{"ÉLODIE and the river", "", "Élodie Durand", false},
		{"mr o'brien river", "", "Seán O'Brien", false}, // split at the apostrophe
		{"lili wuwu river", "", "Li Wu", true},          // parts under 3 letters ignored
		{"lili wuwu river", "li", "", true},
		{"ajsmith river", `CORP\jsmith`, "", false},              // domain prefix stripped
		{"john corp river", "john.doe@corp.example", "", false},  // user part split
		{"only corp river", "john.doe@corp.example", "", true},   // the domain is not a name
		{"blue doe river", "john.doe@corp.example", "", false},   // "doe" is 3 letters…
		{"blue jdoes river", "john.doe@corp.example", "", false}, // …and contained anywhere
		{"wander oxide glacier", "", "", true},                   // nothing to compare
	}
	for _, tc := range cases {
		r := result(t, c.Evaluate(tc.pw, Rules{Username: tc.user, DisplayName: tc.display}), RuleNoNames)
		if r.Met != tc.want {
			t.Errorf("Evaluate(%q, user %q, name %q): met = %v, want %v", tc.pw, tc.user, tc.display, r.Met, tc.want)
		}
	}
}

func TestStrength(t *testing.T) {
	c := NewChecker()
	weak := c.Evaluate("aaaaaaaaaaaaaaaa", policy)
	if weak.Score != 0 {
		t.Errorf("repeated letters scored %d, want 0", weak.Score)
	}
	only(t, weak, RuleStrength)

	// Names are passed to zxcvbn: the same password scores lower once zxcvbn
	// knows it is built from the user's name.
	plain := c.Evaluate("xylophonequartz", Rules{})
	named := c.Evaluate("xylophonequartz", Rules{DisplayName: "Xylophone Quartz"})
	if named.Score >= plain.Score {
		t.Errorf("score with names %d, without %d: names not used as zxcvbn inputs", named.Score, plain.Score)
	}

	// MinStrength is clamped to 0–4.
	r := result(t, c.Evaluate("aaaaaaaaaaaaaaaa", Rules{MinStrength: -3}), RuleStrength)
	if !r.Met || r.In(src) != "Strong enough (strength 0 of 4)" {
		t.Errorf("MinStrength -3: %+v", r)
	}
	r = result(t, c.Evaluate(strongPassword, Rules{MinStrength: 9}), RuleStrength)
	if !r.Met || r.In(src) != "Strong enough (strength 4 of 4)" {
		t.Errorf("MinStrength 9: %+v", r)
	}
	if s := c.Evaluate("", policy).Score; s != 0 {
		t.Errorf("empty password scored %d", s)
	}
}

func TestStrengthWindow(t *testing.T) {
	c := NewChecker()
	prefix := strings.Repeat("ab", strengthWindow/2) // a window of an obvious pattern
	// Whatever follows the window is not scored, so a strong tail cannot lift
	// a weak head, and a long input costs no more than the window.
	a := c.Evaluate(prefix, Rules{})
	b := c.Evaluate(prefix+"Zq8#vLm2!pW", Rules{})
	if a.Score != b.Score {
		t.Errorf("scores %d and %d: text beyond the window was scored", a.Score, b.Score)
	}
	// The cut is on a rune boundary: a multi-byte rune at the edge is kept
	// whole (zxcvbn scores invalid UTF-8 as 0).
	multi := strings.Repeat("ü", strengthWindow+5)
	if got, want := c.Evaluate(multi, Rules{}).Score, c.Evaluate(strings.Repeat("ü", strengthWindow), Rules{}).Score; got != want {
		t.Errorf("multi-byte cut: score %d, want %d", got, want)
	}

	// And a long input costs what the window does: compared with each
	// other (the fastest of a few runs of each), not with a clock that a
	// loaded machine slows down.
	window := strings.Repeat("Zq8#vLm2!pW ", strengthWindow)[:strengthWindow]
	long := strings.Repeat(window, 100)
	fastest := func(pw string) time.Duration {
		best := time.Duration(1 << 62)
		for range 5 {
			start := time.Now()
			c.Evaluate(pw, policy)
			best = min(best, time.Since(start))
		}
		return best
	}
	if w, l := fastest(window), fastest(long); l > 3*w+time.Millisecond {
		t.Errorf("Evaluate of %d characters took %v, of the %d the window holds %v", len(long), l, len(window), w)
	}
}

func TestUnicodeAndSpaces(t *testing.T) {
	c := NewChecker()
	for _, pw := range []string{
		"Grüße aus Köln, sagt der Bär",
		"东京の桜は三月に咲きます、きれい",
		"🙂 quiet otter 🌊 harbour lights",
	} {
		if ev := c.Evaluate(pw, policy); !ev.OK {
			t.Errorf("%q refused: %+v", pw, ev.Results)
		}
	}
}

func TestNormalise(t *testing.T) {
	cases := map[string]string{
		"P@$$w0rd":  "password",
		"L33T 1337": "leet lee7",
		"ÉLODIE":    "élodie",
		"ｐａｓｓ":      "pass",
		"ﬁne":       "fine", // ligature
		"":          "",
		"42":        "42",
	}
	for in, want := range cases {
		if got := Normalise(in); got != want {
			t.Errorf("Normalise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddNotRecent(t *testing.T) {
	c := NewChecker()
	ev := c.Evaluate(strongPassword, policy)
	reused := ev.Add(NotRecentResult(5, true))
	if reused.OK || len(reused.Results) != len(ruleOrder)+1 || reused.Results[len(ruleOrder)].Rule != RuleNotRecent {
		t.Errorf("Add(reused) = %+v", reused)
	}
	if fresh := ev.Add(NotRecentResult(5, false)); !fresh.OK {
		t.Errorf("Add(not reused) = %+v", fresh)
	}
	if len(ev.Results) != len(ruleOrder) {
		t.Error("Add modified the original evaluation")
	}
	weak := c.Evaluate("x", policy).Add(NotRecentResult(5, false))
	if weak.OK {
		t.Error("Add turned a failing evaluation into OK")
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add("P@$$w0rd", "password", "jsmith", "John Smith", 12, 3)
	f.Add(strongPassword, "", "", "", 0, 0)
	f.Add(strings.Repeat("é", 129), "é", "é", "é é é", -1, 9)
	f.Add("\xff\xfe\x00", "\x00", "\\", "@", 1, 1)
	c := NewChecker()
	f.Fuzz(func(t *testing.T, pw, banned, user, display string, minLen, minStrength int) {
		ev := c.Evaluate(pw, Rules{MinLength: minLen, MinStrength: minStrength, BannedWords: []string{banned}, Username: user, DisplayName: display})
		if len(ev.Results) != len(ruleOrder) {
			t.Fatalf("%d results, want %d", len(ev.Results), len(ruleOrder))
		}
		ok := true
		for i, r := range ev.Results {
			if r.Rule != ruleOrder[i] {
				t.Fatalf("result %d is %s, want %s", i, r.Rule, ruleOrder[i])
			}
			if r.In(src) == "" || r.In(src) == r.ID {
				t.Fatalf("%s has no label", r.Rule)
			}
			ok = ok && r.Met
		}
		if ev.OK != ok {
			t.Fatalf("OK = %v but results say %v", ev.OK, ok)
		}
		if ev.Score < 0 || ev.Score > MaxScore {
			t.Fatalf("Score = %d", ev.Score)
		}
		if got, want := ev.Results[1].Met, utf8.RuneCountInString(pw) <= MaxLength; got != want {
			t.Fatalf("max length met = %v, want %v", got, want)
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	c := NewChecker()
	for _, n := range []int{20, 64, 128} {
		pw := strings.Repeat("Zq8#vLm2!pW quiet ", 8)[:n]
		b.Run(fmt.Sprintf("%dchars", n), func(b *testing.B) {
			for b.Loop() {
				c.Evaluate(pw, policy)
			}
		})
	}
	// zxcvbn's l33t matcher re-runs dictionary matching for every plausible
	// substitution table, so a window full of l33t characters is its worst
	// case; this measures the ceiling a hostile paste can cost per keystroke.
	worst := "3{$+is(35@7lt%%| t40+<2a240eil%ss042o9@$!+a|l99ei+902<6$$12855a9"
	b.Run("64chars-l33t-worst", func(b *testing.B) {
		for b.Loop() {
			c.Evaluate(worst, policy)
		}
	})
}

func BenchmarkNewChecker(b *testing.B) {
	for b.Loop() {
		NewChecker()
	}
}
