package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// pgEnv is the environment of an sspr process on the PostgreSQL store dsn.
func pgEnv(dsn string, extra ...string) []string {
	return cleanEnv(append([]string{"SSPR_DB_DRIVER=postgres", "SSPR_DB_DSN=" + dsn}, extra...)...)
}

// TestPostgresStoreSharedByTwoFolders: two sspr data folders, as two hosts
// would have, on one PostgreSQL store with one key file: what one adds, the
// other lists. A third with a key of its own is refused at start, naming
// the mismatch, before it reads or writes anything.
func TestPostgresStoreSharedByTwoFolders(t *testing.T) {
	dsn := pgtest.DSN(t)
	first, second, stranger := newFolder(t), newFolder(t), newFolder(t)
	// The first folder's key is made on first start; the second host is
	// given a copy, as a 0600 secret file.
	r := runEnv(t, pgEnv(dsn), "", "--data", first.dir, "user", "add", "alice", "--email", "alice@example.com")
	if r.code != 0 {
		t.Fatalf("user add on the first host:\n%s", r)
	}
	key, err := os.ReadFile(filepath.Join(first.dir, "sspr.key"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "shared.key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runEnv(t, pgEnv(dsn, "SSPR_KEY_FILE="+keyFile), "", "--data", second.dir, "user", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Fatalf("the second host does not list the first host's user:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(second.dir, "sspr.key")); err == nil {
		t.Fatal("the second host made a key of its own beside key_file")
	}

	r = runEnv(t, pgEnv(dsn), "", "--data", stranger.dir, "user", "list")
	expectFailure(t, r, "not the key the store was first used with")
	if strings.Contains(r.stdout, "alice") {
		t.Fatalf("a host with another key listed users:\n%s", r)
	}

	// key_file must exist: a host is never given a key of its own by a typo.
	r = runEnv(t, pgEnv(dsn, "SSPR_KEY_FILE="+keyFile+".missing"), "", "--data", second.dir, "user", "list")
	expectFailure(t, r, "does not exist")
}

// TestPostgresUnreachableAtStart: a store that cannot be reached stops the
// command with one line naming the server and the cause.
func TestPostgresUnreachableAtStart(t *testing.T) {
	f := newFolder(t)
	// Port 1 on loopback: nothing listens there.
	r := runEnv(t, pgEnv("postgres://sspr:secret-pw@127.0.0.1:1/sspr?connect_timeout=5"), "", "--data", f.dir, "user", "list")
	expectFailure(t, r, "can't reach PostgreSQL at 127.0.0.1:1: connect: connection refused")
	if strings.Contains(r.stderr, "secret-pw") {
		t.Fatalf("the message quotes the password: %s", r.stderr)
	}
}

// TestPostgresDSNChecked: a DSN that is not one is refused by the config
// check without quoting it.
func TestPostgresDSNChecked(t *testing.T) {
	f := newFolder(t)
	r := runEnv(t, pgEnv("postgres://sspr:secret-pw@[::1/sspr"), "", "--data", f.dir, "user", "list")
	expectFailure(t, r, "db.dsn (SSPR_DB_DSN) is not a PostgreSQL connection string")
	if strings.Contains(r.stderr, "secret-pw") {
		t.Fatalf("the message quotes the password: %s", r.stderr)
	}
	r = runEnv(t, cleanEnv("SSPR_DB_DRIVER=postgres"), "", "--data", f.dir, "user", "list")
	expectFailure(t, r, "db.dsn (SSPR_DB_DSN) must name the PostgreSQL database")
}
