// Package qr draws QR codes with Unicode half blocks, so that a phone can
// scan an otpauth:// enrolment URI straight off the terminal.
//
// Each character cell holds two modules, one above the other (▀ ▄ █ or a
// space). A terminal cell is about twice as tall as it is wide, so one module
// comes out roughly square, and a version 6 code fits on an 80×24 screen.
//
// The output is plain text with no escape sequences: it relies only on the
// terminal's own foreground and background colours, so it survives every
// colour profile, including none, and an SSH client that strips colour.
package qr

import (
	"fmt"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// QuietZone is the width, in modules, of the light border drawn around the
// code.
//
// The QR specification asks for 4 modules. Two is the smallest border that
// the phone scanners we care about (iOS Camera, Google Lens, ZXing-based
// authenticator apps) lock on to reliably, and it matters here because on a
// dark terminal everything outside the drawn border reads as dark modules.
// Each extra module costs half a row on both sides of the code, and rows are
// what an 80×24 screen runs out of: with 2, a version 6 code (the typical
// otpauth:// URI) takes 23 rows, with 4 it would take 25 and no longer fit.
const QuietZone = 2

// Render encodes content as a QR code with error correction level M, in the
// smallest version that holds it, and draws it with half blocks and a quiet
// zone of QuietZone modules. Lines are separated by "\n" and all have the
// same width.
//
// By default the drawing is meant for a dark-background terminal: the
// light "paper" (the quiet zone and the light modules) is painted in the
// terminal's light foreground colour and the dark modules are left as the
// dark background, so scanners see dark on light as the standard requires.
// Pass invert = true on a light-background terminal, where the dark modules
// are painted and the paper is the background.
//
// Put the result in a View without a foreground or background style: a
// coloured foreground lowers the contrast the scanner needs. Render takes a
// few milliseconds (the encoder scores all eight masks), so call it once
// when the screen opens and keep the string; do not call it from View.
//
// Error correction M (15%) is the usual choice for codes on screens: L saves
// at most one version on short URIs but a glare spot or a moiré pattern from
// the phone's camera can then spoil the scan.
func Render(content string, invert bool) (string, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	size := code.Bounds().Dx()

	// dark reports whether the module at (x, y), in coordinates that
	// include the quiet zone, is a dark module. The quiet zone is light.
	dark := func(x, y int) bool {
		x, y = x-QuietZone, y-QuietZone
		if x < 0 || y < 0 || x >= size || y >= size {
			return false
		}
		// The encoder exposes modules only as an image: black is dark.
		r, _, _, _ := code.At(x, y).RGBA()
		return r < 0x8000
	}
	// painted reports whether the module is drawn in the foreground colour.
	// On a dark terminal the foreground is light, so light modules are the
	// painted ones. The half row below the bottom quiet zone, which exists
	// only because the height is odd, is never painted: it is not part of
	// the code.
	total := size + 2*QuietZone
	painted := func(x, y int) bool {
		if y >= total {
			return false
		}
		return dark(x, y) == invert
	}

	rows := (total + 1) / 2
	var b strings.Builder
	// Each block is 3 bytes in UTF-8, spaces are 1: reserve for the worst.
	b.Grow(rows * (total*3 + 1))
	for row := range rows {
		if row > 0 {
			b.WriteByte('\n')
		}
		top, bottom := 2*row, 2*row+1
		for x := range total {
			b.WriteString(halfBlock(painted(x, top), painted(x, bottom)))
		}
	}
	return b.String(), nil
}

// halfBlock returns the character that paints the terminal's foreground
// colour in the top and/or bottom half of a cell.
func halfBlock(top, bottom bool) string {
	switch {
	case top && bottom:
		return "█"
	case top:
		return "▀"
	case bottom:
		return "▄"
	}
	return " "
}
