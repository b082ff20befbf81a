// Package flows holds the rules of sspr: who may reset, with which proofs,
// what a new password must satisfy, and what gets recorded. It has no UI and
// no SQL; the TUI and the CLI call it, and it calls the store.
package flows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/hooks"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/flows/webhook"
	"github.com/sspr-kiosk/sspr/store"
)

// Numbers from the security rules. They are constants, not policy, because
// loosening them is a change to the product, not a setting.
const (
	// CodeDigits is the length of emailed and texted codes.
	CodeDigits = policy.SentCodeDigits
	// CodeLifetime is how long an emailed or texted code stays valid.
	CodeLifetime = 10 * time.Minute
	// CodeMaxAttempts is how many wrong submissions void a code.
	CodeMaxAttempts = 5
	// ResendCooldown is how long the user waits before asking for another code.
	ResendCooldown = 30 * time.Second
	// AccountFailLimit failed proofs within AccountFailWindow block the account for AccountBlockFor.
	AccountFailLimit  = 5
	AccountFailWindow = 24 * time.Hour
	AccountBlockFor   = 24 * time.Hour
	// AccountSendLimit code sends within AccountSendWindow are allowed per account.
	AccountSendLimit  = 10
	AccountSendWindow = 10 * time.Minute
	// SourceFailLimit failures within SourceFailWindow block a source for SourceBlockFor.
	SourceFailLimit  = 30
	SourceFailWindow = 5 * time.Minute
	SourceBlockFor   = 30 * time.Minute
	// VoucherLifetime is how long a helpdesk voucher stays valid unless
	// Deps.VoucherLifetime says otherwise (vouchers.lifetime).
	VoucherLifetime = config.DefaultVoucherLifetime
	// RecoveryCodeCount and RecoveryCodeLength shape a set of recovery codes.
	RecoveryCodeCount  = 10
	RecoveryCodeLength = policy.RecoveryCodeLength
	// FlowLifetime bounds how long a reset, sign-in or registration may take.
	FlowLifetime = 30 * time.Minute
	// MaxPasswordLength is the longest password accepted, in characters.
	MaxPasswordLength = 128
	// AdminMethodsRequired is the fixed number of methods an admin proves.
	AdminMethodsRequired = 2
)

// Errors the flows return; the TUI turns each into one sentence.
var (
	// ErrBlocked means the account or the source is blocked for now.
	ErrBlocked = errors.New("blocked for now")
	// ErrThrottled means too many codes were sent; wait and try again.
	ErrThrottled = errors.New("too many codes sent")
	// ErrWrongCode means the code or answer did not match.
	ErrWrongCode = errors.New("that code is not right")
	// ErrCodeExpired means the code is older than its lifetime.
	ErrCodeExpired = errors.New("that code has expired")
	// ErrChallengeVoid means the code was replaced, used up or had too many wrong tries.
	ErrChallengeVoid = errors.New("that code can no longer be used")
	// ErrReplay means the authenticator code was already used.
	ErrReplay = errors.New("that code was already used")
	// ErrBadCredentials means the username or password is wrong.
	ErrBadCredentials = errors.New("username or password is not right")
	// ErrDisabled means the account is disabled.
	ErrDisabled = errors.New("account is disabled")
	// ErrNotEnabled means the account may not use self-service reset under the policy.
	ErrNotEnabled = errors.New("self-service reset is not enabled for this account")
	// ErrNotAllowed means the method is not allowed by policy, or not for this person.
	ErrNotAllowed = errors.New("method not allowed")
	// ErrFlowExpired means the flow is unknown or took too long.
	ErrFlowExpired = errors.New("this session has expired; please start again")
	// ErrNotProven means the flow has not proven enough methods yet.
	ErrNotProven = errors.New("identity not proven")
	// ErrPasswordRejected means the new password breaks a rule.
	ErrPasswordRejected = errors.New("password does not meet the rules")
	// ErrDeliveryFailed means a code could not be sent.
	ErrDeliveryFailed = errors.New("the code could not be sent")
	// ErrInvalid means an argument failed validation; the wrapping message says which.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound means the named user, group or method does not exist (admin operations only).
	ErrNotFound = errors.New("not found")
	// ErrExists means the user or group already exists.
	ErrExists = errors.New("already exists")
	// ErrLastAdmin means the change would leave no administrator.
	ErrLastAdmin = errors.New("there must be at least one administrator")
	// ErrCheckUnavailable means the organisation's password check could
	// not say yes (it failed to run or ran out of time); the password was
	// not set.
	ErrCheckUnavailable = errors.New("the password could not be checked")
	// ErrNotFollowed means the password was set, but the program that
	// tells another system of it failed (hooks.on_failure: report).
	ErrNotFollowed = errors.New("the password was changed, but one system did not follow")
)

// HookRefusedError is the organisation's password check refusing a
// password; it unwraps to ErrPasswordRejected.
type HookRefusedError struct {
	// Message is the check's first line of output, cleaned and cut to
	// hooks.MaxMessage characters; may be empty.
	Message string
}

// Error returns the refusal as one sentence.
func (e *HookRefusedError) Error() string {
	if e.Message == "" {
		return ErrPasswordRejected.Error()
	}
	return ErrPasswordRejected.Error() + ": " + e.Message
}

// Unwrap makes errors.Is(err, ErrPasswordRejected) true.
func (e *HookRefusedError) Unwrap() error { return ErrPasswordRejected }

// WrongCodeError is ErrWrongCode with the tries left on this code.
type WrongCodeError struct {
	// AttemptsLeft is how many more tries this code allows.
	AttemptsLeft int
}

// Error returns the error as one sentence.
func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("%s (%s left)", ErrWrongCode, Count(e.AttemptsLeft, "try", "tries"))
}

// Unwrap makes errors.Is(err, ErrWrongCode) true.
func (e *WrongCodeError) Unwrap() error { return ErrWrongCode }

// RejectedError is ErrPasswordRejected with the rule results to show.
type RejectedError struct {
	// Evaluation holds every rule, met or not.
	Evaluation password.Evaluation
}

// Error returns the error as one sentence.
func (e *RejectedError) Error() string {
	for _, r := range e.Evaluation.Results {
		if !r.Met {
			return fmt.Sprintf("%s: %s", ErrPasswordRejected, r.In(locale.Embedded().Source()))
		}
	}
	return ErrPasswordRejected.Error()
}

// Unwrap makes errors.Is(err, ErrPasswordRejected) true.
func (e *RejectedError) Unwrap() error { return ErrPasswordRejected }

// Deps are what a Service needs; every field is required but Directory,
// which defaults to the built-in one.
type Deps struct {
	DB         *store.DB
	Clock      clock.Clock
	Hasher     *password.Hasher
	Checker    *password.Checker
	Keys       *secret.Keys
	Dispatcher *dispatch.Dispatcher
	Directory  Directory
	// Organisation names the organisation that runs sspr: the issuer in
	// authenticator apps and the name in messages; empty means "sspr".
	Organisation string
	// Languages are the catalogues messages are written from; nil is the
	// one built into the binary. Language is the organisation's language
	// (ui.language), for people who chose none; empty is the source.
	Languages *locale.Catalogue
	Language  string
	// VoucherLifetime is how long a helpdesk voucher stays valid; zero means
	// the VoucherLifetime constant. Outside the bounds of vouchers.lifetime
	// New refuses it: secret.VoucherLength is chosen for the longest.
	VoucherLifetime time.Duration
	// Faults is the server's fault log; nil logs nothing. Give the store,
	// the dispatcher and an LDAP directory the same one (Faults.Hook,
	// LDAPOptions.Faults), so that one cause is one line a minute.
	Faults *Faults
	// KioskLocation says where the walk-up kiosk is (ui.kiosk_location) and
	// PortalCommand how to reach the SSH portal (ssh.public_command), for
	// messages that tell people how to change their password; empty ones
	// are left out.
	KioskLocation string
	PortalCommand string
	// AuditCheckpoint is the path of the audit checkpoint, beside the key
	// file (audit.CheckpointFile in the data folder). Empty leaves the log
	// without its anchor outside the database: for tests only.
	AuditCheckpoint string
	// Webhooks are the receivers of events; none sends nothing.
	// WebhookOptions tune their sender; its Record is the service's own.
	Webhooks       []webhook.Endpoint
	WebhookOptions webhook.Options
	// Hooks runs the organisation's password check and changed programs;
	// nil runs none. HookReport makes a failed changed program the
	// person's news (and an audited, logged failure) instead of only a
	// log line (hooks.on_failure).
	Hooks      *hooks.Runner
	HookReport bool
	// OnRecord hears every audit entry once the transaction that recorded
	// it has committed, for operators' metrics; an entry rolled back is
	// never heard. nil drops them. It must not block.
	OnRecord func(audit.Entry)
}

// Service runs the flows. It holds in-flight resets and sign-ins in memory;
// everything that must outlive a process is in the store.
type Service struct {
	db         *store.DB
	clock      clock.Clock
	hasher     *password.Hasher
	checker    *password.Checker
	keys       *secret.Keys
	dispatcher *dispatch.Dispatcher
	// renderer holds the message templates, parsed once per language.
	renderer *dispatch.Renderer
	// languages are the catalogues, and language the organisation's
	// default, for people who chose none.
	languages *locale.Catalogue
	language  string
	dir       Directory
	issuer    string
	faults    *Faults
	// voucherLife is how long a new helpdesk voucher stays valid.
	voucherLife time.Duration
	// kioskLocation and portalCommand are Deps.KioskLocation and
	// Deps.PortalCommand.
	kioskLocation, portalCommand string

	// deliveries holds a place for each code being delivered behind the
	// screen; behind waits for them, and for the typical account's shape
	// being worked out behind the requests (decoy.go).
	deliveries chan struct{}
	behind     sync.WaitGroup
	// audit is the audit log's chain under the key from Keys, and
	// checkpoint the path of its anchor outside the database.
	audit      *audit.Chain
	checkpoint string
	// webhooks queues an event for every audit entry a receiver wants,
	// in the entry's transaction, and delivers them.
	webhooks *webhook.Sender
	// chainBrokenSent is set once audit.chain_broken was queued, so a
	// broken chain found every minute is one event per process.
	chainBrokenSent atomic.Bool
	// hooks are the password check and changed programs.
	hooks      *hooks.Runner
	hookReport bool
	onRecord   func(audit.Entry)

	mu       sync.Mutex
	flows    *expiringMap[*flow]
	sessions *expiringMap[*session]
	// shape is what a typical account looks like, for decoys.
	shape           decoyShape
	shapeRefreshing bool
}

// New builds a Service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Clock == nil || d.Hasher == nil || d.Checker == nil || d.Keys == nil || d.Dispatcher == nil {
		return nil, errors.New("new service: missing dependency")
	}
	if d.Languages == nil {
		d.Languages = locale.Embedded()
	}
	if d.Language != "" {
		if _, err := d.Languages.Lookup(d.Language); err != nil {
			return nil, fmt.Errorf("new service: language: %w", err)
		}
	}
	renderer, err := dispatch.NewRenderer(d.Languages)
	if err != nil {
		return nil, fmt.Errorf("new service: %w", err)
	}
	chain, err := audit.NewChain(d.Keys.AuditKey())
	if err != nil {
		return nil, fmt.Errorf("new service: %w", err)
	}
	s := &Service{
		db: d.DB, clock: d.Clock, hasher: d.Hasher, checker: d.Checker, keys: d.Keys,
		dispatcher: d.Dispatcher, renderer: renderer, languages: d.Languages, language: d.Language, dir: d.Directory, issuer: d.Organisation, faults: d.Faults,
		audit: chain, checkpoint: d.AuditCheckpoint, hooks: d.Hooks, hookReport: d.HookReport, onRecord: d.OnRecord,
		kioskLocation: d.KioskLocation, portalCommand: d.PortalCommand,
		flows: newFlows(), sessions: newSessions(), deliveries: make(chan struct{}, maxDeliveriesBehind),
	}
	if s.dir == nil {
		s.dir = NewBuiltinDirectory(d.DB, d.Hasher, d.Clock)
	}
	wopts := d.WebhookOptions
	wopts.Record = s.record
	s.webhooks = webhook.New(d.DB, d.Clock, d.Webhooks, wopts)
	if s.issuer == "" {
		s.issuer = "sspr"
	}
	s.voucherLife = d.VoucherLifetime
	if s.voucherLife == 0 {
		s.voucherLife = VoucherLifetime
	}
	if s.voucherLife < config.MinVoucherLifetime || s.voucherLife > config.MaxVoucherLifetime {
		return nil, fmt.Errorf("new service: voucher lifetime %v is outside %v–%v: %w", s.voucherLife,
			config.MinVoucherLifetime, config.MaxVoucherLifetime, ErrInvalid)
	}
	return s, nil
}

// Organisation is the name people know this service by: the
// organisation's, or "sspr".
func (s *Service) Organisation() string { return s.issuer }

// render fills a message template, with the organisation's name, in the
// reader's language: lang is their stored preference, and empty (no
// preference, or nobody known) takes the organisation's.
func (s *Service) render(lang, name string, data map[string]any) (dispatch.Message, error) {
	data["Organisation"] = s.issuer
	if lang == "" {
		lang = s.language
	}
	return s.renderer.RenderIn(lang, name, data)
}

// Clock returns the service's clock, so callers show the same time the rules use.
func (s *Service) Clock() clock.Clock { return s.clock }

// Policy returns the policy in force.
func (s *Service) Policy(ctx context.Context) (policy.Policy, error) {
	return loadPolicy(ctx, s.db)
}

// loadPolicy reads the stored policy. A stored value the current rules
// refuse (written by an older version, or by hand) falls back to its
// default rather than stopping every reset, and an admin can still change
// the policy to repair it; a store error is still an error.
func loadPolicy(ctx context.Context, h store.Handler) (policy.Policy, error) {
	return usablePolicy(policy.Load(ctx, h))
}

// usablePolicy is what loadPolicy makes of a policy read and its error.
func usablePolicy(p policy.Policy, err error) (policy.Policy, error) {
	if err != nil && !errors.Is(err, policy.ErrInvalidValue) && !errors.Is(err, policy.ErrUnknownKey) {
		return policy.Policy{}, fmt.Errorf("load policy: %w", err)
	}
	return p, nil
}

func (s *Service) now() time.Time { return s.clock.Now() }

// record appends an audit entry inside tx, filling in the time.
func (s *Service) record(ctx context.Context, tx *store.Tx, e audit.Entry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if err := audit.Check(e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	// The chain's head is locked until commit, across every process
	// sharing the store: the row is appended last, so that the lock is held
	// for the commit alone.
	tx.BeforeCommit(func(ctx context.Context) error {
		if _, err := s.audit.Append(ctx, tx, e); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return nil
	})
	if err := s.webhooks.Queue(ctx, tx, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if s.onRecord != nil {
		tx.AfterCommit(func() { s.onRecord(e) })
	}
	return nil
}

// recordAll appends audit entries in tx, in order.
func (s *Service) recordAll(ctx context.Context, tx *store.Tx, entries ...audit.Entry) error {
	for _, e := range entries {
		if err := s.record(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// Webhooks returns the sender of webhook events, for a long-running sspr to
// run and for `sspr webhook test`.
func (s *Service) Webhooks() *webhook.Sender { return s.webhooks }

// recordAlone appends an audit entry in its own transaction.
func (s *Service) recordAlone(ctx context.Context, e audit.Entry) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error { return s.record(ctx, tx, e) })
}
