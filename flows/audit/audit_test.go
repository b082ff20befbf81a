package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// testKey is the chain key of the tests; an attacker in them does not have it.
var testKey = bytes.Repeat([]byte{0x5a}, 32)

// chain is the chain under testKey.
var chain = func() *Chain {
	c, err := NewChain(testKey)
	if err != nil {
		panic(err)
	}
	return c
}()

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, _ := storetest.Open(t)
	return db
}

func appendOne(t *testing.T, db *store.DB, e Entry) Entry {
	t.Helper()
	var out Entry
	err := db.WithTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = chain.Append(context.Background(), tx, e)
		return err
	})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return out
}

// fill appends n entries an hour apart and returns them.
func fill(t *testing.T, db *store.DB, n int) []Entry {
	t.Helper()
	events := []Event{EventVerifyFailed, EventVerifySucceeded, EventPasswordReset, EventCodeSent}
	var out []Entry
	for i := range n {
		out = append(out, appendOne(t, db, Entry{
			At: t0.Add(time.Duration(i) * time.Hour), Event: events[i%len(events)],
			Actor: fmt.Sprintf("user%d", i%3), Target: fmt.Sprintf("user%d", i%3), Source: "kiosk",
			Outcome: OutcomeOK, Detail: fmt.Sprintf(`{"n":%d}`, i),
		}))
	}
	return out
}

func mustVerify(t *testing.T, db *store.DB) Report {
	t.Helper()
	rep, err := chain.Verify(context.Background(), db, "")
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestEmptyLogVerifies(t *testing.T) {
	rep := mustVerify(t, openStore(t))
	if !rep.OK || rep.Rows != 0 {
		t.Fatalf("empty log: %+v", rep)
	}
}

func TestChainOf100Verifies(t *testing.T) {
	db := openStore(t)
	entries := fill(t, db, 100)
	if entries[0].PrevHash != ZeroHash {
		t.Errorf("first prev_hash = %s", entries[0].PrevHash)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].PrevHash != entries[i-1].Hash || entries[i].ID != entries[i-1].ID+1 {
			t.Fatalf("entry %d does not link to %d", i, i-1)
		}
	}
	rep := mustVerify(t, db)
	if !rep.OK || rep.Rows != 100 || rep.BadID != 0 || rep.Problem != "" {
		t.Fatalf("report = %+v", rep)
	}
}

func TestAppendValidates(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	for name, e := range map[string]Entry{
		"no time":     {Event: EventCodeSent},
		"no event":    {At: t0},
		"long detail": {At: t0, Event: EventCodeSent, Detail: strings.Repeat("x", MaxDetail+1)},
	} {
		err := db.WithTx(ctx, func(tx *store.Tx) error { _, err := chain.Append(ctx, tx, e); return err })
		if !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("%s: %v, want ErrInvalidEntry", name, err)
		}
	}
	// Exactly the limit is fine.
	appendOne(t, db, Entry{At: t0, Event: EventCodeSent, Detail: strings.Repeat("x", MaxDetail)})
	if _, err := chain.Append(ctx, nil, Entry{At: t0, Event: EventCodeSent}); err == nil {
		t.Error("Append without a transaction succeeded")
	}
}

func TestAppendStoresSecondsUTC(t *testing.T) {
	db := openStore(t)
	at := time.Date(2025, 3, 1, 10, 0, 0, 999, time.FixedZone("X", 3600))
	e := appendOne(t, db, Entry{At: at, Event: EventCodeSent})
	got, err := List(context.Background(), db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != e || !e.At.Equal(at.Truncate(time.Second)) || e.At.Location() != time.UTC {
		t.Fatalf("stored %+v, returned %+v", got, e)
	}
}

func TestRolledBackAppendLeavesNothing(t *testing.T) {
	db := openStore(t)
	fill(t, db, 3)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := chain.Append(ctx, tx, Entry{At: t0, Event: EventPasswordReset}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	rep := mustVerify(t, db)
	if !rep.OK || rep.Rows != 3 {
		t.Fatalf("after rollback: %+v", rep)
	}
	e := appendOne(t, db, Entry{At: t0, Event: EventPasswordReset})
	if e.ID != 4 {
		t.Errorf("next id after a rollback = %d, want 4", e.ID)
	}
}

func TestEditedRowIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 20)
	exec(t, db, `UPDATE audit SET detail = '{"n":"forged"}' WHERE id = 7`)
	rep := mustVerify(t, db)
	if rep.OK || rep.BadID != 7 || !strings.Contains(rep.Problem, "edited") {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Rows != 20 {
		t.Errorf("rows = %d, want the whole log checked", rep.Rows)
	}
}

// An edit whose hash is recomputed the only way someone without the key can
// (the SHA-256 link of the unkeyed chain) is the edited row itself.
func TestEditedRowWithRecomputedHashIsFound(t *testing.T) {
	db := openStore(t)
	entries := fill(t, db, 10)
	e := entries[4]
	e.Outcome = "failed"
	exec(t, db, `UPDATE audit SET outcome = ?, hash = ? WHERE id = ?`, e.Outcome, hashEntry(e), e.ID)
	rep := mustVerify(t, db)
	if rep.OK || rep.BadID != e.ID || rep.Problem != "row 5 was edited (MAC mismatch)" {
		t.Fatalf("report = %+v", rep)
	}
}

func TestEditedOtherFieldsAreFound(t *testing.T) {
	for _, col := range []string{"at = at + 1", "event = 'user.created'", "actor = 'mallory'", "target = 'x'",
		"source = 'y'", "outcome = 'failed'", "prev_hash = hash"} {
		db := openStore(t)
		fill(t, db, 5)
		exec(t, db, `UPDATE audit SET `+col+` WHERE id = 3`)
		if rep := mustVerify(t, db); rep.OK || rep.BadID != 3 {
			t.Errorf("%s: report = %+v", col, rep)
		}
	}
}

func TestDeletedMiddleRowIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 20)
	exec(t, db, `DELETE FROM audit WHERE id = 10`)
	rep := mustVerify(t, db)
	if rep.OK || rep.BadID != 11 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestDeletedFirstRowIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 5)
	exec(t, db, `DELETE FROM audit WHERE id = 1`)
	rep := mustVerify(t, db)
	if rep.OK || rep.BadID != 2 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestDeletedLastRowIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 20)
	exec(t, db, `DELETE FROM audit WHERE id = 20`)
	rep := mustVerify(t, db)
	if rep.OK || rep.BadID != 20 || !strings.Contains(rep.Problem, "end") {
		t.Fatalf("report = %+v", rep)
	}

	// Appending afterwards does not hide the cut: the new row links to the
	// deleted one.
	e := appendOne(t, db, Entry{At: t0, Event: EventCodeSent})
	if e.ID != 21 {
		t.Errorf("id after a cut = %d, want 21", e.ID)
	}
	rep = mustVerify(t, db)
	if rep.OK || rep.BadID != 21 {
		t.Fatalf("after a later append: %+v", rep)
	}
}

func TestDeletedEverythingIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 5)
	exec(t, db, `DELETE FROM audit`)
	if rep := mustVerify(t, db); rep.OK || rep.BadID != 5 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestDeletedHeadIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 5)
	exec(t, db, `DELETE FROM audit_head`)
	if rep := mustVerify(t, db); rep.OK {
		t.Fatalf("report = %+v", rep)
	}
}

func TestInsertedRowIsFound(t *testing.T) {
	db := openStore(t)
	entries := fill(t, db, 5)

	// A forged row at the end that links correctly is still caught by the head.
	forged := Entry{ID: 6, At: t0, Event: EventPasswordReset, Actor: "mallory", PrevHash: entries[4].Hash}
	forged.Hash = hashEntry(forged)
	exec(t, db, `INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, '', '', '', '', ?, ?)`, forged.ID, forged.At.Unix(), forged.Event, forged.Actor, forged.PrevHash, forged.Hash)
	rep := mustVerify(t, db)
	if rep.OK {
		t.Fatalf("forged tail row passed: %+v", rep)
	}
	// An append after it does not link to the forged row, so the chain
	// goes around it and names it.
	e := appendOne(t, db, Entry{At: t0, Event: EventCodeSent})
	if e.ID != 7 || e.PrevHash != entries[4].Hash {
		t.Errorf("append after a forged row: %+v", e)
	}
	if rep := mustVerify(t, db); rep.OK || rep.BadID != 6 || rep.Problem != "row inserted at 6" {
		t.Fatalf("report = %+v", rep)
	}
}

func TestInsertedMiddleRowIsFound(t *testing.T) {
	db := openStore(t)
	fill(t, db, 5)
	// Make room between 2 and 3, then slip a row in.
	exec(t, db, `UPDATE audit SET id = id + 100 WHERE id >= 3`)
	exec(t, db, `INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
		SELECT 3, at, event, 'mallory', target, source, outcome, detail, prev_hash, hash FROM audit WHERE id = 2`)
	if rep := mustVerify(t, db); rep.OK || rep.BadID != 3 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestConcurrentAppends(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				err := db.WithTx(ctx, func(tx *store.Tx) error {
					_, err := chain.Append(ctx, tx, Entry{At: t0.Add(time.Duration(i) * time.Second), Event: EventVerifyFailed,
						Actor: fmt.Sprintf("w%d", w), Target: "alice", Source: "ssh", Outcome: OutcomeFailed})
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	// Verify while appends run: reading must never see a torn head.
	done := make(chan struct{})
	var verr error
	go func() {
		defer close(done)
		for range 20 {
			rep, err := chain.Verify(ctx, db, "")
			if err != nil {
				verr = err
				return
			}
			if !rep.OK {
				verr = fmt.Errorf("verify during appends: %+v", rep)
				return
			}
		}
	}()
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Errorf("append: %v", err)
	}
	if verr != nil {
		t.Error(verr)
	}
	rep := mustVerify(t, db)
	if !rep.OK || rep.Rows != workers*each {
		t.Fatalf("report = %+v", rep)
	}
}

func TestList(t *testing.T) {
	db := openStore(t)
	fill(t, db, 12)
	ctx := context.Background()

	all, err := List(ctx, db, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 12 || all[0].ID != 12 || all[11].ID != 1 {
		t.Fatalf("List is not newest first: %d rows, first %d", len(all), all[0].ID)
	}
	for _, tt := range []struct {
		name string
		f    Filter
		ids  []int64
	}{
		{"target", Filter{Target: "user1"}, []int64{11, 8, 5, 2}},
		{"actor and event", Filter{Actor: "user0", Events: []Event{EventVerifyFailed}}, []int64{1}},
		{"events", Filter{Events: []Event{EventPasswordReset, EventCodeSent}}, []int64{12, 11, 8, 7, 4, 3}},
		{"since until", Filter{Since: t0.Add(2 * time.Hour), Until: t0.Add(5 * time.Hour)}, []int64{5, 4, 3}},
		{"limit offset", Filter{Limit: 3, Offset: 2}, []int64{10, 9, 8}},
		{"offset only", Filter{Offset: 10}, []int64{2, 1}},
		{"nothing", Filter{Target: "nobody"}, nil},
	} {
		got, err := List(ctx, db, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var ids []int64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tt.ids) {
			t.Errorf("%s: ids %v, want %v", tt.name, ids, tt.ids)
		}
	}
}

func TestCountByDay(t *testing.T) {
	db := openStore(t)
	fill(t, db, 48) // 09:00 on 1 March to 08:00 on 3 March, hourly
	ctx := context.Background()
	got, err := CountByDay(ctx, db, []Event{EventVerifyFailed, EventPasswordReset}, t0, t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// 1 March: hours 0..14 (15 rows); 2 March: 15..38 (24); 3 March: 39..47 (9).
	want := map[string]map[Event]int{
		"2025-03-01": {EventVerifyFailed: 4, EventPasswordReset: 4},
		"2025-03-02": {EventVerifyFailed: 6, EventPasswordReset: 6},
		"2025-03-03": {EventVerifyFailed: 2, EventPasswordReset: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("CountByDay = %v, want %v", got, want)
	}
	all, err := CountByDay(ctx, db, nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, day := range all {
		for _, n := range day {
			total += n
		}
	}
	if total != 48 {
		t.Errorf("open-ended count = %d, want 48", total)
	}
}

func TestExportJSONL(t *testing.T) {
	db := openStore(t)
	entries := fill(t, db, 10)
	appendOne(t, db, Entry{At: t0, Event: EventUserCreated, Actor: "admin:root", Target: "=cmd|' /C calc'!A0",
		Detail: "line one\nline \"two\", <b>&"})
	var buf bytes.Buffer
	if err := Export(context.Background(), db, &buf, "jsonl"); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	var got []Record
	for {
		var r Record
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 11 {
		t.Fatalf("exported %d records", len(got))
	}
	for i, e := range entries {
		if got[i] != recordOf(e) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], recordOf(e))
		}
	}
	last := got[10]
	if last.Target != "=cmd|' /C calc'!A0" || last.Detail != "line one\nline \"two\", <b>&" {
		t.Errorf("jsonl should be byte-exact: %+v", last)
	}
	// A jsonl export and the key are enough to re-check the chain offline.
	prev := ZeroHash
	for _, r := range got {
		at, _ := time.Parse(time.RFC3339, r.At)
		e := Entry{ID: r.ID, At: at, Event: Event(r.Event), Actor: r.Actor, Target: r.Target, Source: r.Source,
			Outcome: r.Outcome, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
		if e.PrevHash != prev || chain.rowMAC(e.PrevHash, e) != e.Hash {
			t.Fatalf("exported record %d does not verify", r.ID)
		}
		prev = e.Hash
	}
}

func TestExportCSV(t *testing.T) {
	db := openStore(t)
	entries := fill(t, db, 10)
	appendOne(t, db, Entry{At: t0, Event: EventUserCreated, Actor: "@admin", Target: "=1+2", Source: "-x", Outcome: "+y",
		Detail: "a,b\n\"c\""})
	var buf bytes.Buffer
	if err := Export(context.Background(), db, &buf, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 12 || strings.Join(rows[0], ",") != "id,at,event,actor,target,source,outcome,detail,prev_hash,hash" {
		t.Fatalf("csv header/rows: %d rows, header %v", len(rows), rows[0])
	}
	for i, e := range entries {
		r := recordOf(e)
		want := []string{fmt.Sprint(r.ID), r.At, r.Event, r.Actor, r.Target, r.Source, r.Outcome, r.Detail, r.PrevHash, r.Hash}
		if strings.Join(rows[i+1], "\x00") != strings.Join(want, "\x00") {
			t.Errorf("row %d = %v, want %v", i+1, rows[i+1], want)
		}
	}
	last := rows[11]
	if last[3] != "'@admin" || last[4] != "'=1+2" || last[5] != "'-x" || last[6] != "'+y" || last[7] != "a,b\n\"c\"" {
		t.Errorf("formula cells not defused: %q", last)
	}
}

func TestExportUnknownFormat(t *testing.T) {
	db := openStore(t)
	err := Export(context.Background(), db, io.Discard, "xml")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("Export(xml) = %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportWriteError(t *testing.T) {
	db := openStore(t)
	fill(t, db, 200)
	for _, f := range []string{"jsonl", "csv"} {
		if err := Export(context.Background(), db, failingWriter{}, f); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: Export to a failing writer = %v", f, err)
		}
	}
}

func TestAllEventsUnique(t *testing.T) {
	seen := map[Event]bool{}
	for _, e := range AllEvents() {
		if seen[e] || e == "" {
			t.Errorf("duplicate or empty event %q", e)
		}
		seen[e] = true
	}
	for _, e := range []Event{"method.registered", "method.removed", "info.confirmed", "verify.succeeded",
		"verify.failed", "code.sent", "code.send_failed", "block.applied", "block.cleared", "password.reset",
		"password.changed", "user.unlocked", "voucher.issued", "voucher.used", "admin.signin", "admin.signin_failed",
		"policy.changed", "user.created", "user.updated", "user.disabled", "user.enabled", "admin.granted",
		"admin.revoked", "group.created", "group.member_added", "group.member_removed", "reregistration.required",
		"account.locked", "account.unlocked"} {
		if !seen[e] {
			t.Errorf("event %q missing from AllEvents", e)
		}
	}
}

func TestHashEncoding(t *testing.T) {
	// An independent spelling of the documented encoding pins the format:
	// changing it would make every existing log fail to verify.
	e := Entry{ID: 7, At: time.Unix(1700000000, 0), Event: EventCodeSent, Actor: "alice", Target: "alice",
		Source: "ssh:10.0.0.1", Outcome: "ok", Detail: `{"channel":"email"}`, PrevHash: ZeroHash}
	var content []byte
	field := func(b []byte) {
		n := uint64(len(b))
		content = append(content, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		content = append(content, b...)
	}
	num := func(v int64) {
		u := uint64(v)
		field([]byte{byte(u >> 56), byte(u >> 48), byte(u >> 40), byte(u >> 32), byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
	}
	field([]byte("sspr-audit-v1"))
	num(7)
	num(1700000000)
	for _, s := range []string{"code.sent", "alice", "alice", "ssh:10.0.0.1", "ok", `{"channel":"email"}`} {
		field([]byte(s))
	}
	sum := sha256.Sum256(append([]byte(ZeroHash), content...))
	if got, want := hashEntry(e), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("hashEntry = %s, want %s", got, want)
	}

	// Field boundaries are part of the content.
	a := Entry{ID: 1, At: t0, Event: EventCodeSent, Actor: "ab", Target: "c", PrevHash: ZeroHash}
	b := Entry{ID: 1, At: t0, Event: EventCodeSent, Actor: "a", Target: "bc", PrevHash: ZeroHash}
	if hashEntry(a) == hashEntry(b) {
		t.Fatal("moving bytes between fields keeps the hash")
	}
}

// A store created before the audit head existed gets one from its last row
// when it is migrated, so its unkeyed chain verifies, and the re-keying then
// finds it intact.
func TestMigrationBackfillsHead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	schema, err := os.ReadFile(filepath.Join("..", "..", "store", "migrations", "sqlite", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, string(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
		INSERT INTO schema_migrations VALUES (1, 0)`); err != nil {
		t.Fatal(err)
	}
	prev := ZeroHash
	for i := int64(1); i <= 3; i++ {
		e := Entry{ID: i, At: t0, Event: EventCodeSent, Actor: "a", PrevHash: prev}
		e.Hash = hashEntry(e)
		prev = e.Hash
		r := toRow(e)
		if _, err := raw.ExecContext(ctx, `INSERT INTO audit (id, at, event, actor, target, source, outcome, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.At, r.Event, r.Actor, r.Target, r.Source, r.Outcome, r.Detail,
			r.PrevHash, r.Hash); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := openStoreAt(t, path)
	if rep, err := verifyUnkeyed(ctx, db); err != nil || !rep.OK {
		t.Fatalf("after migration: %+v, %v", rep, err)
	}
	rk, err := chain.Rekey(ctx, db, t0, "")
	if err != nil || rk.Rows != 3 || rk.Unkeyed != "" || rk.KeyedFrom != 4 {
		t.Fatalf("re-key after migration: %+v, %v", rk, err)
	}
	if rep := mustVerify(t, db); !rep.OK || rep.Rows != 4 || rep.KeyedFrom != 4 {
		t.Fatalf("after re-keying: %+v", rep)
	}
	if e := appendOne(t, db, Entry{At: t0, Event: EventCodeSent}); e.ID != 5 {
		t.Fatalf("append after re-keying: %+v", e)
	}
	if rep := mustVerify(t, db); !rep.OK || rep.Rows != 5 {
		t.Fatalf("after append: %+v", rep)
	}
}

func openStoreAt(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Several processes on one database (replicas) append to one chain: each
// append reads and replaces the one head row inside its transaction.
func TestConcurrentAppendsFromSeveralHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sspr.db")
	const handles, each = 3, 20
	var wg sync.WaitGroup
	for h := range handles {
		db := openStoreAt(t, path)
		wg.Go(func() {
			for i := range each {
				err := db.WithTx(ctx, func(tx *store.Tx) error {
					_, err := chain.Append(ctx, tx, Entry{At: t0, Event: EventCodeSent, Actor: fmt.Sprintf("replica%d", h),
						Detail: fmt.Sprint(i)})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rep := mustVerify(t, openStoreAt(t, path))
	if !rep.OK || rep.Rows != handles*each {
		t.Fatalf("report = %+v", rep)
	}
}
