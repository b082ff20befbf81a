package store

import "testing"

// TestNumberPlaceholders: PostgreSQL's numbered placeholders replace each
// ? in order and ?N as $N, but never a ? inside a string, a quoted name or
// a comment, where it is text.
func TestNumberPlaceholders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`UPDATE t SET a = ?, b = ? WHERE id = ?`, `UPDATE t SET a = $1, b = $2 WHERE id = $3`},
		{`SELECT CASE k WHEN ?1 THEN 0 WHEN ?2 THEN 1 END`, `SELECT CASE k WHEN $1 THEN 0 WHEN $2 THEN 1 END`},
		{`SELECT '?', "a?b", ? FROM t`, `SELECT '?', "a?b", $1 FROM t`},
		{`SELECT 'it''s ?' || ?`, `SELECT 'it''s ?' || $1`},
		{"SELECT ? -- why? because\n, ?", "SELECT $1 -- why? because\n, $2"},
		{`x LIKE ? ESCAPE '\' OR y LIKE ? ESCAPE '\'`, `x LIKE $1 ESCAPE '\' OR y LIKE $2 ESCAPE '\'`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
	} {
		if got := numberPlaceholders(c.in); got != c.want {
			t.Errorf("numberPlaceholders(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestArgsOnPostgres: booleans go to PostgreSQL as the 0 and 1 the schema
// keeps, without changing the caller's slice.
func TestArgsOnPostgres(t *testing.T) {
	d := newDialect(Postgres)
	in := []any{true, "x", false, int64(7)}
	out := d.args(in)
	if out[0] != int64(1) || out[1] != "x" || out[2] != int64(0) || out[3] != int64(7) {
		t.Fatalf("args = %#v", out)
	}
	if in[0] != true {
		t.Fatal("args changed the caller's slice")
	}
	if got := newDialect(SQLite).args(in); got[0] != true {
		t.Fatal("SQLite's args were converted")
	}
}
