package styles

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// everyStyle returns each lipgloss.Style field of s (nested ones included),
// by name, so that tests cover styles added later without being edited.
func everyStyle(s Styles) map[string]lipgloss.Style {
	out := map[string]lipgloss.Style{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		switch v.Type() {
		case reflect.TypeFor[lipgloss.Style]():
			out[prefix] = v.Interface().(lipgloss.Style)
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(prefix+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Array:
			for i := range v.Len() {
				walk(prefix+"["+string(rune('0'+i))+"]", v.Index(i))
			}
		}
	}
	walk("Styles", reflect.ValueOf(s))
	return out
}

func TestLightAndDarkDiffer(t *testing.T) {
	dark, light := New(true), New(false)
	if !dark.IsDark || light.IsDark {
		t.Fatal("IsDark not recorded")
	}
	if reflect.DeepEqual(dark.Palette.Accent, light.Palette.Accent) ||
		reflect.DeepEqual(dark.Palette.Muted, light.Palette.Muted) ||
		reflect.DeepEqual(dark.Palette.Error, light.Palette.Error) {
		t.Error("the palette does not adapt to the background")
	}
	for i, c := range dark.Palette.Strength {
		if c == nil || light.Palette.Strength[i] == nil {
			t.Errorf("strength colour %d missing", i)
		}
	}
}

// TestDegradesWithoutColour renders every style through the per-program
// colour downsampling that Bubble Tea applies, and checks that an ASCII
// terminal gets no colour and a non-terminal no escape sequence at all,
// while the text itself survives.
func TestDegradesWithoutColour(t *testing.T) {
	// Without this, the test would also pass if styles had no colour.
	if out := New(true).Error.Render("text"); !strings.Contains(out, "38;2;") {
		t.Fatalf("Error style has no true colour to degrade: %q", out)
	}
	for _, dark := range []bool{true, false} {
		for name, style := range everyStyle(New(dark)) {
			rendered := style.Render("text")
			for _, p := range []colorprofile.Profile{colorprofile.Ascii, colorprofile.NoTTY} {
				var buf bytes.Buffer
				w := &colorprofile.Writer{Forward: &buf, Profile: p}
				if _, err := w.WriteString(rendered); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				if strings.Contains(out, "38;") || strings.Contains(out, "48;") || strings.Contains(out, "58;") {
					t.Errorf("%s (%v): colour survives: %q", name, p, out)
				}
				if p == colorprofile.NoTTY && strings.Contains(out, "\x1b") {
					t.Errorf("%s: escape sequence on a non-terminal: %q", name, out)
				}
				if !strings.Contains(ansi.Strip(out), "text") {
					t.Errorf("%s (%v): text lost: %q", name, p, out)
				}
			}
		}
	}
}

// TestFocusVisibleWithoutColour checks that focus and selection do not rely
// on colour alone.
func TestFocusVisibleWithoutColour(t *testing.T) {
	for _, s := range []Styles{New(true), New(true).ASCII()} {
		if f, b := ansi.Strip(s.Input.Focused.Render("x")), ansi.Strip(s.Input.Blurred.Render("x")); f == b {
			t.Errorf("focused and blurred inputs look the same without colour: %q", f)
		} else if ansi.StringWidth(f) != ansi.StringWidth(b) {
			t.Errorf("focus changes the width: %q vs %q", f, b)
		}
		if sel, un := ansi.Strip(s.Item.Selected.Render("x")), ansi.Strip(s.Item.Unselected.Render("x")); sel == un {
			t.Errorf("selected and unselected items look the same without colour: %q", sel)
		} else if ansi.StringWidth(sel) != ansi.StringWidth(un) {
			t.Errorf("selection changes the width: %q vs %q", sel, un)
		}
		if s.Glyphs.Met == s.Glyphs.Unmet || s.Glyphs.BarFull == s.Glyphs.BarEmpty {
			t.Error("met and unmet, or full and empty, share a glyph")
		}
	}
}

func TestASCII(t *testing.T) {
	s := New(true).ASCII()
	if s.Glyphs != ASCIIGlyphs() {
		t.Fatalf("glyphs: %+v", s.Glyphs)
	}
	if s.Glyphs.Met != "[x]" || s.Glyphs.Unmet != "[ ]" {
		t.Errorf("checklist marks: %q %q", s.Glyphs.Met, s.Glyphs.Unmet)
	}
	for name, style := range everyStyle(s) {
		out := ansi.Strip(style.Render("text"))
		for _, r := range out {
			if r > 0x7e {
				t.Errorf("%s draws non-ASCII %q: %q", name, r, out)
				break
			}
		}
	}
	v := reflect.ValueOf(s.Glyphs)
	for i := range v.NumField() {
		for _, r := range v.Field(i).String() {
			if r > 0x7e {
				t.Errorf("glyph %s is not ASCII", v.Type().Field(i).Name)
			}
		}
	}
	// ASCII works on a copy.
	if orig := New(true); orig.Glyphs != UnicodeGlyphs() {
		t.Error("New returned ASCII glyphs")
	}
}

func TestHelperStyles(t *testing.T) {
	s := New(true)
	h := s.HelpStyles()
	if h.ShortKey.Render("k") != s.Help.Key.Render("k") || h.FullDesc.Render("d") != s.Help.Desc.Render("d") {
		t.Error("help styles do not match the help bar")
	}
	ti := s.TextInput()
	if ti.Cursor.Blink {
		t.Error("cursor should not blink")
	}
	if ti.Cursor.Color == nil {
		t.Error("cursor colour missing")
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		_ = New(true)
	}
}
