package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/store"
)

// hiddenInNames is one sample of each kind of character that a reader
// cannot see, as it appears inside a name, with how a refusal names it.
var hiddenInNames = []struct {
	kind, name, want string
}{
	{"zero-width space", "ad\u200bmin", `"ad<U+200B>min" holds an invisible character (U+200B)`},
	{"zero-width non-joiner", "ad\u200cmin", "holds an invisible character (U+200C)"},
	{"zero-width joiner", "ad\u200dmin", "holds an invisible character (U+200D)"},
	{"word joiner", "ad\u2060min", "holds an invisible character (U+2060)"},
	{"soft hyphen", "admin\u00ad", `"admin<U+00AD>" holds an invisible character (U+00AD)`},
	{"byte-order mark", "\ufeffadmin", "holds an invisible character (U+FEFF)"},
	{"invisible operator", "ad\u2063min", "holds an invisible character (U+2063)"},
	{"mongolian vowel separator", "ad\u180emin", "holds an invisible character (U+180E)"},
	{"tag character", "admin\U000E0041", `"admin<U+E0041>" holds an invisible character (U+E0041)`},
	{"hangul filler", "ad\u3164min", "holds an invisible character (U+3164)"},
	{"halfwidth hangul filler", "ad\uffa0min", "holds an invisible character (U+FFA0)"},
	{"hangul choseong filler", "ad\u115fmin", "holds an invisible character (U+115F)"},
	{"braille blank", "ad\u2800min", "holds an invisible character (U+2800)"},
	{"combining grapheme joiner", "ad\u034fmin", "holds an invisible character (U+034F)"},
	{"variation selector", "admin\ufe0f", "holds an invisible character (U+FE0F)"},
	{"lone combining mark", "\u0301admin", `"<U+0301>admin" holds a combining mark with no letter to sit on (U+0301)`},
	{"pile of combining marks", "adm\u0335\u0321\u0322in",
		"\"adm\u0335\u0321<U+0322>in\" holds more than 2 combining marks on one letter (U+0322)"},
}

func TestValidateUsernameRefusesWhatCannotBeSeen(t *testing.T) {
	for _, tc := range hiddenInNames {
		t.Run(tc.kind, func(t *testing.T) {
			err := flows.ValidateUsername(tc.name)
			if !errors.Is(err, flows.ErrInvalid) {
				t.Fatalf("ValidateUsername(%+q) = %v, want ErrInvalid", tc.name, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "username ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("ValidateUsername(%+q) = %q, want it to say %q", tc.name, msg, tc.want)
			}
		})
	}
}

func TestValidateDisplayNameRefusesWhatCannotBeSeen(t *testing.T) {
	for _, tc := range hiddenInNames {
		t.Run(tc.kind, func(t *testing.T) {
			name := "Sam " + tc.name
			if strings.HasPrefix(tc.kind, "lone") {
				name = tc.name // a mark after the space would sit on it
			}
			err := flows.ValidateDisplayName(name)
			if !errors.Is(err, flows.ErrInvalid) {
				t.Fatalf("ValidateDisplayName(%+q) = %v, want ErrInvalid", name, err)
			}
			want := tc.want
			if name != tc.name {
				want = strings.Replace(want, `"`, `"Sam `, 1)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "display name ") || !strings.Contains(msg, want) {
				t.Fatalf("ValidateDisplayName(%+q) = %q, want it to say %q", name, msg, want)
			}
		})
	}
}

func TestValidateDisplayNameKeepsWhatCanBeSeen(t *testing.T) {
	for _, name := range []string{
		"Zoë Ångström", "Nguye\u0302\u0303n Va\u0306n", "Nguyễn Văn", "山田\u3000太郎", "Ada\u00a0Lovelace",
		"ที่ดิน", "क्षत्रिय", "Chloé 👩\u200d💻", "Sam ❤\ufe0f", "O'Brien-Smith",
	} {
		if err := flows.ValidateDisplayName(name); err != nil {
			t.Errorf("ValidateDisplayName(%+q) = %v", name, err)
		}
	}
}

// TestAddUserRefusesWhatCannotBeSeen goes through the admin operation that
// every entry point (CLI, import, TUI) ends in: nothing is written.
func TestAddUserRefusesWhatCannotBeSeen(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{})
	ctx := context.Background()
	for _, n := range []flows.NewUser{
		{Username: "ad\u200bmin", DisplayName: "Admin"},
		{Username: "sam", DisplayName: "Ad\u200bmin\u00ad"},
		{Username: "sam", DisplayName: "S\u0335\u0321\u0322am"},
	} {
		if _, err := h.Svc.AddUser(ctx, h.Admin, n); !errors.Is(err, flows.ErrInvalid) {
			t.Errorf("AddUser(%+q, %+q) = %v, want ErrInvalid", n.Username, n.DisplayName, err)
		}
	}
	if _, err := store.UserByName(ctx, h.DB, "sam"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused user was written: %v", err)
	}
}
