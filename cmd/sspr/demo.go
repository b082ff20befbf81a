package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/tui"
)

// Demo accounts. Their passwords and secrets are public: they are in the
// README, so helpdesk staff can show every case.
const (
	demoPassword = "demo password 2026"
	// demoTOTPSecret is the authenticator secret of bob and admin; add it to
	// a phone's authenticator app by hand to sign in as them.
	demoTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
)

// demoUser is one seeded account.
type demoUser struct {
	name, display, email, phone string
	admin                       bool
	methods                     map[policy.Method]string
}

func demoUsers() []demoUser {
	return []demoUser{
		{name: "alice", display: "Alice Example", email: "alice@example.com", phone: "+15551230001",
			methods: map[policy.Method]string{policy.Email: "alice@example.com"}},
		{name: "bob", display: "Bob Example", email: "bob@example.com", phone: "+15551230002",
			methods: map[policy.Method]string{policy.Authenticator: demoTOTPSecret}},
		{name: "carol", display: "Carol Example", email: "carol@example.com", phone: "+15551230003",
			methods: map[policy.Method]string{policy.Email: "carol@example.com", policy.SMS: "+15551230003"}},
		{name: "dave", display: "Dave Example", email: "dave@example.com", phone: "+15551230004",
			methods: map[policy.Method]string{policy.Email: "dave@example.com"}},
		{name: "erin", display: "Erin Example", email: "erin@example.com", phone: "+15551230005"},
		{name: "frank", display: "Frank Example", email: "frank@example.com", phone: "+15551230006",
			methods: map[policy.Method]string{policy.Email: "frank@example.com"}},
		{name: "admin", display: "Ada Admin", email: "admin@example.com", phone: "+15551230009", admin: true,
			methods: map[policy.Method]string{policy.Email: "admin@example.com", policy.Authenticator: demoTOTPSecret}},
	}
}

// seedDemo fills a fresh store with the demo accounts: alice has email only,
// bob an authenticator, carol email and text, dave is blocked after five
// wrong passwords, erin has registered nothing, frank is locked out after
// ten wrong passwords, and admin is an administrator with two methods.
func seedDemo(ctx context.Context, a *app) error {
	actor := flows.Actor{Name: "demo", Source: "demo"}
	if _, err := a.svc.SetPolicy(ctx, actor, "helpdesk_contact", "helpdesk@example.com"); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	for _, u := range demoUsers() {
		if _, err := a.svc.AddUser(ctx, actor, flows.NewUser{Username: u.name, DisplayName: u.display, Email: u.email,
			Phone: u.phone, Admin: u.admin, Password: demoPassword}); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		for _, m := range policy.AllMethods() {
			if v, ok := u.methods[m]; ok {
				if err := a.svc.RegisterVerified(ctx, actor, u.name, m, v); err != nil {
					return fmt.Errorf("seed demo: %w", err)
				}
			}
		}
	}
	// Dave's block is real: five wrong passwords, as anyone could cause.
	for range flows.AccountFailLimit {
		_, _ = a.svc.SignIn(ctx, "dave", "not dave's password", "demo-seed")
	}
	return lockOutFrank(ctx, a, actor)
}

// lockOutFrank locks frank out as anyone could: ten different wrong
// passwords (the default lockout_threshold). sspr's own block of
// self-service comes after five failures, and would keep frank from
// unlocking himself; it is lifted after each five, as an admin may, so
// that the demo shows a lockout alone. Each try comes from a source of its
// own, so that no pace holds the next back.
func lockOutFrank(ctx context.Context, a *app, actor flows.Actor) error {
	pol, err := a.svc.Policy(ctx)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	for i := range pol.LockoutThreshold {
		_, _ = a.svc.SignIn(ctx, "frank", fmt.Sprintf("not frank's password %d", i), fmt.Sprintf("demo-seed-%d", i))
		if (i+1)%flows.AccountFailLimit == 0 {
			if err := a.svc.ClearBlock(ctx, actor, flows.BlockAccount, "frank"); err != nil {
				return fmt.Errorf("seed demo: %w", err)
			}
		}
	}
	return nil
}

// maxLoadUsers bounds --seed-users.
const maxLoadUsers = 1000

// seedLoadUsers adds n users load001… with the demo password and a verified
// email address, loadNNN@example.com, for the load generator to reset.
func seedLoadUsers(ctx context.Context, a *app, n int) error {
	if n < 0 || n > maxLoadUsers {
		return fmt.Errorf("demo: --seed-users takes 0 to %d", maxLoadUsers)
	}
	actor := flows.Actor{Name: "demo", Source: "demo"}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("load%03d", i)
		email := name + "@example.com"
		if _, err := a.svc.AddUser(ctx, actor, flows.NewUser{Username: name, DisplayName: "Load " + name,
			Email: email, Password: demoPassword}); err != nil {
			return fmt.Errorf("seed load users: %w", err)
		}
		if err := a.svc.RegisterVerified(ctx, actor, name, policy.Email, email); err != nil {
			return fmt.Errorf("seed load users: %w", err)
		}
	}
	return nil
}

func newDemoCmd(opts *rootOptions) *cobra.Command {
	var listen, metricsListen string
	var seedUsers int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a throwaway, seeded instance with an on-screen outbox",
		Long: "Starts sspr on a temporary data folder, seeded with users that show every case, and shows each code " +
			"or notification in an outbox panel instead of sending it. The folder is removed on exit.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if listen == "" {
				if err := checkTerminal("demo", "run sspr demo in a terminal window, or serve it over SSH with --listen ADDR"); err != nil {
					return err
				}
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
				a.cfg.Metrics.Listen = metricsListen
				a.cfg.Kiosk.IdleTimeout = 0
				return serve(ctx, a, tui.ModeDemo)
			}
			return runTUI(ctx, a, tui.Options{Source: "demo", Mode: tui.ModeDemo, DoneTimeout: a.cfg.Kiosk.DoneTimeout})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "serve the demo over SSH on this address instead of this terminal")
	addMetricsFlag(cmd, &metricsListen)
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
