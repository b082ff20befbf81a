package portal

import "testing"

// TestSessionLanguage: the client's environment picks the language when
// sspr speaks it, as a POSIX program reads it (LC_ALL, LC_MESSAGES, then
// LANG); anything else keeps the portal's ui.language.
func TestSessionLanguage(t *testing.T) {
	for _, tc := range []struct {
		environ []string
		want    string
	}{
		{[]string{"LANG=en_GB.UTF-8"}, "en"},
		{[]string{"LC_ALL=en_US.UTF-8", "LANG=xx_XX.UTF-8"}, "en"},
		{[]string{"LANG=xx_XX.UTF-8"}, "portal"},
		{[]string{"LC_ALL=xx_XX", "LANG=en_US.UTF-8"}, "portal"},
		{[]string{"LANG=C.UTF-8"}, "portal"},
		{[]string{"TERM=xterm"}, "portal"},
		{nil, "portal"},
	} {
		if got := sessionLanguage(tc.environ, "portal"); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.environ, got, tc.want)
		}
	}
}
