package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// newClient returns a client for srv as the fixture's service account,
// after mutate; it is closed when t ends.
func newClient(t *testing.T, srv *slapdtest.Server, mutate ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: srv.URL, BindDN: slapdtest.ServiceDN, BindPassword: slapdtest.ServicePassword,
		BaseDN: slapdtest.PeopleDN, GroupBaseDN: slapdtest.GroupsDN, AttrDisplayName: "displayName",
		Timeout: 5 * time.Second, PoolSize: 2}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// admin runs fn on a connection bound as the rootdn.
func admin(t *testing.T, srv *slapdtest.Server, fn func(*ldap.Conn) error) {
	t.Helper()
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(slapdtest.AdminDN, slapdtest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	if err := fn(conn); err != nil {
		t.Fatal(err)
	}
}

// operational reads one operational attribute of an entry as the rootdn.
func operational(t *testing.T, srv *slapdtest.Server, dn, attr string) string {
	t.Helper()
	var v string
	admin(t, srv, func(conn *ldap.Conn) error {
		res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 5, false,
			"(objectClass=*)", []string{attr}, nil))
		if err != nil {
			return err
		}
		v = res.Entries[0].GetAttributeValue(attr)
		return nil
	})
	return v
}

func mustCheck(t *testing.T, c *Client, user, pw string, want bool) {
	t.Helper()
	ok, err := c.CheckPassword(context.Background(), user, pw)
	if err != nil {
		t.Fatalf("check %s: %v", user, err)
	}
	if ok != want {
		t.Fatalf("check %s with %q = %v, want %v", user, pw, ok, want)
	}
}

func wantPolicy(t *testing.T, err error, reason PolicyReason) {
	t.Helper()
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a PolicyError %q", err, err, reason)
	}
	if pe.Reason != reason {
		t.Fatalf("policy reason %q (%v), want %q", pe.Reason, pe, reason)
	}
}

func TestNewChecksConfig(t *testing.T) {
	base := Config{URL: "ldaps://dc.example.org", BaseDN: "dc=example,dc=org", BindDN: "cn=svc,dc=example,dc=org",
		BindPassword: "pw"}
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
		want   string
		is     error
	}{
		{"scheme", func(c *Config) { c.URL = "http://dc" }, "ldap://host", nil},
		{"no host", func(c *Config) { c.URL = "ldap://" }, "ldap://host", nil},
		{"ad over plain", func(c *Config) { c.URL, c.WriteMode = "ldap://127.0.0.1", WriteAD }, "only over TLS", ErrInsecure},
		{"plain to another host", func(c *Config) { c.URL = "ldap://dc.example.org" }, "loopback only", ErrInsecure},
		{"starttls on ldaps", func(c *Config) { c.StartTLS = true }, "already encrypted", nil},
		{"write mode", func(c *Config) { c.WriteMode = "replace" }, "passwd or ad", nil},
		{"no base", func(c *Config) { c.BaseDN = "" }, "base DN is empty", nil},
		{"bad base", func(c *Config) { c.BaseDN = "not a dn" }, "base DN", nil},
		{"filter without %s", func(c *Config) { c.UserFilter = "(uid=x)" }, "exactly one %s", nil},
		{"filter with two", func(c *Config) { c.GroupFilter = "(|(cn=%s)(ou=%s))" }, "exactly one %s", nil},
		{"filter syntax", func(c *Config) { c.UserFilter = "uid=%s)(" }, "user filter", nil},
		{"bind without password", func(c *Config) { c.BindPassword = "" }, "password is empty", nil},
		{"ca file missing", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "ca file", nil},
	} {
		cfg := base
		tt.mutate(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: error %v is not %v", tt.name, err, tt.is)
		}
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := base
	cfg.CAFile = notPEM
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a CA file without certificates: %v", err)
	}
	for _, u := range []string{"ldap://127.0.0.1:389", "ldap://localhost", "ldap://[::1]:1389", "ldaps://dc.example.org"} {
		cfg := base
		cfg.URL = u
		if _, err := New(cfg); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestEncodeUnicodePwd(t *testing.T) {
	got := EncodeUnicodePwd("pä𝄞")
	want := "\x22\x00p\x00\xe4\x00\x34\xd8\x1e\xdd\x22\x00" // "pä𝄞" in UTF-16LE, quoted
	if got != want {
		t.Errorf("EncodeUnicodePwd = %q, want %q", got, want)
	}
}

// ldapError builds the error go-ldap returns for a result with a message.
func ldapError(code uint16, msg string) error {
	return &ldap.Error{ResultCode: code, Err: errors.New(msg)}
}

func TestPolicyErrorFromMessages(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want PolicyReason
	}{
		{ldapError(19, "Password is in history of old passwords"), PolicyPasswordInHistory},
		{ldapError(19, "Password is not being changed from existing value"), PolicyPasswordInHistory},
		{ldapError(19, "Password is too young to change"), PolicyPasswordTooYoung},
		{ldapError(19, "Password fails quality checking policy"), PolicyInsufficientQuality},
		{ldapError(19, "0000052D: Constraint violation - check_password_restrictions: the password does not meet the complexity criteria"), PolicyRestriction},
		{ldapError(19, "something else"), PolicyUnknown},
	} {
		pe := policyError(tt.err)
		if pe == nil || pe.Reason != tt.want {
			t.Errorf("%v: %v, want %q", tt.err, pe, tt.want)
		}
	}
	if pe := policyError(ldapError(50, "no write access")); pe != nil {
		t.Errorf("an access error became %v", pe)
	}
	if !isADInvalidPassword(ldapError(19, "00000056: AtrErr: DSID-03190F80, #1:")) {
		t.Error("ERROR_INVALID_PASSWORD not recognised")
	}
	for code, want := range map[string]string{
		"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 773, v4563": adMustChange,
		"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563": adAccountLocked,
		"Invalid credentials": "",
	} {
		if got := bindADCode(ldapError(49, code)); got != want {
			t.Errorf("bindADCode(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestPolicyHintsControl(t *testing.T) {
	p := adPolicyHints().Encode()
	if got := p.Children[0].Value; got != adPolicyHintsOID {
		t.Errorf("control type %v", got)
	}
	value := ber.DecodePacket(p.Children[len(p.Children)-1].Data.Bytes())
	if len(value.Children) != 1 || value.Children[0].Value != int64(1) {
		t.Errorf("control value %v, want SEQUENCE { 1 }", value)
	}
}

func TestLookup(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()

	e, err := c.Lookup(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := slapdtest.Users["alice"]
	want := Entry{DN: alice.DN(), Username: "alice", DisplayName: alice.CN, Mail: alice.Mail, Mobile: alice.Mobile,
		Groups: []string{"sspr-users"}, GroupDNs: []string{"cn=sspr-users,ou=groups,dc=example,dc=org"}}
	if fmt.Sprint(e) != fmt.Sprint(want) {
		t.Errorf("alice:\n got %+v\nwant %+v", e, want)
	}
	e, err = c.Lookup(ctx, "ALICE")
	if err != nil || e.Username != "alice" {
		t.Errorf("lookup is case-insensitive like the directory: %+v, %v", e, err)
	}

	for _, name := range []string{"nobody", "*", "alice)(uid=*", "", strings.Repeat("a", 300), "al\x00ice"} {
		if _, err := c.Lookup(ctx, name); !errors.Is(err, ErrNoSuchUser) {
			t.Errorf("lookup %q: %v, want ErrNoSuchUser", name, err)
		}
	}

	dave, err := c.Lookup(ctx, "dave")
	if err != nil || !dave.Disabled || !dave.Locked {
		t.Errorf("dave is locked for good, so disabled: %+v, %v", dave, err)
	}

	wide := newClient(t, srv, func(cfg *Config) { cfg.UserFilter = "(|(uid=%s)(objectClass=inetOrgPerson))" })
	if _, err := wide.Lookup(ctx, "alice"); !errors.Is(err, ErrAmbiguousUser) {
		t.Errorf("a filter matching everyone: %v, want ErrAmbiguousUser", err)
	}
	byMail := newClient(t, srv, func(cfg *Config) { cfg.UserFilter = "(&(objectClass=inetOrgPerson)(mail=%s))" })
	if e, err := byMail.Lookup(ctx, "bob@example.org"); err != nil || e.Username != "bob" {
		t.Errorf("look up by mail: %+v, %v", e, err)
	}
}

func TestCheckPassword(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	alice := slapdtest.Users["alice"]
	mustCheck(t, c, "alice", alice.Password, true)
	mustCheck(t, c, "alice", alice.Password+"x", false)
	mustCheck(t, c, "alice", "", false)
	mustCheck(t, c, "nobody", alice.Password, false)
	mustCheck(t, c, "*", alice.Password, false)
	// dave is locked: the right password does not open it.
	mustCheck(t, c, "dave", slapdtest.Users["dave"].Password, false)

	// erin's password is right but expired: an error, not false, so that the
	// person is told and not counted as failing.
	_, err := c.CheckPassword(context.Background(), "erin", slapdtest.Users["erin"].Password)
	wantPolicy(t, err, PolicyPasswordExpired)
	ok, err := c.CheckPassword(context.Background(), "erin", "not erin's password")
	if ok || err != nil {
		t.Errorf("erin with a wrong password: %v, %v", ok, err)
	}
}

func TestResetByServiceAccount(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	grace := slapdtest.Users["grace"]

	const next = "Grace-Reset-Pw-2026"
	if err := c.SetPassword(ctx, "grace", PasswordChange{New: next}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, c, "grace", grace.Password, false)
	mustCheck(t, c, "grace", next, true)
	// pwdMustChange would have marked the reset; sspr clears that, since the
	// person chose the password themselves.
	if v := operational(t, srv, grace.DN(), "pwdReset"); v != "" {
		t.Errorf("pwdReset = %q after a self-service reset", v)
	}

	// A temporary password must be changed at the next bind.
	judy := slapdtest.Users["judy"]
	if err := c.SetPassword(ctx, "judy", PasswordChange{New: "Judy-Temp-Pw-2026", Temporary: true}); err != nil {
		t.Fatal(err)
	}
	if v := operational(t, srv, judy.DN(), "pwdReset"); v != "TRUE" {
		t.Errorf("pwdReset = %q after a temporary reset", v)
	}
	// The password is right even though it must be changed now: the person
	// may sign in to change it.
	mustCheck(t, c, "judy", "Judy-Temp-Pw-2026", true)

	// The directory is the judge of resets too: the history applies to the
	// service account, which is not a password administrator.
	err := c.SetPassword(ctx, "grace", PasswordChange{New: grace.Password})
	wantPolicy(t, err, PolicyPasswordInHistory)
	err = c.SetPassword(ctx, "grace", PasswordChange{New: "short"})
	wantPolicy(t, err, PolicyPasswordTooShort)

	if err := c.SetPassword(ctx, "nobody", PasswordChange{New: next}); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("reset an unknown user: %v", err)
	}
}

func TestChangeByUser(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	bob := slapdtest.Users["bob"]

	const first, second = "Bob-Changed-Pw-One", "Bob-Changed-Pw-Two"
	if err := c.SetPassword(ctx, "bob", PasswordChange{Old: bob.Password, New: first}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, c, "bob", first, true)
	// A change by the user is not a reset: nothing to change at next bind.
	if v := operational(t, srv, bob.DN(), "pwdReset"); v != "" {
		t.Errorf("pwdReset = %q after a change by the user", v)
	}

	err := c.SetPassword(ctx, "bob", PasswordChange{Old: "not bob's password", New: second})
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("change with a wrong old password: %v", err)
	}
	err = c.SetPassword(ctx, "bob", PasswordChange{Old: first, New: bob.Password})
	wantPolicy(t, err, PolicyPasswordInHistory)
	err = c.SetPassword(ctx, "bob", PasswordChange{Old: first, New: first})
	wantPolicy(t, err, PolicyPasswordInHistory)
	err = c.SetPassword(ctx, "bob", PasswordChange{Old: first, New: "short"})
	wantPolicy(t, err, PolicyPasswordTooShort)
	mustCheck(t, c, "bob", first, true)

	// yuri's policy has a minimum age: a second change within it is too soon.
	yuri := slapdtest.Users["yuri"]
	if err := c.SetPassword(ctx, "yuri", PasswordChange{Old: yuri.Password, New: "Yuri-Changed-Pw-One"}); err != nil {
		t.Fatal(err)
	}
	err = c.SetPassword(ctx, "yuri", PasswordChange{Old: "Yuri-Changed-Pw-One", New: "Yuri-Changed-Pw-Two"})
	wantPolicy(t, err, PolicyPasswordTooYoung)
}

func TestLockout(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	ivan := slapdtest.Users["ivan"]
	for range slapdtest.MaxFailure {
		mustCheck(t, c, "ivan", "wrong password", false)
	}
	// slapd writes a failure down after it has answered the bind, on
	// another of its threads: on a busy machine the last one may land a
	// moment later. The lock is what the directory says once it has.
	e, err := c.Lookup(ctx, "ivan")
	for deadline := time.Now().Add(10 * time.Second); err == nil && !e.Locked && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		e, err = c.Lookup(ctx, "ivan")
	}
	if err != nil || !e.Locked || e.Disabled {
		t.Fatalf("ivan after %d failures: %+v, %v", slapdtest.MaxFailure, e, err)
	}
	mustCheck(t, c, "ivan", ivan.Password, false)
	err = c.SetPassword(ctx, "ivan", PasswordChange{Old: ivan.Password, New: "Ivan-Changed-Pw-One"})
	wantPolicy(t, err, PolicyAccountLocked)

	// A reset unlocks an account locked for failures.
	if err := c.SetPassword(ctx, "ivan", PasswordChange{New: "Ivan-Reset-Pw-One"}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, c, "ivan", "Ivan-Reset-Pw-One", true)
}

func TestGroups(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	for _, tt := range []struct {
		user, group string
		want        bool
	}{
		{"alice", "sspr-users", true},
		{"ALICE", "SSPR-Users", true},
		{"carol", "sspr-users", false},
		{"carol", "staff", true},
		{"alice", "no-such-group", false},
		{"nobody", "sspr-users", false},
		{"alice", "*", false},
	} {
		got, err := c.IsMember(ctx, tt.user, tt.group)
		if err != nil || got != tt.want {
			t.Errorf("IsMember(%s, %s) = %v, %v; want %v", tt.user, tt.group, got, err, tt.want)
		}
	}
	members, err := c.GroupMembers(ctx, "sspr-users")
	if want := slapdtest.Groups["sspr-users"]; err != nil || !slices.Equal(members, sorted(want)) {
		t.Errorf("GroupMembers(sspr-users) = %v, %v; want %v", members, err, sorted(want))
	}
	if _, err := c.GroupMembers(ctx, "no-such-group"); !errors.Is(err, ErrNoSuchGroup) {
		t.Errorf("GroupMembers of a missing group: %v", err)
	}

	// A group added while slapd runs gets memberOf values from the memberof
	// overlay; with the member attribute pointed elsewhere, membership then
	// comes from memberOf alone.
	admin(t, srv, func(conn *ldap.Conn) error {
		add := ldap.NewAddRequest("cn=helpdesk,"+slapdtest.GroupsDN, nil)
		add.Attribute("objectClass", []string{"groupOfNames"})
		add.Attribute("cn", []string{"helpdesk"})
		add.Attribute("member", []string{slapdtest.Users["carol"].DN(), "uid=ghost," + slapdtest.PeopleDN,
			"cn=outsider,ou=services," + slapdtest.Suffix})
		return conn.Add(add)
	})
	viaMemberOf := newClient(t, srv, func(cfg *Config) { cfg.AttrGroupMember = "seeAlso" })
	for _, cl := range []*Client{c, viaMemberOf} {
		ok, err := cl.IsMember(ctx, "carol", "helpdesk")
		if err != nil || !ok {
			t.Errorf("carol in helpdesk (member %s): %v, %v", cl.cfg.AttrGroupMember, ok, err)
		}
		members, err := cl.GroupMembers(ctx, "helpdesk")
		if err != nil || !slices.Equal(members, []string{"carol"}) {
			t.Errorf("helpdesk members (member %s): %v, %v", cl.cfg.AttrGroupMember, members, err)
		}
	}
	e, err := c.Lookup(ctx, "carol")
	if err != nil || !slices.Equal(e.Groups, []string{"helpdesk", "staff"}) {
		t.Errorf("carol's groups: %v, %v", e.Groups, err)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestWrongServicePassword(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv, func(cfg *Config) { cfg.BindPassword = "not the service password" })
	ctx := context.Background()
	_, err := c.Lookup(ctx, "alice")
	if !errors.Is(err, ErrServiceBind) || errors.Is(err, ErrUnavailable) {
		t.Errorf("lookup with a wrong service password: %v", err)
	}
	if ok, err := c.CheckPassword(ctx, "alice", slapdtest.Users["alice"].Password); ok || !errors.Is(err, ErrServiceBind) {
		t.Errorf("check with a wrong service password: %v, %v", ok, err)
	}
	d := c.Diagnose(ctx, "alice")
	if d.OK() || d.Steps[len(d.Steps)-1].Name != "bind" {
		t.Errorf("diagnosis should fail at bind: %+v", d.Steps)
	}
}

func TestServerDown(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Lookup(ctx, "alice"); err != nil {
		t.Fatal(err) // leaves a connection in the pool
	}
	srv.Down()
	start := time.Now()
	if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("lookup with the server down: %v", err)
	}
	if ok, err := c.CheckPassword(ctx, "alice", slapdtest.Users["alice"].Password); ok || !errors.Is(err, ErrUnavailable) {
		t.Errorf("check with the server down: %v, %v (must be an error, not false)", ok, err)
	}
	if err := c.SetPassword(ctx, "alice", PasswordChange{New: "Alice-Reset-Pw-One"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("reset with the server down: %v", err)
	}
	if _, err := c.IsMember(ctx, "alice", "sspr-users"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("is member with the server down: %v", err)
	}
	if _, err := c.GroupMembers(ctx, "sspr-users"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("group members with the server down: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("failing took %v; a refused connection should fail fast", d)
	}
	d := c.Diagnose(ctx, "alice")
	if d.OK() || len(d.Steps) != 1 || !errors.Is(d.Steps[0].Err, ErrUnavailable) {
		t.Errorf("diagnosis with the server down: %+v", d.Steps)
	}

	// A server that does not answer at all: the timeout bounds the wait.
	silent := listenSilently(t)
	slow := newClient(t, srv, func(cfg *Config) { cfg.URL, cfg.Timeout = "ldap://"+silent, time.Second })
	start = time.Now()
	if _, err := slow.Lookup(ctx, "alice"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("lookup on a silent server: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a silent server held the lookup for %v", d)
	}
}

func TestContextCancel(t *testing.T) {
	srv := slapdtest.Start(t)
	silent := listenSilently(t)
	c := newClient(t, srv, func(cfg *Config) { cfg.URL = "ldap://" + silent })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Lookup(ctx, "alice")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("lookup with a short context: %v after %v", err, time.Since(start))
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("lookup with a cancelled context: %v", err)
	}
}

func TestTLS(t *testing.T) {
	srv := slapdtest.Start(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
		detail string
	}{
		{"starttls", func(cfg *Config) { cfg.StartTLS, cfg.CAFile = true, srv.CAFile }, "StartTLS, TLS 1."},
		{"ldaps", func(cfg *Config) { cfg.URL, cfg.CAFile = srv.LDAPSURL, srv.CAFile }, "ldaps, TLS 1."},
		{"ldaps ad", func(cfg *Config) { cfg.URL, cfg.CAFile, cfg.WriteMode = srv.LDAPSURL, srv.CAFile, WriteAD }, "ldaps, TLS 1."},
	} {
		c := newClient(t, srv, tt.mutate)
		d := c.Diagnose(ctx, "alice")
		if !d.OK() || !strings.Contains(d.Steps[0].Detail, tt.detail) || d.Entry == nil || d.Entry.Username != "alice" {
			t.Errorf("%s: %+v", tt.name, d.Steps)
		}
		if tt.name != "ldaps ad" {
			mustCheck(t, c, "alice", slapdtest.Users["alice"].Password, true)
		}
	}
	// Without the CA the server is not trusted: nothing is sent.
	untrusted := newClient(t, srv, func(cfg *Config) { cfg.URL = srv.LDAPSURL })
	_, err := untrusted.Lookup(ctx, "alice")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("ldaps without the CA: %v", err)
	}
	// A name the certificate does not hold.
	wrongName := newClient(t, srv, func(cfg *Config) {
		cfg.URL, cfg.CAFile = strings.Replace(srv.LDAPSURL, "127.0.0.1", "127.0.0.2", 1), srv.CAFile
	})
	if _, err := wrongName.Lookup(ctx, "alice"); err == nil {
		t.Error("a certificate for another name was accepted")
	}
}

func TestDiagnose(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	d := c.Diagnose(context.Background(), "kim")
	var names []string
	for _, s := range d.Steps {
		names = append(names, s.Name)
	}
	if !d.OK() || !slices.Equal(names, []string{"connect", "server", "bind", "base DN", "group base DN", "look up"}) {
		t.Fatalf("steps %v: %+v", names, d.Steps)
	}
	if s := d.Steps[1]; s.Warn || !strings.Contains(s.Detail, "Password Modify (RFC 3062): yes; password policy control: yes") {
		t.Errorf("server step: %+v", s)
	}
	if d.Entry == nil || d.Entry.Mobile != slapdtest.Users["kim"].Mobile {
		t.Errorf("entry %+v", d.Entry)
	}
	d = c.Diagnose(context.Background(), "carol")
	if last := d.Steps[len(d.Steps)-1]; !last.OK || !last.Warn || !strings.Contains(last.Detail, "no value for mobile") {
		t.Errorf("carol has no mobile: %+v", last)
	}
	d = c.Diagnose(context.Background(), "nobody")
	if last := d.Steps[len(d.Steps)-1]; d.OK() || !errors.Is(last.Err, ErrNoSuchUser) {
		t.Errorf("nobody: %+v", last)
	}
	bad := newClient(t, srv, func(cfg *Config) { cfg.BaseDN = "ou=nowhere," + slapdtest.Suffix })
	d = bad.Diagnose(context.Background(), "")
	if last := d.Steps[len(d.Steps)-1]; d.OK() || last.Name != "base DN" {
		t.Errorf("a base DN that does not exist: %+v", d.Steps)
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			user := []string{"alice", "bob", "carol", "kim"}[i%4]
			if _, err := c.Lookup(ctx, user); err != nil {
				errs <- err
			}
			if i%5 == 0 {
				if ok, err := c.CheckPassword(ctx, "kim", slapdtest.Users["kim"].Password); err != nil || !ok {
					errs <- fmt.Errorf("check: %v %v", ok, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.mu.Lock()
	idle := len(c.idle)
	c.mu.Unlock()
	if idle > 2 {
		t.Errorf("%d idle connections kept, pool size is 2", idle)
	}
	_ = c.Close()
	if _, err := c.Lookup(ctx, "alice"); !errors.Is(err, ErrClosed) {
		t.Errorf("lookup after close: %v", err)
	}
}

// listenSilently accepts connections and never answers; it returns its
// address.
func listenSilently(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}
