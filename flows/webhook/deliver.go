package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/store"
)

// Options tune a Sender; zero values take the defaults.
type Options struct {
	// Record appends an audit entry inside tx: how a given-up event is
	// audited, in the transaction that marks it failed. Required.
	Record func(ctx context.Context, tx *store.Tx, e audit.Entry) error
	// Client sends the requests; nil means one that follows no redirect
	// (the spec counts a redirect as a failure).
	Client *http.Client
	// GiveUpAfter is how long an event is retried (default a day).
	GiveUpAfter time.Duration
	// PollInterval is how often Run looks for due events (default 1s).
	PollInterval time.Duration
	// Parallel is how many deliveries run at once (default 4), so one
	// receiver that hangs does not hold the others' events.
	Parallel int
	// OnError hears of store failures of Run's passes; nil drops them.
	OnError func(error)
	// OnAttempt hears of every delivery attempt: the receiver, whether it
	// took the event, and how long it took; for metrics.
	OnAttempt func(endpoint string, ok bool, took time.Duration)
}

// retrySchedule is the wait after each failed attempt, from the Standard
// Webhooks spec's example; the last step repeats until GiveUpAfter.
var retrySchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour}

// batchSize bounds one pass.
const batchSize = 50

// maxResponse is how much of a receiver's answer is read; the rest is
// dropped with the connection.
const maxResponse = 64 << 10

// Sender queues webhook events and delivers them.
type Sender struct {
	endpoints []Endpoint
	db        *store.DB
	clock     clock.Clock
	opts      Options
}

// New returns a Sender for the endpoints.
func New(db *store.DB, clk clock.Clock, endpoints []Endpoint, opts Options) *Sender {
	if opts.Client == nil {
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opts.GiveUpAfter <= 0 {
		opts.GiveUpAfter = 24 * time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	return &Sender{endpoints: endpoints, db: db, clock: clk, opts: opts}
}

// Configured reports whether any receiver is configured.
func (s *Sender) Configured() bool { return s != nil && len(s.endpoints) > 0 }

func (s *Sender) endpoint(name string) (Endpoint, bool) {
	for _, ep := range s.endpoints {
		if ep.Name == name {
			return ep, true
		}
	}
	return Endpoint{}, false
}

func timeoutOf(ep Endpoint) time.Duration {
	if ep.Timeout > 0 {
		return ep.Timeout
	}
	return config.DefaultWebhookTimeout
}

// Result is a receiver's answer to one attempt.
type Result struct {
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Took is how long the attempt took.
	Took time.Duration
}

// post makes one signed attempt. The error says why it failed, without
// the URL (which may hold a token in its query).
func (s *Sender) post(ctx context.Context, ep Endpoint, id string, body []byte) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeoutOf(ep))
	defer cancel()
	start := time.Now()
	ts := s.clock.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(string(body)))
	if err != nil {
		return Result{}, fmt.Errorf("webhook %s: bad request: %w", ep.Name, errors.Unwrap(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sspr-webhook")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(ep.Key, id, ts, body))
	resp, err := s.opts.Client.Do(req)
	res := Result{Took: time.Since(start)}
	if err != nil {
		var uerr *url.Error
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			err = fmt.Errorf("timed out after %s", timeoutOf(ep))
		case errors.As(err, &uerr):
			err = uerr.Err
		}
		return res, fmt.Errorf("webhook %s: %w", ep.Name, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	_ = resp.Body.Close()
	res.Status = resp.StatusCode
	res.Took = time.Since(start)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, fmt.Errorf("webhook %s: answered %s", ep.Name, resp.Status)
	}
	return res, nil
}

// Ping sends a ping event to the named receiver now, bypassing the outbox,
// and returns its answer: for `sspr webhook test`.
func (s *Sender) Ping(ctx context.Context, name string, actor string) (Result, error) {
	ep, ok := s.endpoint(name)
	if !ok {
		return Result{}, fmt.Errorf("webhook %q: %w", name, ErrUnknownEndpoint)
	}
	body, err := jsonPayload(Payload{Event: EventPing, Time: s.clock.Now().UTC().Format(time.RFC3339), Actor: actor,
		Source: "cli", Outcome: audit.OutcomeOK})
	if err != nil {
		return Result{}, err
	}
	return s.post(ctx, ep, newID(), body)
}

// DeliverDue makes one pass over the events that are due: each is claimed
// (a lease in the store, so of several replicas one sends it), sent, and
// marked sent, or rescheduled, or given up and audited once GiveUpAfter has
// passed since it was queued. A sender that dies mid-attempt leaves the
// event to be sent again when the lease runs out: at least once, never
// lost, and always under the same webhook-id.
func (s *Sender) DeliverDue(ctx context.Context) (sent, failed int, err error) {
	due, err := store.DueWebhooks(ctx, s.db, s.clock.Now().Unix(), batchSize)
	if err != nil {
		return 0, 0, fmt.Errorf("deliver webhooks: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	slots := make(chan struct{}, s.opts.Parallel)
	for _, row := range due {
		if ctx.Err() != nil {
			break
		}
		ep, known := s.endpoint(row.Destination)
		// A slot first, then the claim: the lease starts when the attempt
		// can, and outlasts it, so no one else picks the event up meanwhile.
		slots <- struct{}{}
		claimAt := s.clock.Now()
		lease := claimAt.Add(2*timeoutOf(ep) + time.Minute).Unix()
		ok, err := store.ClaimOutbox(ctx, s.db, row.ID, claimAt.Unix(), lease)
		if err != nil || !ok {
			<-slots
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			var sendErr error
			if known {
				var res Result
				res, sendErr = s.post(ctx, ep, row.Subject, []byte(row.Body))
				if s.opts.OnAttempt != nil && ctx.Err() == nil {
					s.opts.OnAttempt(ep.Name, sendErr == nil, res.Took)
				}
			} else {
				sendErr = fmt.Errorf("webhook %s is no longer configured", row.Destination)
			}
			delivered, err := s.settle(ctx, row, sendErr, !known)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			switch {
			case delivered:
				sent++
			case sendErr != nil && ctx.Err() == nil:
				failed++
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return sent, failed, fmt.Errorf("deliver webhooks: %w", errors.Join(errs...))
	}
	return sent, failed, nil
}

// settle records an attempt's outcome, even when ctx was cancelled
// mid-send (shutdown), so a delivered event is not sent again after the
// lease, and one cut short is handed back without counting an attempt.
func (s *Sender) settle(ctx context.Context, row store.OutboxMessage, sendErr error, final bool) (bool, error) {
	rctx := context.WithoutCancel(ctx)
	at := s.clock.Now()
	if sendErr == nil {
		return true, store.MarkOutboxSent(rctx, s.db, row.ID, at.Unix())
	}
	if ctx.Err() != nil {
		return false, store.MarkOutboxFailed(rctx, s.db, row.ID, row.Attempts, row.LastError, at.Unix(), false)
	}
	attempts := row.Attempts + 1
	deadline := time.Unix(row.CreatedAt, 0).Add(s.opts.GiveUpAfter)
	final = final || !at.Before(deadline)
	next := at.Add(retrySchedule[min(attempts, len(retrySchedule))-1])
	if next.After(deadline) {
		// One last try at the deadline itself.
		next = deadline
	}
	why := sendErr.Error()
	if !final {
		return false, store.MarkOutboxFailed(rctx, s.db, row.ID, attempts, why, next.Unix(), false)
	}
	return false, s.db.WithTx(rctx, func(tx *store.Tx) error {
		if err := store.MarkOutboxFailed(rctx, tx, row.ID, attempts, why, at.Unix(), true); err != nil {
			return err
		}
		event := ""
		if p, err := parsePayload(row.Body); err == nil {
			event = p.Event
		}
		return s.opts.Record(rctx, tx, audit.Entry{At: at, Event: audit.EventWebhookFailed, Actor: "system",
			Target: "webhook:" + row.Destination, Outcome: audit.OutcomeFailed,
			Detail: fmt.Sprintf("%s %s given up after %d attempts: %s", event, row.Subject, attempts, why)})
	})
}

// Run delivers due events every PollInterval until ctx is done.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		if _, _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil && s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
