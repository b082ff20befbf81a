package dispatch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	if path == "" {
		db, _ := storetest.Open(t)
		return db
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// recorder is a channel that keeps what it was given and fails while told to.
type recorder struct {
	mu    sync.Mutex
	msgs  []Message
	fails int // fail this many more sends
	err   func(Message) error
}

func (r *recorder) Send(_ context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fails > 0 {
		r.fails--
		if r.err != nil {
			return r.err(m)
		}
		return errors.New("gateway down")
	}
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) sent() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}

// blocker blocks until its context is done.
type blocker struct{}

func (blocker) Send(ctx context.Context, _ Message) error {
	<-ctx.Done()
	return ctx.Err()
}

// deaf ignores its context and blocks until released.
type deaf struct{ release chan struct{} }

func (d deaf) Send(context.Context, Message) error {
	<-d.release
	return nil
}

type panicker struct{}

func (panicker) Send(context.Context, Message) error { panic("boom") }

func codeMessage(t *testing.T, code string) Message {
	t.Helper()
	m, err := Render("code", CodeData{Code: code, Minutes: 10, DisplayName: "Alice", Purpose: "reset"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendCodeDelivers(t *testing.T) {
	rec := &recorder{}
	d := New(map[string]Channel{"sms": rec}, openStore(t, ""), clock.NewFake(t0), Options{})
	if err := d.SendCode(context.Background(), "sms", "+15550100", codeMessage(t, "12345678")); err != nil {
		t.Fatal(err)
	}
	got := rec.sent()
	if len(got) != 1 || got[0].Kind != KindCode || got[0].Channel != "sms" || got[0].To != "+15550100" ||
		!strings.Contains(got[0].Text, "12345678") {
		t.Fatalf("sent %+v", got)
	}
	if !d.HasChannel("sms") || d.HasChannel("email") {
		t.Error("HasChannel is wrong")
	}
}

func TestSendCodeFailureHidesBody(t *testing.T) {
	const code = "87654321"
	echoes := map[string]func(Message) error{
		"plain": func(m Message) error { return fmt.Errorf("gateway rejected %q", m.Text) },
		"raw":   func(m Message) error { return errors.New("400 Bad Request: body=" + m.Text + " html=" + m.HTML) },
		"json": func(m Message) error {
			return fmt.Errorf(`{"error":"invalid","message":"%s"}`, strings.ReplaceAll(m.Text, " ", "+"))
		},
		"digits": func(Message) error { return errors.New("code " + code + " refused") },
		"lines":  func(m Message) error { return errors.New("smtp: 554 " + strings.ReplaceAll(m.Text, "\n", "\r\n")) },
	}
	for name, echo := range echoes {
		rec := &recorder{fails: 1, err: echo}
		d := New(map[string]Channel{"email": rec}, openStore(t, ""), clock.NewFake(t0), Options{})
		m := codeMessage(t, code)
		err := d.SendCode(context.Background(), "email", "alice@example.org", m)
		if !errors.Is(err, ErrDeliveryFailed) {
			t.Fatalf("%s: err = %v, want ErrDeliveryFailed", name, err)
		}
		msg := err.Error()
		if strings.Contains(msg, code) || strings.Contains(msg, strings.TrimSpace(m.Text)) || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%s: error leaks the message: %q", name, msg)
		}
		if !strings.HasPrefix(msg, "send code by email: message could not be delivered: ") {
			t.Errorf("%s: error = %q", name, msg)
		}
		// Nothing reachable by unwrapping holds the body either.
		for e := range unwrapAll(err) {
			if strings.Contains(e.Error(), code) {
				t.Errorf("%s: wrapped error leaks the code: %q", name, e.Error())
			}
		}
	}
}

// unwrapAll walks the whole error tree.
func unwrapAll(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if !walk(x) {
						return false
					}
				}
			}
			return true
		}
		walk(err)
	}
}

func TestSendCodeNoChannel(t *testing.T) {
	d := New(map[string]Channel{"email": &recorder{}, "sms": nil}, openStore(t, ""), clock.NewFake(t0), Options{})
	for _, ch := range []string{"sms", "pigeon"} {
		err := d.SendCode(context.Background(), ch, "x", codeMessage(t, "11112222"))
		if !errors.Is(err, ErrNoChannel) || strings.Contains(err.Error(), "11112222") {
			t.Errorf("%s: err = %v, want ErrNoChannel", ch, err)
		}
	}
}

func TestSendCodeTimeout(t *testing.T) {
	d := New(map[string]Channel{"sms": blocker{}}, openStore(t, ""), clock.NewFake(t0), Options{CodeTimeout: 50 * time.Millisecond})
	start := time.Now()
	err := d.SendCode(context.Background(), "sms", "+15550100", codeMessage(t, "12345678"))
	if !errors.Is(err, ErrDeliveryFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrDeliveryFailed and DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Errorf("err = %q", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s with a 50ms timeout", el)
	}
}

func TestSendCodeTimeoutWithChannelIgnoringContext(t *testing.T) {
	ch := deaf{release: make(chan struct{})}
	defer close(ch.release)
	d := New(map[string]Channel{"sms": ch}, openStore(t, ""), clock.NewFake(t0), Options{CodeTimeout: 50 * time.Millisecond})
	start := time.Now()
	if err := d.SendCode(context.Background(), "sms", "+1", codeMessage(t, "12345678")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("a channel ignoring its context held SendCode for %s", el)
	}
}

func TestSendCodeCallerCancel(t *testing.T) {
	d := New(map[string]Channel{"sms": blocker{}}, openStore(t, ""), clock.NewFake(t0), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err := d.SendCode(ctx, "sms", "+1", codeMessage(t, "12345678"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrDeliveryFailed) {
		t.Fatalf("err = %v", err)
	}
}

func TestSendCodePanickingChannel(t *testing.T) {
	d := New(map[string]Channel{"sms": panicker{}}, openStore(t, ""), clock.NewFake(t0), Options{})
	if err := d.SendCode(context.Background(), "sms", "+1", codeMessage(t, "12345678")); !errors.Is(err, ErrDeliveryFailed) {
		t.Fatalf("err = %v", err)
	}
}

func TestOutboxChannelShowsCodes(t *testing.T) {
	db := openStore(t, "")
	clk := clock.NewFake(t0)
	d := New(map[string]Channel{"email": NewOutboxChannel(db, clk)}, db, clk, Options{})
	if err := d.SendCode(context.Background(), "email", "alice@example.org", codeMessage(t, "12345678")); err != nil {
		t.Fatal(err)
	}
	rows, err := store.ListOutbox(context.Background(), db, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("outbox rows = %+v", rows)
	}
	r := rows[0]
	if r.Kind != "code" || r.State != store.OutboxSent || r.Destination != "alice@example.org" || r.SentAt != t0.Unix() ||
		!strings.Contains(r.Body, "12345678") || r.Subject == "" || r.HTML == "" {
		t.Fatalf("outbox row = %+v", r)
	}
	// Nothing is due: the code row is not a queued notification.
	if sent, failed, err := d.DeliverDue(context.Background()); sent+failed != 0 || err != nil {
		t.Fatalf("DeliverDue = %d, %d, %v", sent, failed, err)
	}
}

func notification(to string) Message {
	return Message{Channel: "email", To: to, Subject: "Your password was reset", Text: "Hello,\nyour password was reset.\n",
		HTML: "<p>reset</p>"}
}

func TestNotifyRolledBackLeavesNothing(t *testing.T) {
	db := openStore(t, "")
	ctx := context.Background()
	rec := &recorder{}
	d := New(map[string]Channel{"email": rec}, db, clock.NewFake(t0), Options{})
	boom := errors.New("password write failed")
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		if err := d.Notify(ctx, tx, notification("alice@example.org")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	rows, err := store.ListOutbox(ctx, db, 0, 0)
	if err != nil || len(rows) != 0 {
		t.Fatalf("after rollback: %v, %v", rows, err)
	}
	if sent, _, _ := d.DeliverDue(ctx); sent != 0 || len(rec.sent()) != 0 {
		t.Fatal("a rolled-back notification was delivered")
	}

	// Committed, it is queued and then delivered once.
	if err := db.WithTx(ctx, func(tx *store.Tx) error { return d.Notify(ctx, tx, notification("alice@example.org")) }); err != nil {
		t.Fatal(err)
	}
	rows, _ = store.ListOutbox(ctx, db, 0, 0)
	if len(rows) != 1 || rows[0].State != store.OutboxQueued || rows[0].Kind != "notification" || rows[0].HTML != "<p>reset</p>" {
		t.Fatalf("queued rows = %+v", rows)
	}
	if sent, failed, err := d.DeliverDue(ctx); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("DeliverDue = %d, %d, %v", sent, failed, err)
	}
	got := rec.sent()
	if len(got) != 1 || got[0].Kind != KindNotification || got[0].To != "alice@example.org" || got[0].HTML != "<p>reset</p>" {
		t.Fatalf("delivered %+v", got)
	}
	if sent, _, _ := d.DeliverDue(ctx); sent != 0 {
		t.Fatal("delivered twice")
	}
}

func TestNotifyValidates(t *testing.T) {
	db := openStore(t, "")
	d := New(nil, db, clock.NewFake(t0), Options{})
	for _, m := range []Message{{To: "a@b", Text: "x"}, {Channel: "email", Text: "x"}, {Channel: "email", To: "a@b"}} {
		if err := d.Notify(context.Background(), db, m); err == nil {
			t.Errorf("Notify(%+v) succeeded", m)
		}
	}
}

func outboxRow(t *testing.T, db *store.DB, id int64) store.OutboxMessage {
	t.Helper()
	rows, err := store.ListOutbox(context.Background(), db, id-1, 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("outbox row %d: %v, %v", id, rows, err)
	}
	return rows[0]
}

func TestDeliverDueBackoffAndGiveUp(t *testing.T) {
	db := openStore(t, "")
	ctx := context.Background()
	clk := clock.NewFake(t0)
	rec := &recorder{fails: 100, err: func(m Message) error { return errors.New("relay refused: " + m.Text) }}
	d := New(map[string]Channel{"email": rec}, db, clk, Options{MaxAttempts: 4, BaseBackoff: 30 * time.Second})
	if err := d.Notify(ctx, db, notification("alice@example.org")); err != nil {
		t.Fatal(err)
	}
	pass := func(wantSent, wantFailed int) {
		t.Helper()
		sent, failed, err := d.DeliverDue(ctx)
		if err != nil || sent != wantSent || failed != wantFailed {
			t.Fatalf("at +%s: DeliverDue = %d, %d, %v; want %d, %d", clk.Now().Sub(t0), sent, failed, err, wantSent, wantFailed)
		}
	}
	pass(0, 1) // attempt 1 at t0
	r := outboxRow(t, db, 1)
	if r.State != store.OutboxQueued || r.Attempts != 1 || r.NextAttemptAt != t0.Add(30*time.Second).Unix() {
		t.Fatalf("after attempt 1: %+v", r)
	}
	if strings.Contains(r.LastError, "your password was reset") || !strings.Contains(r.LastError, "relay refused") {
		t.Errorf("last_error = %q", r.LastError)
	}
	pass(0, 0) // not due yet
	clk.Advance(29 * time.Second)
	pass(0, 0)
	clk.Advance(time.Second)
	pass(0, 1) // attempt 2 at +30s; next after 60s
	if r := outboxRow(t, db, 1); r.NextAttemptAt != clk.Now().Add(time.Minute).Unix() {
		t.Fatalf("after attempt 2: next at +%ds", r.NextAttemptAt-clk.Now().Unix())
	}
	clk.Advance(59 * time.Second)
	pass(0, 0)
	clk.Advance(time.Second)
	pass(0, 1) // attempt 3; next after 120s
	clk.Advance(2 * time.Minute)
	pass(0, 1) // attempt 4 = MaxAttempts: final
	r = outboxRow(t, db, 1)
	if r.State != store.OutboxFailed || r.Attempts != 4 {
		t.Fatalf("after the last attempt: %+v", r)
	}
	clk.Advance(24 * time.Hour)
	pass(0, 0)
	if len(rec.sent()) != 0 {
		t.Fatal("a failing channel recorded a delivery")
	}
}

// settle queues one notification to to and runs DeliverDue twice
// MaxAttempts times, moving the clock past any backoff between passes: room
// for more attempts than the dispatcher should ever make. It returns the
// final row and how many attempts the passes made.
func settle(t *testing.T, d *Dispatcher, db *store.DB, clk *clock.Fake, channel, to string) (store.OutboxMessage, int) {
	t.Helper()
	ctx := context.Background()
	m := notification(to)
	m.Channel = channel
	if err := d.Notify(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	rows, err := store.ListOutbox(ctx, db, 0, 0)
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox: %v, %v", rows, err)
	}
	id := rows[len(rows)-1].ID
	tried := 0
	for range 2 * d.opts.MaxAttempts {
		sent, failed, err := d.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tried += sent + failed
		clk.Advance(d.opts.MaxBackoff)
	}
	return outboxRow(t, db, id), tried
}

// failsAfter queues a notification for to through ch, lets the dispatcher
// try until it gives up, and checks it tried once for a permanent failure
// and maxAttempts times otherwise. It returns the dispatcher and how often
// it tried.
func failsAfter(t *testing.T, ch Channel, channel, to string, permanent bool, maxAttempts int) (*Dispatcher, int) {
	t.Helper()
	db := openStore(t, "")
	clk := clock.NewFake(t0)
	d := New(map[string]Channel{channel: ch}, db, clk, Options{MaxAttempts: maxAttempts, CodeTimeout: 5 * time.Second})
	want := maxAttempts
	if permanent {
		want = 1
	}
	r, tried := settle(t, d, db, clk, channel, to)
	if tried != want || r.State != store.OutboxFailed || r.Attempts != want {
		t.Fatalf("tried %d times, row %+v; want %d attempts and failed", tried, r, want)
	}
	return d, want
}

func TestDeliverDueStopsAtPermanentFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"permanent", fmt.Errorf("relay: %w", ErrPermanent), 1},
		{"transient", errors.New("relay busy"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStore(t, "")
			clk := clock.NewFake(t0)
			rec := &recorder{fails: 100, err: func(Message) error { return tt.err }}
			d := New(map[string]Channel{"email": rec}, db, clk, Options{MaxAttempts: 4})
			r, tried := settle(t, d, db, clk, ChannelEmail, "alice@example.org")
			if tried != tt.want || r.State != store.OutboxFailed || r.Attempts != tt.want {
				t.Fatalf("tried %d times, row %+v; want %d attempts and failed", tried, r, tt.want)
			}
			if rec.fails != 100-tt.want {
				t.Fatalf("the channel was called %d times, want %d", 100-rec.fails, tt.want)
			}
		})
	}
}

func TestDeliverDueRecovers(t *testing.T) {
	db := openStore(t, "")
	ctx := context.Background()
	clk := clock.NewFake(t0)
	rec := &recorder{fails: 2}
	d := New(map[string]Channel{"email": rec}, db, clk, Options{BaseBackoff: 10 * time.Second})
	if err := d.Notify(ctx, db, notification("a@example.org")); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, _, err := d.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	r := outboxRow(t, db, 1)
	if r.State != store.OutboxSent || r.Attempts != 2 || r.LastError != "" || len(rec.sent()) != 1 {
		t.Fatalf("row %+v, sent %d", r, len(rec.sent()))
	}
}

func TestDeliverDueNoChannel(t *testing.T) {
	db := openStore(t, "")
	ctx := context.Background()
	d := New(map[string]Channel{}, db, clock.NewFake(t0), Options{MaxAttempts: 1})
	if err := d.Notify(ctx, db, notification("a@example.org")); err != nil {
		t.Fatal(err)
	}
	if sent, failed, err := d.DeliverDue(ctx); sent != 0 || failed != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %d, %v", sent, failed, err)
	}
	if r := outboxRow(t, db, 1); r.State != store.OutboxFailed || r.LastError != ErrNoChannel.Error() {
		t.Fatalf("row %+v", r)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	d := New(nil, nil, clock.NewFake(t0), Options{BaseBackoff: 30 * time.Second, MaxBackoff: 10 * time.Minute})
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := d.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := d.backoff(500); got != 10*time.Minute {
		t.Errorf("backoff(500) = %s", got)
	}
}

func TestRestartDeliversEachOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sspr.db")
	clk := clock.NewFake(t0)
	rec := &recorder{}

	db1, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d1 := New(map[string]Channel{"email": rec}, db1, clk, Options{})
	for i := range 5 {
		if err := d1.Notify(ctx, db1, notification(fmt.Sprintf("u%d@example.org", i))); err != nil {
			t.Fatal(err)
		}
	}
	if sent, _, err := d1.DeliverDue(ctx); sent != 5 || err != nil {
		t.Fatalf("first run: %d, %v", sent, err)
	}
	for i := 5; i < 10; i++ {
		if err := d1.Notify(ctx, db1, notification(fmt.Sprintf("u%d@example.org", i))); err != nil {
			t.Fatal(err)
		}
	}
	// One more was claimed by the first process, which then died mid-send.
	if ok, err := store.ClaimOutbox(ctx, db1, 10, clk.Now().Unix(), clk.Now().Add(time.Minute).Unix()); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	if err := db1.Close(); err != nil {
		t.Fatal(err)
	}

	// "Restart": a fresh store handle and dispatcher over the same file.
	db2 := openStore(t, path)
	d2 := New(map[string]Channel{"email": rec}, db2, clk, Options{})
	if sent, _, err := d2.DeliverDue(ctx); sent != 4 || err != nil {
		t.Fatalf("after restart: %d, %v", sent, err)
	}
	clk.Advance(time.Minute) // the dead process's lease runs out
	if sent, _, err := d2.DeliverDue(ctx); sent != 1 || err != nil {
		t.Fatalf("after the lease: %d, %v", sent, err)
	}
	clk.Advance(time.Hour)
	if sent, _, err := d2.DeliverDue(ctx); sent != 0 || err != nil {
		t.Fatalf("nothing left: %d, %v", sent, err)
	}
	seen := map[string]int{}
	for _, m := range rec.sent() {
		seen[m.To]++
	}
	for i := range 10 {
		if to := fmt.Sprintf("u%d@example.org", i); seen[to] != 1 {
			t.Errorf("%s delivered %d times", to, seen[to])
		}
	}
}

func TestConcurrentDispatchersDeliverOnce(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "")
	clk := clock.NewFake(t0)
	rec := &recorder{}
	for i := range 40 {
		if err := New(nil, db, clk, Options{}).Notify(ctx, db, notification(fmt.Sprintf("u%d@example.org", i))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		d := New(map[string]Channel{"email": rec}, db, clk, Options{})
		wg.Go(func() {
			if _, _, err := d.DeliverDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, m := range rec.sent() {
		seen[m.To]++
	}
	if len(seen) != 40 {
		t.Errorf("delivered to %d addresses, want 40", len(seen))
	}
	for to, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", to, n)
		}
	}
}

func TestNotificationThroughOutboxChannelIsNotDuplicated(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, "")
	clk := clock.NewFake(t0)
	d := New(map[string]Channel{"email": NewOutboxChannel(db, clk)}, db, clk, Options{})
	if err := d.Notify(ctx, db, notification("a@example.org")); err != nil {
		t.Fatal(err)
	}
	if sent, _, err := d.DeliverDue(ctx); sent != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %v", sent, err)
	}
	rows, _ := store.ListOutbox(ctx, db, 0, 0)
	if len(rows) != 1 || rows[0].State != store.OutboxSent {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestRunDeliversAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db := openStore(t, "")
	clk := clock.NewFake(t0)
	rec := &recorder{}
	d := New(map[string]Channel{"email": rec}, db, clk, Options{PollInterval: 10 * time.Millisecond})
	stopped := make(chan struct{})
	go func() {
		d.Run(ctx)
		close(stopped)
	}()
	if err := d.Notify(ctx, db, notification("a@example.org")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(rec.sent()) != 1 {
		t.Fatalf("Run delivered %d messages", len(rec.sent()))
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunCutsShortAnAttemptOnShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db := openStore(t, "")
	clk := clock.NewFake(t0)
	d := New(map[string]Channel{"email": blocker{}}, db, clk, Options{PollInterval: 10 * time.Millisecond, CodeTimeout: time.Hour})
	if err := d.Notify(ctx, db, notification("a@example.org")); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		d.Run(ctx)
		close(stopped)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The cut-short attempt is not counted against the message, which is
	// due again at once for the next run.
	if r := outboxRow(t, db, 1); r.State != store.OutboxQueued || r.Attempts != 0 || r.NextAttemptAt != t0.Unix() {
		t.Fatalf("row %+v", r)
	}
}

func TestReasonScrubs(t *testing.T) {
	m := Message{Subject: "Code", Text: "Your code is 12345678.\n", HTML: "<b>12345678</b>"}
	got := reason(errors.New("failed: Your code is 12345678.\n; also 12345678 and \x1b[31mred"+strings.Repeat("x", 500)), m, time.Second)
	if strings.Contains(got, "12345678") || strings.ContainsAny(got, "\n\x1b") || len(got) > maxReason+len("…") {
		t.Fatalf("reason = %q", got)
	}
}

// TestOnDeliveryError: every failed attempt, of a code or a queued
// notification, reaches OnDeliveryError, scrubbed of the message like the
// error SendCode returns; a send the caller gave up on is not a failure.
func TestOnDeliveryError(t *testing.T) {
	const code = "24681357"
	var mu sync.Mutex
	var heard []error
	opts := Options{OnDeliveryError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, err)
	}}
	echo := func(m Message) error { return errors.New("550 mailbox unavailable: " + m.Text) }
	rec := &recorder{fails: 2, err: echo}
	db := openStore(t, "")
	d := New(map[string]Channel{"email": rec, "sms": blocker{}}, db, clock.NewFake(t0), opts)
	ctx := context.Background()

	if err := d.SendCode(ctx, "email", "alice@example.org", codeMessage(t, code)); err == nil {
		t.Fatal("the code was sent")
	}
	m := codeMessage(t, "11112222")
	m.Channel, m.To = "email", "bob@example.org"
	if err := d.Notify(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	if _, failed, err := d.DeliverDue(ctx); err != nil || failed != 1 {
		t.Fatalf("deliver: %d failed, %v", failed, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_ = d.SendCode(cancelled, "sms", "+15550100", codeMessage(t, code))

	mu.Lock()
	defer mu.Unlock()
	if len(heard) != 2 {
		t.Fatalf("heard %d failures (%v); want the code's and the notification's", len(heard), heard)
	}
	for i, prefix := range []string{"send code by email: ", "deliver notification by email: "} {
		msg := heard[i].Error()
		if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, "550 mailbox unavailable") || !errors.Is(heard[i], ErrDeliveryFailed) {
			t.Errorf("failure %d: %q", i, msg)
		}
		if strings.Contains(msg, code) || strings.Contains(msg, "11112222") || strings.Contains(msg, "reset your password") {
			t.Errorf("failure %d holds the message: %q", i, msg)
		}
	}
}
