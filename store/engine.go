package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Engine names a database engine the store runs on.
type Engine string

// The engines: SQLite, the embedded default, in one file that one host owns;
// PostgreSQL, shared by any number of portals and kiosks.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// dialect holds every difference between the engines' SQL, so that the
// store's functions are written once, in SQLite's spelling, and each
// difference is dealt with here: placeholders, the few functions that are
// named differently, row locks, and the values a driver will not convert.
type dialect struct {
	engine Engine
	// rebound caches PostgreSQL's spelling of each query by its text: the
	// store's queries are a fixed set, except for LIMIT and OFFSET values
	// written into the text, which the bound keeps from growing it without
	// end.
	mu      sync.Mutex
	rebound map[string]string
}

// maxRebound bounds a dialect's cache of rewritten queries; when it is
// full it is emptied and fills again with what is in use.
const maxRebound = 512

// sqliteDialect is SQLite's dialect, which rewrites nothing and so holds no
// state of its own.
var sqliteDialect = &dialect{engine: SQLite}

func newDialect(e Engine) *dialect {
	if e == SQLite {
		return sqliteDialect
	}
	return &dialect{engine: e, rebound: map[string]string{}}
}

// query returns q as the engine spells it: PostgreSQL numbers its
// placeholders ($1, $2), where the store writes ? (or ?N for a numbered
// one).
func (d *dialect) query(q string) string {
	if d.engine == SQLite {
		return q
	}
	d.mu.Lock()
	out, ok := d.rebound[q]
	d.mu.Unlock()
	if ok {
		return out
	}
	out = numberPlaceholders(q)
	d.mu.Lock()
	if len(d.rebound) >= maxRebound {
		clear(d.rebound)
	}
	d.rebound[q] = out
	d.mu.Unlock()
	return out
}

// numberPlaceholders rewrites each ? outside quotes and comments as $N, in
// order, and ?N as $N. The store's queries put no ? in identifiers.
func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			// A quoted string or identifier, with doubled quotes inside.
			end := i + 1
			for end < len(q) {
				if q[end] == c {
					if end+1 < len(q) && q[end+1] == c {
						end += 2
						continue
					}
					break
				}
				end++
			}
			b.WriteString(q[i:min(end+1, len(q))])
			i = end
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q) - i
			}
			b.WriteString(q[i : i+end])
			i += end - 1
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// args returns the arguments as the engine's driver takes them. The schema
// keeps booleans as 0 and 1 on both engines, which SQLite's driver converts
// from a Go bool and PostgreSQL's does not.
func (d *dialect) args(args []any) []any {
	if d.engine == SQLite {
		return args
	}
	copied := false
	for i, a := range args {
		if v, ok := a.(bool); ok {
			if !copied {
				args, copied = append([]any(nil), args...), true
			}
			args[i] = boolInt(v)
		}
	}
	return args
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// planEach returns a search's arguments so that PostgreSQL plans the query
// for these values each time it runs. A prepared statement is otherwise
// planned for any values after five runs, and a generic plan cannot tell a
// search that matches three users from one that matches thousands: it walks
// the username index in order, scanning every user for a rare match (350 ms
// over 100,000 users, where the trigram index answers in 20 ms). Planning
// costs a fraction of a millisecond, which only searches pay.
func (d *dialect) planEach(args []any) []any {
	if d.engine != Postgres {
		return args
	}
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// groupConcat joins expr over a group with commas.
func (d *dialect) groupConcat(expr string) string {
	if d.engine == Postgres {
		return "string_agg(" + expr + ", ',')"
	}
	return "group_concat(" + expr + ", ',')"
}

// jsonObjectAgg is a JSON object of the key and value columns over a
// group, as text; "{}" over no rows.
func (d *dialect) jsonObjectAgg(key, value string) string {
	if d.engine == Postgres {
		return "COALESCE(json_object_agg(" + key + ", " + value + "), '{}')::text"
	}
	return "json_group_object(" + key + ", " + value + ")"
}

// utcDay is the UTC calendar day (YYYY-MM-DD) of a column of Unix seconds.
func (d *dialect) utcDay(col string) string {
	if d.engine == Postgres {
		return "to_char(to_timestamp(" + col + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "strftime('%Y-%m-%d', " + col + ", 'unixepoch')"
}

// jsonStrings is a subquery of the strings in a JSON array passed as its
// one parameter: SQLite's json_each gives them as text, PostgreSQL's as
// json values, which compare with no text.
func (d *dialect) jsonStrings() string {
	if d.engine == Postgres {
		return "SELECT json_array_elements_text(?::json)"
	}
	return "SELECT value FROM json_each(?)"
}

// limitOffset is a LIMIT and OFFSET clause; a negative limit is none.
func (d *dialect) limitOffset(limit, offset int) string {
	switch {
	case limit >= 0:
		return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, max(offset, 0))
	case d.engine == Postgres:
		return fmt.Sprintf(" OFFSET %d", max(offset, 0))
	default:
		// SQLite has no OFFSET without a LIMIT.
		return fmt.Sprintf(" LIMIT -1 OFFSET %d", max(offset, 0))
	}
}

// forUpdate is the row lock a read in a transaction takes on a row it will
// write, so that transactions on other connections queue behind it.
// SQLite's write transactions hold the whole database from BEGIN, so it
// needs none (and has none).
func (d *dialect) forUpdate() string {
	if d.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// likeCaseless is the LIKE operator that ignores case: SQLite's LIKE
// already ignores ASCII case, PostgreSQL's does not.
func (d *dialect) likeCaseless() string {
	if d.engine == Postgres {
		return "ILIKE"
	}
	return "LIKE"
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure, on either engine.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
		return se.Code() == 2067 || se.Code() == 1555
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
