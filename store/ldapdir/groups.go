package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// IsMember reports whether a user is directly in a group, by the user's
// AttrMemberOf values or the group's AttrGroupMember values. An unknown user
// or group is not a member.
func (c *Client) IsMember(ctx context.Context, username, group string) (bool, error) {
	if !validName(username) || !validName(group) {
		return false, nil
	}
	var member bool
	err := c.withService(ctx, func(conn *ldap.Conn) error {
		e, err := c.lookup(conn, username)
		if errors.Is(err, ErrNoSuchUser) || errors.Is(err, ErrAmbiguousUser) {
			member = false
			return nil
		}
		if err != nil {
			return err
		}
		groups, err := c.findGroups(conn, group, nil)
		if err != nil {
			return err
		}
		member = false
		for _, g := range groups {
			if slices.Contains(e.GroupDNs, strings.ToLower(normDN(g.DN))) {
				member = true
				return nil
			}
		}
		return nil
	})
	return member, err
}

// normDN returns a DN in go-ldap's canonical spelling, or dn itself.
func normDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return dn
	}
	return parsed.String()
}

// findGroups returns the entries the group filter matches for a name.
func (c *Client) findGroups(conn *ldap.Conn, group string, attrs []string) ([]*ldap.Entry, error) {
	if len(attrs) == 0 {
		attrs = []string{"1.1"}
	}
	req := ldap.NewSearchRequest(c.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, c.timeLimit(),
		false, c.groupFilter(group), attrs, nil)
	res, err := conn.Search(req)
	if err != nil {
		return nil, c.searchError("find group", err)
	}
	return res.Entries, nil
}

// GroupMembers lists the usernames of a group's direct members that the
// user filter admits, sorted; ErrNoSuchGroup when the group filter matches
// nothing. Members outside BaseDN, and nested groups, are left out.
func (c *Client) GroupMembers(ctx context.Context, group string) ([]string, error) {
	if !validName(group) {
		return nil, ErrNoSuchGroup
	}
	var out []string
	err := c.withService(ctx, func(conn *ldap.Conn) error {
		groups, err := c.findGroups(conn, group, []string{c.cfg.AttrGroupMember})
		if err != nil {
			return err
		}
		if len(groups) == 0 {
			return ErrNoSuchGroup
		}
		base, err := ldap.ParseDN(c.cfg.BaseDN)
		if err != nil {
			return err
		}
		names := map[string]bool{}
		pending := map[string]string{} // canonical lower-cased DN → DN, still to resolve
		for _, g := range groups {
			for _, dn := range g.GetAttributeValues(c.cfg.AttrGroupMember) {
				parsed, err := ldap.ParseDN(dn)
				if err != nil || !(base.AncestorOfFold(parsed) || base.EqualFold(parsed)) {
					continue
				}
				pending[strings.ToLower(parsed.String())] = dn
			}
			// One search finds the members that carry the group in
			// AttrMemberOf (Active Directory, the memberof overlay),
			// which also covers groups too large to list in one value set.
			f := fmt.Sprintf("(&%s(%s=%s))", fmt.Sprintf(c.cfg.UserFilter, "*"), c.cfg.AttrMemberOf, ldap.EscapeFilter(g.DN))
			req := ldap.NewSearchRequest(c.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, c.timeLimit(),
				false, f, []string{c.cfg.AttrUsername}, nil)
			res, err := conn.SearchWithPaging(req, 500)
			if err != nil {
				return c.searchError("list group members", err)
			}
			for _, e := range res.Entries {
				if name := e.GetAttributeValue(c.cfg.AttrUsername); name != "" {
					names[strings.ToLower(name)] = true
				}
				delete(pending, strings.ToLower(normDN(e.DN)))
			}
		}
		// The rest, one read each: groupOfNames without the overlay.
		for _, dn := range pending {
			req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, c.timeLimit(), false,
				fmt.Sprintf(c.cfg.UserFilter, "*"), []string{c.cfg.AttrUsername}, nil)
			res, err := conn.Search(req)
			if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				continue // a dangling member
			}
			if err != nil {
				return c.searchError("read group member", err)
			}
			for _, e := range res.Entries {
				if name := e.GetAttributeValue(c.cfg.AttrUsername); name != "" {
					names[strings.ToLower(name)] = true
				}
			}
		}
		out = make([]string, 0, len(names))
		for n := range names {
			out = append(out, n)
		}
		slices.Sort(out)
		return nil
	})
	return out, err
}
