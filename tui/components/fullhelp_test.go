package components

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

func moreKeys() key.Binding {
	return key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys"))
}

func TestShortHelpPointsToTheRest(t *testing.T) {
	for name, st := range allStyles() {
		full := HelpBar(bindings(), 200, st)
		if got := ShortHelp(bindings(), moreKeys(), 200, st); got != full {
			t.Errorf("%s: everything fits, yet %q", name, ansi.Strip(got))
		}
		for w := 0; w <= 80; w++ {
			out := ShortHelp(bindings(), moreKeys(), w, st)
			assertWithin(t, out, w)
			plain := ansi.Strip(out)
			if plain == ansi.Strip(full) {
				continue
			}
			if plain != "" && !strings.HasSuffix(plain, "? more keys") {
				t.Fatalf("%s width %d: %q does not end with ? more keys", name, w, plain)
			}
			// The entries before it are whole and in order.
			shown := strings.TrimSuffix(strings.TrimSuffix(plain, "? more keys"), st.Glyphs.Separator)
			if !strings.HasPrefix(ansi.Strip(full), shown) {
				t.Fatalf("%s width %d: %q is not the start of the bar", name, w, plain)
			}
		}
		if got := ansi.Strip(ShortHelp(bindings(), moreKeys(), 30, st)); got != "enter select"+st.Glyphs.Separator+"? more keys" {
			t.Errorf("%s: got %q", name, got)
		}
		off := moreKeys()
		off.SetEnabled(false)
		if ShortHelp(bindings(), off, 25, st) != HelpBar(bindings(), 25, st) {
			t.Errorf("%s: a disabled more key changes the bar", name)
		}
	}
}

func TestFullHelpShowsEveryKeyWithinWidth(t *testing.T) {
	bs := bindings()
	for i := range 8 {
		bs = append(bs, key.NewBinding(key.WithKeys(string(rune('a'+i))), key.WithHelp(string(rune('a'+i)), "does thing "+string(rune('a'+i)))))
	}
	for name, st := range allStyles() {
		for w := 1; w <= 120; w++ {
			out := FullHelp(bs, w, st)
			assertWithin(t, out, w)
			if w < 24 {
				continue
			}
			plain := ansi.Strip(out)
			for _, kb := range bs {
				h := kb.Help()
				if kb.Enabled() && h.Key != "" && !strings.Contains(plain, h.Desc) {
					t.Fatalf("%s width %d: %q missing:\n%s", name, w, h.Desc, plain)
				}
			}
			if strings.Contains(plain, "hidden") {
				t.Fatalf("%s: a disabled binding shows", name)
			}
		}
		if rows := strings.Count(FullHelp(bs, 80, st), "\n") + 1; rows > 4 {
			t.Errorf("%s: %d rows at 80 columns; columns side by side should take at most 4", name, rows)
		}
		if rows := strings.Count(FullHelp(bs, 24, st), "\n") + 1; rows != 12 {
			t.Errorf("%s: %d rows at 24 columns, want one key a line", name, rows)
		}
	}
	if FullHelp(nil, 80, dark()) != "" {
		t.Error("no bindings draw something")
	}
}

// TestShortHelpActsBeforeMoves: when the bar is too short, the keys that
// act come before the arrows; when everything fits, the order is kept.
func TestShortHelpActsBeforeMoves(t *testing.T) {
	st := dark()
	up := key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up"))
	down := key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down"))
	bs := append([]key.Binding{up, down}, bindings()...)
	if got := ansi.Strip(ShortHelp(bs, moreKeys(), 200, st)); !strings.HasPrefix(got, "↑/k up • ↓/j down • enter select") {
		t.Errorf("reordered although everything fits: %q", got)
	}
	if got := ansi.Strip(ShortHelp(bs, moreKeys(), 60, st)); got != "enter select • esc back • ctrl+r resend code • ? more keys" {
		t.Errorf("got %q", got)
	}
}
