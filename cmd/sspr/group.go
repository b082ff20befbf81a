package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newGroupCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage groups (the SSPR scope can be one group)"}
	cmd.AddCommand(&cobra.Command{
		Use: "add NAME", Short: "Add a group", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				if err := a.svc.AddGroup(c.Context(), cliActor(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(c.ErrOrStderr(), "added group %s\n", args[0])
				return nil
			})
		},
	}, &cobra.Command{
		Use: "list", Short: "List groups", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				groups, err := a.svc.Groups(c.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "GROUP\tMEMBERS")
				for _, g := range groups {
					fmt.Fprintf(tw, "%s\t%d\n", g.Name, g.Members)
				}
				return tw.Flush()
			})
		},
	}, &cobra.Command{
		Use: "add-member GROUP USER", Short: "Add a user to a group", Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				if err := a.svc.SetMember(c.Context(), cliActor(), args[0], args[1], true); err != nil {
					return err
				}
				fmt.Fprintf(c.ErrOrStderr(), "added %s to %s\n", args[1], args[0])
				return nil
			})
		},
	}, &cobra.Command{
		Use: "remove-member GROUP USER", Short: "Remove a user from a group", Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				if err := a.svc.SetMember(c.Context(), cliActor(), args[0], args[1], false); err != nil {
					return err
				}
				fmt.Fprintf(c.ErrOrStderr(), "removed %s from %s\n", args[1], args[0])
				return nil
			})
		},
	})
	return cmd
}
