// Package hooks runs an organisation's own programs around a password
// change, as LTB Self Service Password's prehook and posthook do: a check
// before a new password is accepted, and a notice after it was set, for
// syncing systems sspr does not know.
//
// The password travels only on the program's standard input, as one JSON
// object; never in its arguments, its environment or a log. The program is
// run directly (its argv is a list; no shell parses anything), in its own
// process group with an environment of PATH alone, so none of sspr's
// settings or secrets reach it. Each run has a timeout after which the whole
// group is killed, and only the first 64 KiB of its output are kept.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kinds of password change, as the program reads them.
const (
	KindReset  = "reset"
	KindChange = "change"
)

// MaxMessage is the longest refusal shown to the person, in characters.
const MaxMessage = 200

// maxOutput is how much of a program's standard output is kept.
const maxOutput = 64 << 10

// Errors of this package; test with errors.Is.
var (
	// ErrFailed means the program could not be run, ran past its timeout,
	// or (for the notice after a change) exited non-zero.
	ErrFailed = errors.New("password hook failed")
)

// Input is what a program reads on its standard input.
type Input struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Kind is KindReset or KindChange.
	Kind string `json:"kind"`
}

// RefusedError is a check program's refusal: its exit status was not 0.
type RefusedError struct {
	// Message is the first line it printed, cleaned of anything that could
	// steer a terminal and cut to MaxMessage characters; may be empty.
	Message string
}

// Error returns the refusal as one sentence.
func (e *RefusedError) Error() string {
	if e.Message == "" {
		return "refused by the password check"
	}
	return "refused by the password check: " + e.Message
}

// Runner runs the configured programs. The zero Runner runs nothing.
type Runner struct {
	check, changed []string
	timeout        time.Duration
}

// New returns a Runner for the check and changed argv lists (either may be
// empty) with a timeout per run.
func New(check, changed []string, timeout time.Duration) *Runner {
	return &Runner{check: check, changed: changed, timeout: timeout}
}

// HasCheck reports whether a check program is configured.
func (r *Runner) HasCheck() bool { return r != nil && len(r.check) > 0 }

// Check runs the check program, if any. Exit 0 accepts (nil); another exit
// status is a *RefusedError carrying its first line; a program that cannot
// run or runs out of time is ErrFailed, and the password is not accepted
// either: a check that did not answer has not said yes.
func (r *Runner) Check(ctx context.Context, in Input) error {
	if !r.HasCheck() {
		return nil
	}
	out, exit, err := r.run(ctx, r.check, in)
	if err != nil {
		return fmt.Errorf("password check: %w", err)
	}
	if exit != 0 {
		return &RefusedError{Message: FirstLine(out)}
	}
	return nil
}

// Changed runs the program told of a password that was set, if any. Its
// output is ignored; a non-zero exit, a timeout or a failure to start is
// ErrFailed.
func (r *Runner) Changed(ctx context.Context, in Input) error {
	if r == nil || len(r.changed) == 0 {
		return nil
	}
	_, exit, err := r.run(ctx, r.changed, in)
	if err != nil {
		return fmt.Errorf("password changed hook: %w", err)
	}
	if exit != 0 {
		return fmt.Errorf("password changed hook: exit status %d: %w", exit, ErrFailed)
	}
	return nil
}

// run starts argv with in on its stdin and returns its capped stdout and
// exit status. The error, wrapping ErrFailed, names the program and the
// cause, never the input.
func (r *Runner) run(ctx context.Context, argv []string, in Input) ([]byte, int, error) {
	stdin, err := json.Marshal(in)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(append(stdin, '\n'))
	out := &capped{max: maxOutput}
	cmd.Stdout = out
	// stderr is dropped: a program may echo what it read there, and
	// nothing it says may reach a log.
	cmd.Stderr = nil
	ownGroup(cmd)
	// A grandchild that keeps the output pipe open must not hold the reset
	// past the timeout.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, 0, fmt.Errorf("%s: %w: ran past its timeout of %s and was killed", argv[0], ErrFailed, r.timeout)
	case errors.As(err, &exitErr):
		return out.buf.Bytes(), exitErr.ExitCode(), nil
	case errors.Is(err, exec.ErrWaitDelay):
		return out.buf.Bytes(), cmd.ProcessState.ExitCode(), nil
	case err != nil:
		return nil, 0, fmt.Errorf("%s: %w: %v", argv[0], ErrFailed, err)
	}
	return out.buf.Bytes(), 0, nil
}

// capped keeps the first max bytes written to it and drops the rest, so a
// program that prints without end costs nothing but its time.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// FirstLine is the first line of a program's output as it may be shown to
// a person: control, escape and bidi characters (which could steer a
// terminal or reorder text) and invalid bytes removed, spaces collapsed,
// at most MaxMessage characters.
func FirstLine(out []byte) string {
	line, _, _ := bytes.Cut(out, []byte{'\n'})
	s := strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == 0x200b, r == 0x200c, r == 0x200d,
			r == 0xfeff, r == 0xad:
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(line), "\uFFFD"))
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxMessage {
		s = string([]rune(s)[:MaxMessage-1]) + "…"
	}
	return s
}
