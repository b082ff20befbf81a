package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds a stmtCache. Queries built with values in their
// text (the LIMIT and OFFSET of a page) would otherwise grow it without end;
// when it is full it is emptied and fills again with what is in use.
const maxCachedStmts = 128

// stmtCache holds prepared statements of one pool by query text. A
// *sql.Stmt prepares itself on each connection of the pool as it is used
// there, and a transaction reuses the one prepared on its connection.
type stmtCache struct {
	pool *sql.DB

	mu sync.Mutex
	m  map[string]*cachedStmt // nil once closed
	// pending holds queries first seen inside a transaction, to prepare
	// before the next one.
	pending map[string]struct{}
}

// cachedStmt is a statement of a stmtCache. users counts the calls between
// get and release: a statement emptied out of the cache meanwhile is closed
// by the last of them, never under one. (Once a call has returned,
// database/sql itself keeps the statement open for any rows it returned.)
type cachedStmt struct {
	st      *sql.Stmt
	users   int
	evicted bool
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*cachedStmt{}, pending: map[string]struct{}{}}
}

// lookup returns the cached statement for query, held until release, or
// nil; with mark, a query not cached yet is noted for preparePending.
func (c *stmtCache) lookup(query string, mark bool) *cachedStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs := c.m[query]; cs != nil {
		cs.users++
		return cs
	}
	if mark && c.m != nil && len(c.pending) < maxCachedStmts {
		c.pending[query] = struct{}{}
	}
	return nil
}

// get is lookup that prepares query on the pool when it is not cached yet.
// It returns nil when query cannot be prepared: the caller runs it
// unprepared, which reports any error in it.
func (c *stmtCache) get(ctx context.Context, query string) *cachedStmt {
	if cs := c.lookup(query, false); cs != nil {
		return cs
	}
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil { // closed meanwhile
		_ = st.Close()
		return nil
	}
	if cs := c.m[query]; cs != nil { // another goroutine was first
		_ = st.Close()
		cs.users++
		return cs
	}
	if len(c.m) >= maxCachedStmts {
		c.evictAllLocked()
	}
	cs := &cachedStmt{st: st, users: 1}
	c.m[query] = cs
	return cs
}

// release ends the use of a statement that get or lookup returned.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.users--
	closeNow := cs.evicted && cs.users == 0
	c.mu.Unlock()
	if closeNow {
		_ = cs.st.Close()
	}
}

// evictAllLocked empties the cache, closing each statement not in use now;
// release closes the others.
func (c *stmtCache) evictAllLocked() {
	for q, cs := range c.m {
		cs.evicted = true
		if cs.users == 0 {
			_ = cs.st.Close()
		}
		delete(c.m, q)
	}
}

// preparePending prepares the queries noted by lookup.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		if cs := c.get(ctx, q); cs != nil {
			c.release(cs)
		}
	}
}

// close closes every cached statement; the cache stays empty afterwards.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m != nil {
		c.evictAllLocked()
	}
	c.m = nil
	clear(c.pending)
}
