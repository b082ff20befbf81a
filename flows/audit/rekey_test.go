package audit

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

// oldStore writes a database as the version before the keyed chain left it:
// the first two migrations, n rows linked with SHA-256, and the head the
// second migration derives from them; then tamper runs on it, if given. It
// returns the file's path, not opened yet.
func oldStore(t *testing.T, n int, tamper ...string) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sspr.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	run := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	migration := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "store", "migrations", "sqlite", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	run(migration("0001_init.sql"))
	prev := ZeroHash
	for i := range int64(n) {
		e := Entry{ID: i + 1, At: t0.Add(hours(i)), Event: EventVerifyFailed, Actor: "alice", Target: "alice",
			Source: "kiosk", Outcome: OutcomeFailed, Detail: fmt.Sprintf(`{"n":%d}`, i), PrevHash: prev}
		e.Hash = hashEntry(e)
		prev = e.Hash
		r := toRow(e)
		run(`INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.At, r.Event, r.Actor, r.Target, r.Source, r.Outcome, r.Detail,
			r.PrevHash, r.Hash)
	}
	run(migration("0002_audit_head_outbox_html.sql"))
	run(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
		INSERT INTO schema_migrations VALUES (1, 0), (2, 0)`)
	for _, q := range tamper {
		run(q)
	}
	return path
}

func TestRekeyOldChain(t *testing.T) {
	ctx := context.Background()
	db := openStoreAt(t, oldStore(t, 40))
	before, err := List(ctx, db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// Not keyed yet: nothing verifies under the key.
	if rep := mustVerify(t, db); rep.OK {
		t.Fatalf("an unkeyed log verified under the key: %+v", rep)
	}

	rk, err := chain.Rekey(ctx, db, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	if rk != (Rekeyed{Rows: 40, KeyedFrom: 41}) {
		t.Fatalf("re-key = %+v", rk)
	}
	rep := mustVerify(t, db)
	if !rep.OK || rep.Rows != 41 || rep.KeyedFrom != 41 {
		t.Fatalf("after re-keying: %+v", rep)
	}
	after, err := List(ctx, db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	marker := after[0]
	if marker.ID != 41 || marker.Event != EventChainKeyed || marker.Actor != "system" || marker.Outcome != OutcomeOK ||
		marker.Detail != `{"rekeyed_rows":40,"unkeyed_chain":"intact"}` {
		t.Fatalf("marker row = %+v", marker)
	}
	// Only the links changed, and they are the keyed ones now.
	for i, e := range after[1:] {
		old := before[i]
		old.PrevHash, old.Hash = e.PrevHash, e.Hash
		if e != old {
			t.Fatalf("row %d changed beyond its links:\n%+v\n%+v", e.ID, before[i], e)
		}
	}

	// Once: a second start changes nothing.
	rk, err = chain.Rekey(ctx, db, t0.Add(hours(1)), "")
	if err != nil || rk != (Rekeyed{}) {
		t.Fatalf("second re-key = %+v, %v", rk, err)
	}
	again, err := List(ctx, db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again) != fmt.Sprint(after) {
		t.Fatal("a second re-key changed the log")
	}

	// From now on it is an ordinary keyed log: an edit of an old row is
	// found as any other.
	exec(t, db, `UPDATE audit SET detail = 'x' WHERE id = 3`)
	if rep := mustVerify(t, db); rep.Problem != "row 3 was edited (MAC mismatch)" || rep.KeyedFrom != 41 {
		t.Fatalf("edit after re-keying: %+v", rep)
	}
}

// A break in the old chain is recorded when the log is re-keyed, so it
// stays visible although every link is a keyed one now.
func TestRekeyKeepsOldBreakVisible(t *testing.T) {
	ctx := context.Background()
	db := openStoreAt(t, oldStore(t, 10, `UPDATE audit SET actor = 'mallory' WHERE id = 4`))
	rk, err := chain.Rekey(ctx, db, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	if rk.Rows != 10 || rk.Unkeyed != "row 4 does not match its hash (it was edited)" {
		t.Fatalf("re-key = %+v", rk)
	}
	rep := mustVerify(t, db)
	want := "before the chain was keyed at row 11, its unkeyed SHA-256 chain was already broken: " +
		"row 4 does not match its hash (it was edited)"
	if rep.OK || len(rep.Findings) != 1 || rep.Findings[0] != (Finding{ID: 11, Text: want}) {
		t.Fatalf("report = %+v", rep)
	}

	// Also a head cut back before the key came.
	db = openStoreAt(t, oldStore(t, 10, `DELETE FROM audit WHERE id > 7`))
	if rk, err := chain.Rekey(ctx, db, t0, ""); err != nil || rk.Rows != 7 ||
		rk.Unkeyed != "the log ends at row 7 but the chain head expects row 10 (rows were deleted from the end or added after it)" {
		t.Fatalf("re-key of a cut log = %+v, %v", rk, err)
	}
}

// A log that looks unkeyed although a checkpoint shows it was keyed has had
// its head's MAC removed; re-keying it would bless whatever else was done.
func TestRekeyRefusedWhenCheckpointed(t *testing.T) {
	ctx := context.Background()
	f := newFolder(t, 12)
	f.attacker(t, `UPDATE audit SET detail = 'x' WHERE id = 5`, `UPDATE audit_head SET mac = ''`)
	rk, err := chain.Rekey(ctx, f.db, t0, f.checkpoint())
	if err != nil || rk != (Rekeyed{Refused: true}) {
		t.Fatalf("re-key = %+v, %v", rk, err)
	}
	expectFindings(t, f.findings(t), "row 5 was edited (MAC mismatch)",
		"head does not match (it has no MAC: the log was never keyed, or its head was replaced)")
}

// Several processes starting on an old log together re-key it once.
func TestRekeyConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	path := oldStore(t, 30)
	var wg sync.WaitGroup
	results := make([]Rekeyed, 4)
	for i := range results {
		db := openStoreAt(t, path)
		wg.Go(func() {
			rk, err := chain.Rekey(ctx, db, t0, "")
			if err != nil {
				t.Error(err)
			}
			results[i] = rk
		})
	}
	wg.Wait()
	done := 0
	for _, rk := range results {
		if rk.Rows > 0 {
			done++
		}
	}
	if done != 1 {
		t.Fatalf("re-keyed %d times: %+v", done, results)
	}
	db := openStoreAt(t, path)
	markers, err := List(ctx, db, Filter{Events: []Event{EventChainKeyed}})
	if err != nil || len(markers) != 1 {
		t.Fatalf("%d marker rows, %v", len(markers), err)
	}
	if rep := mustVerify(t, db); !rep.OK || rep.Rows != 31 {
		t.Fatalf("report = %+v", rep)
	}
}

// A new store is keyed from its first row; there is nothing to re-key.
func TestRekeyNewStore(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	if rk, err := chain.Rekey(ctx, db, t0, ""); err != nil || rk != (Rekeyed{}) {
		t.Fatalf("re-key of a new store = %+v, %v", rk, err)
	}
	fill(t, db, 3)
	if rep := mustVerify(t, db); !rep.OK || rep.KeyedFrom != 1 {
		t.Fatalf("report = %+v", rep)
	}
	if _, err := store.AuditHeadOf(ctx, db); err != nil {
		t.Fatal(err)
	}
}

func hours(i int64) time.Duration { return time.Duration(i) * time.Hour }
