package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// CheckpointFile is the checkpoint's name in the data folder, beside
// sspr.key: whoever can change it can read the key, and so gains nothing
// from changing it.
const CheckpointFile = "audit.checkpoint"

// maxCheckpointSize bounds the read; a real checkpoint is about 250 bytes.
const maxCheckpointSize = 4096

// checkpointVersion is the format written; others are refused.
const checkpointVersion = 1

// Errors of the checkpoint; test with errors.Is.
var (
	// ErrCheckpoint means the checkpoint file exists but cannot be used:
	// it does not parse, or its MAC does not match (altered, or written
	// under another key).
	ErrCheckpoint = errors.New("unusable audit checkpoint")
	// ErrHeadMismatch means the head in the database does not match its
	// MAC, so it is not written to the checkpoint.
	ErrHeadMismatch = errors.New("audit head does not match its MAC")
	// ErrNotExtended means the log no longer holds what the checkpoint
	// pinned (rows cut off, wiped or rewritten), so the checkpoint is kept
	// as it is, as evidence.
	ErrNotExtended = errors.New("audit log no longer extends its checkpoint")
)

// Head is where the chain ends: as the checkpoint pins it and the server log
// shows it.
type Head struct {
	// Rows is how many rows the log holds.
	Rows int64
	// LastID is the id of the newest row; 0 for an empty log.
	LastID int64
	// MAC is the head's MAC, over LastID, Rows and the newest row's MAC.
	MAC string
}

// ShortMAC is the start of the MAC, enough to compare a log line with a
// checkpoint or another replica's log by eye.
func (h Head) ShortMAC() string {
	return h.MAC[:min(len(h.MAC), 12)]
}

// Checkpoint pins the head outside the database, MAC'd with the chain key.
type Checkpoint struct {
	Head
	// At is when it was written, to the second.
	At time.Time
	// Sum is the checkpoint's own MAC over the other fields.
	Sum string
}

// checkpointJSON is the file's form.
type checkpointJSON struct {
	Version int    `json:"version"`
	Rows    int64  `json:"rows"`
	LastID  int64  `json:"last_id"`
	Head    string `json:"head"`
	At      string `json:"at"`
	MAC     string `json:"mac"`
}

// ParseCheckpoint reads a checkpoint file's content. It checks the form
// only; ReadCheckpoint also checks the MAC.
func ParseCheckpoint(data []byte) (Checkpoint, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j checkpointJSON
	if err := dec.Decode(&j); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if dec.More() {
		return Checkpoint{}, fmt.Errorf("%w: data after the checkpoint", ErrCheckpoint)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Checkpoint{}, fmt.Errorf("%w: data after the checkpoint", ErrCheckpoint)
	}
	if j.Version != checkpointVersion {
		return Checkpoint{}, fmt.Errorf("%w: version %d, want %d", ErrCheckpoint, j.Version, checkpointVersion)
	}
	if j.Rows < 0 || j.LastID < 0 || j.Rows > j.LastID {
		return Checkpoint{}, fmt.Errorf("%w: %d rows ending at row %d", ErrCheckpoint, j.Rows, j.LastID)
	}
	if !isMAC(j.Head) || !isMAC(j.MAC) {
		return Checkpoint{}, fmt.Errorf("%w: head and mac must be 64 hex digits", ErrCheckpoint)
	}
	at, err := time.Parse(time.RFC3339, j.At)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: at: %v", ErrCheckpoint, err)
	}
	// The MAC covers whole seconds, so that is all a checkpoint holds.
	return Checkpoint{Head: Head{Rows: j.Rows, LastID: j.LastID, MAC: j.Head}, At: at.Truncate(time.Second).UTC(),
		Sum: j.MAC}, nil
}

func isMAC(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && hex.EncodeToString(b) == s
}

// marshal is the file's content for cp.
func (cp Checkpoint) marshal() []byte {
	b, _ := json.Marshal(checkpointJSON{Version: checkpointVersion, Rows: cp.Rows, LastID: cp.LastID, Head: cp.MAC,
		At: cp.At.UTC().Format(time.RFC3339), MAC: cp.Sum}) // cannot fail: no maps, no floats
	return append(b, '\n')
}

// checkpointMAC authenticates a checkpoint's fields.
func (c *Chain) checkpointMAC(cp Checkpoint) string {
	return c.mac(func(w *encoder) {
		w.str("sspr-audit-checkpoint-v1")
		w.num(cp.Rows)
		w.num(cp.LastID)
		w.str(cp.MAC)
		w.num(cp.At.Unix())
	})
}

// ReadCheckpoint reads and checks the checkpoint at path; ok is false when
// there is none. A file that does not parse or whose MAC does not match is
// an error wrapping ErrCheckpoint.
func (c *Chain) ReadCheckpoint(path string) (cp Checkpoint, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("read audit checkpoint: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCheckpointSize+1))
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("read audit checkpoint: %w", err)
	}
	if len(data) > maxCheckpointSize {
		return Checkpoint{}, false, fmt.Errorf("read audit checkpoint: %w: over %d bytes", ErrCheckpoint, maxCheckpointSize)
	}
	cp, err = ParseCheckpoint(data)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("read audit checkpoint: %w", err)
	}
	if !hmac.Equal([]byte(c.checkpointMAC(cp)), []byte(cp.Sum)) {
		return Checkpoint{}, false, fmt.Errorf("read audit checkpoint: %w: MAC mismatch (altered, or written under another key)",
			ErrCheckpoint)
	}
	return cp, true, nil
}

// Checkpoint brings the checkpoint file at path up to the head of the log
// in h, if the head moved since it was written, and returns the head and
// whether it wrote. It never writes a head that does not match its MAC
// (ErrHeadMismatch), nor one that does not extend the checkpoint it
// replaces (ErrNotExtended): fewer rows, or another MAC at the row the old
// checkpoint named. So once written, a checkpoint only moves forward along
// one chain, and after the log was cut back, wiped or rewritten it stays as
// the evidence Verify compares with. A service runs this every minute and
// on its way out; removing the file (after restoring the database from a
// backup, say) lets the next run start again from the head.
func (c *Chain) Checkpoint(ctx context.Context, h store.Handler, path string, now time.Time) (Head, bool, error) {
	hd, err := store.AuditHeadOf(ctx, h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		hd = store.AuditHead{LastHash: ZeroHash}
	case err != nil:
		return Head{}, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	head := Head{Rows: hd.Rows, LastID: hd.LastID, MAC: c.headMAC(hd.LastID, hd.Rows, hd.LastHash)}
	// An empty log's head is written by a migration, without a MAC; the
	// computed one stands in, as there is nothing to protect yet.
	if (hd.Rows != 0 || hd.LastID != 0 || hd.MAC != "") && !hmac.Equal([]byte(head.MAC), []byte(hd.MAC)) {
		return head, false, fmt.Errorf("audit checkpoint: %w; the checkpoint is left as it is", ErrHeadMismatch)
	}
	old, ok, err := c.ReadCheckpoint(path)
	if err != nil {
		return head, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	if ok {
		if old.Head == head {
			return head, false, nil
		}
		if err := c.extends(ctx, h, old.Head, head); err != nil {
			return head, false, fmt.Errorf("audit checkpoint: %w", err)
		}
	}
	cp := Checkpoint{Head: head, At: time.Unix(now.Unix(), 0).UTC()}
	cp.Sum = c.checkpointMAC(cp)
	if err := writeFileAtomic(path, cp.marshal()); err != nil {
		return head, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	return head, true, nil
}

// extends reports whether the chain ending at head runs through old.
func (c *Chain) extends(ctx context.Context, h store.Handler, old, head Head) error {
	if head.Rows < old.Rows || head.LastID < old.LastID {
		return fmt.Errorf("%w: it says %d rows ending at row %d, the log has %d ending at row %d; run sspr audit verify",
			ErrNotExtended, old.Rows, old.LastID, head.Rows, head.LastID)
	}
	if old.Rows == 0 {
		return nil
	}
	r, err := store.AuditRowAt(ctx, h, old.LastID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: row %d, the last it names, is missing; run sspr audit verify", ErrNotExtended, old.LastID)
	}
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(c.headMAC(old.LastID, old.Rows, r.Hash)), []byte(old.MAC)) {
		return fmt.Errorf("%w: the log does not match it at row %d; run sspr audit verify", ErrNotExtended, old.LastID)
	}
	return nil
}

// writeFileAtomic replaces path with data: a private temporary file in the
// same folder, synced, then renamed over it, so a reader or a crash sees
// the old checkpoint or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	// CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename durable; best effort, as some platforms cannot sync
	// a folder and the file itself is already synced.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
