package main

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
)

func newReportCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Registration and activity reports"}
	var format string
	var days int
	reg := &cobra.Command{
		Use: "registrations", Short: "One row per user: enabled, methods, able to reset, last confirmed", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				lines, err := a.svc.RegistrationReport(c.Context())
				if err != nil {
					return err
				}
				w := c.OutOrStdout()
				header := []string{"username", "enabled_for_sspr", "registered_methods", "able_to_reset", "last_confirmed"}
				row := func(l flows.RegistrationLine) []string {
					last := ""
					if !l.LastConfirmed.IsZero() {
						last = l.LastConfirmed.Format(time.RFC3339)
					}
					return []string{l.Username, strconv.FormatBool(l.Enabled), strings.Join(l.Methods, ";"),
						strconv.FormatBool(l.CanReset), last}
				}
				switch format {
				case "json":
					return writeJSON(w, lines)
				case "csv":
					cw := csv.NewWriter(w)
					_ = cw.Write(header)
					for _, l := range lines {
						_ = cw.Write(row(l))
					}
					cw.Flush()
					return cw.Error()
				case "table":
					tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
					for _, l := range lines {
						fmt.Fprintln(tw, strings.Join(row(l), "\t"))
					}
					return tw.Flush()
				}
				return fmt.Errorf("format %q: use table, csv or json", format)
			})
		},
	}
	act := &cobra.Command{
		Use: "activity", Short: "Resets, changes, failures and blocks per day, coverage and helpdesk calls avoided", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				r, err := a.svc.ActivityReport(c.Context(), days, a.cfg.Insights.CostPerCall, a.cfg.Insights.Currency)
				if err != nil {
					return err
				}
				w := c.OutOrStdout()
				switch format {
				case "json":
					return writeJSON(w, r)
				case "csv":
					cw := csv.NewWriter(w)
					_ = cw.Write([]string{"day", "resets", "changes", "failures", "blocks"})
					for _, d := range r.Days {
						_ = cw.Write([]string{d.Day, strconv.Itoa(d.Resets), strconv.Itoa(d.Changes), strconv.Itoa(d.Failures), strconv.Itoa(d.Blocks)})
					}
					cw.Flush()
					return cw.Error()
				case "table":
					tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "DAY\tRESETS\tCHANGES\tFAILURES\tBLOCKS")
					for _, d := range r.Days {
						fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", d.Day, d.Resets, d.Changes, d.Failures, d.Blocks)
					}
					fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\n", r.Resets, r.Changes, r.Failures, r.Blocks)
					if err := tw.Flush(); err != nil {
						return err
					}
					fmt.Fprintf(w, "\n%d of %d enabled users (%.1f%%) can reset under the current policy\n",
						r.Coverage.AbleToReset, r.Coverage.Enabled, 100*r.Coverage.Share)
					fmt.Fprintf(w, "helpdesk calls avoided: %d × %.2f %s = %.2f %s\n", r.Resets, r.CostPerCall, r.Currency,
						r.EstimatedSaved, r.Currency)
					fmt.Fprintf(w, "registrations postponed: %d (people who left with their security info due)\n", r.Postponed)
					return nil
				}
				return fmt.Errorf("format %q: use table, csv or json", format)
			})
		},
	}
	for _, c := range []*cobra.Command{reg, act} {
		c.Flags().StringVar(&format, "format", "table", "table, csv or json")
	}
	act.Flags().IntVar(&days, "days", 30, "how many days back")
	cmd.AddCommand(reg, act)
	return cmd
}
