package flows

import (
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
)

// flowKind says what a verification flow leads to.
type flowKind int

const (
	flowReset flowKind = iota + 1
	flowAdminSignIn
	// flowUnlock proves what a reset proves, and lifts a lockout.
	flowUnlock
)

// purpose names what a flow's codes are for, in messages ("your code to
// reset") and the audit log.
func (k flowKind) purpose() string {
	switch k {
	case flowAdminSignIn:
		return "admin"
	case flowUnlock:
		return "unlock"
	}
	return "reset"
}

// MethodOption is one way a person can prove who they are, as offered on the
// "choose a method" screen. Destinations are masked: the person is not yet
// known to be who they say.
type MethodOption struct {
	Method policy.Method
	// Label names the method for people ("Email code").
	Label string
	// Destination is the masked address or number a code goes to, if any.
	Destination string
	// SendsCode is true for methods where sspr sends a code first.
	SendsCode bool
}

// Progress says where a verification flow stands after a proof.
type Progress struct {
	// Done is true when enough methods have been proven.
	Done bool
	// Proven lists the methods proven so far.
	Proven []policy.Method
	// Required is how many methods this flow needs.
	Required int
	// Options lists the methods still available for the next proof.
	Options []MethodOption
	// Language is, once Done, the person's stored preferred language (a
	// catalogue code; empty when they chose none), so the screens speak it
	// for the rest of the visit.
	Language string
}

// CodeSent describes a code on its way.
type CodeSent struct {
	Method      policy.Method
	Destination string
	ExpiresAt   time.Time
	// ResendAt is the earliest time another code may be requested.
	ResendAt time.Time
}

// flow is an in-memory reset or admin sign-in in progress. Only flows touch
// it, under Service.mu; callers hold just its id.
type flow struct {
	id          string
	kind        flowKind
	account     string // normalised username as typed: the throttle key
	displayName string
	// language is the account's preferred language; empty on the decoy path.
	language string
	source   string
	key      gossh.PublicKey // the connection's verified key, if any
	dirKeys  []string        // the account's SSH keys in the directory
	userID   int64           // 0 on the decoy path
	isAdmin  bool
	decoy    bool
	deadEnd  error // ErrDisabled or ErrNotEnabled, told only after a proof
	created  time.Time
	required int
	options  []MethodOption
	// destinations holds the real addresses behind the masked options.
	destinations map[policy.Method]string
	open         map[policy.Method]string    // challenge id of the code in flight
	lastSend     map[policy.Method]time.Time // for the resend cooldown
	proven       map[policy.Method]string    // challenge id of each proof
	questions    []string                    // the questions drawn for this flow
}

func newFlow(kind flowKind, account, source string, now time.Time) *flow {
	return &flow{
		id: secret.Token(), kind: kind, account: account, source: source, created: now,
		destinations: map[policy.Method]string{}, open: map[policy.Method]string{},
		lastSend: map[policy.Method]time.Time{}, proven: map[policy.Method]string{},
	}
}

// satisfied reports whether the proofs meet the requirement: enough of them,
// and at least one that is not security questions, which never suffice alone.
func (f *flow) satisfied() bool {
	if len(f.proven) < f.required {
		return false
	}
	for m := range f.proven {
		if m.Describe().CountsAlone {
			return true
		}
	}
	return false
}

func (f *flow) remainingOptions() []MethodOption {
	var out []MethodOption
	for _, o := range f.options {
		if _, ok := f.proven[o.Method]; !ok {
			out = append(out, o)
		}
	}
	return out
}

func (f *flow) progress() Progress {
	p := Progress{Done: f.satisfied(), Required: f.required, Options: f.remainingOptions()}
	if p.Done {
		p.Language = f.language
	}
	for _, o := range f.options {
		if _, ok := f.proven[o.Method]; ok {
			p.Proven = append(p.Proven, o.Method)
		}
	}
	return p
}

func (f *flow) option(m policy.Method) (MethodOption, bool) {
	for _, o := range f.options {
		if o.Method == m {
			return o, true
		}
	}
	return MethodOption{}, false
}

// newFlows makes the table of flows in progress, each kept for FlowLifetime.
func newFlows() *expiringMap[*flow] {
	return newExpiringMap(FlowLifetime, func(f *flow) time.Time { return f.created })
}

// putFlow stores a flow, now and then dropping expired ones.
func (s *Service) putFlow(f *flow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows.put(f.id, f, s.now())
}

// withFlow runs fn on a live flow under the lock. fn must not block on I/O
// for long; the flows keep their database work short.
func (s *Service) getFlow(id string) (*flow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flows.get(id, s.now())
	if !ok {
		return nil, ErrFlowExpired
	}
	return f, nil
}

func (s *Service) dropFlow(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows.drop(id)
}

// blockSource is the source whose block stops this flow: none for an
// administrator's sign-in, which passes a blocked source (see admitProof).
func (f *flow) blockSource() string {
	if f.kind == flowAdminSignIn {
		return ""
	}
	return f.source
}

// provenFlow returns a live flow of kind whose proofs are enough, with a
// copy of them (method → challenge id): ErrNotProven for a decoy, a dead
// end, or a flow still short of proofs.
func (s *Service) provenFlow(flowID string, kind flowKind) (*flow, map[policy.Method]string, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.kind != kind || f.decoy || f.deadEnd != nil || !f.satisfied() {
		return nil, nil, ErrNotProven
	}
	proven := make(map[policy.Method]string, len(f.proven))
	for k, v := range f.proven {
		proven[k] = v
	}
	return f, proven, nil
}
