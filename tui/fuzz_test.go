package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows/locale"
)

// fuzzKeys are the named keys a fuzz input can press.
var fuzzKeys = []string{"enter", "esc", "tab", "shift+tab", "up", "down", "left", "right", "backspace",
	"ctrl+c", "ctrl+z", "ctrl+\\", "ctrl+r", "ctrl+o", "ctrl+u", "y", "n", "j", "k", "1", "2", "3", "4", "space", "delete", "home", "end", "l"}

var fuzzNames = []string{"alice", "bob", "carol", "dave", "erin", "admin", "zed", hostile}

// fuzzStep decodes one message (or typed text) from the fuzz bytes at i and
// returns where the next one starts.
func fuzzStep(d *driver, b []byte, i int) int {
	next := func() byte {
		if i >= len(b) {
			return 0
		}
		i++
		return b[i-1]
	}
	switch op := next() % 16; op {
	case 0:
		d.send(keyMsg(fuzzKeys[int(next())%len(fuzzKeys)]))
	case 1:
		r := rune(0x20 + next()%0x5f)
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	case 2:
		r := rune(next())<<8 | rune(next())
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	case 3:
		n := int(next())
		end := min(i+n, len(b))
		d.send(tea.PasteMsg{Content: string(b[i:end])})
		i = end
	case 4:
		d.send(tea.PasteMsg{Content: strings.Repeat("A\x1b[2J", int(next())*200)})
	case 5:
		d.send(tea.WindowSizeMsg{Width: int(next()) * 2, Height: int(next())})
	case 6:
		d.tick(time.Duration(next()) * time.Second)
	case 7:
		d.typeText(fuzzNames[int(next())%len(fuzzNames)])
	case 8:
		d.typeText(d.h.Inbox.NewestCode())
	case 9:
		d.typeText(testPassword)
	case 10:
		d.typeText(newPass)
	case 11:
		d.typeText(d.h.totpNow(d.t, testSecret))
	case 12:
		d.keys("enter")
	case 13:
		d.keys("esc")
	case 14:
		d.keys("tab")
	case 15:
		d.paste(hostile)
	}
	return i
}

// FuzzModel feeds random keys, pastes, resizes and clock ticks to the root
// model over a real service: no panic, no control character or escape
// sequence other than colours in the view, the welcome screen always at the
// bottom of the stack, and no way out of kiosk mode but an admin's.
func FuzzModel(f *testing.F) {
	h := newHarness(f)
	f.Add([]byte{0x00, 0x00, 0x07, 0x00, 0x0c, 0x0c, 0x08, 0x0c, 0x0a, 0x0e, 0x0a, 0x0c, 0x0c})
	f.Add([]byte{0x10, 0x01, 0x0f, 0x03, 0x05, 'a', 0x1b, ']', '8', ';', 0x05, 0x00, 0x00, 0x05, 0x01, 0x01, 0x04, 0xff})
	f.Add([]byte{0x00, 0x16, 0x07, 0x04, 0x0e, 0x09, 0x0c, 0x0c, 0x08, 0x0c, 0x00, 0x05, 0x0c, 0x0b, 0x0c})
	f.Add([]byte{0x10, 0x00, 0x14, 0x07, 0x04, 0x0e, 0x09, 0x0c, 0x00, 0x02, 0x00, 0x02, 0x00, 0x01, 0x0c, 0x0e, 0x01, 0x02, 0x20, 0x2e})
	// Bits 5 to 7 of the first byte choose the language the visit starts
	// in: hostile input must stay harmless in every one.
	f.Add([]byte{0xe0, 0x00, 0x07, 0x00, 0x0c, 0x0c, 0x08, 0x0c, 0x0a, 0x0e, 0x0a, 0x0c, 0x0c})
	f.Add([]byte{0x30, 0x01, 0x0f, 0x03, 0x05, 'a', 0x1b, ']', '8', ';', 0x05, 0x00, 0x00, 0x05, 0x01, 0x01, 0x04, 0xff})
	langs := locale.Embedded().Languages()
	runs := 0
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 600 {
			b = b[:600]
		}
		mode := ModeKiosk
		if len(b) > 0 && b[0]&0x10 != 0 {
			mode = ModeDemo
		}
		// A source per input: the failures of one input must not block
		// the source for every later one.
		runs++
		lang := "en"
		if len(b) > 0 {
			lang = langs[int(b[0]>>5)%len(langs)].Code
		}
		d := newDriver(t, h, Options{Mode: mode, IdleTimeout: 2 * time.Minute, Source: fmt.Sprintf("fuzz:%d", runs),
			Language: lang})
		// The first byte chose the mode and language; the rest are messages.
		for i := 1; i < len(b); {
			_, wasAdmin := d.m.top().(*adminHome)
			i = fuzzStep(d, b, i)
			if len(d.m.stack) == 0 {
				t.Fatal("empty stack")
			}
			if _, ok := d.m.stack[0].(*welcome); !ok {
				t.Fatalf("%T at the bottom of the stack", d.m.stack[0])
			}
			if d.quit && mode == ModeKiosk {
				if !wasAdmin {
					t.Fatal("kiosk mode left without an admin")
				}
				return
			}
			v := d.m.View().Content
			if msg := unsafeIn(v); msg != "" {
				t.Fatalf("%s in view:\n%q", msg, v)
			}
			if strings.Contains(v, "evil.example") {
				t.Fatalf("a payload reached the view:\n%s", v)
			}
		}
	})
}
