package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
)

func newDeliverCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "deliver", Short: "Check email and text delivery"}
	cmd.AddCommand(&cobra.Command{
		Use:   "test (email ADDRESS | sms NUMBER)",
		Short: "Send a test message through the configured SMTP server or SMS gateway",
		Long: "Sends one test message, with no code in it, through the channel the configuration names (smtp.* for " +
			"email, sms.* for texts) and says what happened. It exits non-zero when the message was not accepted, " +
			"or when that channel is not configured.",
		Example:   "  sspr deliver test email alice@example.com\n  sspr deliver test sms +15551234567",
		Args:      cobra.ExactArgs(2),
		ValidArgs: []string{dispatch.ChannelEmail, dispatch.ChannelSMS},
		RunE: func(c *cobra.Command, args []string) error {
			return deliverTest(c.Context(), c.ErrOrStderr(), opts.resolveDataDir(), os.Environ(), args[0], args[1])
		},
	})
	return cmd
}

// deliverTest sends one test message of kind (email or sms) to to and
// writes one line about it to w.
func deliverTest(ctx context.Context, w io.Writer, dataDir string, environ []string, kind, to string) error {
	var m dispatch.Message
	switch kind {
	case dispatch.ChannelEmail:
		if err := flows.ValidateEmail(to); err != nil {
			return fmt.Errorf("deliver test: %w", err)
		}
		m = dispatch.Message{Subject: "sspr delivery test",
			Text: "This is a test message from sspr, sent to check its email settings. No action is needed.\n",
			HTML: "<p>This is a test message from sspr, sent to check its email settings. No action is needed.</p>\n"}
	case dispatch.ChannelSMS:
		to = flows.NormalisePhone(to)
		if err := flows.ValidatePhone(to); err != nil {
			return fmt.Errorf("deliver test: %w", err)
		}
		m = dispatch.Message{Text: "sspr test message: text delivery works. No action is needed."}
	default:
		return fmt.Errorf("deliver test: the channel is email or sms, not %q", kind)
	}
	m.Kind, m.Channel, m.To = dispatch.KindNotification, kind, to

	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	cfg, err := config.Load(abs, environ)
	if err != nil {
		return err
	}
	var ch interface {
		dispatch.Channel
		fmt.Stringer
	}
	switch kind {
	case dispatch.ChannelEmail:
		if cfg.SMTP.Host == "" {
			return fmt.Errorf("deliver test: email delivery is not configured: set smtp.host in %s (or SSPR_SMTP_HOST)",
				filepath.Join(abs, config.FileName))
		}
		ch, err = smtpChannel(cfg)
	default:
		if cfg.SMS.URL == "" {
			return fmt.Errorf("deliver test: text delivery is not configured: set sms.url in %s (or SSPR_SMS_URL)",
				filepath.Join(abs, config.FileName))
		}
		ch, err = smsChannel(cfg)
	}
	if err != nil {
		return err
	}

	// The same bound as a code sent while someone waits at the screen.
	ctx, cancel := context.WithTimeout(ctx, cfg.Codes.SendTimeout)
	defer cancel()
	start := time.Now()
	if err := ch.Send(ctx, m); err != nil {
		return fmt.Errorf("deliver test: %s to %s failed after %s: %w", kind, to, took(start), err)
	}
	what := "sent a test email to " + to + "; check that it arrived"
	if kind == dispatch.ChannelSMS {
		what = "the gateway accepted a test text to " + to + "; check that it arrived"
	}
	_, err = fmt.Fprintf(w, "%s through %s in %s\n", what, ch, took(start))
	return err
}

func took(start time.Time) time.Duration {
	return time.Since(start).Round(time.Millisecond)
}
