package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// Export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// ErrUnknownFormat means Export was asked for a format it does not write.
var ErrUnknownFormat = errors.New("unknown export format")

// Record is the exported form of an entry: one JSON object per line in
// jsonl, one row per entry in csv (with these names as the header).
// PrevHash and Hash are the chain links (Entry.PrevHash, Entry.Hash): with
// the key, an export can be checked on its own.
type Record struct {
	ID       int64  `json:"id"`
	At       string `json:"at"` // RFC 3339, UTC
	Event    string `json:"event"`
	Actor    string `json:"actor"`
	Target   string `json:"target"`
	Source   string `json:"source"`
	Outcome  string `json:"outcome"`
	Detail   string `json:"detail"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// csvHeader is the first row of a csv export.
var csvHeader = []string{"id", "at", "event", "actor", "target", "source", "outcome", "detail", "prev_hash", "hash"}

// Export writes the whole log to w, oldest first, as "jsonl" or "csv". Rows
// stream from the store one at a time, so a large log is never held in
// memory.
//
// In csv, a cell that a spreadsheet would run as a formula (starting with
// =, +, -, @, tab or carriage return) gets a leading apostrophe, because
// usernames and details are user-controlled and admins open these files in
// spreadsheets. Use jsonl for a byte-exact copy.
func Export(ctx context.Context, h store.Handler, w io.Writer, format string) error {
	bw := bufio.NewWriter(w)
	var write func(Record) error
	var flush func() error
	switch format {
	case FormatJSONL:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		write = func(r Record) error { return enc.Encode(r) }
		flush = bw.Flush
	case FormatCSV:
		cw := csv.NewWriter(bw)
		if err := cw.Write(csvHeader); err != nil {
			return fmt.Errorf("export audit: %w", err)
		}
		write = func(r Record) error {
			return cw.Write([]string{strconv.FormatInt(r.ID, 10), r.At, guard(r.Event), guard(r.Actor),
				guard(r.Target), guard(r.Source), guard(r.Outcome), guard(r.Detail), r.PrevHash, r.Hash})
		}
		flush = func() error {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			return bw.Flush()
		}
	default:
		return fmt.Errorf("export audit: %w %q; use %s or %s", ErrUnknownFormat, format, FormatJSONL, FormatCSV)
	}
	err := store.EachAudit(ctx, h, func(r store.AuditRow) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return write(recordOf(fromRow(r)))
	})
	if err != nil {
		return fmt.Errorf("export audit: %w", err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("export audit: %w", err)
	}
	return nil
}

func recordOf(e Entry) Record {
	return Record{ID: e.ID, At: e.At.UTC().Format(time.RFC3339), Event: string(e.Event), Actor: e.Actor,
		Target: e.Target, Source: e.Source, Outcome: e.Outcome, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
}

// guard defuses spreadsheet formula injection (OWASP "CSV Injection").
func guard(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
