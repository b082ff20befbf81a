package audit

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sspr-kiosk/sspr/store"
)

// Finding is one thing Verify found wrong with the log.
type Finding struct {
	// ID is the row it is about: the first of the rows it names, or for a
	// cut-off end the last row the head or the checkpoint names; 0 when it
	// is about the log as a whole.
	ID int64
	// Text says what was found in one sentence that names the rows, such as
	// "row 17 was edited (MAC mismatch)".
	Text string
}

// Report is the result of Verify.
type Report struct {
	// Rows is how many rows were checked.
	Rows int
	// OK is true when nothing was found.
	OK bool
	// BadID and Problem repeat the first finding; 0 and "" when OK.
	BadID   int64
	Problem string
	// Findings lists everything found, rows in order first, then the head
	// and the checkpoint.
	Findings []Finding
	// KeyedFrom is the first row written under the key: the rows before it
	// were written before sspr had one, and re-keyed (Rekey) after their
	// SHA-256 chain was checked. 1 for a log keyed from its start, 0 for an
	// empty one.
	KeyedFrom int64
	// Checkpoint is the checkpoint the log was compared with; nil when
	// there is none (yet), or it could not be trusted (a finding says so).
	Checkpoint *Checkpoint
}

// Verify walks the whole log, oldest first, and reports every place where a
// row was edited, inserted, deleted or moved, whether the head still
// matches, and whether the log still holds everything the checkpoint at
// checkpointPath pinned; "" skips the checkpoint. It reads the head and the
// rows in one statement, so appends running meanwhile do not cause false
// alarms, and holds at most two rows at a time. The error is for failures
// to read; a broken log is a Report, not an error.
func (c *Chain) Verify(ctx context.Context, h store.Handler, checkpointPath string) (Report, error) {
	w := &walker{c: c, expected: ZeroHash}
	if checkpointPath != "" {
		cp, ok, err := c.ReadCheckpoint(checkpointPath)
		switch {
		case errors.Is(err, ErrCheckpoint):
			reason := err.Error()
			if i := strings.LastIndex(reason, ErrCheckpoint.Error()+": "); i >= 0 {
				reason = reason[i+len(ErrCheckpoint.Error())+2:]
			}
			w.note(0, "the checkpoint cannot be trusted: %s", reason)
		case err != nil:
			return Report{}, fmt.Errorf("verify audit: %w", err)
		case ok:
			w.cp = &cp
		}
	}
	err := store.AuditSnapshot(ctx, h,
		func(hd store.AuditHead, ok bool) error {
			w.head, w.hasHead = hd, ok
			return nil
		},
		func(r store.AuditRow) error {
			w.push(r)
			return nil
		})
	if err != nil {
		return Report{}, fmt.Errorf("verify audit: %w", err)
	}
	return w.finish(), nil
}

// walker checks the rows as they stream past, one row of lookahead: that is
// enough to tell an edited row from an inserted one and a swap from a gap.
type walker struct {
	c       *Chain
	head    store.AuditHead
	hasHead bool
	cp      *Checkpoint

	// expected is the MAC the next row of the chain must link to, and prevID
	// the id of the row the chain last went through (0 before the first).
	expected string
	prevID   int64
	// rows, lastID and lastHash describe the rows read so far.
	rows     int
	lastID   int64
	lastHash string
	// cpRow is the row at the checkpoint's last id, and cpRows the number
	// of rows up to it, once read.
	cpRow  *store.AuditRow
	cpRows int64

	buf       []store.AuditRow
	found     []finding
	keyedFrom int64
}

// finding is a Finding before its text is made, so that a run of edited
// rows can grow into one finding.
type finding struct {
	edited   bool
	from, to int64
	text     string
}

func (w *walker) note(id int64, format string, args ...any) {
	w.found = append(w.found, finding{from: id, to: id, text: fmt.Sprintf(format, args...)})
}

func (w *walker) edited(id int64) {
	if n := len(w.found); n > 0 && w.found[n-1].edited && w.found[n-1].to == id-1 {
		w.found[n-1].to = id
		return
	}
	w.found = append(w.found, finding{edited: true, from: id, to: id})
}

func (w *walker) push(r store.AuditRow) {
	w.rows++
	w.lastID, w.lastHash = r.ID, r.Hash
	if w.cp != nil && r.ID <= w.cp.LastID {
		w.cpRows++
		if r.ID == w.cp.LastID {
			row := r
			w.cpRow = &row
		}
	}
	w.buf = append(w.buf, r)
	if len(w.buf) == 2 {
		n := w.step(w.buf[0], &w.buf[1])
		w.buf = append(w.buf[:0], w.buf[n:]...)
	}
}

// step checks cur, the oldest row not checked yet, given the row after it
// (nil at the end), and returns how many of the two it has accounted for.
func (w *walker) step(cur store.AuditRow, next *store.AuditRow) int {
	auth := w.c.authentic(cur)
	linked := cur.PrevHash == w.expected
	switch {
	case auth && linked:
		w.follow(cur)
		return 1
	case next != nil && w.swapped(cur, *next, auth, linked):
		w.note(cur.ID, "rows %d and %d swapped (out of order)", cur.ID, next.ID)
		w.prevID = next.ID
		return 2
	case w.bypassed(cur, next):
		// The chain goes around cur: it was slipped in. It takes up an id,
		// so the rows after it are not reported as renumbered too.
		w.note(cur.ID, "row inserted at %d", cur.ID)
		w.prevID = cur.ID
		return 1
	case !auth:
		w.edited(cur.ID)
		w.checkID(cur)
		// Go on from the link the next row names: a row changed and its
		// MAC recomputed without the key is one edit, not an edit and a gap.
		w.prevID, w.expected = cur.ID, cur.Hash
		if next != nil {
			w.expected = next.PrevHash
		}
		return 1
	case w.prevID == 0:
		w.note(cur.ID, "rows missing before %d (the first row links to a row that is gone)", cur.ID)
	default:
		w.note(cur.ID, "rows missing between %d and %d", w.prevID, cur.ID)
	}
	w.prevID, w.expected = cur.ID, cur.Hash
	return 1
}

// follow takes an intact row into the chain.
func (w *walker) follow(r store.AuditRow) {
	w.checkID(r)
	w.prevID, w.expected = r.ID, r.Hash
	if r.Event == string(EventChainKeyed) && w.keyedFrom == 0 {
		w.keyedFrom = r.ID
		var d keyedDetail
		if err := json.Unmarshal([]byte(r.Detail), &d); err == nil && d.Unkeyed != unkeyedIntact {
			w.note(r.ID, "before the chain was keyed at row %d, its unkeyed SHA-256 chain was already broken: %s",
				r.ID, d.Unkeyed)
		}
	}
}

// checkID reports ids that do not follow each other. The MAC leaves the id
// out (see rowMAC), so this is what pins each row's id to its place.
func (w *walker) checkID(r store.AuditRow) {
	switch {
	case w.prevID == 0 && r.ID != 1:
		w.note(r.ID, "rows missing before %d (the log starts at row %d)", r.ID, r.ID)
	case w.prevID != 0 && r.ID != w.prevID+1:
		w.note(r.ID, "rows missing between %d and %d", w.prevID, r.ID)
	}
}

// swapped reports whether cur and next are two neighbours in the wrong
// order: either the rows changed places (ids exchanged) or their contents
// did (links left in place). It moves the chain past both.
func (w *walker) swapped(cur, next store.AuditRow, auth, linked bool) bool {
	switch {
	case auth && !linked && next.Hash == cur.PrevHash && next.PrevHash == w.expected && w.c.authentic(next):
		w.expected = cur.Hash
		return true
	case !auth && linked && next.PrevHash == cur.Hash &&
		hmac.Equal([]byte(w.c.rowMAC(cur.PrevHash, fromRow(next))), []byte(cur.Hash)) &&
		hmac.Equal([]byte(w.c.rowMAC(next.PrevHash, fromRow(cur))), []byte(next.Hash)):
		w.expected = next.Hash
		return true
	}
	return false
}

// bypassed reports whether the chain skips cur: the next row links to the
// row before it, or, at the end, the head does while cur lies beyond it.
func (w *walker) bypassed(cur store.AuditRow, next *store.AuditRow) bool {
	if next != nil {
		return next.PrevHash == w.expected
	}
	return w.headTrusted() && w.head.LastHash == w.expected && w.head.LastID < cur.ID
}

func (w *walker) headTrusted() bool {
	return w.hasHead && w.head.MAC != "" &&
		hmac.Equal([]byte(w.c.headMAC(w.head.LastID, w.head.Rows, w.head.LastHash)), []byte(w.head.MAC))
}

func (w *walker) finish() Report {
	for len(w.buf) > 0 {
		var next *store.AuditRow
		if len(w.buf) > 1 {
			next = &w.buf[1]
		}
		n := w.step(w.buf[0], next)
		w.buf = w.buf[n:]
	}
	w.checkHead()
	w.checkCheckpoint()

	rep := Report{Rows: w.rows, KeyedFrom: w.keyedFrom, Checkpoint: w.cp}
	if rep.KeyedFrom == 0 && w.rows > 0 {
		rep.KeyedFrom = 1
	}
	for _, f := range w.found {
		text := f.text
		switch {
		case f.edited && f.from == f.to:
			text = fmt.Sprintf("row %d was edited (MAC mismatch)", f.from)
		case f.edited:
			text = fmt.Sprintf("rows %d to %d were edited (MAC mismatch)", f.from, f.to)
		}
		rep.Findings = append(rep.Findings, Finding{ID: f.from, Text: text})
	}
	rep.OK = len(rep.Findings) == 0
	if !rep.OK {
		rep.BadID, rep.Problem = rep.Findings[0].ID, rep.Findings[0].Text
	}
	return rep
}

// checkHead compares the head with the rows read.
func (w *walker) checkHead() {
	hd := w.head
	switch {
	case !w.hasHead:
		if w.rows > 0 {
			w.note(w.lastID, "the head is missing")
		}
	case hd.MAC == "":
		// A store's first head is written by a migration, which has no key.
		if hd.LastID != 0 || hd.Rows != 0 || w.rows != 0 {
			w.note(hd.LastID, "head does not match (it has no MAC: the log was never keyed, or its head was replaced)")
		}
	case !w.headTrusted():
		w.note(hd.LastID, "head does not match (MAC mismatch)")
	case w.rows == 0 && hd.Rows > 0:
		w.note(hd.LastID, "the audit table was emptied (the head says %d rows)", hd.Rows)
	case w.lastID < hd.LastID:
		w.note(hd.LastID, "rows missing after %d (the head says %d rows, ending at row %d)", w.lastID, hd.Rows, hd.LastID)
	case w.lastID > hd.LastID:
		w.note(hd.LastID+1, "head does not match: the log goes on to row %d, the head ends at row %d", w.lastID, hd.LastID)
	case w.lastHash != hd.LastHash:
		w.note(hd.LastID, "head does not match row %d", hd.LastID)
	case int64(w.rows) != hd.Rows:
		w.note(hd.LastID, "head does not match: the log has %d rows, the head counts %d", w.rows, hd.Rows)
	}
}

// checkCheckpoint compares the rows read with the checkpoint: the log must
// still hold every row it pinned, and the chain must run through the MAC it
// pinned, so a log cut back or wiped together with its head is found.
func (w *walker) checkCheckpoint() {
	cp := w.cp
	switch {
	case cp == nil || cp.Rows == 0:
	case w.rows == 0:
		w.note(cp.LastID, "the audit table was emptied (checkpoint says %d rows)", cp.Rows)
	case w.lastID < cp.LastID:
		w.note(cp.LastID, "rows missing after %d (checkpoint says %d rows)", w.lastID, cp.Rows)
	case w.cpRow == nil:
		w.note(cp.LastID, "row %d, the last the checkpoint names, is missing", cp.LastID)
	case !hmac.Equal([]byte(w.c.headMAC(cp.LastID, cp.Rows, w.cpRow.Hash)), []byte(cp.MAC)):
		w.note(cp.LastID, "the log does not match the checkpoint at row %d (rows up to it were changed)", cp.LastID)
	case w.cpRows != cp.Rows:
		w.note(cp.LastID, "the log has %d rows up to row %d, the checkpoint says %d", w.cpRows, cp.LastID, cp.Rows)
	}
}
