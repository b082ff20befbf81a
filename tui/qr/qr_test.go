package qr

import (
	"image/color"
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"
	"github.com/charmbracelet/x/ansi"
)

const sampleURI = "otpauth://totp/sspr:alice?secret=JBSWY3DPEHPK3PXP&issuer=sspr&algorithm=SHA1&digits=6&period=30"

// decode turns rendered half blocks back into a matrix of painted modules,
// indexed [y][x], two module rows per text row.
func decode(t *testing.T, s string) [][]bool {
	t.Helper()
	var m [][]bool
	for _, line := range strings.Split(s, "\n") {
		top, bottom := []bool{}, []bool{}
		for _, r := range line {
			switch r {
			case ' ':
				top, bottom = append(top, false), append(bottom, false)
			case '▀':
				top, bottom = append(top, true), append(bottom, false)
			case '▄':
				top, bottom = append(top, false), append(bottom, true)
			case '█':
				top, bottom = append(top, true), append(bottom, true)
			default:
				t.Fatalf("unexpected rune %q in output", r)
			}
		}
		m = append(m, top, bottom)
	}
	return m
}

func TestRenderMatchesEncoder(t *testing.T) {
	for _, content := range []string{
		sampleURI,
		"otpauth://totp/sspr:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=sspr",
		"HELLO WORLD", // alphanumeric mode
		"0123456789",  // numeric mode
		"ünïcödé 日本語",
	} {
		for _, invert := range []bool{false, true} {
			out, err := Render(content, invert)
			if err != nil {
				t.Fatalf("Render(%q): %v", content, err)
			}
			want, err := qr.Encode(content, qr.M, qr.Auto)
			if err != nil {
				t.Fatal(err)
			}
			size := want.Bounds().Dx()
			total := size + 2*QuietZone
			painted := decode(t, out)

			if got := len(painted); got != total+total%2 {
				t.Fatalf("%d module rows, want %d", got, total+total%2)
			}
			for y, row := range painted {
				if len(row) != total {
					t.Fatalf("module row %d has %d modules, want %d", y, len(row), total)
				}
				for x, p := range row {
					if y >= total {
						if p {
							t.Fatalf("padding half row painted at x=%d", x)
						}
						continue
					}
					dark := p == invert
					inCode := x >= QuietZone && y >= QuietZone && x < QuietZone+size && y < QuietZone+size
					wantDark := inCode && want.At(x-QuietZone, y-QuietZone) == color.Black
					if dark != wantDark {
						t.Fatalf("content %q invert=%v: module (%d,%d) dark=%v, want %v", content, invert, x, y, dark, wantDark)
					}
				}
			}
		}
	}
}

func TestRenderSampleFits80x24(t *testing.T) {
	out, err := Render(sampleURI, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	width := 0
	for _, l := range lines {
		width = max(width, ansi.StringWidth(l))
	}
	t.Logf("sample otpauth URI (%d bytes): %d columns × %d rows", len(sampleURI), width, len(lines))
	// Version 6 (41 modules) + 2×2 quiet zone = 45 modules: 45 columns and
	// ceil(45/2) = 23 rows.
	if width != 45 || len(lines) != 23 {
		t.Errorf("got %d×%d, want 45×23 (version 6)", width, len(lines))
	}
	if width > 80 || len(lines) > 23 {
		t.Errorf("%d×%d does not fit an 80×24 screen", width, len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != width {
			t.Errorf("line %d is %d wide, want %d", i, w, width)
		}
	}
}

// TestRenderSizes records how big realistic enrolment URIs get, to guide
// what flows put in them. Only the sample URI's size is a hard promise.
func TestRenderSizes(t *testing.T) {
	for _, tt := range []struct {
		name, uri string
		maxRows   int
	}{
		{"sample, 80-bit secret", sampleURI, 23},
		{"160-bit secret, default parameters omitted", "otpauth://totp/sspr:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=sspr", 23},
		{"160-bit secret, all parameters", "otpauth://totp/sspr:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=sspr&algorithm=SHA1&digits=6&period=30", 25},
	} {
		out, err := Render(tt.uri, false)
		if err != nil {
			t.Fatal(err)
		}
		w, h := ansi.StringWidth(strings.SplitN(out, "\n", 2)[0]), strings.Count(out, "\n")+1
		t.Logf("%s (%d bytes): %d×%d", tt.name, len(tt.uri), w, h)
		if h > tt.maxRows || w > 80 {
			t.Errorf("%s: %d×%d, want at most 80×%d", tt.name, w, h, tt.maxRows)
		}
	}
}

func TestRenderNoEscapes(t *testing.T) {
	out, err := Render(sampleURI, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out, "\x1b\r\t") {
		t.Fatal("output holds control characters")
	}
}

func TestRenderTooLong(t *testing.T) {
	if _, err := Render(strings.Repeat("x", 4000), false); err == nil {
		t.Fatal("want an error for content beyond version 40")
	}
}

func BenchmarkRender(b *testing.B) {
	for b.Loop() {
		if _, err := Render(sampleURI, false); err != nil {
			b.Fatal(err)
		}
	}
}
