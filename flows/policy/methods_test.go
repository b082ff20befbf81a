package policy

import (
	"github.com/sspr-kiosk/sspr/flows/locale"

	"strings"
	"testing"
)

// TestMethodTable walks the table: every method has a complete descriptor,
// exactly the sending methods have a channel (and say what to type and an
// example), the letters are distinct, and a typed code has a placeholder.
func TestMethodTable(t *testing.T) {
	letters := map[byte]Method{}
	for _, m := range AllMethods() {
		d := m.Describe()
		if strings.TrimSpace(d.Short) == "" {
			t.Errorf("%s: no short name", m)
		}
		for name, v := range map[string]string{"label": d.Label, "prompt": d.Prompt, "noun": d.Noun} {
			if strings.TrimSpace(v) == "" || v == string(m) {
				t.Errorf("%s: %s is %q; the table must word it", m, name, v)
			}
		}
		if noun := locale.Embedded().Source().T(d.Noun); noun == "" || noun[:1] != strings.ToUpper(noun[:1]) {
			t.Errorf("%s: noun %q must be capitalised in English (it starts a title)", m, noun)
		}
		if d.Letter < 'A' || d.Letter > 'Z' {
			t.Errorf("%s: letter %q is not a capital", m, d.Letter)
		} else if other, ok := letters[d.Letter]; ok {
			t.Errorf("%s and %s share the letter %c", m, other, d.Letter)
		}
		letters[d.Letter] = m
		if d.Admin < AdminAlways || d.Admin > AdminNever {
			t.Errorf("%s: admin use %d is not one of the AdminUse values", m, d.Admin)
		}
		sends := m == Email || m == SMS
		if d.SendsCode() != sends {
			t.Errorf("%s: SendsCode() = %v, want %v", m, d.SendsCode(), sends)
		}
		if (d.AskFor != "") != sends || (d.Example != "") != sends {
			t.Errorf("%s: AskFor %q and Example %q must be set exactly for the sending methods", m, d.AskFor, d.Example)
		}
		// A method with no channel says on its code screen where the code
		// comes from; one with a channel says where it went.
		if d.Alphabet != AlphabetNone && (d.Instruction == "") == !sends {
			t.Errorf("%s: instruction %q must be set exactly for typed codes that are not sent", m, d.Instruction)
		}
		if (d.Alphabet == AlphabetNone) != (d.Placeholder == "") {
			t.Errorf("%s: placeholder %q must be set exactly for methods with a code field", m, d.Placeholder)
		}
		if d.Alphabet != AlphabetNone && d.CodeLength <= 0 {
			t.Errorf("%s: a typed code needs its length", m)
		}
		if d.Alphabet == AlphabetDigits && !strings.Contains(d.Placeholder, "digit") {
			t.Errorf("%s: placeholder %q does not say the code is digits", m, d.Placeholder)
		}
		// Security info shows a registered method's destination, or else
		// its detail; what the helpdesk issues is not registered at all.
		if (d.Detail != "") != (!sends && !d.Issued) {
			t.Errorf("%s: detail %q must be set exactly for registered methods without a destination", m, d.Detail)
		}
		if got, err := ParseMethod(strings.ToUpper(string(m))); err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", strings.ToUpper(string(m)), got, err)
		}
	}
	if got := Method("carrier_pigeon").Describe(); got.Admin != AdminNever || got.CountsAlone || got.SendsCode() || got.Letter != 0 {
		t.Errorf("an unknown method must count for nothing: %+v", got)
	}
}

// TestUsable pins who may prove what: administrators keep their sign-in
// methods whatever the policy says and never have security questions;
// vouchers follow the policy for everyone.
func TestUsable(t *testing.T) {
	only := Policy{MethodsAllowed: []Method{Questions, Voucher}}
	none := Policy{MethodsAllowed: []Method{Email}}
	for _, tc := range []struct {
		p       Policy
		m       Method
		isAdmin bool
		want    bool
	}{
		{only, Authenticator, true, true},
		{only, Authenticator, false, false},
		{only, Questions, true, false},
		{only, Questions, false, true},
		{only, Voucher, true, true},
		{none, Voucher, true, false},
		{none, Email, false, true},
		{none, RecoveryCodes, true, true},
		// An SSH key serves an administrator's reset where allowed, never
		// as one of the sign-in methods they must always have.
		{Policy{MethodsAllowed: []Method{Email, SSHKey}}, SSHKey, true, true},
		{none, SSHKey, true, false},
		{none, SSHKey, false, false},
	} {
		if got := tc.p.Usable(tc.m, tc.isAdmin); got != tc.want {
			t.Errorf("%v.Usable(%s, admin %v) = %v, want %v", tc.p.MethodsAllowed, tc.m, tc.isAdmin, got, tc.want)
		}
	}
}
