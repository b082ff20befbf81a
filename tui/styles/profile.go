package styles

import (
	"strings"

	"github.com/charmbracelet/colorprofile"
)

// Profile is the colour profile to draw with on a terminal: the profile
// detected for it (colorprofile.Detect for the local terminal,
// colorprofile.Env for an SSH session's environment), but no colour at all
// for a terminal type that has none. The detection takes any TERM but
// "dumb" for a colour terminal, so TERM=xterm-mono would get colour codes
// it shows as garbage or ignores, losing what the colour said.
//
// environ is the terminal's environment: the process's for the local
// terminal, the session's (with its TERM) over SSH, never the server's.
func Profile(detected colorprofile.Profile, environ []string) colorprofile.Profile {
	if detected > colorprofile.ASCII && Monochrome(termOf(environ)) {
		return colorprofile.ASCII
	}
	return detected
}

// Monochrome reports a terminal type without colour: by the terminfo
// naming convention a -m or -mono suffix (xterm-mono, linux-m), and the
// video terminals of old that never had colour.
func Monochrome(term string) bool {
	term = strings.ToLower(term)
	switch term {
	case "vt52", "vt100", "vt102", "vt220", "vt320":
		return true
	}
	return strings.HasSuffix(term, "-mono") || strings.HasSuffix(term, "-m")
}

// Dumb reports the terminal type "dumb": one that can only print lines,
// with no cursor to move and no screen to clear, which every screen of the
// TUI needs.
func Dumb(environ []string) bool { return termOf(environ) == "dumb" }

// termOf is the TERM of an environment, the last one set.
func termOf(environ []string) string {
	term := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "TERM="); ok {
			term = v
		}
	}
	return term
}
