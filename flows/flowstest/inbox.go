package flowstest

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"

	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/store"
)

// CodePattern matches a one-time code in a message: eight digits.
var CodePattern = regexp.MustCompile(`\b\d{8}\b`)

// ErrGatewayDown is what Send returns while an Inbox is set to fail.
var ErrGatewayDown = errors.New("gateway down")

// Inbox is a delivery channel that keeps what it was given, so a test can
// read the code a person would have received; SetFail makes it refuse. The
// zero Inbox is ready to use, and it is safe for concurrent use.
type Inbox struct {
	mu   sync.Mutex
	msgs []dispatch.Message
	fail bool
	// settle waits for codes still on their way (the service delivers a
	// reset's codes behind the screen), so a read sees every code sent.
	settle func()
}

var _ dispatch.Channel = (*Inbox)(nil)

// Send keeps m, or returns ErrGatewayDown while the Inbox is set to fail.
func (b *Inbox) Send(_ context.Context, m dispatch.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return ErrGatewayDown
	}
	b.msgs = append(b.msgs, m)
	return nil
}

// SetFail makes every later Send fail (true) or succeed (false).
func (b *Inbox) SetFail(fail bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = fail
}

// LastCode returns the newest code sent to an address; the test fails when
// none was.
func (b *Inbox) LastCode(t testing.TB, to string) string {
	t.Helper()
	b.wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if b.msgs[i].To == to {
			if c := CodePattern.FindString(b.msgs[i].Text); c != "" {
				return c
			}
		}
	}
	t.Fatalf("no code was sent to %s", to)
	return ""
}

// NewestCode returns the newest code sent to anyone, or "" when none was.
func (b *Inbox) NewestCode() string {
	b.wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if c := CodePattern.FindString(b.msgs[i].Text); c != "" {
			return c
		}
	}
	return ""
}

// Last returns the newest message sent; the test fails when none was.
func (b *Inbox) Last(t testing.TB) dispatch.Message {
	t.Helper()
	b.wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.msgs) == 0 {
		t.Fatal("no message was sent")
	}
	return b.msgs[len(b.msgs)-1]
}

// Messages returns every message sent, oldest first.
func (b *Inbox) Messages() []dispatch.Message {
	b.wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]dispatch.Message(nil), b.msgs...)
}

// Count returns how many messages were sent.
func (b *Inbox) Count() int {
	b.wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// wait lets every code on its way arrive first.
func (b *Inbox) wait() {
	b.mu.Lock()
	settle := b.settle
	b.mu.Unlock()
	if settle != nil {
		settle()
	}
}

// OutboxCode returns the newest code in the outbox table (the demo's
// delivery) for an address, failing t when there is none.
func (h *Harness) OutboxCode(t testing.TB, to string) string {
	t.Helper()
	h.Settle()
	rows, err := store.ListOutbox(context.Background(), h.DB, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(rows) - 1; i >= 0; i-- {
		if code := CodePattern.FindString(rows[i].Body); rows[i].Destination == to && code != "" {
			return code
		}
	}
	t.Fatalf("no code for %s in the outbox", to)
	return ""
}
