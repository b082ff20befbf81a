package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

func openPostgres(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.OpenPostgres(context.Background(), pgtest.DSN(t), store.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// schemaTables lists the tables a migrated store has, as its engine's
// catalogue says.
func schemaTables(t *testing.T, db *store.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Engine() == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestCopyKnowsEveryTable: every table the migrations make on either engine
// is one the copy moves (schema_migrations aside, which each store keeps for
// itself), so a migration that adds a table cannot leave it behind.
func TestCopyKnowsEveryTable(t *testing.T) {
	want := append(store.CopiedTables(), "schema_migrations")
	sort.Strings(want)
	sqliteDB, _ := openSQLite(t)
	for _, db := range []*store.DB{sqliteDB, openPostgres(t)} {
		if got := schemaTables(t, db); !slices.Equal(got, want) {
			t.Errorf("%s schema has tables %v; the copy knows %v", db.Engine(), got, want)
		}
	}
}

// copyUsers is how many users the copy tests move.
const copyUsers = 10_000

// sourceKey is the key fingerprint fillSource records.
const sourceKey = "fingerprint-of-the-source-key"

// fillSource gives a store every kind of row: copyUsers users with hashes,
// an email method each and a membership, one user with every other method
// (an authenticator secret, recovery codes, questions), vouchers,
// challenges (one on the decoy path, without a user), throttle events, a
// block, password history, a lockout with its wrong passwords, an expiry
// reminder sent, policy, the
// key's fingerprint, outbox messages, and an audit log of one row per user
// with its head.
func fillSource(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := store.CreateGroup(ctx, tx, "staff", 10); err != nil {
			return err
		}
		users := make([]store.ImportUser, copyUsers)
		for i := range users {
			name := fmt.Sprintf("user%05d", i)
			users[i] = store.ImportUser{User: store.User{Username: name, DisplayName: "User " + name,
				Email: name + "@example.com", Phone: "+15551234567", CreatedAt: 11, UpdatedAt: 12}, Groups: []string{"staff"}}
		}
		if err := store.ImportUsers(ctx, tx, users, nil); err != nil {
			return err
		}
		for id := int64(1); id <= copyUsers; id++ {
			if err := store.SetPasswordHash(ctx, tx, id, fmt.Sprintf("$argon2id$v=19$m=256,t=1,p=1$c2FsdA$%d", id), id%7 == 0, 20); err != nil {
				return err
			}
			if err := store.UpsertMethod(ctx, tx, store.Method{UserID: id, Kind: "email",
				Destination: fmt.Sprintf("user%05d@example.com", id-1), CreatedAt: 21, ConfirmedAt: 22}); err != nil {
				return err
			}
			if err := store.InsertAudit(ctx, tx, store.AuditRow{ID: id, At: 30 + id, Event: "user.created", Actor: "test",
				Target: fmt.Sprintf("user%05d", id-1), Source: "cli", Outcome: "ok", Detail: "détail ✓",
				PrevHash: fmt.Sprintf("%064x", id-1), Hash: fmt.Sprintf("%064x", id)}); err != nil {
				return err
			}
		}
		if err := store.SetAuditHead(ctx, tx, store.AuditHead{LastID: copyUsers, LastHash: fmt.Sprintf("%064x", copyUsers),
			Rows: copyUsers, MAC: strings.Repeat("ab", 32)}); err != nil {
			return err
		}
		// User 1 has every method.
		secret := []byte{0, 1, 2, 0xfe, 0xff, 'x', 0}
		if err := store.UpsertMethod(ctx, tx, store.Method{UserID: 1, Kind: "authenticator", Secret: secret, CreatedAt: 40, ConfirmedAt: 41}); err != nil {
			return err
		}
		m, err := store.MethodOf(ctx, tx, 1, "authenticator")
		if err != nil {
			return err
		}
		if err := store.AdvanceTOTPStep(ctx, tx, m.ID, 59_000_000); err != nil {
			return err
		}
		for _, kind := range []string{"sms", "recovery_codes", "questions"} {
			if err := store.UpsertMethod(ctx, tx, store.Method{UserID: 1, Kind: kind, Destination: "+15551234567", CreatedAt: 42, ConfirmedAt: 43}); err != nil {
				return err
			}
		}
		if err := store.UpsertMethod(ctx, tx, store.Method{UserID: 1, Kind: store.SSHKeyKind, CreatedAt: 42, ConfirmedAt: 43}); err != nil {
			return err
		}
		if err := store.AddSSHKey(ctx, tx, store.SSHKey{UserID: 1, Type: "ssh-ed25519", Bits: 256, Fingerprint: "SHA256:copy",
			PublicKey: []byte{0, 0, 0, 11, 's', 's', 'h', 0xff}, Comment: "laptop", CreatedAt: 42}, 5); err != nil {
			return err
		}
		if err := store.ReplaceRecoveryCodes(ctx, tx, 1, []string{"rc1", "rc2", "rc3"}, 44); err != nil {
			return err
		}
		id, err := store.UnusedRecoveryCode(ctx, tx, 1, "rc2")
		if err != nil {
			return err
		}
		if err := store.UseRecoveryCode(ctx, tx, id, 45); err != nil {
			return err
		}
		if err := store.ReplaceAnswers(ctx, tx, 1, []store.QuestionAnswer{{Question: "pet", AnswerHash: "h1"},
			{Question: "town", AnswerHash: "h2"}}, 46); err != nil {
			return err
		}
		if err := store.CreateVoucher(ctx, tx, 2, "vh", "admin", 47, 48); err != nil {
			return err
		}
		for _, c := range []store.Challenge{
			{ID: "c1", FlowID: "f1", UserID: 1, Purpose: "reset", Kind: "email", CodeHash: "ch", Attempts: 2, CreatedAt: 50, ExpiresAt: 51},
			{ID: "c2", FlowID: "f2", Purpose: "reset", Kind: "sms", CreatedAt: 52, ExpiresAt: 53}, // decoy: no user
		} {
			if err := store.CreateChallenge(ctx, tx, c); err != nil {
				return err
			}
		}
		for i := range 5 {
			if err := store.AddThrottleEvent(ctx, tx, "account", "user00001", "fail", int64(60+i)); err != nil {
				return err
			}
		}
		if err := store.SetBlock(ctx, tx, store.Block{Scope: "account", Key: "user00001", Reason: "failures", CreatedAt: 65, Until: 99}); err != nil {
			return err
		}
		if err := store.AddPasswordHistory(ctx, tx, 1, "old-hash", 70, 5); err != nil {
			return err
		}
		for _, mac := range []string{"wrong-1", "wrong-2"} {
			if _, err := store.CountWrongPassword(ctx, tx, 3, mac, 73); err != nil {
				return err
			}
		}
		if _, err := store.LockOut(ctx, tx, 3, 74, 75); err != nil {
			return err
		}
		if _, err := store.RecordExpiryReminder(ctx, tx, store.ExpiryReminderKey{UserID: 4, PasswordChangedAt: 20, Days: 7},
			76); err != nil {
			return err
		}
		if err := store.SetPolicyValue(ctx, tx, "reconfirm_days", "30", 71); err != nil {
			return err
		}
		if _, err := store.RecordKeyFingerprint(ctx, tx, sourceKey, 72); err != nil {
			return err
		}
		for _, state := range []string{store.OutboxQueued, store.OutboxSent} {
			if _, err := store.EnqueueOutbox(ctx, tx, store.OutboxMessage{Kind: "notification", Channel: "email",
				Destination: "a@example.com", Subject: "s", Body: "b", HTML: "<p>b</p>", State: state, CreatedAt: 80}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill source: %v", err)
	}
}

// dumpTable returns every row of a table, each as one line of its values in
// column order, sorted (the engines' collations order text differently).
func dumpTable(t *testing.T, db *store.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=", cols[i])
			switch v := v.(type) {
			case nil:
				b.WriteString("NULL")
			case []byte:
				fmt.Fprintf(&b, "x'%x'", v)
			case string:
				fmt.Fprintf(&b, "%q", v)
			default:
				fmt.Fprintf(&b, "%v", v)
			}
			b.WriteByte(' ')
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// dumpAll dumps every table the copy knows.
func dumpAll(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	all := map[string][]string{}
	for _, table := range store.CopiedTables() {
		all[table] = dumpTable(t, db, table)
	}
	return all
}

// TestCopyToPostgres: a SQLite store of 10,000 users with every kind of row
// arrives in PostgreSQL row for row, value for value (hashes, sealed
// secrets as bytes, the TOTP replay step, audit links and head), each table
// reported as it is done, into a target that recorded the same key; the ids
// continue after the copied ones; and the copy can be copied on, from
// PostgreSQL to PostgreSQL, though not into itself.
func TestCopyToPostgres(t *testing.T) {
	ctx := context.Background()
	src, _ := openSQLite(t)
	fillSource(t, src)
	dst := openPostgres(t)
	// An sspr with the same key opened the target before: its record of
	// the key does not make it non-empty.
	if _, err := store.RecordKeyFingerprint(ctx, dst, sourceKey, 5); err != nil {
		t.Fatal(err)
	}

	var reported []string
	start := time.Now()
	copied, err := store.Copy(ctx, src, dst, func(c store.CopiedTable) { reported = append(reported, c.Table) })
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("copied %d users and their rows to PostgreSQL in %v", copyUsers, took.Round(time.Millisecond))
	if !slices.Equal(reported, store.CopiedTables()) {
		t.Errorf("reported tables %v; want %v", reported, store.CopiedTables())
	}
	want := dumpAll(t, src)
	for _, c := range copied {
		if c.Rows != int64(len(want[c.Table])) {
			t.Errorf("%s: copied %d rows; the source has %d", c.Table, c.Rows, len(want[c.Table]))
		}
	}
	for _, table := range []string{"users", "methods", "audit", "memberships"} {
		if len(want[table]) < copyUsers {
			t.Fatalf("the source has only %d %s rows", len(want[table]), table)
		}
	}
	got := dumpAll(t, dst)
	for _, table := range store.CopiedTables() {
		if len(want[table]) == 0 {
			t.Errorf("the source has no %s rows: the test proves nothing for it", table)
		}
		if !slices.Equal(got[table], want[table]) {
			t.Errorf("%s differs after the copy: %d rows in the source, %d in the target; first source row %q",
				table, len(want[table]), len(got[table]), first(want[table]))
		}
	}

	// New rows get the next ids, not ones the copy already used.
	u := store.User{Username: "newcomer", CreatedAt: 90, UpdatedAt: 90}
	if err := store.CreateUser(ctx, dst, &u); err != nil {
		t.Fatalf("create a user after the copy: %v", err)
	}
	if u.ID != copyUsers+1 {
		t.Errorf("new user id %d; want %d", u.ID, copyUsers+1)
	}
	gid, err := store.CreateGroup(ctx, dst, "later", 90)
	if err != nil || gid != 2 {
		t.Errorf("new group id %d, %v; want 2", gid, err)
	}
	oid, err := store.EnqueueOutbox(ctx, dst, store.OutboxMessage{Kind: "code", Channel: "sms", Destination: "+1555", Body: "b", CreatedAt: 91})
	if err != nil || oid != 3 {
		t.Errorf("new outbox id %d, %v; want 3", oid, err)
	}

	// A PostgreSQL store copies on like any other, but not into itself
	// (the config naming the target as the store already, say).
	empty := openPostgres(t)
	if _, err := store.Copy(ctx, empty, empty, nil); err == nil || !strings.Contains(err.Error(), "the same database") {
		t.Fatalf("copy of a store into itself: %v; want a refusal", err)
	}
	again := openPostgres(t)
	if _, err := store.Copy(ctx, dst, again, nil); err != nil {
		t.Fatalf("copy PostgreSQL to PostgreSQL: %v", err)
	}
	if n := countRows(t, again, "users"); n != copyUsers+1 {
		t.Errorf("second copy has %d users; want %d", n, copyUsers+1)
	}
}

func first(rows []string) string {
	if len(rows) == 0 {
		return ""
	}
	return rows[0]
}

// TestCopyRefusesNonEmptyTarget: a target holding any row, in the last
// table copied as in the first, is refused with ErrNotEmpty naming the
// table, and is left exactly as it was: nothing of the source arrives.
func TestCopyRefusesNonEmptyTarget(t *testing.T) {
	ctx := context.Background()
	src, _ := openSQLite(t)
	for i := range 3 {
		addUser(t, src, fmt.Sprintf("u%d", i))
	}
	for _, tc := range []struct {
		table string
		fill  func(dst *store.DB) error
	}{
		{"users", func(dst *store.DB) error {
			u := store.User{Username: "already-here", CreatedAt: 1, UpdatedAt: 1}
			return store.CreateUser(ctx, dst, &u)
		}},
		{"outbox", func(dst *store.DB) error {
			_, err := store.EnqueueOutbox(ctx, dst, store.OutboxMessage{Kind: "code", Channel: "sms", Destination: "+1555", Body: "b"})
			return err
		}},
		{"audit_head", func(dst *store.DB) error {
			return store.SetAuditHead(ctx, dst, store.AuditHead{LastID: 7, LastHash: "h", Rows: 7})
		}},
		{"another key", func(dst *store.DB) error {
			_, err := store.RecordKeyFingerprint(ctx, dst, "fingerprint-of-another-key", 1)
			return err
		}},
	} {
		t.Run(tc.table, func(t *testing.T) {
			dst := openPostgres(t)
			if err := tc.fill(dst); err != nil {
				t.Fatal(err)
			}
			before := dumpAll(t, dst)
			_, err := store.Copy(ctx, src, dst, nil)
			want := tc.table + " has 1"
			if tc.table == "another key" {
				want = "first used with another key (fingerprint fingerprint-; the source's: none recorded)"
			}
			if !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), want) {
				t.Fatalf("copy into a target with a row in %s: %v; want ErrNotEmpty naming it", tc.table, err)
			}
			if after := dumpAll(t, dst); !mapsEqual(before, after) {
				t.Fatalf("the refused copy changed the target:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestCopyRefusesOtherSchemas: stores at different migrations, a source
// with a table the copy does not know, and a target that is not
// PostgreSQL are refused before anything is written.
func TestCopyRefusesOtherSchemas(t *testing.T) {
	ctx := context.Background()
	src, _ := openSQLite(t)
	addUser(t, src, "alice")

	newer := openPostgres(t)
	if _, err := newer.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := store.Copy(ctx, src, newer, nil)
	if !errors.Is(err, store.ErrSchemaMismatch) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("copy into a store at a later migration: %v; want ErrSchemaMismatch naming it", err)
	}
	if n := countRows(t, newer, "users"); n != 0 {
		t.Fatalf("refused copy left %d users", n)
	}

	odd, _ := openSQLite(t)
	addUser(t, odd, "bob")
	if _, err := odd.ExecContext(ctx, `CREATE TABLE later_feature (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	dst := openPostgres(t)
	if _, err := store.Copy(ctx, odd, dst, nil); !errors.Is(err, store.ErrSchemaMismatch) || !strings.Contains(err.Error(), "later_feature") {
		t.Fatalf("copy of a store with an unknown table: %v; want ErrSchemaMismatch naming it", err)
	}
	if n := countRows(t, dst, "users"); n != 0 {
		t.Fatalf("refused copy left %d users", n)
	}

	sqliteTarget, _ := openSQLite(t)
	if _, err := store.Copy(ctx, src, sqliteTarget, nil); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("copy into SQLite: %v; want a refusal", err)
	}
}

// TestCopyReadsOneMoment: rows written to the source while the copy runs
// (here a user, their method and membership, written once the users are
// copied) are not copied, neither in part nor whole: the source is read as
// it was when the copy began, so the copy never holds a method whose user
// it lacks.
func TestCopyReadsOneMoment(t *testing.T) {
	ctx := context.Background()
	src, _ := openSQLite(t)
	addUser(t, src, "before")
	gid, err := store.CreateGroup(ctx, src, "staff", 1)
	if err != nil {
		t.Fatal(err)
	}
	dst := openPostgres(t)
	_, err = store.Copy(ctx, src, dst, func(c store.CopiedTable) {
		if c.Table != "users" {
			return
		}
		err := src.WithTx(ctx, func(tx *store.Tx) error {
			u := store.User{Username: "during", CreatedAt: 2, UpdatedAt: 2}
			if err := store.CreateUser(ctx, tx, &u); err != nil {
				return err
			}
			if err := store.AddMember(ctx, tx, gid, u.ID); err != nil {
				return err
			}
			return store.UpsertMethod(ctx, tx, store.Method{UserID: u.ID, Kind: "email", Destination: "d@example.com"})
		})
		if err != nil {
			t.Errorf("write to the source during the copy: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("copy while the source is written: %v", err)
	}
	if n := countRows(t, src, "methods"); n != 1 {
		t.Fatalf("the source has %d methods; the write during the copy did not happen", n)
	}
	for table, want := range map[string]int{"users": 1, "memberships": 0, "methods": 0} {
		if n := countRows(t, dst, table); n != want {
			t.Errorf("the copy has %d %s; want %d, as the source was when the copy began", n, table, want)
		}
	}
}
