package tui

import (
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/hooks"
)

// The organisation's check refuses a password, and its first line,
// cleaned of escapes, is what the person reads on the new-password screen.
func TestCheckHookRefusalOnNewPasswordScreen(t *testing.T) {
	check := flowstest.HookScript(t, "cat >/dev/null\nprintf '\\033[1mNot a password \\033]0;x\\007we allow here\\nmore\\n'\nexit 1\n")
	h := newHarnessOpts(t, flowstest.Options{Hooks: hooks.New([]string{check}, nil, 10*time.Second)})
	d := kiosk(t, h)
	d.startReset("alice")
	d.proveEmail("alice@example.com")
	at[*newPassword](d)
	d.typeText(newPass)
	d.keys("tab")
	d.typeText(newPass)
	d.keys("enter")
	d.see("Your organisation's check refused that password: [1mNot a password ]0;xwe allow here")
	at[*newPassword](d)
	if h.signInWorks("alice", newPass) || !h.signInWorks("alice", testPassword) {
		t.Fatal("the refused password was set")
	}
}

// With on_failure: report, a changed program that fails still ends on the
// done screen, which says one system did not follow.
func TestChangedHookFailureReported(t *testing.T) {
	changed := flowstest.HookScript(t, "cat >/dev/null\nexit 7\n")
	h := newHarnessOpts(t, flowstest.Options{Hooks: hooks.New(nil, []string{changed}, 10*time.Second), HookReport: true})
	d := kiosk(t, h)
	d.startReset("alice")
	d.proveEmail("alice@example.com")
	d.setPassword(newPass)
	d.see("Your password was changed in the directory, but one system that should follow did not yet.")
	if !h.signInWorks("alice", newPass) {
		t.Fatal("the password was not set")
	}
}
