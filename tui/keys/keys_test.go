package keys

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// press builds the key press a terminal would send.
func press(code rune, mod tea.KeyMod, text string) tea.KeyPressMsg {
	return tea.KeyPressMsg{Code: code, Mod: mod, Text: text}
}

func char(r rune) tea.KeyPressMsg { return press(r, 0, string(r)) }

// all returns every binding of k by field name.
func all(k KeyMap) map[string]key.Binding {
	out := map[string]key.Binding{}
	v := reflect.ValueOf(k)
	for i := range v.NumField() {
		out[v.Type().Field(i).Name] = v.Field(i).Interface().(key.Binding)
	}
	return out
}

// matching returns the names of the bindings of k that match msg.
func matching(k KeyMap, msg tea.KeyPressMsg) []string {
	var names []string
	for name, b := range all(k) {
		if key.Matches(msg, b) {
			names = append(names, name)
		}
	}
	return names
}

func TestDefaultMatchesTerminalKeys(t *testing.T) {
	k := Default()
	tests := []struct {
		msg  tea.KeyPressMsg
		want string
	}{
		{press(tea.KeyUp, 0, ""), "Up"},
		{char('k'), "Up"},
		{press(tea.KeyDown, 0, ""), "Down"},
		{char('j'), "Down"},
		{press(tea.KeyEnter, 0, ""), "Select"},
		{press(tea.KeyEscape, 0, ""), "Back"},
		{press('c', tea.ModCtrl, ""), "Quit"},
		{press(tea.KeyTab, 0, ""), "NextField"},
		{press(tea.KeyTab, tea.ModShift, ""), "PrevField"},
		{press('r', tea.ModCtrl, ""), "Resend"},
		{press('o', tea.ModCtrl, ""), "ToggleOutbox"},
		{char('?'), "Help"},
		{press(tea.KeyLeft, 0, ""), "PrevTab"},
		{press(tea.KeyRight, 0, ""), "NextTab"},
		{char('1'), "Tab"},
		{char('4'), "Tab"},
		{char('y'), "Confirm"},
		{char('n'), "Cancel"},
		{char('/'), "Search"},
		{press(tea.KeyPgUp, 0, ""), "PageUp"},
		{press(tea.KeyPgDown, 0, ""), "PageDown"},
		{press(tea.KeySpace, 0, " "), "Toggle"},
		{press('e', tea.ModCtrl, ""), "AcceptSuggestion"},
		{press('n', tea.ModCtrl, ""), "NextSuggestion"},
	}
	for _, tt := range tests {
		got := matching(k, tt.msg)
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%q matches %v, want [%s]", tt.msg.String(), got, tt.want)
		}
	}
}

func TestDefaultEveryBindingHasHelpAndNoClash(t *testing.T) {
	seen := map[string]string{}
	for name, b := range all(Default()) {
		if !b.Enabled() {
			t.Errorf("%s disabled by default", name)
		}
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("%s has no help text", name)
		}
		for _, k := range b.Keys() {
			if other, ok := seen[k]; ok {
				t.Errorf("key %q bound to both %s and %s", k, other, name)
			}
			seen[k] = name
		}
	}
}

func TestKiosk(t *testing.T) {
	k := Default().Kiosk()
	if got := matching(k, press('c', tea.ModCtrl, "")); len(got) != 0 {
		t.Errorf("ctrl+c still matches %v in kiosk mode", got)
	}
	if len(Help(k.Quit)) != 0 {
		t.Error("quit still shown in help in kiosk mode")
	}
	if !key.Matches(press('c', tea.ModCtrl, ""), Default().Quit) {
		t.Error("Kiosk changed the original key map")
	}
}

func TestTypingLetsPrintableKeysThrough(t *testing.T) {
	k := Default().Typing()
	for _, r := range "?yn/jk1234 aZ" {
		if got := matching(k, char(r)); len(got) != 0 {
			t.Errorf("typing %q matches %v", r, got)
		}
	}
	for _, msg := range []tea.KeyPressMsg{press(tea.KeyLeft, 0, ""), press(tea.KeyRight, 0, "")} {
		if got := matching(k, msg); len(got) != 0 {
			t.Errorf("%s matches %v while typing; it should move the cursor", msg.String(), got)
		}
	}
	for msg, want := range map[string]tea.KeyPressMsg{
		"Select":           press(tea.KeyEnter, 0, ""),
		"Back":             press(tea.KeyEscape, 0, ""),
		"NextField":        press(tea.KeyTab, 0, ""),
		"Up":               press(tea.KeyUp, 0, ""),
		"Resend":           press('r', tea.ModCtrl, ""),
		"AcceptSuggestion": press('e', tea.ModCtrl, ""),
		"NextSuggestion":   press('n', tea.ModCtrl, ""),
	} {
		if got := matching(k, want); len(got) != 1 || got[0] != msg {
			t.Errorf("%s: got %v while typing", msg, got)
		}
	}
	if k.Up.Help().Key != "↑" {
		t.Errorf("Up help still mentions k: %q", k.Up.Help().Key)
	}
	if !key.Matches(char('k'), Default().Up) {
		t.Error("Typing changed the original key map")
	}
}

func TestTabIndex(t *testing.T) {
	k := Default()
	for i, r := range "12345" {
		if got, ok := k.TabIndex(char(r)); !ok || got != i {
			t.Errorf("TabIndex(%q) = %d, %v", r, got, ok)
		}
	}
	for _, msg := range []tea.KeyPressMsg{char('6'), char('0'), press(tea.KeyRight, 0, "")} {
		if _, ok := k.TabIndex(msg); ok {
			t.Errorf("TabIndex(%q) matched", msg.String())
		}
	}
	if _, ok := k.Typing().TabIndex(char('1')); ok {
		t.Error("tab digits active while typing")
	}
}

// screens are help bars as screens build them, from the bindings they use.
func screens(k KeyMap) map[string]Bindings {
	return map[string]Bindings{
		"list":    Help(k.Up, k.Down, k.Select, k.Back, k.Help, k.Quit),
		"form":    Help(k.Select, k.NextField, k.PrevField, k.Back, k.Quit),
		"code":    Help(k.Select, k.Resend, k.Back, k.ToggleOutbox, k.Quit),
		"confirm": Help(k.Confirm, k.Cancel, k.Back),
		"admin": Help(k.Tab, k.PrevTab, k.NextTab, k.Up, k.Down, k.Select, k.Search, k.PageUp, k.PageDown,
			k.Back, k.Help, k.Quit),
	}
}

func TestHelp(t *testing.T) {
	k := Default().Kiosk()
	got := Help(k.Select, k.Quit, k.Back, key.NewBinding(key.WithKeys("x")))
	if len(got) != 2 || got[0].Help().Key != "enter" || got[1].Help().Key != "esc" {
		t.Fatalf("Help kept %v", got)
	}
	admin := screens(k)["admin"]
	full := admin.Columns(4)
	n := 0
	for _, col := range full {
		if len(col) == 0 || len(col) > 4 {
			t.Errorf("column of %d bindings", len(col))
		}
		n += len(col)
	}
	if n != len(admin) {
		t.Errorf("full help has %d bindings, short help %d", n, len(admin))
	}
	if len(Bindings(nil).Columns(4)) != 0 {
		t.Error("empty bindings give columns")
	}
	for name, b := range screens(k) {
		if len(b) == 0 {
			t.Errorf("%s help is empty", name)
		}
		for _, kb := range b {
			if kb.Help().Key == "ctrl+c" {
				t.Errorf("%s help shows quit in kiosk mode", name)
			}
		}
	}
}

func TestColumnsAndSwitchTab(t *testing.T) {
	k := Default()
	b := screens(k)["admin"]
	for per := 1; per <= len(b)+1; per++ {
		cols := b.Columns(per)
		n := 0
		for _, c := range cols {
			if len(c) == 0 || len(c) > per {
				t.Fatalf("per %d: a column of %d", per, len(c))
			}
			n += len(c)
		}
		if n != len(b) {
			t.Fatalf("per %d: %d of %d bindings", per, n, len(b))
		}
	}
	sw := k.SwitchTab()
	if !key.Matches(tea.KeyPressMsg{Code: tea.KeyLeft}, sw) || !key.Matches(tea.KeyPressMsg{Code: tea.KeyRight}, sw) {
		t.Error("SwitchTab does not take ← and →")
	}
	if sw.Help().Key != "←/→" || !sw.Enabled() {
		t.Errorf("SwitchTab help %q enabled %v", sw.Help().Key, sw.Enabled())
	}
	if k.Typing().SwitchTab().Enabled() {
		t.Error("SwitchTab enabled while typing")
	}
	if m := k.MoreHelp(); m.Help().Desc != "key.more" || !key.Matches(char('?'), m) || k.Typing().MoreHelp().Enabled() {
		t.Errorf("MoreHelp: %+v", m.Help())
	}
}

func TestRanked(t *testing.T) {
	k := Default()
	got := Bindings{k.Up, k.Select, k.PageDown, k.Down, k.Back, k.NextTab}.Ranked()
	var names []string
	for _, b := range got {
		names = append(names, b.Help().Key)
	}
	if want := "enter esc → ↑/k pgdn ↓/j"; strings.Join(names, " ") != want {
		t.Fatalf("ranked %q, want %q", strings.Join(names, " "), want)
	}
}
