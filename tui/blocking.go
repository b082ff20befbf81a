package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// blocker is a screen that can be showing what stops the person going on
// (a refused entry, a wrong code, a refusal from the service, a yes/no
// question) as the last lines of its body. When the window is too short
// for the whole body, the root keeps those lines in view (keepEnd): an
// enter that seems to do nothing is worse than a screen that gives up its
// spacing or its first lines.
type blocker interface{ blocking() bool }

func (s *identify) blocking() bool        { return s.err != "" }
func (s *signIn) blocking() bool          { return s.err != "" }
func (s *codeEntry) blocking() bool       { return s.err != "" }
func (s *methods) blocking() bool         { return s.err != "" }
func (s *answerQuestions) blocking() bool { return s.err != "" }
func (s *newPassword) blocking() bool     { return s.err != "" }
func (s *overview) blocking() bool        { return s.err != "" || s.confirm != nil || s.leaving }
func (s *registerContact) blocking() bool { return s.err != "" }

func (s *registerQuestions) blocking() bool { return s.err != "" }

// blocking for the panel asks the tab shown, when it can tell.
func (p *adminHome) blocking() bool {
	if p.leaving {
		return false
	}
	b, ok := p.tabs[p.tab].(blocker)
	return ok && b.blocking()
}

func (t *policyTab) blocking() bool { return t.err != "" || t.confirm != nil }
func (t *usersTab) blocking() bool  { return t.err != "" || t.at.step == userConfirm }
func (t *auditTab) blocking() bool  { return t.err != "" || t.formErr != "" }

// keepEnd fits a body whose last lines say what stops the person into
// rows: blank lines go first, from the top, then the first lines, so the
// end stays in view.
func keepEnd(body string, rows int) string {
	lines := strings.Split(body, "\n")
	for i := 0; len(lines) > rows && i < len(lines); {
		if strings.TrimSpace(ansi.Strip(lines[i])) == "" {
			lines = append(lines[:i], lines[i+1:]...)
			continue
		}
		i++
	}
	if rows > 0 && len(lines) > rows {
		lines = lines[len(lines)-rows:]
	}
	return strings.Join(lines, "\n")
}
