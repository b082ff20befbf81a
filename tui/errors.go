package tui

import (
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// sentence turns an error from flows into one sentence for the person at
// the screen, in the visit's language. It never repeats input back, and
// never says whether an account exists.
func sentence(e *env, err error) string {
	var wrong *flows.WrongCodeError
	var rejected *flows.RejectedError
	var hookRefused *flows.HookRefusedError
	var blocked *flows.BlockedError
	var refusal *locale.Error
	p := e.p
	switch {
	case err == nil:
		return ""
	case flows.StoreUnavailable(err):
		// sspr's own database, not the person: nothing was counted.
		return p.T("error.store_unavailable")
	case errors.As(err, &blocked) && blocked.Scope != flows.BlockAccount:
		return sourceBlocked(e, blocked)
	case errors.Is(err, flows.ErrSlowDown):
		// Screens count the wait down (see failure); this is for the rest.
		return p.T("error.slow_down")
	case errors.As(err, &wrong):
		switch wrong.AttemptsLeft {
		case 0:
			return p.T("error.code_wrong_last")
		case 1:
			return p.T("error.code_wrong_once_more")
		}
		return p.T("error.code_wrong")
	case errors.As(err, &hookRefused) && hookRefused.Message != "":
		// The organisation's check speaks its own language; it is quoted.
		return p.F("error.hook_refused_because", locale.Args{"Reason": sanitize.String(hookRefused.Message)})
	case errors.As(err, &hookRefused):
		return p.T("error.hook_refused")
	case errors.Is(err, flows.ErrCheckUnavailable):
		return p.T("error.check_unavailable")
	case errors.Is(err, flows.ErrNotFollowed):
		return p.T("error.not_followed")
	case errors.As(err, &rejected):
		return p.T("error.rules_unmet")
	case errors.Is(err, flows.ErrBlocked):
		return p.T("error.account_blocked")
	case errors.Is(err, flows.ErrThrottled):
		return p.T("error.throttled")
	case errors.Is(err, flows.ErrCodeExpired):
		return p.T("error.code_expired")
	case errors.Is(err, flows.ErrChallengeVoid):
		return p.T("error.code_void")
	case errors.Is(err, flows.ErrReplay):
		return p.T("error.totp_replay")
	case errors.Is(err, flows.ErrWrongCode):
		return p.T("error.wrong_proof")
	case errors.Is(err, flows.ErrBadCredentials):
		return p.T("error.bad_credentials")
	case errors.Is(err, flows.ErrDisabled):
		return p.T("error.disabled")
	case errors.Is(err, flows.ErrNotEnabled):
		return p.T("error.not_enabled")
	case errors.Is(err, flows.ErrDeliveryFailed):
		return p.T("error.delivery")
	case errors.Is(err, flows.ErrFlowExpired):
		return p.T("error.flow_expired")
	case errors.As(err, &refusal):
		return refusal.In(p)
	case errors.Is(err, flows.ErrNotAllowed):
		return p.T("error.not_allowed")
	case errors.Is(err, flows.ErrInvalid):
		// A refusal a person can mend is a locale.Error (above); the
		// words of any other are the log's, in English.
		return p.T("error.invalid")
	case errors.Is(err, flows.ErrDirectoryUnavailable):
		return p.T("error.directory_unavailable")
	case errors.Is(err, flows.ErrUnlockRefused):
		// The server log says why, for the admin.
		return p.T("error.unlock_refused")
	case errors.Is(err, flows.ErrNotProven):
		return p.T("error.not_proven")
	}
	return p.T("error.unknown")
}

// sourceBlocked says which terminal or network address is paused, and
// until when, in the service's time. It never says "this account": a
// source's block holds back everyone there, whatever name they type.
func sourceBlocked(e *env, b *flows.BlockedError) string {
	args := locale.Args{"Source": sanitize.Line(flows.SourceName(b.Source), 40), "Until": e.p.Time(b.Until)}
	if b.Scope == flows.BlockAddress {
		return e.p.F("error.address_blocked", args)
	}
	return e.p.F("error.terminal_blocked", args)
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
		return showDeadEnd(e, heading, sentence(e, err))
	}
	*errText = sentence(e, err)
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
	return e.p.N("wait.countdown", int((left+time.Second-1)/time.Second), nil)
}
