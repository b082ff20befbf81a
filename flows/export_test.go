package flows

import (
	"context"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/store"
)

// SweepInterval is how often at most an insert sweeps out lapsed flows and
// sessions, for tests in package flows_test that step the clock past it.
const SweepInterval = sweepInterval

// HeldInMemory reports how many flows and sessions the service holds in
// memory, lapsed ones not yet swept included, so tests in package
// flows_test can see when the sweep runs.
func (s *Service) HeldInMemory() (flows, sessions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flows.held(), s.sessions.held()
}

// held is how many entries are in memory, lapsed ones not yet swept
// included.
func (l *expiringMap[V]) held() int { return len(l.entries) }

// MaxFaultCauses is how many causes the fault log keeps apart in a minute.
const MaxFaultCauses = maxFaultCauses

// FaultCauses reports how many causes f remembers.
func (f *Faults) FaultCauses() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.causes)
}

// CoverageOf computes coverage from a registrations report, one line per
// user: the plain count that Service.Coverage's lean scans must match.
func CoverageOf(lines []RegistrationLine) Coverage {
	c := Coverage{Users: len(lines), UsersPerKind: map[string]int{}}
	for _, l := range lines {
		if !l.Enabled {
			continue
		}
		c.Enabled++
		if l.CanReset {
			c.AbleToReset++
		}
		for _, m := range l.Methods {
			c.UsersPerKind[m]++
		}
	}
	if c.Enabled > 0 {
		c.Share = float64(c.AbleToReset) / float64(c.Enabled)
	}
	return c
}

// RecordThenFail records e in a transaction whose next step then fails
// with cause, so that it rolls back.
func (s *Service) RecordThenFail(ctx context.Context, e audit.Entry, cause error) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := s.record(ctx, tx, e); err != nil {
			return err
		}
		return cause
	})
}

// RecordThenHold records e in a transaction that then holds on until
// release is closed, as a transaction with slow work after its audit entry
// would; tests see how long others wait for the audit chain meanwhile.
func (s *Service) RecordThenHold(ctx context.Context, e audit.Entry, held chan<- struct{}, release <-chan struct{}) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := s.record(ctx, tx, e); err != nil {
			return err
		}
		close(held)
		<-release
		return nil
	})
}
