package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// TestMethodScreensReadTheTable walks every method of the table through
// the screens a method shares (the code entry, registering a channel, the
// method picker) and checks that each shows its own words from the table,
// so a method added to the table is worded on every shared screen.
func TestMethodScreensReadTheTable(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	e := d.m.env
	words := func(v string) string { return strings.Join(strings.Fields(ansi.Strip(v)), " ") }
	en := e.p
	for _, m := range policy.AllMethods() {
		desc := m.Describe()
		// The table holds catalogue IDs; the screens show them in English here.
		desc.Label, desc.Prompt, desc.Noun, desc.AskFor = en.T(desc.Label), en.T(desc.Prompt), en.T(desc.Noun), en.T(desc.AskFor)
		desc.Placeholder = en.F(desc.Placeholder, locale.Args{"Digits": desc.CodeLength})
		desc.Instruction = en.F(desc.Instruction, locale.Args{"Digits": desc.CodeLength, "Organisation": "{organisation}"})
		o := flows.MethodOption{Method: m, Label: m.Describe().Label, SendsCode: desc.SendsCode()}
		j := &journey{kind: journeyReset, options: []flows.MethodOption{o}, required: 1}
		picker := newMethods(e, j)
		if got := strings.Join(picker.menu.items, "|"); got != desc.Prompt {
			t.Errorf("%s: the picker offers %q, want the table's prompt %q", m, got, desc.Prompt)
		}
		if desc.Alphabet == policy.AlphabetNone {
			continue
		}
		var sent *flows.CodeSent
		if desc.SendsCode() {
			sent = &flows.CodeSent{Destination: "a•••@example.com", ExpiresAt: e.now().Add(flows.CodeLifetime),
				ResendAt: e.now().Add(time.Minute)}
		}
		s := newCodeEntry(e, j, o, sent)
		v := words(s.view(76))
		if !strings.Contains(s.title(), desc.Label) {
			t.Errorf("%s: code entry title %q lacks the label %q", m, s.title(), desc.Label)
		}
		if !strings.Contains(v, desc.Placeholder) {
			t.Errorf("%s: code entry does not show the placeholder %q:\n%s", m, desc.Placeholder, v)
		}
		if desc.SendsCode() {
			if !strings.Contains(v, "We sent a code to a•••@example.com") {
				t.Errorf("%s: code entry does not say where the code went:\n%s", m, v)
			}
		} else {
			want := strings.ReplaceAll(desc.Instruction, "{organisation}", e.svc.Organisation())
			if strings.Contains(v, "{") || !strings.Contains(v, want) {
				t.Errorf("%s: code entry does not show the instruction %q:\n%s", m, want, v)
			}
		}
		if !desc.SendsCode() {
			continue
		}
		r := newRegisterContact(e, "session", m, "")
		v = words(r.view(76))
		if !strings.Contains(r.title(), desc.Noun) || !strings.Contains(v, "Type your "+desc.AskFor+".") ||
			!strings.Contains(v, desc.Example) {
			t.Errorf("%s: registering shows title %q and %q; want the noun %q, %q and the example %q",
				m, r.title(), v, desc.Noun, desc.AskFor, desc.Example)
		}
	}
}
