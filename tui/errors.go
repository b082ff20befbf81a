package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// sentence turns an error from flows into one sentence for the person at
// the screen. It never repeats input back, and never says whether an account
// exists.
func sentence(err error) string {
	var wrong *flows.WrongCodeError
	var rejected *flows.RejectedError
	var hookRefused *flows.HookRefusedError
	var blocked *flows.BlockedError
	switch {
	case err == nil:
		return ""
	case flows.StoreUnavailable(err):
		// sspr's own database, not the person: nothing was counted.
		return "sspr can't reach its database right now, try again in a minute."
	case errors.As(err, &blocked) && blocked.Scope != flows.BlockAccount:
		return sourceBlocked(blocked)
	case errors.Is(err, flows.ErrSlowDown):
		// Screens count the wait down (see failure); this is for the rest.
		return "Too many failed attempts came from here. Please wait a few seconds before trying again."
	case errors.As(err, &wrong):
		if wrong.AttemptsLeft == 0 {
			return "That code is not right, and it can't be used any more. Ask for a new one."
		}
		if wrong.AttemptsLeft == 1 {
			return "That code is not right. You can try once more."
		}
		return "That code is not right. Check it and try again."
	case errors.As(err, &hookRefused) && hookRefused.Message != "":
		return "Your organisation's check refused that password: " + sanitize.String(hookRefused.Message)
	case errors.As(err, &hookRefused):
		return "Your organisation's check refused that password. Choose another."
	case errors.Is(err, flows.ErrCheckUnavailable):
		return "Your organisation's password check isn't answering right now, so the password was not changed. Try again in a minute."
	case errors.Is(err, flows.ErrNotFollowed):
		return "Your password was changed in the directory, but one system that should follow did not yet. The helpdesk has been told; the new password may not work everywhere for a while."
	case errors.As(err, &rejected):
		return "That password doesn't meet every rule yet: see the list."
	case errors.Is(err, flows.ErrBlocked):
		return "Too many attempts. Self-service is paused for this account for now."
	case errors.Is(err, flows.ErrThrottled):
		return "A code was sent only moments ago. Wait a little before asking for another."
	case errors.Is(err, flows.ErrCodeExpired):
		return "That code has expired. Ask for a new one."
	case errors.Is(err, flows.ErrChallengeVoid):
		return "That code can't be used any more. Ask for a new one."
	case errors.Is(err, flows.ErrReplay):
		return "That code was already used. Wait for the next one in your app."
	case errors.Is(err, flows.ErrWrongCode):
		return "That is not right. Check it and try again."
	case errors.Is(err, flows.ErrBadCredentials):
		return "That username and password don't match."
	case errors.Is(err, flows.ErrDisabled):
		return "This account is disabled."
	case errors.Is(err, flows.ErrNotEnabled):
		return "Self-service password reset is not turned on for this account."
	case errors.Is(err, flows.ErrDeliveryFailed):
		return "The code could not be sent right now. Try another way, or try again in a minute."
	case errors.Is(err, flows.ErrFlowExpired):
		return "This took too long and was cleared for your safety. Please start again."
	case errors.Is(err, flows.ErrNotAllowed):
		if msg := innerMessage(err, flows.ErrNotAllowed); msg != "" {
			return msg
		}
		return "That isn't allowed here."
	case errors.Is(err, flows.ErrInvalid):
		if msg := innerMessage(err, flows.ErrInvalid); msg != "" {
			return msg
		}
		return "That doesn't look right."
	case errors.Is(err, flows.ErrDirectoryUnavailable):
		return "The password directory can't be reached right now. Nothing was changed; try again in a few minutes, or ask the helpdesk."
	case errors.Is(err, flows.ErrUnlockRefused):
		// The server log says why, for the admin.
		return "The directory would not let the account be unlocked from here. Nothing was changed."
	case errors.Is(err, flows.ErrNotProven):
		return "Please prove it's you first."
	}
	return "Something went wrong on our side. Please try again, or ask the helpdesk."
}

// sourceBlocked says which terminal or network address is paused, and
// until when, in the service's time. It never says "this account": a
// source's block holds back everyone there, whatever name they type.
func sourceBlocked(b *flows.BlockedError) string {
	name := sanitize.Line(flows.SourceName(b.Source), 40)
	until := b.Until.Format("15:04")
	if b.Scope == flows.BlockAddress {
		return fmt.Sprintf("Self-service from your network address (%s) is paused until %s after too many failed attempts from it.",
			name, until)
	}
	return fmt.Sprintf("Self-service at this terminal (%s) is paused until %s after too many failed attempts here.", name, until)
}

// innerMessage returns the sentence a flow put in front of a sentinel error,
// capitalised, with the operation prefixes removed.
func innerMessage(err, sentinel error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if msg == "" || msg == sentinel.Error() {
		return ""
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// deadEnd reports errors after which the journey cannot go on.
func deadEnd(err error) bool {
	return errors.Is(err, flows.ErrBlocked) || errors.Is(err, flows.ErrDisabled) ||
		errors.Is(err, flows.ErrNotEnabled) || errors.Is(err, flows.ErrFlowExpired)
}

// failure handles an error from flows on a screen: a dead end replaces the
// screen, a wait is counted down under it, anything else becomes the
// screen's error line. After a failure the source may have to wait before
// its next proof: the countdown starts at once, so that nobody's next try
// comes too soon (which would count against everyone here).
func failure(e *env, heading string, err error, errText *string) tea.Cmd {
	var wait *flows.WaitError
	switch {
	case errors.As(err, &wait):
		*errText = ""
		return func() tea.Msg { return waitMsg{until: wait.Until} }
	case deadEnd(err):
		return showDeadEnd(e, heading, sentence(err))
	}
	*errText = sentence(err)
	return checkPace(e)
}

// waitMsg starts the countdown before the source's next proof.
type waitMsg struct{ until time.Time }

// checkPace asks how long the source waits before its next proof, and
// starts the countdown when it must.
func checkPace(e *env) tea.Cmd {
	return func() tea.Msg {
		st, err := e.svc.SourceState(e.ctx, e.source)
		if err != nil || !st.WaitUntil.After(e.now()) {
			return nil
		}
		return waitMsg{until: st.WaitUntil}
	}
}

// waitLine counts down the wait before the source's next proof; empty when
// there is none.
func waitLine(e *env) string {
	left := e.waitUntil.Sub(e.now())
	if left <= 0 {
		return ""
	}
	return fmt.Sprintf("Please wait %d s before trying again.", int((left+time.Second-1)/time.Second))
}
