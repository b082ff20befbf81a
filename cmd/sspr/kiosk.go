package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// checkTerminal refuses to start the TUI, before any data is touched, when
// there is no terminal to draw on or TERM=dumb says it cannot move its
// cursor; howTo says what to do instead.
func checkTerminal(what, howTo string) error {
	if !onTerminal() {
		return fmt.Errorf("the %s needs a terminal: %s", what, howTo)
	}
	if styles.Dumb(os.Environ()) {
		return fmt.Errorf("the %s %s", what, dumbTerminal)
	}
	return nil
}

// onTerminal reports whether there is a terminal to draw the TUI on: output
// to one, and keys from one (standard input, or the controlling terminal,
// which the TUI opens when standard input is not one).
func onTerminal() bool {
	if !term.IsTerminal(int(os.Stdout.Fd())) {
		return false
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return true
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	_ = tty.Close()
	return true
}

// dumbTerminal ends the refusal of a terminal whose TERM is "dumb": every
// screen moves the cursor and redraws in place, which such a terminal
// cannot do.
const dumbTerminal = "needs a terminal that can move its cursor, and TERM=dumb says this one cannot: " +

	"set TERM to the terminal's type (such as xterm-256color, or linux on a console) and start it again"

// runCommands returns the commands that run the TUI: kiosk and demo.
func runCommands(opts *rootOptions) []*cobra.Command {
	return []*cobra.Command{newKioskCmd(opts), newDemoCmd(opts), newServeCmd(opts)}
}

func newKioskCmd(opts *rootOptions) *cobra.Command {
	var terminalID, metricsListen string
	cmd := &cobra.Command{
		Use:   "kiosk",
		Short: "Run the TUI on this terminal as a walk-up kiosk",
		Long: "Runs the reset TUI full screen on this terminal. ctrl+c, ctrl+z and ctrl+\\ do nothing; after the idle " +
			"timeout everything is wiped. Leaving takes an admin sign-in or SIGTERM.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkTerminal("kiosk", "run sspr kiosk on the kiosk's console or in a terminal window"); err != nil {
				return err
			}
			return withApp(c, opts, func(a *app) error {
				// A directory that refuses sspr stops the start; only then
				// is there anything to warn about.
				if err := a.checkDirectory(c.Context()); err != nil {
					return err
				}
				if err := warnNoAdmin(c.Context(), a, c.ErrOrStderr()); err != nil {
					return err
				}
				id := terminalID
				if id == "" {
					id = a.cfg.Kiosk.TerminalID
				}
				if metricsListen != "" {
					a.cfg.Metrics.Listen = metricsListen
				}
				// The TUI owns the terminal: where metrics are is in the config.
				stopMetrics, err := a.serveMetrics(c.Context(), nil)
				if err != nil {
					return err
				}
				defer stopMetrics()
				return runTUI(c.Context(), a, tui.Options{
					Source: "kiosk:" + id, Mode: tui.ModeKiosk,
					IdleTimeout: a.cfg.Kiosk.IdleTimeout, DoneTimeout: a.cfg.Kiosk.DoneTimeout,
				})
			})
		},
	}
	cmd.Flags().StringVar(&terminalID, "terminal-id", "", "name of this terminal, for the audit log and throttling (default from config)")
	addMetricsFlag(cmd, &metricsListen)
	return cmd
}

// runTUI runs the TUI on this terminal until it ends or ctx is cancelled
// (SIGTERM), with the notification worker and tidying beside it.
func runTUI(ctx context.Context, a *app, o tui.Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	banner, err := welcomeBanner(a.cfg.UI)
	if err != nil {
		return err
	}
	// A terminal showing the TUI has nowhere to report a failed tidy or the
	// audit head; the next tick tries again, and audit verify reports.
	stopWorkers := a.startWorkers(ctx, nil)
	// On every way out the notification worker hands back what it holds
	// before the caller closes the store.
	defer stopWorkers()
	o.Context, o.Service, o.Banner, o.Dark = ctx, a.svc, banner, true
	o.CostPerCall, o.Currency = a.cfg.Insights.CostPerCall, a.cfg.Insights.Currency // the admin insights
	o.Language = a.cfg.UI.Language
	// The colours this terminal shows: none for a monochrome one, whose
	// TERM the detection alone takes for a colour terminal.
	environ := os.Environ()
	profile := styles.Profile(colorprofile.Detect(os.Stdout, environ), environ)
	p := tea.NewProgram(tui.New(o), tea.WithContext(ctx), tea.WithoutSignalHandler(), tea.WithColorProfile(profile))
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}
