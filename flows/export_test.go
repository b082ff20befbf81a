package flows

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

// MaxFaultCauses is how many causes the fault log keeps apart in a minute.
const MaxFaultCauses = maxFaultCauses

// FaultCauses reports how many causes f remembers.
func (f *Faults) FaultCauses() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.causes)
}
