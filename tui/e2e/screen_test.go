package e2e

import (
	"strings"
	"sync"

	"github.com/charmbracelet/x/ansi"
)

// screen is a small virtual terminal: enough of xterm to follow what the
// Bubble Tea renderer writes (cursor moves, erases, inserts, scroll
// regions, repeats), so a test reads the screen as a person sees it rather
// than searching a byte stream full of cursor moves.
type screen struct {
	mu       sync.Mutex
	w, h     int
	cells    [][]rune
	x, y     int
	savedX   int
	savedY   int
	top, bot int // scroll region, inclusive
	autowrap bool
	pending  bool // a print at the last column waits to wrap
	last     rune
	parser   *ansi.Parser
	raw      strings.Builder
}

func newScreen(w, h int) *screen {
	s := &screen{w: w, h: h, autowrap: true}
	s.reset()
	p := ansi.NewParser()
	p.SetHandler(ansi.Handler{
		Print:     s.print,
		Execute:   s.execute,
		HandleCsi: s.csi,
		HandleEsc: s.esc,
	})
	s.parser = p
	return s
}

func (s *screen) reset() {
	s.cells = make([][]rune, s.h)
	for i := range s.cells {
		s.cells[i] = blankRow(s.w)
	}
	s.x, s.y, s.top, s.bot = 0, 0, 0, s.h-1
}

func blankRow(w int) []rune {
	r := make([]rune, w)
	for i := range r {
		r[i] = ' '
	}
	return r
}

// Write feeds terminal output to the screen.
func (s *screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw.Write(b)
	s.parser.Parse(b)
	return len(b), nil
}

// text returns the screen, one line per row, trailing spaces trimmed.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := make([]string, s.h)
	for i, row := range s.cells {
		var b strings.Builder
		for _, r := range row {
			if r != 0 { // 0 is the second half of a wide character
				b.WriteRune(r)
			}
		}
		lines[i] = strings.TrimRight(b.String(), " ")
	}
	return strings.Join(lines, "\n")
}

// rawOutput is every byte written so far.
func (s *screen) rawOutput() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

func (s *screen) clampX() { s.x = min(max(s.x, 0), s.w-1) }
func (s *screen) clampY() { s.y = min(max(s.y, 0), s.h-1) }

func (s *screen) print(r rune) {
	wd := ansi.StringWidth(string(r))
	if wd == 0 {
		return
	}
	if s.pending && s.autowrap {
		s.x = 0
		s.lineFeed()
	}
	s.pending = false
	if s.x+wd > s.w {
		if !s.autowrap {
			s.x = s.w - wd
		} else {
			s.x = 0
			s.lineFeed()
		}
	}
	s.cells[s.y][s.x] = r
	if wd == 2 && s.x+1 < s.w {
		s.cells[s.y][s.x+1] = 0
	}
	s.last = r
	s.x += wd
	if s.x >= s.w {
		s.x = s.w - 1
		s.pending = true
	}
}

func (s *screen) lineFeed() {
	if s.y == s.bot {
		s.scrollUp(1)
		return
	}
	s.y = min(s.y+1, s.h-1)
}

func (s *screen) scrollUp(n int) {
	for range n {
		copy(s.cells[s.top:s.bot], s.cells[s.top+1:s.bot+1])
		s.cells[s.bot] = blankRow(s.w)
	}
}

func (s *screen) scrollDown(n int) {
	for range n {
		copy(s.cells[s.top+1:s.bot+1], s.cells[s.top:s.bot])
		s.cells[s.top] = blankRow(s.w)
	}
}

func (s *screen) execute(b byte) {
	s.pending = false
	switch b {
	case '\r':
		s.x = 0
	case '\n', '\v', '\f':
		s.lineFeed()
	case '\b':
		s.x = max(s.x-1, 0)
	case '\t':
		s.x = min((s.x/8+1)*8, s.w-1)
	}
}

func (s *screen) esc(cmd ansi.Cmd) {
	s.pending = false
	switch cmd.Final() {
	case '7':
		s.savedX, s.savedY = s.x, s.y
	case '8':
		s.x, s.y = s.savedX, s.savedY
	case 'M': // reverse index
		if s.y == s.top {
			s.scrollDown(1)
		} else {
			s.y = max(s.y-1, 0)
		}
	case 'D':
		s.lineFeed()
	case 'E':
		s.x = 0
		s.lineFeed()
	case 'c':
		s.reset()
	}
}

func (s *screen) eraseRow(y, from, to int) {
	for x := max(from, 0); x < min(to, s.w); x++ {
		s.cells[y][x] = ' '
	}
}

func (s *screen) csi(cmd ansi.Cmd, params ansi.Params) {
	p := func(i, def int) int {
		v, _, _ := params.Param(i, def)
		if v == 0 && def > 0 {
			return def
		}
		return v
	}
	s.pending = false
	if cmd.Prefix() == '?' {
		on := cmd.Final() == 'h'
		if cmd.Final() != 'h' && cmd.Final() != 'l' {
			return
		}
		params.ForEach(0, func(_, mode int, _ bool) {
			switch mode {
			case 7:
				s.autowrap = on
			case 1049, 47, 1047:
				s.reset()
			}
		})
		return
	}
	if cmd.Prefix() != 0 || cmd.Intermediate() != 0 {
		return
	}
	switch cmd.Final() {
	case 'H', 'f':
		s.y, s.x = p(0, 1)-1, p(1, 1)-1
	case 'A':
		s.y -= p(0, 1)
	case 'B', 'e':
		s.y += p(0, 1)
	case 'C', 'a':
		s.x += p(0, 1)
	case 'D':
		s.x -= p(0, 1)
	case 'E':
		s.y += p(0, 1)
		s.x = 0
	case 'F':
		s.y -= p(0, 1)
		s.x = 0
	case 'G', '`':
		s.x = p(0, 1) - 1
	case 'd':
		s.y = p(0, 1) - 1
	case 'I':
		for range p(0, 1) {
			s.x = min((s.x/8+1)*8, s.w-1)
		}
	case 'Z':
		for range p(0, 1) {
			s.x = max((s.x-1)/8*8, 0)
		}
	case 'J':
		switch p(0, 0) {
		case 0:
			s.eraseRow(s.y, s.x, s.w)
			for y := s.y + 1; y < s.h; y++ {
				s.cells[y] = blankRow(s.w)
			}
		case 1:
			s.eraseRow(s.y, 0, s.x+1)
			for y := 0; y < s.y; y++ {
				s.cells[y] = blankRow(s.w)
			}
		case 2, 3:
			for y := range s.h {
				s.cells[y] = blankRow(s.w)
			}
		}
	case 'K':
		switch p(0, 0) {
		case 0:
			s.eraseRow(s.y, s.x, s.w)
		case 1:
			s.eraseRow(s.y, 0, s.x+1)
		case 2:
			s.eraseRow(s.y, 0, s.w)
		}
	case 'X':
		s.eraseRow(s.y, s.x, s.x+p(0, 1))
	case 'P':
		n := min(p(0, 1), s.w-s.x)
		row := s.cells[s.y]
		copy(row[s.x:], row[s.x+n:])
		s.eraseRow(s.y, s.w-n, s.w)
	case '@':
		n := min(p(0, 1), s.w-s.x)
		row := s.cells[s.y]
		copy(row[s.x+n:], row[s.x:s.w-n])
		s.eraseRow(s.y, s.x, s.x+n)
	case 'L', 'M':
		if s.y < s.top || s.y > s.bot {
			return
		}
		top := s.top
		s.top = s.y
		if cmd.Final() == 'L' {
			s.scrollDown(p(0, 1))
		} else {
			s.scrollUp(p(0, 1))
		}
		s.top = top
	case 'S':
		s.scrollUp(p(0, 1))
	case 'T':
		s.scrollDown(p(0, 1))
	case 'b':
		for range p(0, 1) {
			s.print(s.last)
		}
	case 'r':
		s.top, s.bot = p(0, 1)-1, p(1, s.h)-1
		if s.top >= s.bot || s.bot >= s.h {
			s.top, s.bot = 0, s.h-1
		}
		s.x, s.y = 0, 0
	}
	s.clampX()
	s.clampY()
}
