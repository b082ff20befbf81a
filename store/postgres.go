package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pool defaults on PostgreSQL. Each process holds at most DefaultMaxConns
// connections: a reset's statements are short, so a few connections serve
// hundreds of screens, and a server's max_connections (100 by default) is
// shared by every replica and kiosk.
const (
	DefaultMaxConns         = 10
	DefaultMaxIdleConns     = 4
	DefaultStatementTimeout = 5 * time.Second
)

// txTimeoutFactor is how many statement timeouts a transaction may take:
// it may wait on a directory's password write as well as on the store.
const txTimeoutFactor = 6

// PostgresOptions tune OpenPostgres.
type PostgresOptions struct {
	// Password, when set, replaces any password in the DSN: it comes from
	// a file, so that the DSN can be shown and logged.
	Password string
	// MaxConns and MaxIdleConns size the pool; zero takes the defaults.
	MaxConns, MaxIdleConns int
	// StatementTimeout cuts a statement, or a transaction, that runs
	// longer, so that a database that stops answering never holds a
	// screen; zero takes DefaultStatementTimeout, negative is none.
	StatementTimeout time.Duration
	// OnFault hears of every failure of the database itself: the server
	// unreachable or restarting, a statement cut by the timeout (see
	// IsFault).
	OnFault func(err error)
	// Tracer, when set, sees every statement sent to the server, as pgx
	// reports them: for tests and benchmarks that count them.
	Tracer pgx.QueryTracer
}

// OpenPostgres connects to the PostgreSQL database that dsn names (a
// postgres:// URL or key=value pairs) and applies every migration not yet
// applied. Processes that start together on a new database migrate it once.
// A server that cannot be reached is an error naming its address and the
// cause.
func OpenPostgres(ctx context.Context, dsn string, opts PostgresOptions) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: PostgreSQL settings: %w", err)
	}
	if opts.Password != "" {
		cfg.Password = opts.Password
	}
	timeout := opts.StatementTimeout
	if timeout == 0 {
		timeout = DefaultStatementTimeout
	}
	if timeout > 0 {
		// The server cuts what the client's deadline might not reach (a
		// statement waiting on a lock); the client's deadlines (DB.timeout,
		// DB.txTimeout) cut what the server cannot (a server that stopped
		// answering).
		ms := strconv.FormatInt(timeout.Milliseconds(), 10)
		cfg.RuntimeParams["statement_timeout"] = ms
		cfg.RuntimeParams["lock_timeout"] = ms
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(txTimeoutFactor*timeout.Milliseconds(), 10)
		if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > timeout {
			cfg.ConnectTimeout = timeout
		}
	}
	cfg.RuntimeParams["application_name"] = "sspr"
	if opts.Tracer != nil {
		cfg.Tracer = opts.Tracer
	}
	// Times are Unix seconds in the schema; the one function that reads
	// a calendar day names UTC itself.
	cfg.RuntimeParams["timezone"] = "UTC"
	db := &DB{sql: newDialect(Postgres), onFault: opts.OnFault}
	// pgConnector saves a transaction the round trips of its BEGIN and of
	// the writes that need no answer (pgpipe.go).
	pool := sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg, stdlib.OptionShouldPing(db.shouldPing))})
	maxConns, maxIdle := opts.MaxConns, opts.MaxIdleConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	if maxIdle <= 0 {
		maxIdle = DefaultMaxIdleConns
	}
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(min(maxIdle, maxConns))
	// A connection broken by a server restart is found and replaced on its
	// next use; recycling idle ones bounds how long a pool clings to a
	// server a load balancer has moved away from.
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pool.SetConnMaxLifetime(time.Hour)

	db.writer, db.reader = pool, pool
	if timeout > 0 {
		db.timeout, db.txTimeout = timeout+timeout/2, txTimeoutFactor*timeout
	}
	if err := pool.PingContext(ctx); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("open store: can't reach PostgreSQL at %s: %s", serverAddress(cfg), connectCause(err))
	}
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// pingAfterIdle is how long a pooled connection may rest before it is
// checked on its next use.
const pingAfterIdle = 250 * time.Millisecond

// shouldPing decides whether a pooled connection is checked before use. A
// server that restarted has ended every connection, and the first statement
// sent on each would fail; a check finds a dead one, and the pool opens
// another in its place, so the pool recovers by itself. Checking costs a
// round trip, so it is spent on connections that rested, and on every
// connection that was resting when a fault was last seen; a busy pool's
// connections, reused within microseconds, are not checked.
func (db *DB) shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	if p.IdleDuration > pingAfterIdle {
		return true
	}
	last := db.lastFault.Load()
	return last != 0 && time.Since(time.Unix(0, last)) <= p.IdleDuration
}

// serverAddress names the server a config connects to, as host:port, or
// its socket folder.
func serverAddress(cfg *pgx.ConnConfig) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// connectCause is the innermost reason a connection failed, without the
// driver's layers of context (which repeat the user and database names).
func connectCause(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return "no answer in time"
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}

// pgFaultClasses are the SQLSTATE classes of a server that failed rather
// than a statement it refused: 08 connection exception, 53 insufficient
// resources, 57 operator intervention (shutdown, a statement cancelled by
// the timeout), 58 system error, XX internal error. 55P03 is a lock not
// granted within the timeout.
var pgFaultClasses = map[string]bool{"08": true, "53": true, "57": true, "58": true, "XX": true}

// isPostgresFault reports whether err is a PostgreSQL server or connection
// failure.
func isPostgresFault(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pgFaultClasses[pe.Code[:2]] || pe.Code == "55P03" || pe.Code == "25P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone)
}
