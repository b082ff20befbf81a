package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// withoutPassword splits a postgres:// URL into the URL without its
// password and the password.
func withoutPassword(t *testing.T, dsn string) (string, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		t.Fatalf("the test DSN has no password: %s", u.Redacted())
	}
	u.User = url.User(u.User.Username())
	return u.String(), pw
}

// countIn counts a table's rows in a PostgreSQL database.
func countIn(t *testing.T, dsn, table string) int {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStoreCopy: sspr store copy --to copies the data folder's store into
// an empty PostgreSQL database, with the password from --password-file,
// prints each table's rows and says the copy passed the audit check with
// the folder's key, and never prints the password. sspr on the copy with
// the folder's key passes audit verify and shows the users; with another
// key it refuses to start. A second copy into the
// same database is refused in one line and leaves it as it was; a wrong
// password, a missing --to and an unreadable password file are refused in
// one line too.
func TestStoreCopy(t *testing.T) {
	f := newFolder(t)
	f.runIn("correct horse battery staple one\n", "user", "add", "alice", "--email", "alice@example.com", "--password-stdin")
	f.ok("group", "add", "staff")
	csv := "username,display_name,email,phone,groups,admin\n"
	for i := range 50 {
		csv += fmt.Sprintf("person%02d,Person %d,person%02d@example.com,,staff,false\n", i, i, i)
	}
	f.ok("user", "import", writeFile(t, "users.csv", csv))
	f.service(func(ctx context.Context, svc *flows.Service) {
		if err := svc.RegisterVerified(ctx, cliActor(), "alice", policy.Email, "alice@example.com"); err != nil {
			t.Fatal(err)
		}
	})
	auditRows := len(f.auditRecords())

	dsn := pgtest.DSN(t)
	bare, password := withoutPassword(t, dsn)
	pwFile := writeFile(t, "db-password", password+"\n")
	r := f.run("store", "copy", "--to", bare, "--password-file", pwFile)
	if r.code != 0 {
		t.Fatalf("store copy failed:\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Fatalf("store copy printed the database password:\n%s", r)
	}
	rows := map[string]string{}
	for line := range strings.Lines(r.stdout) {
		if fields := strings.Fields(line); len(fields) == 2 {
			rows[fields[0]] = fields[1]
		}
	}
	if len(rows) != len(store.CopiedTables())+1 || rows["TABLE"] != "ROWS" {
		t.Errorf("stdout is not a header and a line for each of the %d tables:\n%s", len(store.CopiedTables()), r.stdout)
	}
	for table, want := range map[string]int{"users": 51, "groups": 1, "memberships": 50, "methods": 1, "audit": auditRows,
		"audit_head": 1, "outbox": 0, "store_meta": 1} {
		if rows[table] != fmt.Sprint(want) {
			t.Errorf("stdout says %s has %q rows; want %d:\n%s", table, rows[table], want, r.stdout)
		}
	}
	for _, want := range []string{
		"copied ", " rows from " + filepath.Join(f.dir, "sspr.db") + " into 127.0.0.1:",
		fmt.Sprintf("the copy passes sspr audit verify with this key (%d audit rows intact, matching the checkpoint of", auditRows),
		"use the copy only with the same key (fingerprint ", "a copy of " + filepath.Join(f.dir, "sspr.key") + " (mode 0600",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := countIn(t, dsn, "users"); n != 51 {
		t.Fatalf("the target has %d users; want 51", n)
	}
	if n := countIn(t, dsn, "audit"); n != auditRows {
		t.Fatalf("the target has %d audit rows; want %d", n, auditRows)
	}

	// sspr on the copy, with the folder's key: audit verify passes, the
	// users are there. With another key it refuses to start.
	r = runEnv(t, pgEnv(dsn), "", "--data", f.dir, "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("audit log intact: %d rows", auditRows)) {
		t.Fatalf("audit verify on the copy:\n%s", r)
	}
	r = runEnv(t, pgEnv(dsn), "", "--data", f.dir, "user", "show", "alice", "--format", "json")
	var alice shownUser
	if err := json.Unmarshal([]byte(r.stdout), &alice); r.code != 0 || err != nil || !slices.Equal(alice.Methods, []string{"email"}) ||
		!slices.Equal(alice.Groups, nil) || alice.Email != "alice@example.com" {
		t.Fatalf("alice on the copy: %+v, %v\n%s", alice, err, r)
	}
	expectFailure(t, runEnv(t, pgEnv(dsn), "", "--data", newFolder(t).dir, "user", "list"),
		"not the key the store was first used with")

	// Again into the same database: refused, nothing added.
	r = f.fails("the target store is not empty (users has 51", "store", "copy", "--to", bare, "--password-file", pwFile)
	if strings.Contains(r.stderr, password) {
		t.Fatalf("the refusal printed the database password:\n%s", r)
	}
	if n := countIn(t, dsn, "users"); n != 51 {
		t.Fatalf("the refused copy left %d users; want 51", n)
	}

	other := pgtest.DSN(t)
	u, _ := url.Parse(other)
	u.User = url.UserPassword(u.User.Username(), "wrong-"+password)
	r = f.fails("password authentication failed", "store", "copy", "--to", u.String())
	if strings.Contains(r.stderr, password) {
		t.Fatalf("the refusal printed the password in the DSN:\n%s", r)
	}
	f.fails("--to", "store", "copy")
	f.fails("--password-file", "store", "copy", "--to", other, "--password-file", pwFile+".missing")
	// The source is as it was.
	if got := f.ok("audit", "verify"); !strings.Contains(got, "audit log intact") {
		t.Fatalf("audit verify on the source after the copies: %q", got)
	}
}
