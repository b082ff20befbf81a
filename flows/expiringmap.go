package flows

import "time"

// sweepInterval is how often at most an insert sweeps the in-memory flows or
// sessions for lapsed entries. Lookups refuse a lapsed entry on their own,
// so the sweep only frees memory. Sweeping on every insert cost time in
// proportion to the entries held; once per interval, the entries held grow
// with the rate of inserts as the inserts between sweeps do, so a sweep
// costs about lifetime/sweepInterval entry checks per insert, however many
// are held. The price is that a lapsed entry stays in memory until the
// first insert a sweepInterval after the last sweep.
const sweepInterval = time.Minute

// expiringMap holds in-memory entries (flows, sessions) that lapse lifetime
// after they were created. It is not safe for concurrent use: Service.mu
// guards it.
type expiringMap[V any] struct {
	lifetime time.Duration
	created  func(V) time.Time
	entries  map[string]V
	// swept is when put last dropped the lapsed entries, on the service's
	// clock.
	swept time.Time
}

func newExpiringMap[V any](lifetime time.Duration, created func(V) time.Time) *expiringMap[V] {
	return &expiringMap[V]{lifetime: lifetime, created: created, entries: map[string]V{}}
}

func (l *expiringMap[V]) lapsed(v V, now time.Time) bool { return now.Sub(l.created(v)) > l.lifetime }

// put stores v under id, first dropping the lapsed entries if the last
// sweep was sweepInterval ago or more. A clock that went back also sweeps,
// so a step back cannot put the sweep off for longer than the step.
func (l *expiringMap[V]) put(id string, v V, now time.Time) {
	if since := now.Sub(l.swept); since >= sweepInterval || since < 0 {
		for k, old := range l.entries {
			if l.lapsed(old, now) {
				delete(l.entries, k)
			}
		}
		l.swept = now
	}
	l.entries[id] = v
}

// get returns the entry under id unless it is missing or has lapsed; a
// lapsed entry is dropped on the way.
func (l *expiringMap[V]) get(id string, now time.Time) (V, bool) {
	v, ok := l.entries[id]
	if ok && l.lapsed(v, now) {
		delete(l.entries, id)
		ok = false
	}
	if !ok {
		var zero V
		return zero, false
	}
	return v, true
}

// drop forgets the entry under id.
func (l *expiringMap[V]) drop(id string) { delete(l.entries, id) }
