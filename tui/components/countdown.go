package components

import (
	"fmt"
	"time"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// Countdown says how long a one-time code stays valid: "Code expires in
// 9:41", in the urgent style once less than a minute shows, and "Code
// expired" when no time is left.
//
// The time is rounded up to the second, so that "0:00" never shows while
// the code is still accepted, and it is never more than the code's
// lifetime: a screen whose clock lags the moment the code was made (it read
// the time before the send) still shows "10:00" for a fresh code, never
// "10:01".
func Countdown(remaining, lifetime time.Duration, st *styles.Styles, p *locale.Printer) string {
	if remaining <= 0 {
		return st.Countdown.Urgent.Render(p.T("code.expired"))
	}
	remaining = min(remaining, lifetime)
	secs := int64((remaining + time.Second - 1) / time.Second)
	style := st.Countdown.Normal
	if secs < 60 {
		style = st.Countdown.Urgent
	}
	return style.Render(p.F("code.expires_in", locale.Args{"Clock": clock(secs)}))
}

// clock formats seconds as m:ss, or h:mm:ss from an hour up (helpdesk
// vouchers live for an hour).
func clock(secs int64) string {
	h, m, s := secs/3600, secs/60%60, secs%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
