package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"charm.land/log/v2"
	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
)

// remindEvery is how often a running sspr sends the password expiry
// reminders that are due. Thresholds are whole days, so an hour late is
// still on the day; each reminder goes out once whatever the replicas.
const remindEvery = time.Hour

func newRemindCmd(opts *rootOptions) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "remind",
		Short: "Send the password expiry reminders that are due, once (sspr serve sends them every hour)",
		Long: "Queues a reminder for every password that has reached a threshold of the policy's expiry_reminder_days, " +
			"to each address its owner registered, through the outbox with its retries. Each reminder goes out once per " +
			"password and threshold, however often this runs and on however many machines. Prints one line per " +
			"message on stdout (user, channel, masked address, expiry, days left, threshold) and a summary on stderr. " +
			"With --dry-run it sends and records nothing and prints what it would send.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				return runRemind(c.Context(), a.svc, dryRun, c.OutOrStdout(), c.ErrOrStderr())
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be sent, and send and record nothing")
	return cmd
}

// runRemind runs the reminders once, printing each message and a summary.
func runRemind(ctx context.Context, svc *flows.Service, dryRun bool, stdout, stderr io.Writer) error {
	w := bufio.NewWriterSize(stdout, 64<<10)
	rep, err := svc.RunReminders(ctx, flows.RemindOptions{DryRun: dryRun, Each: func(p flows.PlannedReminder) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d-day reminder\n", safe(p.Username), p.Channel, safe(p.To),
			p.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"), flows.Count(p.DaysLeft, "day left", "days left"), p.Days)
	}})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("remind: %w", err)
	}
	verb := "queued"
	if dryRun {
		verb = "would send"
	}
	fmt.Fprintf(stderr, "%s %s; %s due, %d already reminded, %d with nowhere to send one%s\n", verb,
		flows.Count(rep.Messages, "reminder", "reminders"), flows.Count(rep.Due, "password", "passwords"),
		rep.AlreadySent, rep.Unreachable, failedNote(rep.Failed))
	return nil
}

func failedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d whose expiry the directory would not give", n)
}

// remindLoop sends the reminders that are due now and every tick until ctx
// ends, logging what it queued and what failed.
func remindLoop(ctx context.Context, svc *flows.Service, ticks <-chan time.Time, logger *log.Logger) {
	for {
		rep, err := svc.RunReminders(ctx, flows.RemindOptions{})
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("expiry reminders", "err", err)
		case rep.Messages > 0 || rep.Failed > 0:
			logger.Info("expiry reminders", "queued", rep.Messages, "unreachable", rep.Unreachable, "failed", rep.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}
