package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

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
	var terminalID string
	cmd := &cobra.Command{
		Use:   "kiosk",
		Short: "Run the TUI on this terminal as a walk-up kiosk",
		Long: "Runs the reset TUI full screen on this terminal. ctrl+c, ctrl+z and ctrl+\\ do nothing; after the idle " +
			"timeout everything is wiped. Leaving takes an admin sign-in or SIGTERM.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if !onTerminal() {
				return errors.New("the kiosk needs a terminal: run sspr kiosk on the kiosk's console or in a terminal window")
			}
			if styles.Dumb(os.Environ()) {
				return fmt.Errorf("the kiosk %s", dumbTerminal)
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
				return runTUI(c.Context(), a, tui.Options{
					Source: "kiosk:" + id, Mode: tui.ModeKiosk,
					IdleTimeout: a.cfg.Kiosk.IdleTimeout, DoneTimeout: a.cfg.Kiosk.DoneTimeout,
				})
			})
		},
	}
	cmd.Flags().StringVar(&terminalID, "terminal-id", "", "name of this terminal, for the audit log and throttling (default from config)")
	return cmd
}

func newDemoCmd(opts *rootOptions) *cobra.Command {
	var listen string
	var seedUsers int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a throwaway, seeded instance with an on-screen outbox",
		Long: "Starts sspr on a temporary data folder, seeded with users that show every case, and shows each code " +
			"or notification in an outbox panel instead of sending it. The folder is removed on exit.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if listen == "" && !onTerminal() {
				return errors.New("the demo needs a terminal: run sspr demo in a terminal window, or serve it over SSH with --listen ADDR")
			}
			if listen == "" && styles.Dumb(os.Environ()) {
				return fmt.Errorf("the demo %s", dumbTerminal)
			}
			// A hang-up (the terminal closed, the login dropped) ends the
			// demo as SIGTERM does, so the folder with its store and key
			// file is removed rather than left behind.
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGHUP)
			defer stop()
			dir, err := demoDir(opts.dataDir)
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			a, err := openApp(ctx, dir, demoEnviron(), clock.Real{}, true)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := seedDemo(ctx, a); err != nil {
				return err
			}
			if err := seedLoadUsers(ctx, a, seedUsers); err != nil {
				return err
			}
			if listen != "" {
				// The demo over SSH: each session gets the outbox panel.
				a.cfg.SSH.Listen = listen
				a.cfg.Kiosk.IdleTimeout = 0
				return serve(ctx, a, tui.ModeDemo)
			}
			return runTUI(ctx, a, tui.Options{Source: "demo", Mode: tui.ModeDemo, DoneTimeout: a.cfg.Kiosk.DoneTimeout})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "serve the demo over SSH on this address instead of this terminal")
	// For the load generator (cmd/sspr-load): users load001…loadNNN, each
	// with the demo password and a verified email address.
	cmd.Flags().IntVar(&seedUsers, "seed-users", 0, "also seed this many users load001… with an email method (at most 1000)")
	_ = cmd.Flags().MarkHidden("seed-users")
	return cmd
}

// demoDir returns the demo's throwaway folder: a new temporary one, or the
// folder --data names, which must not exist yet (it is removed on exit, so
// the demo never touches real data).
func demoDir(requested string) (string, error) {
	if requested == "" {
		dir, err := os.MkdirTemp("", "sspr-demo-")
		if err != nil {
			return "", fmt.Errorf("demo: %w", err)
		}
		return dir, nil
	}
	if _, err := os.Stat(requested); err == nil {
		return "", fmt.Errorf("demo: %s exists; the demo needs a new folder, which it removes on exit", requested)
	}
	if err := os.MkdirAll(requested, 0o700); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return requested, nil
}

// demoEnviron keeps only the settings a demo may take from the environment:
// none of the real delivery or directory settings apply to it.
func demoEnviron() []string { return nil }

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
