package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func newWebhookCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Short: "Check the webhooks that receive sspr's events"}
	cmd.AddCommand(&cobra.Command{
		Use:   "test NAME",
		Short: "Send a signed ping event to a webhook and print its answer",
		Long: "Sends a ping event, signed as every event is, to the webhook NAME from the config, at once and " +
			"outside the outbox, and prints the HTTP status it answered. Exits non-zero unless the status is 2xx.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c, opts, func(a *app) error {
				res, err := a.svc.Webhooks().Ping(c.Context(), args[0], cliActor().Name)
				if err != nil {
					return fmt.Errorf("webhook test: %w", err)
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "%s: %d %s in %s\n", args[0], res.Status,
					http.StatusText(res.Status), res.Took.Round(time.Millisecond))
				return err
			})
		},
	})
	return cmd
}
