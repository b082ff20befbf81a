package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
)

func newBlockCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "block", Short: "List and clear blocks of accounts and sources (kiosk terminals, SSH addresses)"}
	cmd.AddCommand(newBlockListCmd(opts), newBlockClearCmd(opts))
	return cmd
}

func newBlockListCmd(opts *rootOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the blocks in force, sources first",
		Long: "Lists every block in force: kiosk terminals and SSH addresses first (each holds back everyone there), " +
			"then accounts, newest first. KEY is what `sspr block clear` takes.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("format %q: use table or json", format)
			}
			return withApp(c, opts, func(a *app) error {
				blocks, _, err := a.svc.Blocks(c.Context(), 0)
				if err != nil {
					return err
				}
				if format == "json" {
					type row struct {
						Kind   string    `json:"kind"`
						Key    string    `json:"key"`
						Reason string    `json:"reason"`
						Since  time.Time `json:"since"`
						Until  time.Time `json:"until"`
					}
					out := make([]row, len(blocks))
					for i, b := range blocks {
						out[i] = row{string(b.Scope), b.Key, b.Reason, b.Since.UTC(), b.Until.UTC()}
					}
					return writeJSON(c.OutOrStdout(), out)
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "KIND\tKEY\tSINCE\tUNTIL\tWHY")
				for _, b := range blocks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Scope, safe(b.Key), b.Since.Local().Format(time.DateTime),
						b.Until.Local().Format(time.DateTime), safe(b.Reason))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func newBlockClearCmd(opts *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "clear account NAME | clear source KEY",
		Short: "Clear a block in force, audited",
		Long: "Clears the block on an account (a name as typed, known or not) or on a source (a kiosk terminal such as " +
			"kiosk:counter-1, or an SSH address such as ssh:203.0.113.7, as `sspr block list` shows it), with its " +
			"failed attempts, so self-service there starts again at once.",
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) != 2:
				return fmt.Errorf("block clear takes account NAME or source KEY, got %d arguments", len(args))
			case args[0] != "account" && args[0] != "source":
				return fmt.Errorf("block clear takes account NAME or source KEY; %q is neither", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			kind, key := args[0], args[1]
			scope := flows.BlockAccount
			if kind == "source" {
				scope = flows.SourceScope(key)
			}
			return withApp(c, opts, func(a *app) error {
				if err := a.svc.ClearBlock(c.Context(), cliActor(), scope, key); err != nil {
					return err
				}
				fmt.Fprintf(c.ErrOrStderr(), "cleared the block on %s %s\n", kind, safe(key))
				return nil
			})
		},
	}
}
