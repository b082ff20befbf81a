package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/secret"
)

func newStoreCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "Move the store to another database"}
	cmd.AddCommand(newStoreCopyCmd(opts))
	return cmd
}

func newStoreCopyCmd(opts *rootOptions) *cobra.Command {
	var to, passwordFile string
	cmd := &cobra.Command{
		Use:   "copy --to postgres://USER@HOST:PORT/DATABASE",
		Short: "Copy the data folder's store into an empty PostgreSQL database",
		Long: "Copies everything in the data folder's store into an empty PostgreSQL database, every id kept: users " +
			"and their password hashes, groups, policy, registered methods with their sealed secrets, recovery codes, " +
			"vouchers, password history, throttles and blocks, the outbox, and the audit log with its chain. It is " +
			"one transaction: the copy is whole or not made. A database holding any row is refused and left as it " +
			"was. This is how a store moves from one host's SQLite file to a database that several portals and " +
			"kiosks share.\n\n" +
			"Stop every sspr that uses the data folder first: what they write once the copy has started is not " +
			"copied. Give the database's password with --password-file (its first line), so that it is not on the " +
			"command line; it is never printed. Once copied, the target's audit chain is checked with the data " +
			"folder's sspr.key, as sspr audit verify would: every portal and kiosk that uses the database needs " +
			"that same key file, which seals the authenticator secrets and keys the code hashes.",
		Example: "  sspr store copy --to postgres://sspr@db.example.org:5432/sspr --password-file /run/secrets/sspr-db",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if to == "" {
				return fmt.Errorf("store copy: say where to with --to postgres://USER@HOST:PORT/DATABASE")
			}
			var password string
			if passwordFile != "" {
				pw, err := config.ReadSecretFile(passwordFile)
				if err != nil {
					return fmt.Errorf("store copy: --password-file: %w", err)
				}
				password = pw
			}
			return withApp(c, opts, func(a *app) error {
				return copyStore(c, a, to, password)
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database to copy into, as a postgres:// URL or key=value DSN")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "file whose first line is the database password")
	return cmd
}

// copyStore copies a's store to the DSN and says what it did: the rows of
// each table on stdout, the rest on stderr. It says nothing before: a
// refusal is one line, like every other command's.
func copyStore(c *cobra.Command, a *app, dsn, password string) error {
	ctx := c.Context()
	stderr := c.ErrOrStderr()
	start := time.Now()
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
	res, err := a.svc.CopyStore(ctx, dsn, password, nil)
	took := time.Since(start)
	if err != nil {
		return err
	}
	fmt.Fprintln(tw, "TABLE\tROWS")
	for _, t := range res.Tables {
		fmt.Fprintf(tw, "%s\t%d\n", t.Table, t.Rows)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	source := filepath.Join(a.dataDir, "sspr.db")
	if a.cfg.DB.Driver == config.DriverPostgres {
		source = "the PostgreSQL store of db.dsn"
	}
	fmt.Fprintf(stderr, "copied %s from %s into %s in %s\n", flows.Count(int(res.Rows()), "row", "rows"), source,
		res.Target, took.Round(time.Millisecond))
	if !res.Audit.OK {
		return reportVerify(c, res.Audit)
	}
	keyFile := filepath.Join(a.dataDir, secret.KeyFileName)
	if a.cfg.KeyFile != "" {
		keyFile = a.cfg.KeyFile
		if !filepath.IsAbs(keyFile) {
			keyFile = filepath.Join(a.dataDir, keyFile)
		}
	}
	check := fmt.Sprintf("%d audit rows intact", res.Audit.Rows)
	if cp := res.Audit.Checkpoint; cp != nil {
		check += fmt.Sprintf(", matching the checkpoint of %s", cp.At.Format(time.RFC3339))
	}
	fmt.Fprintf(stderr, "checked: the copy passes sspr audit verify with this key (%s)\n", check)
	fmt.Fprintln(stderr, strings.Join([]string{
		"use the copy only with the same key (fingerprint " + a.svc.KeyFingerprint()[:12] + "): give every portal and kiosk",
		"that opens it a copy of " + keyFile + " (mode 0600, named by key_file); sspr refuses to start on the copy with another key",
	}, " "))
	return nil
}
