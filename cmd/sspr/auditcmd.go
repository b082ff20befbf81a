package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows/audit"
)

func newAuditCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export or verify the keyed, chained audit log"}
	var format string
	export := &cobra.Command{
		Use: "export", Short: "Write the audit log, oldest first", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "jsonl" && format != "csv" {
				return fmt.Errorf("format %q: use jsonl or csv", format)
			}
			return withApp(c, opts, func(a *app) error {
				return a.svc.ExportAudit(c.Context(), c.OutOrStdout(), format)
			})
		},
	}
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the chain, its head and its checkpoint; fails naming every row edited, inserted, moved or deleted",
		Long: "Checks every row's MAC and link, the head, and that the log still holds what the checkpoint beside the " +
			"key pinned. Prints one line per finding on stderr and exits non-zero when anything was found.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				r, err := a.svc.VerifyAudit(c.Context())
				if err != nil {
					return err
				}
				return reportVerify(c, r)
			})
		},
	}
	cmd.AddCommand(export, verify)
	return cmd
}

// reportVerify prints the result of audit verify: the summary on stdout when
// the log is intact, otherwise one line per finding on stderr, the last as
// the command's error.
func reportVerify(c *cobra.Command, r audit.Report) error {
	if !r.OK {
		for _, f := range r.Findings[:len(r.Findings)-1] {
			fmt.Fprintf(c.ErrOrStderr(), "sspr: audit log is broken: %s\n", f.Text)
		}
		return fmt.Errorf("audit log is broken: %s", r.Findings[len(r.Findings)-1].Text)
	}
	out := fmt.Sprintf("audit log intact: %d rows", r.Rows)
	if r.KeyedFrom > 1 {
		out += fmt.Sprintf(", keyed from row %d (the rows before it were re-keyed from their SHA-256 chain)", r.KeyedFrom)
	}
	fmt.Fprintln(c.OutOrStdout(), out)
	if cp := r.Checkpoint; cp != nil {
		fmt.Fprintf(c.ErrOrStderr(), "sspr: checked against the checkpoint of %s (%d rows, the last being row %d)\n",
			cp.At.Format(time.RFC3339), cp.Rows, cp.LastID)
	} else {
		fmt.Fprintln(c.ErrOrStderr(), "sspr: no audit checkpoint yet: a log cut back or emptied whole would look intact")
	}
	return nil
}
