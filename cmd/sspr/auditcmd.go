package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
)

func newAuditCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export or verify the hash-chained audit log"}
	var format string
	export := &cobra.Command{
		Use: "export", Short: "Write the audit log, oldest first", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "jsonl" && format != "csv" {
				return fmt.Errorf("format %q: use jsonl or csv", format)
			}
			return withApp(c, opts, func(a *app) error {
				return audit.Export(c.Context(), a.db, c.OutOrStdout(), format)
			})
		},
	}
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	verify := &cobra.Command{
		Use: "verify", Short: "Check the hash chain; fails if any row was edited or deleted", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				r, err := audit.Verify(c.Context(), a.db)
				if err != nil {
					return err
				}
				if !r.OK {
					return fmt.Errorf("audit log is broken at row %d: %s", r.BadID, r.Problem)
				}
				fmt.Fprintf(c.OutOrStdout(), "audit log intact: %s\n", flows.Count(r.Rows, "row", "rows"))
				return nil
			})
		},
	}
	cmd.AddCommand(export, verify)
	return cmd
}
