package store

import "context"

// Read is a store read named before it is made, so that it can go to the
// database with an earlier statement (ReadAhead).
type Read struct {
	query func(d *dialect) string
	args  []any
}

// ReadAhead returns ctx naming reads that are about to be made with it, on
// h: on PostgreSQL the next statement sent with ctx (or with a context made
// from it) carries them, in the same round trip, and each read is answered
// from what came back when it is made with the same arguments. A read not
// made costs its execution and nothing else; a read made with other
// arguments goes on its own. Outside a transaction a read ahead may be
// answered on any connection; in a transaction only in that transaction.
// On SQLite, where a statement costs no round trip, ctx is returned as it
// is.
//
// A read ahead sees the database as the statement it goes with leaves it:
// name only reads that nothing between that statement and the read
// changes. A read that locks (AuditHeadRead) takes its lock then.
func ReadAhead(ctx context.Context, h Handler, reads ...Read) context.Context {
	d := h.dialect()
	if d.engine != Postgres || len(reads) == 0 {
		return ctx
	}
	ra := &readsAhead{reads: make([]heldStmt, len(reads))}
	for i, r := range reads {
		ra.reads[i] = heldStmt{sql: d.query(r.query(d)), args: d.args(r.args)}
	}
	return context.WithValue(ctx, aheadKey{}, ra)
}

// fixed is a Read's query that every engine spells alike before
// placeholders.
func fixed(q string) func(*dialect) string {
	return func(*dialect) string { return q }
}
