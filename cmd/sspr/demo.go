package main

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/policy"
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
		{name: "admin", display: "Ada Admin", email: "admin@example.com", phone: "+15551230009", admin: true,
			methods: map[policy.Method]string{policy.Email: "admin@example.com", policy.Authenticator: demoTOTPSecret}},
	}
}

// seedDemo fills a fresh store with the demo accounts: alice has email only,
// bob an authenticator, carol email and text, dave is blocked after five
// wrong passwords, erin has registered nothing, and admin is an
// administrator with two methods.
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
