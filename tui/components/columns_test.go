package components

import (
	"fmt"
	"testing"
)

func TestFitColumns(t *testing.T) {
	// name, display name, methods, date, state: the display name goes
	// first, then the date, then the methods; name and state stay.
	cols := []Column{{Min: 8}, {Min: 10, Drop: 3}, {Min: 7, Drop: 1}, {Min: 10, Drop: 2}, {Min: 10}}
	grows := []Grow{{0, 16}, {4, 18}, {1, 24}, {0, 24}, {1, 40}, {4, 0}}
	tests := []struct {
		width int
		want  string
	}{
		{100, "[24 37 7 10 18]"},
		{74, "[16 19 7 10 18]"},
		{54, "[13 10 7 10 10]"}, // every column at its least, the room to the name
		{48, "[16 0 7 10 12]"},  // the display name goes first
		{34, "[15 0 7 0 10]"},   // then the date
		{18, "[8 0 0 0 10]"},    // then the methods, never the name or the state
	}
	for _, tt := range tests {
		if got := fmt.Sprint(FitColumns(tt.width, 1, cols, grows)); got != tt.want {
			t.Errorf("width %d: %s, want %s", tt.width, got, tt.want)
		}
	}
	// An entry's number only in a wide table; the time before the actor.
	audit := []Column{{Min: 6, From: 70}, {Min: 11, Drop: 2}, {Min: 13}, {Min: 13}, {Min: 6}}
	ag := []Grow{{2, 20}, {3, 16}, {1, 16}, {2, 23}, {3, 0}}
	for width, want := range map[int]string{76: "[6 16 23 21 6]", 56: "[0 11 20 16 6]", 36: "[0 0 15 13 6]"} {
		if got := fmt.Sprint(FitColumns(width, 1, audit, ag)); got != want {
			t.Errorf("audit at %d: %s, want %s", width, got, want)
		}
	}
	if got := fmt.Sprint(FitColumns(20, 2, []Column{{Min: 4}, {Min: 4}}, []Grow{{1, 0}, {0, 0}})); got != "[4 14]" {
		t.Errorf("the last grow step takes the rest: %s", got)
	}
}
