// Package ldapdir is sspr's LDAP directory client: it looks people up in
// OpenLDAP or Active Directory, checks their passwords with a bind of their
// own, writes new passwords back (RFC 3062 Password Modify, or Active
// Directory's unicodePwd), and answers group membership.
//
// Searches share a small pool of connections bound as the service account.
// Every password operation gets a connection of its own, so that a user's
// bind never leaks into the pool and a write is never retried on a
// connection that may have carried it already.
//
// It has its own types; flows adapts it to its Directory interface.
package ldapdir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-ldap/ldap/v3"
)

// WriteMode says how passwords are written.
type WriteMode string

const (
	// WritePasswordModify uses the RFC 3062 Password Modify extended
	// operation (OpenLDAP and most other servers).
	WritePasswordModify WriteMode = "passwd"
	// WriteAD writes Active Directory's unicodePwd attribute: a quoted
	// UTF-16LE value, accepted only over an encrypted connection.
	WriteAD WriteMode = "ad"
)

// Defaults for the fields of Config left empty.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultPoolSize        = 4
	DefaultUserFilter      = "(uid=%s)"
	DefaultGroupFilter     = "(&(|(objectClass=groupOfNames)(objectClass=group))(cn=%s))"
	DefaultAttrUsername    = "uid"
	DefaultAttrDisplayName = "cn"
	DefaultAttrMail        = "mail"
	DefaultAttrMobile      = "mobile"
	DefaultAttrMemberOf    = "memberOf"
	DefaultAttrGroupMember = "member"
	// idleLifetime bounds how long a pooled connection is reused; servers
	// drop idle connections (Active Directory after 15 minutes).
	idleLifetime = 5 * time.Minute
	// maxFilterInput bounds a username or group name put into a filter.
	maxFilterInput = 256
	// BindBackoff is how long no bind as the service account is tried after
	// the directory refused one. Every refused bind counts towards the
	// directory's lockout of the service account (ppolicy's pwdMaxFailure,
	// Active Directory's lockout threshold), and without a pause every
	// lookup would bind again: a wrong password would lock sspr out of the
	// directory within seconds.
	BindBackoff = time.Minute
)

// Clock tells the time; flows' clock satisfies it, and tests move a fake one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config says where the directory is and how to read it.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before anything is sent.
	StartTLS bool
	// CAFile is a PEM file of CA certificates to trust; empty uses the system's.
	CAFile string
	// RootCAs, when set, is used instead of CAFile (for tests and embedding).
	RootCAs *x509.CertPool

	// BindDN and BindPassword are the service account's. An empty BindDN
	// searches anonymously (and cannot reset passwords).
	BindDN       string
	BindPassword string

	// BaseDN is where users are searched (subtree).
	BaseDN string
	// UserFilter finds a user; its one %s is replaced by the escaped name.
	UserFilter string
	// Attributes of a user entry.
	AttrUsername    string
	AttrDisplayName string
	AttrMail        string
	AttrMobile      string
	// AttrMemberOf lists the DNs of a user's groups (Active Directory, or
	// OpenLDAP's memberof overlay); absent values are fine.
	AttrMemberOf string
	// AttrSSHKeys holds the user's SSH public keys, one authorized_keys
	// line a value; empty reads none.
	AttrSSHKeys string

	// GroupBaseDN is where groups are searched; empty means BaseDN.
	GroupBaseDN string
	// GroupFilter finds a group by name; its one %s is replaced by the
	// escaped name.
	GroupFilter string
	// AttrGroupMember holds member DNs in a group entry (groupOfNames and
	// Active Directory: member).
	AttrGroupMember string

	// WriteMode is how passwords are written.
	WriteMode WriteMode
	// Timeout bounds connecting and each request.
	Timeout time.Duration
	// PoolSize bounds the service connections kept and used at once, and
	// separately the connections for password operations in flight.
	PoolSize int
	// Clock times the pause after a refused service bind (BindBackoff);
	// nil is the wall clock.
	Clock Clock
}

// Entry is a user as the directory has them.
type Entry struct {
	DN          string
	Username    string
	DisplayName string
	Mail        string
	Mobile      string
	// SSHKeys are the values of AttrSSHKeys, as the directory holds them.
	SSHKeys []string
	// Groups are the names (first RDN value, lower-cased) of the groups the
	// user is directly in, from AttrMemberOf and from groups naming the user
	// in AttrGroupMember.
	Groups []string
	// GroupDNs are those groups' DNs.
	GroupDNs []string
	// Disabled is set for an Active Directory account with
	// ACCOUNTDISABLE, or an OpenLDAP account locked by an administrator
	// for good (pwdAccountLockedTime 000001010000Z).
	Disabled bool
	// Locked is set for an account locked out for now (Active Directory
	// lockoutTime, OpenLDAP pwdAccountLockedTime); a reset unlocks it.
	Locked bool
	// Protected is set for an Active Directory account with adminCount=1,
	// whose rights AdminSDHolder sets: the rights delegated to the service
	// account do not reach it.
	Protected bool

	memberOf []string
}

// PasswordChange is a password to write.
type PasswordChange struct {
	// Old is the current password for a change by the user; empty for a
	// reset by the service account.
	Old string
	// New is the password to set.
	New string
	// Temporary makes the user change it at their next sign-in (a reset only).
	Temporary bool
}

// Client talks to one directory. It is safe for concurrent use.
type Client struct {
	cfg       Config
	network   string
	addr      string
	tlsConfig *tls.Config
	secure    bool

	slots chan struct{} // service connections in use
	binds chan struct{} // password operations in flight

	// serviceBind lets one bind as the service account run at a time, so a
	// burst of lookups after the password went wrong costs the account one
	// failed bind, not one per lookup in flight.
	serviceBind chan struct{}
	// dialContext opens the TCP connection; tests count connections with it.
	dialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	idle   []idleConn
	closed bool
	// refused is the directory's refusal of the last service bind, and
	// retryAt when the next one may be tried; nil after a bind that worked.
	refused error
	retryAt time.Time
}

type idleConn struct {
	conn  *ldap.Conn
	since time.Time
}

// New checks cfg and returns a client. It does not connect: a directory
// that is down shows up as ErrUnavailable from the operations.
func New(cfg Config) (*Client, error) {
	cfg = withDefaults(cfg)
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" {
		return nil, fmt.Errorf("ldap: url %q must be ldap://host[:port] or ldaps://host[:port]", cfg.URL)
	}
	if u.Scheme == "ldaps" && cfg.StartTLS {
		return nil, errors.New("ldap: start_tls must be off with an ldaps:// URL, which is already encrypted")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	}
	c := &Client{cfg: cfg, network: "tcp", addr: net.JoinHostPort(u.Hostname(), port),
		secure: u.Scheme == "ldaps" || cfg.StartTLS}
	if cfg.WriteMode != WritePasswordModify && cfg.WriteMode != WriteAD {
		return nil, fmt.Errorf("ldap: write mode %q must be passwd or ad", cfg.WriteMode)
	}
	if cfg.WriteMode == WriteAD && !c.secure {
		return nil, fmt.Errorf("%w: Active Directory accepts unicodePwd only over TLS; use ldaps:// or StartTLS", ErrInsecure)
	}
	if !c.secure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: %s is not this machine; use ldaps:// or StartTLS (plain ldap:// is for loopback only)",
			ErrInsecure, u.Hostname())
	}
	if c.secure {
		c.tlsConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
		if cfg.RootCAs == nil && cfg.CAFile != "" {
			pemBytes, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ldap: ca file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				return nil, fmt.Errorf("ldap: ca file %s holds no PEM certificate", cfg.CAFile)
			}
			c.tlsConfig.RootCAs = pool
		}
	}
	if cfg.BaseDN == "" {
		return nil, errors.New("ldap: base DN is empty")
	}
	for name, dn := range map[string]string{"base DN": cfg.BaseDN, "group base DN": cfg.GroupBaseDN, "bind DN": cfg.BindDN} {
		if dn == "" {
			continue
		}
		if _, err := ldap.ParseDN(dn); err != nil {
			return nil, fmt.Errorf("ldap: %s %q: %w", name, dn, err)
		}
	}
	for name, f := range map[string]string{"user filter": cfg.UserFilter, "group filter": cfg.GroupFilter} {
		if strings.Count(f, "%s") != 1 || strings.Count(f, "%") != 1 {
			return nil, fmt.Errorf("ldap: %s %q must hold exactly one %%s", name, f)
		}
		if _, err := ldap.CompileFilter(fmt.Sprintf(f, "x")); err != nil {
			return nil, fmt.Errorf("ldap: %s %q: %w", name, f, err)
		}
	}
	if cfg.BindDN != "" && cfg.BindPassword == "" {
		return nil, errors.New("ldap: the bind DN is set but its password is empty")
	}
	c.slots = make(chan struct{}, cfg.PoolSize)
	c.binds = make(chan struct{}, cfg.PoolSize)
	c.serviceBind = make(chan struct{}, 1)
	d := net.Dialer{Timeout: cfg.Timeout}
	c.dialContext = d.DialContext
	return c, nil
}

func withDefaults(cfg Config) Config {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&cfg.UserFilter, DefaultUserFilter)
	set(&cfg.GroupFilter, DefaultGroupFilter)
	set(&cfg.AttrUsername, DefaultAttrUsername)
	set(&cfg.AttrDisplayName, DefaultAttrDisplayName)
	set(&cfg.AttrMail, DefaultAttrMail)
	set(&cfg.AttrMobile, DefaultAttrMobile)
	set(&cfg.AttrMemberOf, DefaultAttrMemberOf)
	set(&cfg.AttrGroupMember, DefaultAttrGroupMember)
	set(&cfg.GroupBaseDN, cfg.BaseDN)
	if cfg.WriteMode == "" {
		cfg.WriteMode = WritePasswordModify
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = DefaultPoolSize
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	return cfg
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Config returns the configuration in use, with defaults filled in and
// without the bind password.
func (c *Client) Config() Config {
	cfg := c.cfg
	cfg.BindPassword = ""
	return cfg
}

// Secure reports whether connections are encrypted (ldaps or StartTLS).
func (c *Client) Secure() bool { return c.secure }

// Close closes the pooled connections. Operations after Close fail with
// ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, ic := range idle {
		_ = ic.conn.Close()
	}
	return nil
}

// dial opens a connection, encrypted as configured, within the timeout.
func (c *Client) dial(ctx context.Context) (*ldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	raw, err := c.dialContext(ctx, c.network, c.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx)
		}
		return nil, unavailable(err)
	}
	deadline, _ := ctx.Deadline()
	_ = raw.SetDeadline(deadline) // bounds the TLS handshakes below
	u, _ := url.Parse(c.cfg.URL)
	var conn *ldap.Conn
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, c.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			if ctx.Err() != nil {
				return nil, ctxError(ctx)
			}
			return nil, unavailable(fmt.Errorf("tls: %w", err))
		}
		conn = ldap.NewConn(tc, true)
	} else {
		conn = ldap.NewConn(raw, false)
	}
	conn.Start()
	conn.SetTimeout(c.cfg.Timeout)
	if c.cfg.StartTLS {
		if err := conn.StartTLS(c.tlsConfig); err != nil {
			_ = conn.Close()
			if isConnError(err) {
				return nil, unavailable(fmt.Errorf("starttls: %w", err))
			}
			return nil, fmt.Errorf("ldap: starttls refused: %w", err)
		}
	}
	_ = raw.SetDeadline(time.Time{})
	return conn, nil
}

// bindService binds conn as the service account, one such bind at a time.
// After the directory refused one, it fails at once with that refusal until
// BindBackoff has passed.
func (c *Client) bindService(ctx context.Context, conn *ldap.Conn) error {
	if c.cfg.BindDN == "" {
		return nil
	}
	if err := acquire(ctx, c.serviceBind); err != nil {
		return err
	}
	defer func() { <-c.serviceBind }()
	// Checked with the turn held: a bind that waited for it may find the
	// one before refused.
	if err := c.bindRefused(); err != nil {
		return err
	}
	err := conn.Bind(c.cfg.BindDN, c.cfg.BindPassword)
	switch {
	case err == nil:
		c.setRefused(nil)
		return nil
	case isConnError(err):
		return unavailable(err)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		err = fmt.Errorf("%w as %s: the directory says the DN or the password is wrong", ErrServiceBind, c.cfg.BindDN)
	default:
		err = fmt.Errorf("%w as %s: %w", ErrServiceBind, c.cfg.BindDN, err)
	}
	c.setRefused(err)
	return err
}

// bindRefused returns the refusal of the last service bind while
// BindBackoff has not passed since, and nil when a bind may be tried.
func (c *Client) bindRefused() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused != nil && c.cfg.Clock.Now().Before(c.retryAt) {
		return c.refused
	}
	return nil
}

func (c *Client) setRefused(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refused = err
	if err != nil {
		c.retryAt = c.cfg.Clock.Now().Add(BindBackoff)
	}
}

// CheckBind binds as the service account once, on a connection of its own:
// sspr does it at start, so that a wrong bind DN or password stops the start
// with a clear error instead of failing every lookup. It returns an error
// wrapping ErrServiceBind when the directory refuses the bind (which starts
// the BindBackoff pause, as any refusal does), and ErrUnavailable when the
// directory cannot be reached. With no bind DN it checks the connection.
func (c *Client) CheckBind(ctx context.Context) error {
	return c.withOwn(ctx, func(conn *ldap.Conn) error { return c.bindService(ctx, conn) })
}

func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxError(ctx)
	}
}

// withService runs fn on a pooled connection bound as the service account.
// fn must be safe to repeat (searches): after a connection error on a
// connection taken from the pool, which may have gone stale, fn runs once
// more on a fresh one.
func (c *Client) withService(ctx context.Context, fn func(*ldap.Conn) error) error {
	if err := acquire(ctx, c.slots); err != nil {
		return err
	}
	defer func() { <-c.slots }()
	for attempt := 0; ; attempt++ {
		conn, reused, err := c.take(ctx)
		if err != nil {
			return err
		}
		err = c.run(ctx, conn, fn)
		if err == nil {
			c.put(conn)
			return nil
		}
		if ctx.Err() != nil {
			_ = conn.Close()
			return ctxError(ctx)
		}
		if !isConnError(err) {
			c.put(conn)
			return err
		}
		_ = conn.Close()
		if !reused || attempt > 0 {
			return unavailable(err)
		}
	}
}

// run calls fn, closing conn if ctx ends first so that fn returns.
func (c *Client) run(ctx context.Context, conn *ldap.Conn, fn func(*ldap.Conn) error) error {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	err := fn(conn)
	if !stop() && err == nil {
		// ctx ended just as fn finished; the connection is closed now.
		return nil
	}
	return err
}

// take returns an idle pooled connection, or a new bound one.
func (c *Client) take(ctx context.Context) (*ldap.Conn, bool, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	for len(c.idle) > 0 {
		ic := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if ic.conn.IsClosing() || time.Since(ic.since) > idleLifetime {
			go ic.conn.Close()
			continue
		}
		c.mu.Unlock()
		return ic.conn, true, nil
	}
	c.mu.Unlock()
	// A new connection needs a bind: fail fast, without connecting, while
	// the directory's last refusal stands.
	if err := c.bindRefused(); err != nil {
		return nil, false, err
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := c.run(ctx, conn, func(conn *ldap.Conn) error { return c.bindService(ctx, conn) }); err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, false, ctxError(ctx)
		}
		return nil, false, err
	}
	return conn, false, nil
}

// put returns a healthy connection to the pool.
func (c *Client) put(conn *ldap.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || conn.IsClosing() || len(c.idle) >= c.cfg.PoolSize {
		go conn.Close()
		return
	}
	c.idle = append(c.idle, idleConn{conn: conn, since: time.Now()})
}

// withOwn runs fn on a fresh connection that is closed afterwards, for
// password operations. It does not bind.
func (c *Client) withOwn(ctx context.Context, fn func(*ldap.Conn) error) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := acquire(ctx, c.binds); err != nil {
		return err
	}
	defer func() { <-c.binds }()
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = c.run(ctx, conn, fn)
	if err != nil && ctx.Err() != nil {
		return ctxError(ctx)
	}
	return err
}

// ctxError is the error for an operation cut short by its context: a
// deadline means the directory was too slow (unavailable); a cancellation is
// the caller's own doing.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return unavailable(ctx.Err())
	}
	return ctx.Err()
}

// validName screens a username or group name before it goes into a filter.
func validName(s string) bool {
	return s != "" && len(s) <= maxFilterInput && !strings.ContainsFunc(s, unicode.IsControl)
}

// userFilter returns the user filter for a name.
func (c *Client) userFilter(name string) string {
	return fmt.Sprintf(c.cfg.UserFilter, ldap.EscapeFilter(name))
}

func (c *Client) groupFilter(name string) string {
	return fmt.Sprintf(c.cfg.GroupFilter, ldap.EscapeFilter(name))
}

// timeLimit is the server-side time limit of searches, in seconds.
func (c *Client) timeLimit() int {
	return max(1, int(c.cfg.Timeout/time.Second))
}

// Lookup finds a user by name: ErrNoSuchUser when the filter matches no
// entry, ErrAmbiguousUser when it matches several.
func (c *Client) Lookup(ctx context.Context, username string) (Entry, error) {
	if !validName(username) {
		return Entry{}, ErrNoSuchUser
	}
	var e Entry
	err := c.withService(ctx, func(conn *ldap.Conn) error {
		var err error
		e, err = c.lookup(conn, username)
		return err
	})
	return e, err
}

func (c *Client) userAttributes() []string {
	attrs := []string{c.cfg.AttrUsername, c.cfg.AttrDisplayName, c.cfg.AttrMail, c.cfg.AttrMobile, c.cfg.AttrMemberOf}
	if c.cfg.AttrSSHKeys != "" {
		attrs = append(attrs, c.cfg.AttrSSHKeys)
	}
	if c.cfg.WriteMode == WriteAD {
		return append(attrs, "userAccountControl", AttrADLockoutTime, "adminCount")
	}
	return append(attrs, AttrPPolicyLocked)
}

// findUser finds a user as Lookup does, without the groups: the user
// search alone.
func (c *Client) findUser(ctx context.Context, username string) (Entry, error) {
	if !validName(username) {
		return Entry{}, ErrNoSuchUser
	}
	var e Entry
	err := c.withService(ctx, func(conn *ldap.Conn) error {
		var err error
		e, err = c.searchUser(conn, username)
		return err
	})
	return e, err
}

func (c *Client) lookup(conn *ldap.Conn, username string) (Entry, error) {
	e, err := c.searchUser(conn, username)
	if err != nil {
		return Entry{}, err
	}
	if err := c.addGroups(conn, &e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// searchUser runs the user filter and reads the entry's attributes.
func (c *Client) searchUser(conn *ldap.Conn, username string) (Entry, error) {
	req := ldap.NewSearchRequest(c.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, c.timeLimit(), false,
		c.userFilter(username), c.userAttributes(), nil)
	res, err := conn.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return Entry{}, ErrAmbiguousUser
	}
	if err != nil {
		return Entry{}, c.searchError("look up user", err)
	}
	switch len(res.Entries) {
	case 0:
		return Entry{}, ErrNoSuchUser
	case 1:
	default:
		return Entry{}, ErrAmbiguousUser
	}
	le := res.Entries[0]
	e := Entry{DN: le.DN, Username: le.GetAttributeValue(c.cfg.AttrUsername),
		DisplayName: le.GetAttributeValue(c.cfg.AttrDisplayName), Mail: le.GetAttributeValue(c.cfg.AttrMail),
		Mobile: le.GetAttributeValue(c.cfg.AttrMobile)}
	if c.cfg.AttrSSHKeys != "" {
		e.SSHKeys = le.GetAttributeValues(c.cfg.AttrSSHKeys)
	}
	if e.Username == "" {
		e.Username = username
	}
	if c.cfg.WriteMode == WriteAD {
		var uac uint64
		_, _ = fmt.Sscan(le.GetAttributeValue("userAccountControl"), &uac)
		e.Disabled = uac&0x2 != 0
		lockout := le.GetAttributeValue(AttrADLockoutTime)
		e.Locked = lockout != "" && lockout != "0"
		e.Protected = le.GetAttributeValue("adminCount") == "1"
	} else if locked := le.GetAttributeValue(AttrPPolicyLocked); locked != "" {
		e.Disabled = locked == "000001010000Z"
		e.Locked = true
	}
	e.memberOf = le.GetAttributeValues(c.cfg.AttrMemberOf)
	return e, nil
}

// addGroups fills in the groups of e: those in its AttrMemberOf values and
// those naming it in AttrGroupMember.
func (c *Client) addGroups(conn *ldap.Conn, e *Entry) error {
	groups := map[string]string{} // lower-cased DN → name
	for _, dn := range e.memberOf {
		addGroup(groups, dn)
	}
	// Groups naming the user as a member (groupOfNames without the memberof
	// overlay, and a check on the overlay).
	gf := fmt.Sprintf("(&%s(%s=%s))", fmt.Sprintf(c.cfg.GroupFilter, "*"), c.cfg.AttrGroupMember, ldap.EscapeFilter(e.DN))
	greq := ldap.NewSearchRequest(c.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, c.timeLimit(),
		false, gf, []string{"1.1"}, nil)
	gres, err := conn.SearchWithPaging(greq, 500)
	if err != nil {
		return c.searchError("look up groups", err)
	}
	for _, g := range gres.Entries {
		addGroup(groups, g.DN)
	}
	for dn, name := range groups {
		e.GroupDNs = append(e.GroupDNs, dn)
		e.Groups = append(e.Groups, name)
	}
	slices.Sort(e.GroupDNs)
	slices.Sort(e.Groups)
	return nil
}

// searchError classifies a failed search.
func (c *Client) searchError(what string, err error) error {
	switch {
	case isConnError(err):
		return unavailable(err)
	case isAccess(err):
		return fmt.Errorf("%w: %s: %w", ErrAccess, what, err)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return fmt.Errorf("ldap: %s: the base DN does not exist: %w", what, err)
	}
	return fmt.Errorf("ldap: %s: %w", what, err)
}

// addGroup records a group DN under its name: the first RDN's value.
func addGroup(groups map[string]string, dn string) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) == 0 {
		return
	}
	groups[strings.ToLower(parsed.String())] = strings.ToLower(parsed.RDNs[0].Attributes[0].Value)
}
