package flows

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// OutboxMessage is a message as the demo's outbox panel shows it.
type OutboxMessage struct {
	ID      int64
	Kind    string
	Channel string
	To      string
	Subject string
	Body    string
	At      time.Time
}

// Bounds of an OutboxView.
const (
	// outboxScan is how many outbox rows one Outbox call reads at most.
	outboxScan = 500
	// outboxWatched is how many flows and sign-ins a view remembers; the
	// oldest make way.
	outboxWatched = 100
	// outboxRecheck is how many more calls a row to an unknown address is
	// looked at again: a code to an address being registered is written
	// just before the sign-in records that address.
	outboxRecheck = 3
	// outboxPending bounds the rows waiting to be looked at again.
	outboxPending = 200
)

// OutboxView is one demo session's window on the outbox: the messages to the
// people that session looked up (the resets, admin sign-ins and sign-ins it
// started), and not those of every other session of the same demo. Each
// session makes its own with NewOutboxView and tells it what it starts
// (Watch); Service.Outbox reads through it. It is safe for concurrent use.
type OutboxView struct {
	mu sync.Mutex
	// ids are the flows and sessions the view's session started.
	ids []string
	// users are the people behind them; dests where their messages go.
	users map[int64]bool
	dests map[string]bool
	// after is the newest outbox row read; started is set once it is known.
	after   int64
	started bool
	// pending are rows to an address not known yet, with the calls left to
	// look at them again.
	pending []pendingRow
}

type pendingRow struct {
	msg   OutboxMessage
	tries int
}

// NewOutboxView returns a view that shows nothing until told what its
// session started.
func NewOutboxView() *OutboxView {
	return &OutboxView{users: map[int64]bool{}, dests: map[string]bool{}}
}

// Watch shows, from now on, the messages to the person behind a flow or
// session id the view's session started (StartReset, StartAdminSignIn,
// SignIn).
func (v *OutboxView) Watch(id string) {
	if v == nil || id == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ids = append(v.ids, id)
	if len(v.ids) > outboxWatched {
		v.ids = v.ids[len(v.ids)-outboxWatched:]
	}
}

// Outbox returns the messages "sent" through the outbox channel since v's
// last call, to the people v watches, oldest first and at most limit (the
// newest). The first call starts at the end of the outbox: what was there
// before the session looked anyone up is not its news.
func (s *Service) Outbox(ctx context.Context, v *OutboxView, limit int) ([]OutboxMessage, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.started {
		if len(v.ids) == 0 {
			last, err := store.LastOutboxID(ctx, s.db)
			if err != nil {
				return nil, fmt.Errorf("outbox: %w", err)
			}
			v.after = last
		}
		v.started = true
	}
	rows, err := store.ListOutbox(ctx, s.db, v.after, outboxScan)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if len(rows) > 0 {
		v.after = rows[len(rows)-1].ID
	}
	candidates := v.pending
	v.pending = nil
	for _, r := range rows {
		candidates = append(candidates, pendingRow{msg: OutboxMessage{ID: r.ID, Kind: r.Kind, Channel: r.Channel,
			To: r.Destination, Subject: r.Subject, Body: r.Body, At: time.Unix(r.CreatedAt, 0)}, tries: outboxRecheck})
	}
	if len(v.ids) == 0 {
		return nil, nil
	}
	refreshed := false
	var out []OutboxMessage
	for _, c := range candidates {
		if !v.dests[c.msg.To] && !refreshed {
			s.refreshView(ctx, v)
			refreshed = true
		}
		switch {
		case v.dests[c.msg.To]:
			out = append(out, c.msg)
		case c.tries > 0 && len(v.pending) < outboxPending:
			c.tries--
			v.pending = append(v.pending, c)
		}
	}
	slices.SortFunc(out, func(a, b OutboxMessage) int { return cmp.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// refreshView learns where the messages to v's people go: the addresses
// of the flows and sign-ins v watches, and every contact the store holds
// for the people behind them.
func (s *Service) refreshView(ctx context.Context, v *OutboxView) {
	s.mu.Lock()
	now := s.now()
	for _, id := range v.ids {
		if f, ok := s.flows.get(id, now); ok {
			if f.userID != 0 {
				v.users[f.userID] = true
			}
			for _, d := range f.destinations {
				v.dests[d] = true
			}
		} else if ses, ok := s.sessions.get(id, now); ok {
			v.users[ses.userID] = true
			for _, p := range ses.pendingCode {
				v.dests[p.destination] = true
			}
		}
	}
	s.mu.Unlock()
	for id := range v.users {
		if u, err := store.UserByID(ctx, s.db, id); err == nil {
			for _, d := range []string{u.Email, u.Phone} {
				if d != "" {
					v.dests[d] = true
				}
			}
		}
		methods, _ := store.MethodsOf(ctx, s.db, id)
		for _, m := range methods {
			if m.Destination != "" {
				v.dests[m.Destination] = true
			}
		}
	}
}
