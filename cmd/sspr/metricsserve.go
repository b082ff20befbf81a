package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/spf13/cobra"
)

// addMetricsFlag adds --metrics-listen, which wins over metrics.listen.
func addMetricsFlag(cmd *cobra.Command, listen *string) {
	cmd.Flags().StringVar(listen, "metrics-listen", "",
		"host:port serving Prometheus /metrics, /healthz and /readyz (default from config: none)")
}

// serveMetrics serves the metrics endpoint on metrics.listen, if set, until
// ctx ends, and says where on out. The returned stop waits for it to end.
func (a *app) serveMetrics(ctx context.Context, out io.Writer) (stop func(), err error) {
	if a.cfg.Metrics.Listen == "" {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", a.cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if out != nil {
		fmt.Fprintf(out, "metrics on %s\n", l.Addr())
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.metrics.Serve(ctx, l, a.svc.Ready)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
