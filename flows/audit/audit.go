// Package audit records every security event in a hash-chained log: each row
// holds the SHA-256 of the previous row's hash and its own content, and a
// separate head row holds the newest hash and the row count, so Verify
// notices a row that was edited, inserted or deleted anywhere, the end
// included.
//
// The chain proves the log was not changed by anyone who cannot also
// recompute every later hash and the head; it is evidence of tampering, not
// a defence against someone who controls the whole database file.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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
)

// AllEvents returns every event this version records, for filters and reports.
func AllEvents() []Event {
	return []Event{
		EventMethodRegistered, EventMethodUpdated, EventMethodRemoved, EventInfoConfirmed, EventReregistrationRequired,
		EventRegistrationPostponed,
		EventVerifySucceeded, EventVerifyFailed, EventCodeSent, EventCodeSendFailed,
		EventSignIn, EventSignInFailed,
		EventBlockApplied, EventBlockCleared,
		EventPasswordReset, EventPasswordChanged, EventUserUnlocked,
		EventVoucherIssued, EventVoucherUsed,
		EventAdminSignIn, EventAdminSignInFailed, EventPolicyChanged,
		EventUserCreated, EventUserUpdated, EventUserDisabled, EventUserEnabled, EventAdminGranted, EventAdminRevoked,
		EventGroupCreated, EventGroupMemberAdded, EventGroupMemberRemoved,
		EventAuditExported,
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

// Errors of Append; test with errors.Is.
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
	// PrevHash and Hash are the chain links, set by Append.
	PrevHash string
	Hash     string
}

// Append adds e to the end of the chain and returns it with ID, PrevHash and
// Hash filled in. It takes a transaction because the read of the head and the
// insert must not interleave with another append; the store's write
// transactions take the write lock at BEGIN, so appends queue. The entry is
// recorded exactly when the caller's transaction commits.
func Append(ctx context.Context, tx *store.Tx, e Entry) (Entry, error) {
	if tx == nil {
		return Entry{}, errors.New("audit append: no transaction")
	}
	if e.At.IsZero() {
		return Entry{}, fmt.Errorf("audit append: %w: no time", ErrInvalidEntry)
	}
	if e.Event == "" {
		return Entry{}, fmt.Errorf("audit append: %w: no event", ErrInvalidEntry)
	}
	if len(e.Detail) > MaxDetail {
		return Entry{}, fmt.Errorf("audit append: %w: detail is %d bytes, the limit is %d",
			ErrInvalidEntry, len(e.Detail), MaxDetail)
	}
	e.At = time.Unix(e.At.Unix(), 0).UTC()

	head, err := store.AuditHeadOf(ctx, tx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		head = store.AuditHead{LastHash: ZeroHash}
	case err != nil:
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	// Link to the head, not to whatever row is last now: if rows were cut
	// from the end, the new row still points at the missing one and the gap
	// stays visible. Take the id past any row that was slipped in, too.
	maxID, err := store.MaxAuditID(ctx, tx)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	e.ID = max(head.LastID, maxID) + 1
	e.PrevHash = head.LastHash
	e.Hash = hashEntry(e)

	if err := store.InsertAudit(ctx, tx, toRow(e)); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	if err := store.SetAuditHead(ctx, tx, store.AuditHead{LastID: e.ID, LastHash: e.Hash, Rows: head.Rows + 1}); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	return e, nil
}

// hashEntry is hex(SHA-256(prev_hash || content)), where content encodes a
// version tag and every field with a length prefix, so no two different rows
// encode alike whatever bytes their fields hold.
func hashEntry(e Entry) string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	writeField := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	writeInt := func(n int64) {
		writeField(binary.BigEndian.AppendUint64(nil, uint64(n)))
	}
	writeField([]byte("sspr-audit-v1"))
	writeInt(e.ID)
	writeInt(e.At.Unix())
	for _, s := range []string{string(e.Event), e.Actor, e.Target, e.Source, e.Outcome, e.Detail} {
		writeField([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func toRow(e Entry) store.AuditRow {
	return store.AuditRow{ID: e.ID, At: e.At.Unix(), Event: string(e.Event), Actor: e.Actor, Target: e.Target,
		Source: e.Source, Outcome: e.Outcome, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
}

func fromRow(r store.AuditRow) Entry {
	return Entry{ID: r.ID, At: time.Unix(r.At, 0).UTC(), Event: Event(r.Event), Actor: r.Actor, Target: r.Target,
		Source: r.Source, Outcome: r.Outcome, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
}

// Report is the result of Verify.
type Report struct {
	// Rows is how many rows were checked.
	Rows int
	// OK is true when the chain and the head agree throughout.
	OK bool
	// BadID is the first row where the chain breaks (for a cut-off end, the
	// last id the head expects); 0 when OK.
	BadID int64
	// Problem says what is wrong, in one sentence; empty when OK.
	Problem string
}

// Verify walks the whole log, oldest first, and reports the first place
// where a row was edited, inserted or deleted. It reads the head and the rows
// in one statement, so appends running meanwhile do not cause false alarms.
// The error is for failures to read; a broken chain is a Report, not an error.
func Verify(ctx context.Context, h store.Handler) (Report, error) {
	var (
		rep     Report
		head    store.AuditHead
		hasHead bool
		prev    = ZeroHash
		prevID  int64
	)
	fail := func(id int64, format string, args ...any) {
		if rep.Problem == "" {
			rep.BadID = id
			rep.Problem = fmt.Sprintf(format, args...)
		}
	}
	err := store.AuditSnapshot(ctx, h,
		func(hd store.AuditHead, ok bool) error {
			head, hasHead = hd, ok
			return nil
		},
		func(r store.AuditRow) error {
			rep.Rows++
			e := fromRow(r)
			switch {
			case e.PrevHash != prev && prevID == 0:
				fail(e.ID, "row %d is the first row but does not start the chain (rows before it were deleted)", e.ID)
			case e.PrevHash != prev:
				fail(e.ID, "row %d does not link to row %d (a row between them was deleted or inserted, or row %d was rewritten)",
					e.ID, prevID, prevID)
			case hashEntry(e) != e.Hash:
				fail(e.ID, "row %d does not match its hash (it was edited)", e.ID)
			}
			// Follow the stored hash, so that one edited row is reported once
			// and the rest of the chain is still checked against itself.
			prev, prevID = e.Hash, e.ID
			return nil
		})
	if err != nil {
		return Report{}, fmt.Errorf("verify audit: %w", err)
	}
	switch {
	case !hasHead && rep.Rows > 0:
		fail(prevID, "the chain head is missing although the log has %d rows", rep.Rows)
	case !hasHead:
	case rep.Rows == 0:
		fail(head.LastID, "the log is empty but the chain head expects %d rows ending at row %d", head.Rows, head.LastID)
	case prevID != head.LastID || prev != head.LastHash:
		fail(head.LastID, "the log ends at row %d but the chain head expects row %d (rows were deleted from the end or added after it)",
			prevID, head.LastID)
	case int64(rep.Rows) != head.Rows:
		fail(head.LastID, "the log has %d rows but the chain head counts %d (rows were deleted or inserted)", rep.Rows, head.Rows)
	}
	rep.OK = rep.Problem == ""
	return rep, nil
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
