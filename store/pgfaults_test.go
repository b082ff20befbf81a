package store_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestOpenPostgresUnreachable: a server that cannot be reached at start is
// one line that names where sspr looked and why it failed.
func TestOpenPostgresUnreachable(t *testing.T) {
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	wrongPW, err := url.Parse(c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	wrongPW.User = url.UserPassword(pgtest.AppUser, "not-the-password")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name, dsn, where, cause string
		stop                    bool
	}{
		{"nothing listens", "postgres://sspr:pw@" + closed + "/sspr?sslmode=disable", closed, "connection refused", false},
		{"wrong password", wrongPW.String(), fmt.Sprintf("127.0.0.1:%d", c.Port()), "password authentication failed", false},
		{"server stopped", c.DSN(), fmt.Sprintf("127.0.0.1:%d", c.Port()), "connection refused", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stop {
				if err := c.Stop(); err != nil {
					t.Fatal(err)
				}
			}
			db, err := store.OpenPostgres(ctx, tc.dsn, store.PostgresOptions{})
			if err == nil {
				db.Close()
				t.Fatal("opened a store that cannot be reached")
			}
			msg := err.Error()
			want := "open store: can't reach PostgreSQL at " + tc.where + ": "
			if !strings.HasPrefix(msg, want) || !strings.Contains(msg, tc.cause) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q; want one line %q… saying %q", msg, want, tc.cause)
			}
			if strings.Contains(msg, "not-the-password") {
				t.Fatalf("the error shows the password: %q", msg)
			}
		})
	}
}

// TestPostgresReconnects: a store opened while the server ran fails while
// it is stopped, with a fault, and works again once it is back, through the
// same handle: its pool replaces the broken connections by itself.
func TestPostgresReconnects(t *testing.T) {
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	var faults []error
	db, err := store.OpenPostgres(ctx, c.DSN(), store.PostgresOptions{OnFault: func(err error) { faults = append(faults, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addUser(t, db, "alice")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	err = db.WithTx(ctx, func(tx *store.Tx) error { return store.CreateUser(ctx, tx, &store.User{Username: "bob"}) })
	if !store.IsFault(err) {
		t.Fatalf("a write with the server stopped: %v; want a fault", err)
	}
	if len(faults) == 0 {
		t.Fatal("the fault hook did not hear of the server going away")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	addUser(t, db, "bob")
	if _, err := store.UserByName(ctx, db, "alice"); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresStatementTimeout: a statement that runs past the timeout is
// cut by the server, as a fault, long before it would have ended.
func TestPostgresStatementTimeout(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, pgtest.DSN(t), store.PostgresOptions{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	began := time.Now()
	_, err = db.ExecContext(ctx, `SELECT pg_sleep(30)`)
	if !store.IsFault(err) {
		t.Fatalf("a statement past the timeout: %v; want a fault", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("the statement was cut after %v", took)
	}
	err = db.WithTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_sleep(30)`)
		return err
	})
	if !store.IsFault(err) {
		t.Fatalf("a statement past the timeout in a transaction: %v; want a fault", err)
	}
}
