package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

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
	set := &cobra.Command{
		Use: "set KEY VALUE", Short: "Change one policy setting",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				// Flags after KEY arrive here as arguments (see below).
				return fmt.Errorf("policy set takes KEY VALUE, got %d arguments; put flags such as --data before KEY", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				ch, err := a.svc.SetPolicy(c.Context(), cliActor(), args[0], args[1])
				if err != nil {
					return err
				}
				fmt.Fprintf(c.ErrOrStderr(), "%s: %q → %q\n", ch.Key, safe(ch.Old), safe(ch.New))
				return nil
			})
		},
	}
	// A value may start with a dash (a negative number, a word list like
	// "-foo"): everything after KEY is its argument, so policy validation
	// judges it rather than the flag parser. Flags still work before KEY.
	set.Flags().SetInterspersed(false)
	cmd.AddCommand(show, set)
	return cmd
}
