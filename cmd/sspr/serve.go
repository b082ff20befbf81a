package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"charm.land/log/v2"
	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/cmd/sspr/metrics"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/portal"
)

func newServeCmd(opts *rootOptions) *cobra.Command {
	var listen, metricsListen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the SSH reset portal",
		Long: "Serves the reset TUI over SSH: anyone connects with any username and no key " +
			"(ssh -p 2222 reset@host). SIGTERM or SIGINT drains: connected people are told to finish " +
			"within the grace period.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c, opts, func(a *app) error {
				if listen != "" {
					a.cfg.SSH.Listen = listen
				}
				if metricsListen != "" {
					a.cfg.Metrics.Listen = metricsListen
				}
				return serve(c.Context(), a, tui.ModeSSH)
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default from config, :2222)")
	addMetricsFlag(cmd, &metricsListen)
	return cmd
}

// serve runs the portal until ctx ends, then drains it.
func serve(ctx context.Context, a *app, mode tui.Mode) error {
	if err := a.checkDirectory(ctx); err != nil {
		return err
	}
	logger := a.log
	a.faults.SetLogger(slog.New(logger))
	banner, err := welcomeBanner(a.cfg.UI)
	if err != nil {
		return err
	}
	srv, err := portal.New(portal.Options{
		SSH: a.cfg.SSH, HostKeyPath: filepath.Join(a.dataDir, "ssh_host_ed25519"), Service: a.svc, Mode: mode,
		IdleTimeout: a.cfg.Kiosk.IdleTimeout, DoneTimeout: a.cfg.Kiosk.DoneTimeout, Banner: banner,
		Logger: logger, CostPerCall: a.cfg.Insights.CostPerCall, Currency: a.cfg.Insights.Currency,
		OnRefuse: a.metrics.Refused, Language: a.cfg.UI.Language,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", a.cfg.SSH.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker()
	stopWorkers := a.startWorkers(workerCtx, logger)
	defer stopWorkers()
	go logStats(workerCtx, logger, srv, time.Minute)
	a.metrics.WatchSessions(func() metrics.Sessions {
		st := srv.Stats()
		return metrics.Sessions{Connections: st.Connections, Drawing: st.Drawing, Resting: st.Open - st.Drawing}
	})
	stopMetrics, err := a.serveMetrics(workerCtx, os.Stdout)
	if err != nil {
		_ = l.Close()
		return err
	}
	defer stopMetrics()

	fmt.Fprintf(os.Stdout, "listening on %s\nhost key %s\n", l.Addr(), srv.HostKeyFingerprint())
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(l) }()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	// A load balancer sends no one new from here on.
	a.metrics.Draining()
	// Stop accepting first, and wait for the accept loop to end, before the
	// drain: the SSH library's Shutdown closes only a listener its loop has
	// already taken, and races with a loop still starting, as it is when a
	// signal comes at start. A closed listener ends the loop either way.
	_ = l.Close()
	<-errs
	logger.Info("draining", "grace", a.cfg.SSH.ShutdownGrace)
	if err := srv.Shutdown(context.Background(), a.cfg.SSH.ShutdownGrace); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// logStats logs the portal's sessions every interval while they change, so
// an operator can see the load and how much of it is resting.
func logStats(ctx context.Context, logger *log.Logger, srv *portal.Server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last portal.Stats
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if st := srv.Stats(); st != last {
			logger.Info("portal", "connections", st.Connections, "sessions", st.Open, "drawing", st.Drawing,
				"resting", st.Open-st.Drawing, "rests", st.Rests)
			last = st
		}
	}
}
