package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store"
)

// These tests tamper with a real SQLite file the way someone who can write
// the database but cannot read sspr.key would: plain SQL on a connection of
// their own, and, wherever a link must be recomputed, the SHA-256 link of
// the chain before it had a key (hashEntry), which was all it took then.
// Each kind of tampering must make Verify name what was done, and nothing
// else.

// folder is a data folder: the database and the checkpoint beside it.
type folder struct {
	dir string
	db  *store.DB
}

func (f *folder) checkpoint() string { return filepath.Join(f.dir, CheckpointFile) }

// newFolder makes a log of n rows, pinned by a checkpoint.
func newFolder(t *testing.T, n int) *folder {
	t.Helper()
	f := &folder{dir: t.TempDir()}
	f.db = openStoreAt(t, filepath.Join(f.dir, "sspr.db"))
	fill(t, f.db, n)
	f.pin(t)
	return f
}

// pin writes the checkpoint for the log as it is now.
func (f *folder) pin(t *testing.T) {
	t.Helper()
	if _, _, err := chain.Checkpoint(context.Background(), f.db, f.checkpoint(), t0); err != nil {
		t.Fatal(err)
	}
}

// attacker runs SQL on the database file on a connection of its own.
func (f *folder) attacker(t *testing.T, statements ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "sspr.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range statements {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// findings verifies the folder and returns the texts found.
func (f *folder) findings(t *testing.T) []string {
	t.Helper()
	rep, err := chain.Verify(context.Background(), f.db, f.checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range rep.Findings {
		out = append(out, fd.Text)
	}
	if rep.OK != (len(out) == 0) || !rep.OK && (rep.Problem != out[0] || rep.BadID != rep.Findings[0].ID) {
		t.Errorf("report does not agree with its findings: %+v", rep)
	}
	return out
}

func expectFindings(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// sha is a digest someone without the key can make, for a MAC they cannot.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestTamperedLogIsFound(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, f *folder)
		want   []string
	}{
		{
			name: "one row's detail edited",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `UPDATE audit SET detail = '{"n":"nothing happened"}' WHERE id = 17`)
			},
			want: []string{"row 17 was edited (MAC mismatch)"},
		},
		{
			name: "a row edited and every later link and the head recomputed with SHA-256",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `UPDATE audit SET detail = '{"n":"nothing happened"}' WHERE id = 17`)
				rows, err := store.AuditRowsAfter(ctx, f.db, 16, 1000)
				if err != nil {
					t.Fatal(err)
				}
				prev := rows[0].PrevHash
				var q []string
				for _, r := range rows {
					e := fromRow(r)
					e.PrevHash = prev
					h := hashEntry(e)
					q = append(q, fmt.Sprintf(`UPDATE audit SET prev_hash = '%s', hash = '%s' WHERE id = %d`, prev, h, r.ID))
					prev = h
				}
				q = append(q, fmt.Sprintf(`UPDATE audit_head SET last_hash = '%s', mac = '%s'`, prev, sha("57 57 "+prev)))
				f.attacker(t, q...)
			},
			want: []string{"rows 17 to 57 were edited (MAC mismatch)", "head does not match (MAC mismatch)",
				"the log does not match the checkpoint at row 57 (rows up to it were changed)"},
		},
		{
			name: "the last rows deleted and the head moved back",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `DELETE FROM audit WHERE id > 41`,
					`UPDATE audit_head SET last_id = 41, rows = 41, last_hash = (SELECT hash FROM audit WHERE id = 41)`)
			},
			want: []string{"head does not match (MAC mismatch)", "rows missing after 41 (checkpoint says 57 rows)"},
		},
		{
			name: "every row and the head deleted",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `DELETE FROM audit`, `DELETE FROM audit_head`)
			},
			want: []string{"the audit table was emptied (checkpoint says 57 rows)"},
		},
		{
			name: "every row deleted, the head left",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `DELETE FROM audit`)
			},
			want: []string{"the audit table was emptied (the head says 57 rows)",
				"the audit table was emptied (checkpoint says 57 rows)"},
		},
		{
			name: "a row inserted in the middle, the rows after it renumbered",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `UPDATE audit SET id = id + 1000 WHERE id >= 12`,
					`UPDATE audit SET id = id - 999 WHERE id >= 1012`,
					`INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
						SELECT 12, at, 'password.reset', 'mallory', 'admin', source, 'ok', '', hash, hash
						FROM audit WHERE id = 11`)
			},
			// The head and the checkpoint still name row 57 as the last: it
			// is row 58 now, and row 57 is the one that was row 56.
			want: []string{"row inserted at 12", "head does not match: the log goes on to row 58, the head ends at row 57",
				"the log does not match the checkpoint at row 57 (rows up to it were changed)"},
		},
		{
			name: "a row appended without the key",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
					SELECT 58, at + 60, 'password.reset', 'mallory', 'admin', source, 'ok', '', hash, hash
					FROM audit WHERE id = 57`)
			},
			want: []string{"row inserted at 58", "head does not match: the log goes on to row 58, the head ends at row 57"},
		},
		{
			name: "a copy of a row slipped in after it",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `UPDATE audit SET id = id + 1000 WHERE id >= 31`,
					`UPDATE audit SET id = id - 999 WHERE id >= 1031`,
					`INSERT INTO audit SELECT 31, at, event, actor, target, source, outcome, detail, prev_hash, hash
						FROM audit WHERE id = 30`)
			},
			want: []string{"row inserted at 31", "head does not match: the log goes on to row 58, the head ends at row 57",
				"the log does not match the checkpoint at row 57 (rows up to it were changed)"},
		},
		{
			name: "two rows swapped",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `UPDATE audit SET id = -1 WHERE id = 8`, `UPDATE audit SET id = 8 WHERE id = 9`,
					`UPDATE audit SET id = 9 WHERE id = -1`)
			},
			want: []string{"rows 8 and 9 swapped (out of order)"},
		},
		{
			name: "two rows' contents swapped, their links left in place",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `CREATE TEMP TABLE r AS SELECT * FROM audit WHERE id IN (8, 9)`,
					`UPDATE audit SET (at, event, actor, target, source, outcome, detail) =
						(SELECT at, event, actor, target, source, outcome, detail FROM r
						 WHERE r.id = CASE audit.id WHEN 8 THEN 9 ELSE 8 END) WHERE id IN (8, 9)`)
			},
			want: []string{"rows 8 and 9 swapped (out of order)"},
		},
		{
			name: "a row in the middle deleted",
			tamper: func(t *testing.T, f *folder) {
				f.attacker(t, `DELETE FROM audit WHERE id = 30`)
			},
			want: []string{"rows missing between 29 and 31",
				"head does not match: the log has 56 rows, the head counts 57",
				"the log has 56 rows up to row 57, the checkpoint says 57"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFolder(t, 57)
			expectFindings(t, f.findings(t))
			tc.tamper(t, f)
			expectFindings(t, f.findings(t), tc.want...)
		})
	}
}

// Someone with an older copy of the database can put back the head as it
// was, MAC and all: the database then agrees with itself, and only the
// checkpoint shows the rows that were cut off.
func TestOldHeadPutBackIsFoundByTheCheckpoint(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t, 41)
	old, err := store.AuditHeadOf(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, f.db, 16)
	f.pin(t)
	f.attacker(t, `DELETE FROM audit WHERE id > 41`,
		fmt.Sprintf(`UPDATE audit_head SET last_id = %d, rows = %d, last_hash = '%s', mac = '%s'`,
			old.LastID, old.Rows, old.LastHash, old.MAC))
	expectFindings(t, f.findings(t), "rows missing after 41 (checkpoint says 57 rows)")

	// Rows appended since do not hide it: the checkpoint's row 57 is not
	// the one the log has now.
	for i := range 20 {
		appendOne(t, f.db, Entry{At: t0, Event: EventCodeSent, Actor: "someone", Detail: fmt.Sprint("after the cut ", i)})
	}
	expectFindings(t, f.findings(t), "the log does not match the checkpoint at row 57 (rows up to it were changed)")
}

// Without its checkpoint the same log, wiped whole, is an empty log: the
// anchor outside the database is what shows it.
func TestWipedLogWithoutCheckpointLooksEmpty(t *testing.T) {
	f := newFolder(t, 10)
	f.attacker(t, `DELETE FROM audit`, `DELETE FROM audit_head`)
	expectFindings(t, f.findings(t), "the audit table was emptied (checkpoint says 10 rows)")
	rep, err := chain.Verify(context.Background(), f.db, "")
	if err != nil || !rep.OK {
		t.Fatalf("without the checkpoint: %+v, %v", rep, err)
	}
}

// The key is what makes a link: the same log checked under another key does
// not verify.
func TestAnotherKeyDoesNotVerify(t *testing.T) {
	f := newFolder(t, 5)
	other, err := NewChain(bytes32(0x11))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := other.Verify(context.Background(), f.db, f.checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || !strings.Contains(rep.Problem, "MAC mismatch") {
		t.Fatalf("verified under another key: %+v", rep)
	}
	if _, err := NewChain(make([]byte, 31)); err == nil {
		t.Error("a 31-byte key was accepted")
	}
}

func bytes32(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	return k
}
