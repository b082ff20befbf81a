package ldapdir

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Step is one check of a configuration.
type Step struct {
	// Name says what was checked ("connect", "bind", …).
	Name string
	// OK is false for a failed check; Diagnose stops there.
	OK bool
	// Warn marks a check that passed with something worth knowing.
	Warn bool
	// Detail describes what was found.
	Detail string
	// Err is the failure of a failed check.
	Err error
}

// Diagnosis is the result of Diagnose.
type Diagnosis struct {
	Steps []Step
	// Entry is the user found, when a username was given and found.
	Entry *Entry
}

// OK reports whether every step passed.
func (d Diagnosis) OK() bool {
	for _, s := range d.Steps {
		if !s.OK {
			return false
		}
	}
	return len(d.Steps) > 0
}

// Diagnose checks the configuration one step at a time on a connection of
// its own: connect (and encrypt), read what the server supports, bind as the
// service account, read the base DNs, and, given a username, look the user
// up with their groups. It stops at the first failed step. It never writes
// and never binds as a user.
func (c *Client) Diagnose(ctx context.Context, username string) Diagnosis {
	var d Diagnosis
	add := func(s Step) bool {
		d.Steps = append(d.Steps, s)
		return s.OK
	}
	conn, err := c.dial(ctx)
	if err != nil {
		add(Step{Name: "connect", Err: err, Detail: c.addr})
		return d
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if !add(Step{Name: "connect", OK: true, Detail: c.addr + ", " + c.encryption(conn)}) {
		return d
	}

	add(c.rootDSE(conn))

	who := "anonymously"
	if c.cfg.BindDN != "" {
		who = "as " + c.cfg.BindDN
	}
	if err := c.bindService(ctx, conn); err != nil {
		add(Step{Name: "bind", Detail: who, Err: err})
		return d
	}
	if !add(Step{Name: "bind", OK: true, Detail: who}) {
		return d
	}

	bases := []struct{ name, dn string }{{"base DN", c.cfg.BaseDN}}
	if !strings.EqualFold(c.cfg.GroupBaseDN, c.cfg.BaseDN) {
		bases = append(bases, struct{ name, dn string }{"group base DN", c.cfg.GroupBaseDN})
	}
	for _, b := range bases {
		req := ldap.NewSearchRequest(b.dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, c.timeLimit(), false,
			"(objectClass=*)", []string{"1.1"}, nil)
		if _, err := conn.Search(req); err != nil {
			add(Step{Name: b.name, Detail: b.dn, Err: c.searchError("read "+b.name, err)})
			return d
		}
		add(Step{Name: b.name, OK: true, Detail: b.dn + " is readable"})
	}

	if username == "" {
		return d
	}
	if !validName(username) {
		add(Step{Name: "look up", Detail: "the username is empty, too long or holds control characters", Err: ErrNoSuchUser})
		return d
	}
	e, err := c.lookup(conn, username)
	filter := c.userFilter(username)
	if err != nil {
		add(Step{Name: "look up", Detail: filter + " under " + c.cfg.BaseDN, Err: err})
		return d
	}
	d.Entry = &e
	s := Step{Name: "look up", OK: true, Detail: filter + " found " + e.DN}
	var missing []string
	for _, a := range []struct{ attr, v string }{{c.cfg.AttrDisplayName, e.DisplayName}, {c.cfg.AttrMail, e.Mail},
		{c.cfg.AttrMobile, e.Mobile}} {
		if a.v == "" {
			missing = append(missing, a.attr)
		}
	}
	if len(missing) > 0 {
		s.Warn = true
		s.Detail += "; no value for " + strings.Join(missing, ", ")
	}
	add(s)
	return d
}

func (c *Client) encryption(conn *ldap.Conn) string {
	st, ok := conn.TLSConnectionState()
	if !ok {
		return "unencrypted (allowed to loopback only)"
	}
	how := "ldaps"
	if c.cfg.StartTLS {
		how = "StartTLS"
	}
	return fmt.Sprintf("%s, %s", how, tls.VersionName(st.Version))
}

// rootDSE reads what the server supports for writing passwords.
func (c *Client) rootDSE(conn *ldap.Conn) Step {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, c.timeLimit(), false,
		"(objectClass=*)", []string{"supportedExtension", "supportedControl", "vendorName", "vendorVersion"}, nil)
	res, err := conn.Search(req)
	if err != nil || len(res.Entries) == 0 {
		if err == nil {
			err = errors.New("no root DSE")
		}
		return Step{Name: "server", OK: true, Warn: true, Detail: "could not read the root DSE: " + err.Error()}
	}
	e := res.Entries[0]
	ext, ctl := e.GetAttributeValues("supportedExtension"), e.GetAttributeValues("supportedControl")
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	s := Step{Name: "server", OK: true}
	if v := strings.TrimSpace(e.GetAttributeValue("vendorName") + " " + e.GetAttributeValue("vendorVersion")); v != "" {
		s.Detail = v + "; "
	}
	if c.cfg.WriteMode == WriteAD {
		hints := slices.Contains(ctl, adPolicyHintsOID)
		s.Detail += "password policy hints for resets: " + yes(hints)
		s.Warn = !hints
		return s
	}
	pm := slices.Contains(ext, passwordModifyOID)
	pp := slices.Contains(ctl, ldap.ControlTypeBeheraPasswordPolicy)
	s.Detail += "Password Modify (RFC 3062): " + yes(pm) + "; password policy control: " + yes(pp)
	s.Warn = !pm || !pp
	return s
}
