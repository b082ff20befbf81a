package portal

import (
	"sync"
	"time"

	"charm.land/log/v2"

	"github.com/sspr-kiosk/sspr/flows/clock"
)

const (
	// refusalEvery is how often at most one address is logged for one
	// reason: a flood is one line a minute, with how many it stands for.
	refusalEvery = time.Minute
	// refusalKeep bounds the addresses remembered, so a flood from many
	// addresses cannot grow the log's memory; beyond it, refusals are
	// counted together and logged as from many addresses.
	refusalKeep = 4096
	// refusalSweepEvery is how often at most a full table is swept of
	// entries old enough to log again.
	refusalSweepEvery = time.Second
	// manyAddresses stands for the addresses not remembered.
	manyAddresses = "(many)"
)

// refusalLog logs each refusal, once per address and reason per
// refusalEvery, with the number of refusals since the last line.
type refusalLog struct {
	logger *log.Logger // nil logs nothing
	clock  clock.Clock
	// onRefuse hears every refusal, logged or not; nil drops them. Set
	// before the server starts.
	onRefuse func(reason string)

	mu       sync.Mutex
	seen     map[refusal]*refusalCount
	overflow map[string]*refusalCount // by reason, for addresses not remembered
	swept    time.Time
}

type refusal struct{ key, reason string }

// refusalCount is when an address was last logged for a reason, and how
// many refusals came since, unlogged.
type refusalCount struct {
	logged time.Time
	since  int
}

func newRefusalLog(logger *log.Logger, c clock.Clock) *refusalLog {
	if c == nil {
		c = clock.Real{}
	}
	return &refusalLog{logger: logger, clock: c, seen: map[refusal]*refusalCount{},
		overflow: map[string]*refusalCount{}}
}

// refuse records a refusal of key (see addrKey) for reason.
func (l *refusalLog) refuse(key, reason string) {
	if l.onRefuse != nil {
		l.onRefuse(reason)
	}
	if l.logger == nil {
		return
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := refusal{key, reason}
	c, ok := l.seen[r]
	if !ok && len(l.seen) >= refusalKeep {
		l.sweep(now)
	}
	switch {
	case ok:
	case len(l.seen) < refusalKeep:
		c = &refusalCount{}
		l.seen[r] = c
	default:
		if c = l.overflow[reason]; c == nil {
			c = &refusalCount{}
			l.overflow[reason] = c
		}
		key = manyAddresses
	}
	if !c.logged.IsZero() && now.Sub(c.logged) < refusalEvery {
		c.since++
		return
	}
	l.write(key, reason, c.since+1)
	c.logged, c.since = now, 0
}

// sweep forgets the entries that may be logged again, writing the line of
// any with refusals still unlogged. The caller holds l.mu.
func (l *refusalLog) sweep(now time.Time) {
	if !l.swept.IsZero() && now.Sub(l.swept) < refusalSweepEvery {
		return
	}
	l.swept = now
	for r, c := range l.seen {
		if now.Sub(c.logged) < refusalEvery {
			continue
		}
		if c.since > 0 {
			l.write(r.key, r.reason, c.since)
		}
		delete(l.seen, r)
	}
}

// write logs count refusals of key for reason.
func (l *refusalLog) write(key, reason string, count int) {
	l.logger.Warn("refused", "address", key, "reason", reason, "count", count)
}
