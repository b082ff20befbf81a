package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// rekeyBatch is how many rows Rekey reads at a time.
const rekeyBatch = 500

// unkeyedIntact is the marker row's word for an unkeyed chain that verified.
const unkeyedIntact = "intact"

// keyedDetail is the Detail of the EventChainKeyed row.
type keyedDetail struct {
	// Rekeyed is how many rows were written before the key and re-keyed.
	Rekeyed int64 `json:"rekeyed_rows"`
	// Unkeyed is what checking their SHA-256 chain found: unkeyedIntact,
	// or the problem, which Verify then keeps reporting.
	Unkeyed string `json:"unkeyed_chain"`
}

// Rekeyed says what Rekey did.
type Rekeyed struct {
	// Rows is how many rows were re-keyed; 0 when there was nothing to do.
	Rows int64
	// KeyedFrom is the id of the row that marks the start of the keyed
	// chain (EventChainKeyed); 0 when nothing was done.
	KeyedFrom int64
	// Unkeyed is what the check of the old chain found; "" when it was
	// intact.
	Unkeyed string
	// Refused is true when the log looks as if it was never keyed although
	// the checkpoint shows it was: its head lost its MAC to tampering or a
	// replaced database, and re-keying would bless whatever was done to it.
	// Nothing is changed; Verify reports what it finds.
	Refused bool
}

// Rekey brings a log written before the chain had a key under the key, once:
// it checks the old SHA-256 chain and head, re-MACs every row in order, and
// appends an EventChainKeyed row that records how many rows it re-keyed and
// what the check found, so that a break in the old chain stays visible and
// Verify can say from which row on the log was keyed as it was written. A
// log already keyed, or empty, is left alone; so is one that a checkpoint
// at checkpointPath shows was keyed before. It runs in one write
// transaction, so of several processes starting together one re-keys and
// the others then find the work done.
func (c *Chain) Rekey(ctx context.Context, db *store.DB, now time.Time, checkpointPath string) (Rekeyed, error) {
	var out Rekeyed
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		out = Rekeyed{}
		// The head as read for an append, MAC included: this must not
		// interleave with one.
		_, maxID, err := store.LockAuditHead(ctx, tx)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		head, err := store.AuditHeadOf(ctx, tx)
		hasHead := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		empty := maxID == 0 && head.LastID == 0 && head.Rows == 0
		if hasHead && head.MAC != "" || empty {
			return nil
		}
		if checkpointPath != "" {
			if _, err := os.Stat(checkpointPath); err == nil {
				out.Refused = true
				return nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		rep, err := verifyUnkeyed(ctx, tx)
		if err != nil {
			return err
		}
		prev, last := ZeroHash, int64(0)
		for {
			rows, err := store.AuditRowsAfter(ctx, tx, last, rekeyBatch)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				break
			}
			for _, r := range rows {
				mac := c.rowMAC(prev, fromRow(r))
				if err := store.SetAuditLinks(ctx, tx, r.ID, prev, mac); err != nil {
					return err
				}
				prev, last = mac, r.ID
				out.Rows++
			}
		}
		detail := keyedDetail{Rekeyed: out.Rows, Unkeyed: unkeyedIntact}
		outcome := OutcomeOK
		if !rep.OK {
			detail.Unkeyed, outcome = rep.Problem, OutcomeFailed
			out.Unkeyed = rep.Problem
		}
		d, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		marker := Entry{ID: last + 1, At: time.Unix(now.Unix(), 0).UTC(), Event: EventChainKeyed, Actor: "system",
			Target: "audit", Source: "sspr", Outcome: outcome, Detail: string(d), PrevHash: prev}
		marker.Hash = c.rowMAC(prev, marker)
		if err := store.InsertAudit(ctx, tx, toRow(marker)); err != nil {
			return err
		}
		out.KeyedFrom = marker.ID
		return c.setHead(ctx, tx, marker.ID, marker.Hash, out.Rows+1)
	})
	if err != nil {
		return Rekeyed{}, fmt.Errorf("re-key audit log: %w", err)
	}
	return out, nil
}

// unkeyedReport is what verifyUnkeyed found: the first break of a chain
// written before the key, if any.
type unkeyedReport struct {
	OK      bool
	Problem string
}

// verifyUnkeyed checks a log written before the chain had a key: SHA-256
// links (hashEntry) and a head without a MAC. It reports the first break.
func verifyUnkeyed(ctx context.Context, h store.Handler) (unkeyedReport, error) {
	var (
		rep     unkeyedReport
		rows    int64
		head    store.AuditHead
		hasHead bool
		prev    = ZeroHash
		prevID  int64
	)
	fail := func(format string, args ...any) {
		if rep.Problem == "" {
			rep.Problem = fmt.Sprintf(format, args...)
		}
	}
	err := store.AuditSnapshot(ctx, h,
		func(hd store.AuditHead, ok bool) error {
			head, hasHead = hd, ok
			return nil
		},
		func(r store.AuditRow) error {
			rows++
			e := fromRow(r)
			switch {
			case e.PrevHash != prev && prevID == 0:
				fail("row %d is the first row but does not start the chain (rows before it were deleted)", e.ID)
			case e.PrevHash != prev:
				fail("row %d does not link to row %d (a row between them was deleted or inserted, or row %d was rewritten)",
					e.ID, prevID, prevID)
			case hashEntry(e) != e.Hash:
				fail("row %d does not match its hash (it was edited)", e.ID)
			}
			prev, prevID = e.Hash, e.ID
			return nil
		})
	if err != nil {
		return unkeyedReport{}, err
	}
	switch {
	case !hasHead && rows > 0:
		fail("the chain head is missing although the log has %d rows", rows)
	case !hasHead:
	case rows == 0 && (head.Rows > 0 || head.LastID > 0):
		fail("the log is empty but the chain head expects %d rows ending at row %d", head.Rows, head.LastID)
	case rows == 0:
	case prevID != head.LastID || prev != head.LastHash:
		fail("the log ends at row %d but the chain head expects row %d (rows were deleted from the end or added after it)",
			prevID, head.LastID)
	case rows != head.Rows:
		fail("the log has %d rows but the chain head counts %d (rows were deleted or inserted)", rows, head.Rows)
	}
	rep.OK = rep.Problem == ""
	return rep, nil
}
