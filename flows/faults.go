package flows

import (
	"encoding/base64"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/sspr-kiosk/sspr/flows/clock"
)

// Limits of the fault log.
const (
	// FaultEvery is how often one cause of failure is logged: a directory
	// that is down fails every lookup, and the log should say so once a
	// minute, not once per person.
	FaultEvery = time.Minute
	// maxFaultCauses bounds the causes remembered within FaultEvery; more
	// distinct causes than that in a minute are counted in one line.
	maxFaultCauses = 256
	// maxFaultCause bounds the length of a cause as logged.
	maxFaultCause = 400
)

// faultDigits are runs of digits as long as a code or a phone number:
// nothing in a cause needs them, and a server echoing a message back could
// put a code there.
var faultDigits = regexp.MustCompile(`\d{6,}`)

// Faults logs what failed and why, for the operator: the directory out of
// reach or refusing sspr's service account, the store failing (disk full,
// database locked), messages that could not be delivered. Each cause is
// logged once per FaultEvery, with how often it recurred meanwhile, so an
// outage is a line a minute whatever the traffic. A cause never holds a
// secret: the secrets Faults is given (the SMTP password, the LDAP bind
// password, a gateway's auth header) are blanked, as are runs of digits
// long enough to be a code; the callers' errors carry no message body, no
// password and no answer to begin with.
//
// The zero value and a nil *Faults drop every report; Faults is safe for
// concurrent use.
type Faults struct {
	clock   clock.Clock
	secrets []string

	mu  sync.Mutex
	log *slog.Logger
	// causes holds when each cause was last logged and how often it came
	// since.
	causes map[string]*faultSeen
	// others counts reports of new causes that did not fit in causes.
	others   faultSeen
	othersOn bool
}

type faultSeen struct {
	at      time.Time
	repeats int
}

// NewFaults returns a fault log that reads the time from clk and blanks
// secrets out of every cause. It drops reports until SetLogger gives it a
// logger: only a server has a log to write to.
func NewFaults(clk clock.Clock, secrets ...string) *Faults {
	f := &Faults{clock: clk, causes: map[string]*faultSeen{}}
	for _, s := range secrets {
		if len(strings.TrimSpace(s)) < 4 {
			continue // too short to blank without blanking ordinary words
		}
		f.secrets = append(f.secrets, s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return f
}

// SetLogger makes f write to l; nil drops reports again.
func (f *Faults) SetLogger(l *slog.Logger) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = l
}

// Hook returns a function that reports an error as a failure of what, for
// the hooks of the store and the dispatcher.
func (f *Faults) Hook(what string) func(error) {
	return func(err error) { f.Report(what, err) }
}

// Report logs that what failed because of err, unless that cause was logged
// less than FaultEvery ago. A nil err is no fault.
func (f *Faults) Report(what string, err error) {
	if f == nil || err == nil {
		return
	}
	cause := f.cause(err)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log == nil || f.causes == nil {
		return
	}
	now := f.clock.Now()
	if seen, ok := f.causes[cause]; ok {
		if now.Sub(seen.at) < FaultEvery {
			seen.repeats++
			return
		}
		f.write(what, cause, seen.repeats)
		seen.at, seen.repeats = now, 0
		return
	}
	if len(f.causes) >= maxFaultCauses {
		for c, seen := range f.causes {
			if now.Sub(seen.at) >= FaultEvery {
				delete(f.causes, c)
			}
		}
	}
	if len(f.causes) < maxFaultCauses {
		f.causes[cause] = &faultSeen{at: now}
		f.write(what, cause, 0)
		return
	}
	// More distinct causes within a minute than the log keeps apart: they
	// share one line a minute.
	if f.othersOn && now.Sub(f.others.at) < FaultEvery {
		f.others.repeats++
		return
	}
	f.log.Error("more failures than the log tells apart", "causes", maxFaultCauses, "repeats", f.others.repeats,
		"latest", what+": "+cause)
	f.others, f.othersOn = faultSeen{at: now}, true
}

func (f *Faults) write(what, cause string, repeats int) {
	args := []any{"cause", cause}
	if repeats > 0 {
		args = append(args, "repeats", repeats)
	}
	f.log.Error(what+" failed", args...)
}

// cause is err's text made safe and short for the log.
func (f *Faults) cause(err error) string {
	s := err.Error()
	for _, secret := range f.secrets {
		s = strings.ReplaceAll(s, secret, "[secret]")
	}
	s = faultDigits.ReplaceAllString(s, "[redacted]")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isUnsafeRune(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > maxFaultCause {
		s = strings.ToValidUTF8(s[:maxFaultCause], "") + "…"
	}
	return s
}

// reportFault logs that what failed because of err, once per cause per
// FaultEvery (see Faults). Call it where a failure of something outside the
// person's control (delivery, directory, store) would otherwise only reach
// the person's screen.
func (s *Service) reportFault(what string, err error) {
	s.faults.Report(what, err)
}
