// Package dispatch delivers one-time codes and notifications by email and SMS.
//
// Codes go out at once, while the person waits, with a timeout; an error
// lets the flow offer another method. Notifications ("your password was
// reset") are written to the outbox table inside the caller's transaction,
// so they exist exactly when the change commits, and a background loop
// delivers them with retries and exponential backoff.
//
// Nothing here logs, and no error carries a message body: codes must never
// reach a log.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/store"
)

// Kind says what a message is for.
type Kind string

// The kinds of message.
const (
	// KindCode carries a one-time code; it is sent at once or not at all.
	KindCode Kind = "code"
	// KindNotification tells a person about a change; it is queued and retried.
	KindNotification Kind = "notification"
)

// Channel names.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Errors of the dispatcher; test with errors.Is.
var (
	// ErrDeliveryFailed means the channel could not deliver the message.
	ErrDeliveryFailed = errors.New("message could not be delivered")
	// ErrNoChannel means no channel is configured under that name.
	ErrNoChannel = errors.New("no such delivery channel")
	// ErrPermanent means the failure will recur on every attempt at this
	// message (the server refused it for good, or the destination is
	// invalid), so a notification is marked failed without further retries.
	// Channels wrap it in their errors; SendCode's error wraps it too.
	ErrPermanent = errors.New("permanent failure")
)

// Message is one email or text message.
type Message struct {
	Kind Kind
	// Channel is "email" or "sms".
	Channel string
	// To is an email address or an E.164 phone number.
	To      string
	Subject string
	// Text is the plain-text body; SMS sends only this.
	Text string
	// HTML is the optional HTML alternative for email.
	HTML string
	// Language is the catalogue code the message is written in ("ja"),
	// for the email's Content-Language header; empty when unknown.
	Language string
}

// Channel delivers messages: SMTP, an SMS gateway, or the demo outbox.
// Send must return when ctx is done, and should not put the message body
// in its error (the dispatcher scrubs it anyway). An error wrapping
// ErrPermanent stops the retries of a notification at once; any other
// error is retried until MaxAttempts.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	// CodeTimeout bounds every delivery attempt, codes and notifications (default 10s).
	CodeTimeout time.Duration
	// MaxAttempts is how many times a notification is tried before it is marked failed (default 8).
	MaxAttempts int
	// BaseBackoff is the wait after the first failed attempt; it doubles after each
	// further one (default 30s).
	BaseBackoff time.Duration
	// MaxBackoff caps the wait between attempts (default 1h).
	MaxBackoff time.Duration
	// PollInterval is how often Run looks for due notifications (default 1s).
	PollInterval time.Duration
	// OnError receives errors of Run's passes (store failures, not delivery
	// failures, which are recorded on the message); nil drops them.
	OnError func(error)
	// OnDeliveryError hears of every failed delivery attempt, of a code or a
	// queued notification, for the server log; nil drops them. The error is
	// the one SendCode returns: scrubbed of the message, so it holds no code.
	// A send cut short by its caller leaving is not a failure.
	OnDeliveryError func(error)
	// OnSend hears of every attempt to hand a code or notification to a
	// channel: its kind, channel, error (nil when taken) and how long it
	// took; for operators' metrics. nil drops them.
	OnSend func(kind Kind, channel string, err error, took time.Duration)
}

func (o Options) withDefaults() Options {
	if o.CodeTimeout <= 0 {
		o.CodeTimeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	return o
}

// batchSize bounds one DeliverDue pass, so a long queue cannot hold a pass
// (and the shutdown waiting for it) for long.
const batchSize = 50

// Dispatcher sends codes and delivers queued notifications.
type Dispatcher struct {
	channels map[string]Channel
	db       *store.DB
	clock    clock.Clock
	opts     Options
}

// New returns a Dispatcher over the given channels, keyed "email" and "sms".
func New(channels map[string]Channel, db *store.DB, clk clock.Clock, opts Options) *Dispatcher {
	cs := make(map[string]Channel, len(channels))
	for k, v := range channels {
		if v != nil {
			cs[k] = v
		}
	}
	return &Dispatcher{channels: cs, db: db, clock: clk, opts: opts.withDefaults()}
}

// HasChannel reports whether a channel of that name is configured, so a flow
// can offer only the methods it can deliver.
func (d *Dispatcher) HasChannel(name string) bool {
	_, ok := d.channels[name]
	return ok
}

// SendCode sends a code message now through the named channel, within
// CodeTimeout. The error wraps ErrNoChannel or ErrDeliveryFailed (and
// ErrPermanent when trying again cannot help) and never contains the
// message body.
func (d *Dispatcher) SendCode(ctx context.Context, channel, to string, m Message) error {
	m.Kind, m.Channel, m.To = KindCode, channel, to
	ch, ok := d.channels[channel]
	if !ok {
		return fmt.Errorf("send code by %q: %w", channel, ErrNoChannel)
	}
	start := time.Now()
	err := d.send(ctx, ch, m)
	d.sent(KindCode, channel, err, start)
	if err != nil {
		derr := &deliveryError{op: "send code by " + channel, reason: reason(err, m, d.opts.CodeTimeout), ctxErr: ctxErrOf(err),
			permanent: errors.Is(err, ErrPermanent)}
		if !errors.Is(derr, context.Canceled) {
			d.deliveryFailed(derr)
		}
		return derr
	}
	return nil
}

// sent tells OnSend of an attempt, unless its caller left mid-way.
func (d *Dispatcher) sent(kind Kind, channel string, err error, start time.Time) {
	if d.opts.OnSend != nil && !errors.Is(err, context.Canceled) {
		d.opts.OnSend(kind, channel, err, time.Since(start))
	}
}

func (d *Dispatcher) deliveryFailed(err error) {
	if d.opts.OnDeliveryError != nil {
		d.opts.OnDeliveryError(err)
	}
}

// Notify queues a notification in the outbox through h. Pass the
// transaction of the change being notified, so the notification is written
// exactly when that change commits. The message is delivered by DeliverDue;
// a channel that is not configured counts as a failed attempt there.
func (d *Dispatcher) Notify(ctx context.Context, h store.Handler, m Message) error {
	if m.Channel == "" || m.To == "" {
		return errors.New("notify: message needs a channel and a recipient")
	}
	if m.Text == "" {
		return errors.New("notify: message has no text")
	}
	now := d.clock.Now().Unix()
	err := store.QueueOutbox(ctx, h, store.OutboxMessage{Kind: string(KindNotification), Channel: m.Channel,
		Destination: m.To, Subject: m.Subject, Body: m.Text, HTML: m.HTML, Language: m.Language, State: store.OutboxQueued,
		NextAttemptAt: now, CreatedAt: now})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// DeliverDue makes one pass over the notifications that are due: each is
// claimed, sent, and marked sent, or rescheduled with exponential backoff,
// or marked failed after MaxAttempts, or at once when the failure wraps
// ErrPermanent. sent and failed count this pass's attempts; err reports
// store failures (delivery failures are recorded on the message, not
// returned).
//
// A claim is a lease in the store, so dispatchers in several processes
// sharing the store never send the same message at once; a dispatcher that
// dies after sending but before recording leaves the message to be sent
// again when the lease runs out (at least once, never silently lost).
func (d *Dispatcher) DeliverDue(ctx context.Context) (sent, failed int, err error) {
	now := d.clock.Now()
	due, err := store.DueOutbox(ctx, d.db, now.Unix(), batchSize)
	if err != nil {
		return 0, 0, fmt.Errorf("deliver: %w", err)
	}
	var errs []error
	for _, row := range due {
		if ctx.Err() != nil {
			break
		}
		// The lease outlasts the attempt, so no one else picks it up meanwhile.
		lease := now.Add(2*d.opts.CodeTimeout + time.Minute).Unix()
		ok, err := store.ClaimOutbox(ctx, d.db, row.ID, now.Unix(), lease)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		start := time.Now()
		sendErr := d.deliver(ctx, row)
		d.sent(KindNotification, row.Channel, sendErr, start)
		// Record the outcome even when ctx was cancelled mid-send (shutdown),
		// so a delivered message is not delivered again after the lease.
		rctx := context.WithoutCancel(ctx)
		at := d.clock.Now()
		if sendErr == nil {
			if err := store.MarkOutboxSent(rctx, d.db, row.ID, at.Unix()); err != nil {
				errs = append(errs, err)
				continue
			}
			sent++
			continue
		}
		if ctx.Err() != nil {
			// Shut down mid-attempt: not the channel's fault, so hand the
			// message back for the next run without counting an attempt.
			if err := store.MarkOutboxFailed(rctx, d.db, row.ID, row.Attempts, row.LastError, now.Unix(), false); err != nil {
				errs = append(errs, err)
			}
			break
		}
		failed++
		attempts := row.Attempts + 1
		// A refusal for good would only be repeated on every retry, for
		// hours, before the message is marked failed anyway.
		final := attempts >= d.opts.MaxAttempts || errors.Is(sendErr, ErrPermanent)
		m := messageOf(row)
		why := reason(sendErr, m, d.opts.CodeTimeout)
		d.deliveryFailed(&deliveryError{op: "deliver notification by " + row.Channel, reason: why,
			ctxErr: ctxErrOf(sendErr), permanent: errors.Is(sendErr, ErrPermanent)})
		if err := store.MarkOutboxFailed(rctx, d.db, row.ID, attempts, why,
			at.Add(d.backoff(attempts)).Unix(), final); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return sent, failed, fmt.Errorf("deliver: %w", errors.Join(errs...))
	}
	return sent, failed, nil
}

// Run delivers due notifications every PollInterval until ctx is done, then
// returns; an attempt in flight when ctx ends is cut short and its message
// handed back to be tried again on the next start.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	for {
		if _, _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil && d.opts.OnError != nil {
			d.opts.OnError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) deliver(ctx context.Context, row store.OutboxMessage) error {
	ch, ok := d.channels[row.Channel]
	if !ok {
		return ErrNoChannel
	}
	// In the demo the outbox row is itself the delivery: sending it through
	// the outbox channel again would show it twice.
	if oc, ok := ch.(*OutboxChannel); ok && oc.db == d.db {
		return nil
	}
	return d.send(ctx, ch, messageOf(row))
}

// send runs one attempt within CodeTimeout. The channel runs in its own
// goroutine so that one ignoring its context cannot hold the person at the
// screen (or the shutdown) past the timeout, and a panicking one cannot take
// the process down.
func (d *Dispatcher) send(ctx context.Context, ch Channel, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.CodeTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- errors.New("channel panicked")
			}
		}()
		done <- ch.Send(ctx, m)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// A result that arrived together with the deadline still counts.
		select {
		case err := <-done:
			return err
		default:
			return ctx.Err()
		}
	}
}

// backoff is BaseBackoff doubled for each attempt after the first, capped.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.opts.BaseBackoff
	for i := 1; i < attempts && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.opts.MaxBackoff)
}

func messageOf(row store.OutboxMessage) Message {
	return Message{Kind: Kind(row.Kind), Channel: row.Channel, To: row.Destination, Subject: row.Subject,
		Text: row.Body, HTML: row.HTML, Language: row.Language}
}

// deliveryError is ErrDeliveryFailed with a reason that has been scrubbed of
// the message. It unwraps to ErrDeliveryFailed, to ErrPermanent when the
// channel said so, and, for timeouts and cancellations, to the context
// error, but never to the channel's own error, whose text could quote the
// body.
type deliveryError struct {
	op        string
	reason    string
	ctxErr    error
	permanent bool
}

// Error returns the error as one sentence.
func (e *deliveryError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.op, ErrDeliveryFailed, e.reason)
}

// Unwrap returns the errors this one wraps, for errors.Is.
func (e *deliveryError) Unwrap() []error {
	errs := []error{ErrDeliveryFailed}
	if e.permanent {
		errs = append(errs, ErrPermanent)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

func ctxErrOf(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	return nil
}

// Long digit runs are what codes (and phone numbers) look like; gateways
// like to echo them back in their errors, escaped or not.
var digitRun = regexp.MustCompile(`\d{6,}`)

const maxReason = 300

// reason turns a channel error into text safe to return and store: the
// message's subject and bodies and every long digit run are removed, control
// characters flattened, and the length capped.
func reason(err error, m Message, timeout time.Duration) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s", timeout)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, ErrNoChannel):
		return ErrNoChannel.Error()
	}
	s := err.Error()
	for _, secret := range []string{m.Text, m.HTML, m.Subject, strings.TrimSpace(m.Text)} {
		if strings.TrimSpace(secret) != "" {
			s = strings.ReplaceAll(s, secret, "[message]")
		}
	}
	s = digitRun.ReplaceAllString(s, "[redacted]")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReason {
		s = strings.ToValidUTF8(s[:maxReason], "") + "…"
	}
	return s
}
