package config

import (
	"net"
	"net/url"
	"strings"
)

// LDAPBindPassword returns the LDAP service account's password:
// SSPR_LDAP_BIND_PASSWORD when set, else the first line of
// ldap.bind_password_file (relative to the data folder), else "". Call it
// once at start.
func (c Config) LDAPBindPassword() (string, error) {
	return c.secret("ldap.bind_password_file", c.LDAP.BindPassword, c.LDAP.BindPasswordFile)
}

// validateConnection checks the LDAP settings that keep passwords safe on
// the way to the directory; u is the parsed ldap.url.
func (l LDAP) validateConnection(u *url.URL) error {
	if l.BindPassword != "" && l.BindPasswordFile != "" {
		return problem("ldap.bind_password_file", "must be empty when SSPR_LDAP_BIND_PASSWORD is set")
	}
	if l.BindDN == "" && (l.BindPassword != "" || l.BindPasswordFile != "") {
		return problem("ldap.bind_dn", "must be set when a bind password is")
	}
	if l.BindDN != "" && l.BindPassword == "" && l.BindPasswordFile == "" {
		return problem("ldap.bind_password_file", "or SSPR_LDAP_BIND_PASSWORD must be set when ldap.bind_dn is")
	}
	// sspr sends people's passwords to the directory (their binds, their
	// new passwords): never in clear text over a network.
	if u.Scheme == "ldap" && !l.StartTLS && !isLoopbackHost(u.Hostname()) {
		return problem("ldap.start_tls", "must be true for an ldap:// URL to another machine (or use ldaps://): "+
			"sspr does not send passwords over an unencrypted connection")
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
