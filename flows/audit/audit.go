// Package audit records every security event in a chained log that only the
// holder of sspr.key can extend: each row carries an HMAC-SHA256, under a key
// derived from the key file, over the previous row's MAC and its own content,
// and a separate head row carries the newest MAC, its row id and the row
// count, MAC'd likewise. Someone who can write the database but not read the
// key can neither change a row nor recompute the chain after a change, nor
// move the head back after cutting rows off the end.
//
// What the database alone cannot show is a log rolled back whole (the end cut
// off together with an older copy of the head, or everything deleted): a
// checkpoint file beside the key pins the head as it was at most a minute
// ago (see Chain.Checkpoint), and Verify compares the log with it.
package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// Event names a kind of security event.
type Event string

// The security events. Names are stable: they are stored, exported and
// counted by reports.
const (
	// Registration changes.
	EventMethodRegistered Event = "method.registered"
	EventMethodUpdated    Event = "method.updated"
	EventMethodRemoved    Event = "method.removed"
	EventInfoConfirmed    Event = "info.confirmed"
	// EventLanguageChanged: a person chose the language sspr writes to
	// them in; Detail holds the code ("ja", or "default").
	EventLanguageChanged Event = "info.language"
	// EventReregistrationRequired: an admin asked a user to register again.
	EventReregistrationRequired Event = "reregistration.required"
	// EventRegistrationPostponed: someone whose registration was due left
	// without finishing it; they are asked again at their next sign-in.
	EventRegistrationPostponed Event = "registration.postponed"

	// Proofs and codes.
	EventVerifySucceeded Event = "verify.succeeded"
	EventVerifyFailed    Event = "verify.failed"
	EventCodeSent        Event = "code.sent"
	EventCodeSendFailed  Event = "code.send_failed"

	// Sign-in with username and current password (change password, security info).
	EventSignIn       Event = "user.signin"
	EventSignInFailed Event = "user.signin_failed"

	// Throttling.
	EventBlockApplied Event = "block.applied"
	EventBlockCleared Event = "block.cleared"

	// Passwords.
	EventPasswordReset   Event = "password.reset"
	EventPasswordChanged Event = "password.changed"
	EventUserUnlocked    Event = "user.unlocked"

	// Lockouts of the account where the password lives (sspr's own store
	// or the directory), apart from sspr's block of self-service.
	// EventAccountLocked: wrong passwords locked an account sspr keeps.
	EventAccountLocked Event = "account.locked"
	// EventAccountUnlocked: a lockout was lifted, by the person after the
	// proofs of a reset or by an administrator; the password is unchanged.
	EventAccountUnlocked Event = "account.unlocked"

	// Helpdesk vouchers.
	EventVoucherIssued Event = "voucher.issued"
	EventVoucherUsed   Event = "voucher.used"

	// Administration.
	EventAdminSignIn        Event = "admin.signin"
	EventAdminSignInFailed  Event = "admin.signin_failed"
	EventPolicyChanged      Event = "policy.changed"
	EventUserCreated        Event = "user.created"
	EventUserUpdated        Event = "user.updated"
	EventUserDisabled       Event = "user.disabled"
	EventUserEnabled        Event = "user.enabled"
	EventAdminGranted       Event = "admin.granted"
	EventAdminRevoked       Event = "admin.revoked"
	EventGroupCreated       Event = "group.created"
	EventGroupMemberAdded   Event = "group.member_added"
	EventGroupMemberRemoved Event = "group.member_removed"
	// EventAuditExported: someone took a copy of this log.
	EventAuditExported Event = "audit.exported"
	// EventChainKeyed: a log written before the chain had a key was re-keyed;
	// the row marks where the keyed chain starts and what the check of the
	// old, unkeyed chain found.
	EventChainKeyed Event = "audit.keyed"

	// EventWebhookFailed: a webhook event was given up after a day of
	// failed deliveries; the receiver never got it.
	EventWebhookFailed Event = "webhook.failed"
	// EventHookFailed: the program told of a password change failed, so a
	// system sspr feeds may still hold the old password.
	EventHookFailed Event = "hook.failed"
)

// AllEvents returns every event this version records, for filters and reports.
func AllEvents() []Event {
	return []Event{
		EventMethodRegistered, EventMethodUpdated, EventMethodRemoved, EventInfoConfirmed, EventReregistrationRequired,
		EventRegistrationPostponed, EventLanguageChanged,
		EventVerifySucceeded, EventVerifyFailed, EventCodeSent, EventCodeSendFailed,
		EventSignIn, EventSignInFailed,
		EventBlockApplied, EventBlockCleared,
		EventPasswordReset, EventPasswordChanged, EventUserUnlocked, EventAccountLocked, EventAccountUnlocked,
		EventVoucherIssued, EventVoucherUsed,
		EventAdminSignIn, EventAdminSignInFailed, EventPolicyChanged,
		EventUserCreated, EventUserUpdated, EventUserDisabled, EventUserEnabled, EventAdminGranted, EventAdminRevoked,
		EventGroupCreated, EventGroupMemberAdded, EventGroupMemberRemoved,
		EventAuditExported, EventChainKeyed, EventWebhookFailed, EventHookFailed,
	}
}

// Outcomes most entries use.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
)

// MaxDetail is the longest Detail accepted, in bytes.
const MaxDetail = 4096

// ZeroHash is the prev_hash of the first row.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Errors of this package; test with errors.Is.
var (
	// ErrInvalidEntry means the entry lacks a time or an event, or its detail is too long.
	ErrInvalidEntry = errors.New("invalid audit entry")
)

// Entry is one row of the audit log.
type Entry struct {
	// ID is the position in the chain, set by Append.
	ID int64
	// At is when it happened; stored to the second, in UTC.
	At time.Time
	// Event is what happened.
	Event Event
	// Actor is who did it: a username, "admin:<name>", or "system".
	Actor string
	// Target is whom it was done to (a username, a group, "policy").
	Target string
	// Source is where from: the SSH remote address or the kiosk terminal.
	Source string
	// Outcome is "ok", "failed" or a short reason.
	Outcome string
	// Detail is free text (JSON is fine) that callers promise carries no
	// secrets, codes or answers; at most MaxDetail bytes.
	Detail string
	// PrevHash and Hash are the chain links, set by Append: the previous
	// row's MAC and this row's, hex HMAC-SHA256 under the chain key.
	PrevHash string
	Hash     string
}

// minKeyLen is the shortest chain key accepted: the key is the whole of the
// chain's protection, so it must be as strong as the hash.
const minKeyLen = 32

// Chain appends to and checks the audit log under one key. It is safe for
// concurrent use; build one per process with NewChain.
type Chain struct {
	// macs holds *macState: HMAC-SHA256 keyed with the chain key, and a
	// buffer. Keying a MAC costs two hash blocks and allocations; resetting
	// a used one costs nothing, and appends run one at a time.
	macs sync.Pool
}

// macState is a keyed MAC and the buffer its input is laid out in.
type macState struct {
	h   hash.Hash
	enc encoder
}

// NewChain returns the chain whose links are MAC'd with key, which must be
// at least 32 bytes (secret.Keys.AuditKey). The key is copied.
func NewChain(key []byte) (*Chain, error) {
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("audit chain: key of %d bytes, want at least %d", len(key), minKeyLen)
	}
	k := bytes.Clone(key)
	c := &Chain{}
	c.macs.New = func() any { return &macState{h: hmac.New(sha256.New, k)} }
	return c, nil
}

// encoder lays values out for a hash so that no two different sequences of
// values encode alike: every field carries its length.
type encoder struct {
	buf []byte
}

func (w *encoder) str(s string) {
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *encoder) num(n int64) {
	w.buf = binary.BigEndian.AppendUint64(w.buf, 8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(n))
}

// maxPooledInput is the largest input buffer kept for the next MAC; a row
// is at most a few kilobytes (MaxDetail).
const maxPooledInput = 64 << 10

// mac returns the hex MAC of what fill lays out.
func (c *Chain) mac(fill func(w *encoder)) string {
	st := c.macs.Get().(*macState)
	st.h.Reset()
	st.enc.buf = st.enc.buf[:0]
	fill(&st.enc)
	st.h.Write(st.enc.buf)
	var sum [sha256.Size]byte
	out := hex.EncodeToString(st.h.Sum(sum[:0]))
	if cap(st.enc.buf) <= maxPooledInput {
		c.macs.Put(st)
	}
	return out
}

// rowMAC links e to the row before it: the MAC of a version tag, prev (that
// row's MAC) and every field of e but its id. The id is left out on purpose:
// a row's place is fixed by the chain, and Verify checks that the ids follow
// it, so a row moved keeps verifying on its own and is reported as moved
// rather than as edited.
func (c *Chain) rowMAC(prev string, e Entry) string {
	return c.mac(func(w *encoder) {
		w.str("sspr-audit-row-v2")
		w.str(prev)
		w.num(e.At.Unix())
		for _, s := range []string{string(e.Event), e.Actor, e.Target, e.Source, e.Outcome, e.Detail} {
			w.str(s)
		}
	})
}

// headMAC authenticates the head: the newest row's id and MAC and the row
// count, so neither the end of the log nor its length can be changed and
// the head moved to match without the key.
func (c *Chain) headMAC(lastID, rows int64, lastHash string) string {
	return c.mac(func(w *encoder) {
		w.str("sspr-audit-head-v2")
		w.num(lastID)
		w.num(rows)
		w.str(lastHash)
	})
}

// authentic reports whether r's MAC matches its content and the link it
// names, whatever row precedes it in the table.
func (c *Chain) authentic(r store.AuditRow) bool {
	return hmac.Equal([]byte(c.rowMAC(r.PrevHash, fromRow(r))), []byte(r.Hash))
}

// Append adds e to the end of the chain and returns it with ID, PrevHash and
// Hash filled in. It takes a transaction because the read of the head and the
// insert must not interleave with another append: the head is read through
// store.LockAuditHead, which holds it for tx, so appends from every process
// on the store queue and stay one chain. The entry is recorded exactly when
// the caller's transaction commits.
func (c *Chain) Append(ctx context.Context, tx *store.Tx, e Entry) (Entry, error) {
	if tx == nil {
		return Entry{}, errors.New("audit append: no transaction")
	}
	if err := Check(e); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	e.At = time.Unix(e.At.Unix(), 0).UTC()

	// Link to the head, not to whatever row is last now: if rows were cut
	// from the end, the new row still points at the missing one and the gap
	// stays visible. Take the id past any row that was slipped in, too.
	head, maxID, err := store.LockAuditHead(ctx, tx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		head = store.AuditHead{LastHash: ZeroHash}
	case err != nil:
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	e.ID = max(head.LastID, maxID) + 1
	e.PrevHash = head.LastHash
	e.Hash = c.rowMAC(e.PrevHash, e)

	rows := head.Rows + 1
	if err := store.AppendAuditRow(ctx, tx, toRow(e), store.AuditHead{LastID: e.ID, LastHash: e.Hash, Rows: rows,
		MAC: c.headMAC(e.ID, rows, e.Hash)}); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	return e, nil
}

// Check reports what makes e unfit to append (ErrInvalidEntry): no time,
// no event, or a detail over MaxDetail.
func Check(e Entry) error {
	if e.At.IsZero() {
		return fmt.Errorf("%w: no time", ErrInvalidEntry)
	}
	if e.Event == "" {
		return fmt.Errorf("%w: no event", ErrInvalidEntry)
	}
	if len(e.Detail) > MaxDetail {
		return fmt.Errorf("%w: detail is %d bytes, the limit is %d", ErrInvalidEntry, len(e.Detail), MaxDetail)
	}
	return nil
}

func (c *Chain) setHead(ctx context.Context, tx *store.Tx, lastID int64, lastHash string, rows int64) error {
	return store.SetAuditHead(ctx, tx, store.AuditHead{LastID: lastID, LastHash: lastHash, Rows: rows,
		MAC: c.headMAC(lastID, rows, lastHash)})
}

// hashEntry is the link of the chain before it had a key:
// hex(SHA-256(prev_hash || content)), where content encodes a version tag and
// every field with a length prefix. Only the re-keying of such a log (Rekey)
// still checks it.
func hashEntry(e Entry) string {
	w := encoder{buf: []byte(e.PrevHash)}
	w.str("sspr-audit-v1")
	w.num(e.ID)
	w.num(e.At.Unix())
	for _, s := range []string{string(e.Event), e.Actor, e.Target, e.Source, e.Outcome, e.Detail} {
		w.str(s)
	}
	sum := sha256.Sum256(w.buf)
	return hex.EncodeToString(sum[:])
}

func toRow(e Entry) store.AuditRow {
	return store.AuditRow{ID: e.ID, At: e.At.Unix(), Event: string(e.Event), Actor: e.Actor, Target: e.Target,
		Source: e.Source, Outcome: e.Outcome, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
}

func fromRow(r store.AuditRow) Entry {
	return Entry{ID: r.ID, At: time.Unix(r.At, 0).UTC(), Event: Event(r.Event), Actor: r.Actor, Target: r.Target,
		Source: r.Source, Outcome: r.Outcome, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
}

// Filter narrows List. Zero values mean no filter.
type Filter struct {
	// Target and Actor match exactly.
	Target string
	Actor  string
	// Events keeps only these events.
	Events []Event
	// Since keeps entries at or after this time; Until keeps those before it.
	Since time.Time
	Until time.Time
	// Limit caps the entries; 0 means no cap.
	Limit  int
	Offset int
}

// List returns the entries f selects, newest first.
func List(ctx context.Context, h store.Handler, f Filter) ([]Entry, error) {
	sf := store.AuditFilter{Target: f.Target, Actor: f.Actor, Events: eventStrings(f.Events),
		Since: unixOrZero(f.Since), Until: unixOrZero(f.Until), Limit: f.Limit, Offset: f.Offset}
	rows, err := store.ListAudit(ctx, h, sf)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// CountByDay counts entries per UTC day ("2006-01-02") and event with
// since <= at < until. No events means every event; a zero since or until
// leaves that end open.
func CountByDay(ctx context.Context, h store.Handler, events []Event, since, until time.Time) (map[string]map[Event]int, error) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !since.IsZero() {
		lo = since.Unix()
	}
	if !until.IsZero() {
		hi = until.Unix()
	}
	counts, err := store.CountAuditByDay(ctx, h, eventStrings(events), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("count audit: %w", err)
	}
	out := map[string]map[Event]int{}
	for _, c := range counts {
		day := out[c.Day]
		if day == nil {
			day = map[Event]int{}
			out[c.Day] = day
		}
		day[Event(c.Event)] = c.Count
	}
	return out, nil
}

func eventStrings(events []Event) []string {
	if len(events) == 0 {
		return nil
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	return out
}

// unixOrZero maps the zero time to 0, which the store reads as no bound.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// String renders an entry on one line for logs and the CLI.
func (e Entry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s actor=%q target=%q source=%q outcome=%q", e.ID,
		e.At.UTC().Format(time.RFC3339), e.Event, e.Actor, e.Target, e.Source, e.Outcome)
	if e.Detail != "" {
		fmt.Fprintf(&b, " detail=%q", e.Detail)
	}
	return b.String()
}
