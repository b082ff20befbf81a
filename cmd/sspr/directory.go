package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
)

// directoryFor returns where passwords live: builtin, the store, unless the
// config names an LDAP server. The LDAP client connects on first use, so
// a directory that is down does not stop sspr from starting: people see a
// clear message instead.
func directoryFor(cfg config.Config, builtin *flows.BuiltinDirectory, clk clock.Clock, faults *flows.Faults) (flows.Directory, error) {
	if cfg.LDAP.URL == "" {
		return builtin, nil
	}
	client, err := ldapClient(cfg, clk)
	if err != nil {
		return nil, err
	}
	return flows.NewLDAPDirectory(client, flows.LDAPOptions{PrefillContacts: cfg.LDAP.PrefillContacts, Faults: faults}), nil
}

// checkDirectory binds as the LDAP service account once, before a kiosk or
// the portal starts: a wrong bind DN or password stops the start with the
// directory's reason, since it would fail every lookup and each failed bind
// counts towards the directory locking the service account. A directory
// that cannot be reached does not stop the start (people are told to try
// later); the log says so.
func (a *app) checkDirectory(ctx context.Context) error {
	d, ok := a.dir.(interface{ CheckBind(context.Context) error })
	if !ok {
		return nil
	}
	err := d.CheckBind(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ldapdir.ErrUnavailable):
		a.log.Warn("the directory cannot be reached; starting anyway", "err", err)
		return nil
	}
	return err
}

// ldapClient builds the LDAP client the config describes. Relative file
// names (CA file, password file) are in the data folder.
func ldapClient(cfg config.Config, clk clock.Clock) (*ldapdir.Client, error) {
	pw, err := cfg.LDAPBindPassword()
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	l := cfg.LDAP
	caFile := l.CAFile
	if caFile != "" && !filepath.IsAbs(caFile) {
		caFile = filepath.Join(cfg.DataDir, caFile)
	}
	return ldapdir.New(ldapdir.Config{
		URL: l.URL, StartTLS: l.StartTLS, CAFile: caFile,
		BindDN: l.BindDN, BindPassword: pw,
		BaseDN: l.BaseDN, UserFilter: l.UserFilter,
		AttrUsername: l.AttrUsername, AttrDisplayName: l.AttrDisplayName, AttrMail: l.AttrMail,
		AttrMobile: l.AttrMobile, AttrMemberOf: l.AttrMemberOf, AttrSSHKeys: l.AttrSSHKeys,
		GroupBaseDN: l.GroupBaseDN, GroupFilter: l.GroupFilter, AttrGroupMember: l.AttrGroupMember,
		WriteMode: ldapdir.WriteMode(l.WriteMode), Timeout: l.Timeout, PoolSize: l.PoolSize, Clock: clk,
	})
}
