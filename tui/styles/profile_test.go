package styles

import (
	"testing"

	"github.com/charmbracelet/colorprofile"
)

func TestProfileMonochrome(t *testing.T) {
	tests := []struct {
		env      []string
		detected colorprofile.Profile
		want     colorprofile.Profile
	}{
		// What colorprofile makes of these, and what they get.
		{[]string{"TERM=xterm-mono"}, colorprofile.Env([]string{"TERM=xterm-mono"}), colorprofile.ASCII},
		{[]string{"TERM=xterm-mono", "TMUX=/tmp/tmux-0/default,1,0"}, colorprofile.TrueColor, colorprofile.ASCII},
		{[]string{"TERM=linux-m"}, colorprofile.ANSI, colorprofile.ASCII},
		{[]string{"TERM=vt100"}, colorprofile.ANSI, colorprofile.ASCII},
		{[]string{"TERM=xterm-256color"}, colorprofile.Env([]string{"TERM=xterm-256color"}), colorprofile.ANSI256},
		{[]string{"TERM=xterm-256color", "NO_COLOR=1"}, colorprofile.Env([]string{"TERM=xterm-256color", "NO_COLOR=1"}),
			colorprofile.ASCII},
		{[]string{"TERM=dumb"}, colorprofile.Env([]string{"TERM=dumb"}), colorprofile.NoTTY},
		{[]string{"TERM=xterm-mono"}, colorprofile.NoTTY, colorprofile.NoTTY},
		// The session's TERM, the last one, decides.
		{[]string{"TERM=xterm-256color", "TERM=xterm-mono"}, colorprofile.ANSI256, colorprofile.ASCII},
		{[]string{"TERM=vte-256color"}, colorprofile.ANSI256, colorprofile.ANSI256},
		{[]string{"TERM=screen-256color"}, colorprofile.ANSI256, colorprofile.ANSI256},
	}
	for _, tt := range tests {
		if got := Profile(tt.detected, tt.env); got != tt.want {
			t.Errorf("Profile(%v, %q) = %v, want %v", tt.detected, tt.env, got, tt.want)
		}
	}
	if !Dumb([]string{"HOME=/", "TERM=dumb"}) || Dumb([]string{"TERM=xterm"}) || Dumb(nil) {
		t.Error("Dumb")
	}
}
