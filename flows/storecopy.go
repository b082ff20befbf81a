package flows

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/store"
)

// CopiedTable is how many rows a store copy moved into one table.
type CopiedTable struct {
	Table string
	Rows  int64
}

// StoreCopy is what CopyStore did.
type StoreCopy struct {
	// Target names the database copied into, as host:port/database.
	Target string
	// Tables are the row counts, in the order the tables were copied.
	Tables []CopiedTable
	// Audit is audit verify's report on the target's log, checked with
	// this service's key and against its checkpoint.
	Audit audit.Report
}

// Rows is how many rows were copied in all.
func (c StoreCopy) Rows() int64 {
	var n int64
	for _, t := range c.Tables {
		n += t.Rows
	}
	return n
}

// CopyStore copies this service's store, everything in it, into the empty
// PostgreSQL database that dsn names (password, if set, replacing the DSN's),
// creating its tables first (store.Copy). It then walks the copy's audit
// chain with this service's key, as audit verify on the target would: the
// target is only of use with the same key, which seals the authenticator
// secrets and keys the code hashes. done, if set, hears of each table as it
// is copied. A broken chain is in the report, not an error: the copy is made
// by then.
func (s *Service) CopyStore(ctx context.Context, dsn, password string, done func(CopiedTable)) (StoreCopy, error) {
	name, err := store.PostgresName(dsn)
	if err != nil {
		return StoreCopy{}, fmt.Errorf("copy store: %w", err)
	}
	// A big store takes longer than a screen's statement timeout.
	target, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Password: password, StatementTimeout: -1, MaxConns: 2})
	if err != nil {
		return StoreCopy{}, fmt.Errorf("copy store: %w", err)
	}
	defer target.Close()
	out := StoreCopy{Target: name}
	_, err = store.Copy(ctx, s.db, target, func(c store.CopiedTable) {
		t := CopiedTable{Table: c.Table, Rows: c.Rows}
		out.Tables = append(out.Tables, t)
		if done != nil {
			done(t)
		}
	})
	if err != nil {
		// Already "copy store: …", and the caller named the target.
		return StoreCopy{}, err
	}
	out.Audit, err = s.audit.Verify(ctx, target, s.checkpoint)
	if err != nil {
		return out, fmt.Errorf("copy store: the copy is made, but reading its audit log failed: %w", err)
	}
	return out, nil
}
