// Package assets holds the static data shipped inside the sspr binary, so a
// deployment is a single file with nothing to lose or tamper with on disk.
//
// Every accessor parses the embedded text on each call and returns a fresh
// value: callers may modify what they get without affecting anyone else, and
// the package keeps no mutable state. Callers that need the data repeatedly
// build their own index once (for example the password checker's blocklist
// set).
package assets

import (
	_ "embed"
	"strings"
)

//go:embed blocklist.txt
var blocklist string

//go:embed banner.txt
var banner string

// Blocklist returns the common-password list, most common first, lower-cased,
// trimmed and without empty lines.
func Blocklist() []string {
	// No comment syntax here: "#1" style entries are real passwords.
	return lines(blocklist, false, strings.ToLower)
}

// Banner returns the ASCII-art "sspr" wordmark without a trailing newline, so
// the caller decides the spacing around it.
func Banner() string {
	// Trailing spaces are trimmed per line because terminals wrap on them when
	// the window is exactly as wide as the art.
	rows := strings.Split(strings.TrimRight(banner, "\r\n"), "\n")
	for i, r := range rows {
		rows[i] = strings.TrimRight(r, " \t\r")
	}
	return strings.Join(rows, "\n")
}

// lines splits text into trimmed, non-empty lines, dropping '#' comments when
// comments is set and applying fn to each line when fn is not nil.
func lines(text string, comments bool, fn func(string) string) []string {
	out := make([]string, 0, strings.Count(text, "\n")+1)
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || (comments && strings.HasPrefix(line, "#")) {
			continue
		}
		if fn != nil {
			line = fn(line)
		}
		out = append(out, line)
	}
	return out
}
