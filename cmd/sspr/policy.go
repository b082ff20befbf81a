package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

func newPolicyCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Show or change the reset policy"}
	var format string
	show := &cobra.Command{
		Use: "show", Short: "Show every policy setting", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				p, err := a.svc.Policy(c.Context())
				if err != nil {
					return err
				}
				switch format {
				case "json":
					out := map[string]string{}
					for _, k := range policy.Keys() {
						out[k] = p.Get(k)
					}
					return writeJSON(c.OutOrStdout(), out)
				case "table":
					tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "KEY\tVALUE")
					for _, k := range policy.Keys() {
						fmt.Fprintf(tw, "%s\t%s\n", k, safe(p.Get(k)))
					}
					return tw.Flush()
				}
				return fmt.Errorf("format %q: use table or json", format)
			})
		},
	}
	show.Flags().StringVar(&format, "format", "table", "table or json")
	var dryRun bool
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change one policy setting",
		Long: "Change one policy setting. What the change would mean for the users in the store today is " +
			"printed first; with --dry-run nothing is saved. A value may start with a dash (-1 is a value, not a flag).",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("policy set takes KEY VALUE, got %s", flows.Count(len(args), "argument", "arguments"))
			}
			// Flags after KEY VALUE arrive here as arguments (see below):
			// parse them now, so "policy set KEY VALUE --data DIR" works.
			if err := c.Flags().Parse(args[2:]); err != nil {
				return err
			}
			if c.Flags().NArg() > 0 {
				return fmt.Errorf("policy set takes KEY VALUE and then flags; %q is neither", c.Flags().Arg(0))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				key, value := args[0], args[1]
				line, err := a.svc.PolicyWhatIf(c.Context(), key, value)
				if err != nil {
					return fmt.Errorf("set policy: %w", errors.Unwrap(err))
				}
				fmt.Fprintf(c.ErrOrStderr(), "%s: %s\n", key, safe(line))
				if dryRun {
					fmt.Fprintln(c.ErrOrStderr(), "dry run: nothing was saved")
					return nil
				}
				ch, err := a.svc.SetPolicy(c.Context(), cliActor(), key, value)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.ErrOrStderr(), "%s: %q → %q\n", ch.Key, safe(ch.Old), safe(ch.New))
				return nil
			})
		},
	}
	set.Flags().BoolVar(&dryRun, "dry-run", false, "print what the change would mean and save nothing")
	// A value may start with a dash (a negative number, a word list like
	// "-foo"): everything after KEY is an argument, so policy validation
	// judges it rather than the flag parser; flags before KEY, and flags
	// after KEY VALUE, are parsed as flags.
	set.Flags().SetInterspersed(false)
	cmd.AddCommand(show, set)
	return cmd
}
