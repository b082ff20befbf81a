package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/store"
)

// Pacing and the length of a terminal's block. A walk-up kiosk is one
// source shared by everyone in the queue, so before a source is blocked its
// proofs are slowed down as its failures mount: from the SourceSlowAfter-th
// failure within SourceFailWindow, each further proof waits SourceFirstDelay
// after the last failure, doubling with each failure up to SourceMaxDelay.
// One person at one screen then makes at most about ten failures in any
// window, never the SourceFailLimit that blocks: only many sessions racing
// from one place (a script, or parallel SSH sessions from one address) reach
// the block. A proof that comes too soon is refused unchecked and counts as a
// failure of the source, so racing the delay leads to the block sooner.
const (
	SourceSlowAfter  = 5
	SourceFirstDelay = time.Second
	SourceMaxDelay   = 30 * time.Second
	// TerminalBlockFor is how long a kiosk terminal stays blocked: shorter
	// than an SSH address's SourceBlockFor, since a terminal's block takes
	// self-service away from the next person in the queue, and the person
	// who caused it stands in sight of the counter.
	TerminalBlockFor = 10 * time.Minute
)

// ErrSlowDown means proofs from this place came too fast after failures;
// the person waits a little and tries again.
var ErrSlowDown = errors.New("too many failed attempts from here; wait before trying again")

// WaitError is ErrSlowDown with when the next proof from this place is taken.
type WaitError struct {
	// Until is when the next proof is taken, in the service clock's location.
	Until time.Time
}

// Error returns the error as one sentence.
func (e *WaitError) Error() string {
	return fmt.Sprintf("%s (until %s)", ErrSlowDown, e.Until.Format(time.TimeOnly))
}

// Unwrap makes errors.Is(err, ErrSlowDown) true.
func (e *WaitError) Unwrap() error { return ErrSlowDown }

// SourceDelay is how long a source with n failures within SourceFailWindow
// waits after its last failure before its next proof is taken.
func SourceDelay(n int) time.Duration {
	if n < SourceSlowAfter {
		return 0
	}
	d := SourceFirstDelay
	for i := SourceSlowAfter; i < n && d < SourceMaxDelay; i++ {
		d *= 2
	}
	return min(d, SourceMaxDelay)
}

// BlockScope says what a block holds back, and so what a person is told.
type BlockScope string

const (
	// BlockAccount is an account: a name as typed, known or not.
	BlockAccount BlockScope = "account"
	// BlockTerminal is a kiosk terminal (or the demo's screen).
	BlockTerminal BlockScope = "terminal"
	// BlockAddress is the network address of SSH clients.
	BlockAddress BlockScope = "address"
)

// sshSourcePrefix starts the source of an SSH session: "ssh:203.0.113.7".
// Every other source (a kiosk's "kiosk:counter-9", the demo) is a terminal.
const sshSourcePrefix = "ssh:"

// SourceScope says whether a source is a network address or a terminal.
func SourceScope(source string) BlockScope {
	if strings.HasPrefix(source, sshSourcePrefix) {
		return BlockAddress
	}
	return BlockTerminal
}

// SourceName is a source as a person knows it: the terminal id of
// "kiosk:counter-9", the address of "ssh:203.0.113.7".
func SourceName(source string) string {
	if _, name, ok := strings.Cut(source, ":"); ok && name != "" {
		return name
	}
	return source
}

// blockFor is how long a source is blocked once it reaches its limit.
func blockFor(source string) time.Duration {
	if SourceScope(source) == BlockTerminal {
		return TerminalBlockFor
	}
	return SourceBlockFor
}

// BlockedError is ErrBlocked with what is blocked and until when. An
// account's block reads the same for a name that exists and one that does
// not: names as typed are counted and blocked alike, and the error never
// names the account.
type BlockedError struct {
	Scope BlockScope
	// Source is the blocked source ("kiosk:counter-9"); empty for an account.
	Source string
	// Until is when the block ends, in the service clock's location.
	Until time.Time
}

// Error returns the error as one sentence.
func (e *BlockedError) Error() string {
	what := "account"
	if e.Source != "" {
		what = string(e.Scope) + " " + SourceName(e.Source)
	}
	return fmt.Sprintf("%s %s, until %s", what, ErrBlocked, e.Until.Format(time.DateTime))
}

// Unwrap makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// at is a stored Unix time in the service clock's location, so that what
// a person reads ("until 14:35") is in the time the service runs on.
func (s *Service) at(unix int64) time.Time { return time.Unix(unix, 0).In(s.now().Location()) }

// checkBlocked returns a *BlockedError when the source or the account is
// blocked; an empty account or source is not checked. The account key is
// the normalised username as typed, so an unknown name is blocked exactly
// like a real one and a block tells nothing. When both are blocked the
// source's is told: nothing else can be done from there.
func (s *Service) checkBlocked(ctx context.Context, account, source string) error {
	now := s.now().Unix()
	blocked, err := store.AnyActiveBlock(ctx, s.db, now, blockKeys(account, source)...)
	if err != nil {
		return fmt.Errorf("check block: %w", err)
	}
	return s.whichBlock(ctx, account, source, now, blocked)
}

// blockKeys are the blocks checkBlocked looks at.
func blockKeys(account, source string) []store.BlockKey {
	keys := make([]store.BlockKey, 0, 2)
	for _, k := range []store.BlockKey{{Scope: store.ScopeAccount, Key: account}, {Scope: store.ScopeSource, Key: source}} {
		if k.Key != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// whichBlock is checkBlocked once it is known whether any block is in
// force: it reads the block to tell, which only a blocked person pays for.
func (s *Service) whichBlock(ctx context.Context, account, source string, now int64, blocked bool) error {
	if !blocked {
		return nil
	}
	if source != "" {
		b, err := store.ActiveBlock(ctx, s.db, store.ScopeSource, source, now)
		if err == nil {
			return &BlockedError{Scope: SourceScope(source), Source: source, Until: s.at(b.Until)}
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("check block: %w", err)
		}
	}
	b, err := store.ActiveBlock(ctx, s.db, store.ScopeAccount, account, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil // it ended between the two looks
	}
	if err != nil {
		return fmt.Errorf("check block: %w", err)
	}
	return &BlockedError{Scope: BlockAccount, Until: s.at(b.Until)}
}

// admitProof is what every proof of who someone is (a password, a code,
// answers) passes first: the account's block, the source's block, then the
// source's pace. An administrator's sign-in passes a blocked source (set
// admin): a blocked kiosk must not lock out the one person who can clear it.
// It still meets its account's block and the pace, and its failures still
// count against the account and the source, so the administrators' door
// does not let anyone guess faster than any other.
func (s *Service) admitProof(ctx context.Context, account, source string, admin bool) error {
	blockSource := source
	if admin {
		blockSource = ""
	}
	if source == "" {
		return s.checkBlocked(ctx, account, blockSource)
	}
	// Most proofs are not too soon: that is learnt without the writer, in
	// the statement that looks for blocks.
	now := s.now()
	blocked, n, last, err := store.BlockedAndLastEvent(ctx, s.db, now.Unix(), blockKeys(account, blockSource),
		store.ScopeSource, source, store.EventFail, now.Add(-SourceFailWindow).Unix())
	if err != nil {
		return fmt.Errorf("check block and pace: %w", err)
	}
	if err := s.whichBlock(ctx, account, blockSource, now.Unix(), blocked); err != nil {
		return err
	}
	if !now.Before(s.paceUntil(n, last)) {
		return nil
	}
	var wait *WaitError
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := s.lockThrottles(ctx, tx, "", source); err != nil {
			return err
		}
		n, until, err := s.pace(ctx, tx, source)
		if err != nil {
			return err
		}
		if !now.Before(until) {
			return nil
		}
		// Too soon: refused unchecked, and counted against the source
		// alone (nothing of the account was tried).
		blocks, err := s.recordFailure(ctx, tx, "", source)
		if err != nil {
			return err
		}
		wait = &WaitError{Until: now.Add(SourceDelay(n + 1))}
		return s.recordAll(ctx, tx, blocks...)
	})
	if err != nil {
		return fmt.Errorf("check pace: %w", err)
	}
	if wait == nil {
		return nil
	}
	if !admin {
		// The failure just counted may have blocked the source.
		if err := s.checkBlocked(ctx, "", source); err != nil {
			return err
		}
	}
	return wait
}

// pace returns how many failures a source has had within SourceFailWindow
// and when its next proof is taken (at once when that is not after now).
func (s *Service) pace(ctx context.Context, h store.Handler, source string) (int, time.Time, error) {
	now := s.now()
	n, last, err := store.LastThrottleEvent(ctx, h, store.ScopeSource, source, store.EventFail,
		now.Add(-SourceFailWindow).Unix())
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("pace: %w", err)
	}
	return n, s.paceUntil(n, last), nil
}

// paceUntil is when a source's next proof is taken, after n recent
// failures, the newest at Unix time last; zero when there were none.
func (s *Service) paceUntil(n int, last int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return s.at(last).Add(SourceDelay(n))
}

// SourceState is what holds a source back at the moment.
type SourceState struct {
	// Blocked is the source's block in force; nil when there is none.
	Blocked *BlockedError
	// WaitUntil is when the source's next proof is taken; zero, or not
	// after now, when at once.
	WaitUntil time.Time
}

// SourceState tells a screen what holds its source back, so that it can
// say so before anyone tries (a blocked terminal on the welcome screen) and
// count down a wait after a failure, instead of letting the next try come
// too soon and count against the source.
func (s *Service) SourceState(ctx context.Context, source string) (SourceState, error) {
	var st SourceState
	if source == "" {
		return st, nil
	}
	err := s.checkBlocked(ctx, "", source)
	if !errors.As(err, &st.Blocked) && err != nil {
		return SourceState{}, err
	}
	if _, st.WaitUntil, err = s.pace(ctx, s.db, source); err != nil {
		return SourceState{}, err
	}
	return st, nil
}

// lockThrottles holds the counts of the account and the source (either may
// be empty) for the rest of tx, so that processes sharing the store count
// one after another: always the account first, then the source.
func (s *Service) lockThrottles(ctx context.Context, tx *store.Tx, account, source string) error {
	if account != "" {
		if err := store.LockThrottle(ctx, tx, store.ScopeAccount, account); err != nil {
			return err
		}
	}
	if source != "" {
		if err := store.LockThrottle(ctx, tx, store.ScopeSource, source); err != nil {
			return err
		}
	}
	return nil
}

// recordFailure counts a failed proof against the account and the source and
// blocks either when it reaches its limit. It returns the audit entries of
// the blocks it applied, for the caller to record once it has written
// everything else: appending to the audit chain holds its head, and a
// transaction that held it while waiting for a row (the account's lockout,
// which a reset clears before it appends) could wait on one that waits for
// the head.
func (s *Service) recordFailure(ctx context.Context, tx *store.Tx, account, source string) ([]audit.Entry, error) {
	if err := s.lockThrottles(ctx, tx, account, source); err != nil {
		return nil, err
	}
	now := s.now()
	var blocks []audit.Entry
	limits := []struct {
		scope, key string
		limit      int
		window     time.Duration
		blockFor   time.Duration
	}{
		{store.ScopeAccount, account, AccountFailLimit, AccountFailWindow, AccountBlockFor},
		{store.ScopeSource, source, SourceFailLimit, SourceFailWindow, blockFor(source)},
	}
	for _, l := range limits {
		if l.key == "" {
			continue
		}
		if err := store.AddThrottleEvent(ctx, tx, l.scope, l.key, store.EventFail, now.Unix()); err != nil {
			return nil, fmt.Errorf("record failure: %w", err)
		}
		n, err := store.CountThrottleEvents(ctx, tx, l.scope, l.key, store.EventFail, now.Add(-l.window).Unix())
		if err != nil {
			return nil, fmt.Errorf("record failure: %w", err)
		}
		if n < l.limit {
			continue
		}
		if _, err := store.ActiveBlock(ctx, tx, l.scope, l.key, now.Unix()); err == nil {
			continue
		}
		until := now.Add(l.blockFor)
		reason := fmt.Sprintf("%d failures in %s", n, durationWords(l.window))
		if err := store.SetBlock(ctx, tx, store.Block{Scope: l.scope, Key: l.key, Reason: reason,
			CreatedAt: now.Unix(), Until: until.Unix()}); err != nil {
			return nil, fmt.Errorf("record failure: %w", err)
		}
		target, src := l.key, source
		if l.scope == store.ScopeSource {
			target = "source:" + l.key
		}
		blocks = append(blocks, audit.Entry{Event: audit.EventBlockApplied, Actor: "system", Target: target,
			Source: src, Detail: fmt.Sprintf("%s blocked until %s: %s", l.scope, until.UTC().Format(time.RFC3339), reason)})
	}
	return blocks, nil
}

// allowSend checks and counts a code send against the account.
func (s *Service) allowSend(ctx context.Context, tx *store.Tx, account string) error {
	if err := s.lockThrottles(ctx, tx, account, ""); err != nil {
		return err
	}
	now := s.now()
	added, err := store.AddThrottleEventUnder(ctx, tx, store.ScopeAccount, account, store.EventSend, now.Unix(),
		now.Add(-AccountSendWindow).Unix(), AccountSendLimit)
	if err != nil {
		return fmt.Errorf("count sends: %w", err)
	}
	if !added {
		return ErrThrottled
	}
	return nil
}

// clearAccount forgets an account's failures, sends and block after a
// successful reset.
func (s *Service) clearAccount(ctx context.Context, tx *store.Tx, account string) error {
	return store.ClearKey(ctx, tx, store.ScopeAccount, account)
}

// durationWords says a whole number of hours or minutes in words: "24
// hours", "5 minutes".
func durationWords(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}
