package flows_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// seedWhatIf builds a store whose answers are known by hand:
//
//	u00–u02  email + authenticator, confirmed 10 days ago
//	u03      email + authenticator, disabled, never confirmed
//	u04      email, confirmed 100 days ago
//	u05–u06  email, never confirmed
//	u07      security questions only
//	u08      email + security questions
//	u09      nothing
//	root     administrator with email + sms
//
// Group "pilot" holds u00, u04 and u07; group "empty" holds nobody.
func seedWhatIf(t *testing.T, h *flowstest.Harness) {
	t.Helper()
	ctx := context.Background()
	now := h.Clock.Now()
	methods := map[string][]string{
		"u00": {"email", "authenticator"}, "u01": {"email", "authenticator"}, "u02": {"email", "authenticator"},
		"u03": {"email", "authenticator"}, "u04": {"email"}, "u05": {"email"}, "u06": {"email"},
		"u07": {"questions"}, "u08": {"email", "questions"}, "root": {"email", "sms"},
	}
	confirmed := map[string]time.Duration{"u00": 10, "u01": 10, "u02": 10, "u04": 100}
	err := h.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, g := range []string{"pilot", "empty"} {
			if _, err := store.CreateGroup(ctx, tx, g, now.Unix()); err != nil {
				return err
			}
		}
		var users []store.ImportUser
		for _, name := range []string{"u00", "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "root"} {
			iu := store.ImportUser{User: store.User{Username: name, DisplayName: "User " + name, IsAdmin: name == "root",
				CreatedAt: now.Unix(), UpdatedAt: now.Unix()}}
			if name == "u00" || name == "u04" || name == "u07" {
				iu.Groups = []string{"pilot"}
			}
			users = append(users, iu)
		}
		if err := store.ImportUsers(ctx, tx, users, nil); err != nil {
			return err
		}
		for name, kinds := range methods {
			u, err := store.UserByName(ctx, tx, name)
			if err != nil {
				return err
			}
			for _, k := range kinds {
				if err := store.UpsertMethod(ctx, tx, store.Method{UserID: u.ID, Kind: k, CreatedAt: 1, ConfirmedAt: 1}); err != nil {
					return err
				}
			}
			if days, ok := confirmed[name]; ok {
				if err := store.TouchConfirmed(ctx, tx, u.ID, now.Add(-days*24*time.Hour).Unix()); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE username = 'u03'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func whatIf(t *testing.T, h *flowstest.Harness, key, value string) string {
	t.Helper()
	line, err := h.Svc.PolicyWhatIf(context.Background(), key, value)
	if err != nil {
		t.Fatalf("what if %s=%s: %v", key, value, err)
	}
	return line
}

func TestPolicyWhatIfNumbers(t *testing.T) {
	h := flowstest.New(t)
	seedWhatIf(t, h)
	// Default policy: one method, questions not allowed. Able to reset:
	// u00–u02, u04–u06, u08 and root = 8 of 11; not u03 (disabled), u07
	// (questions only), u09 (nothing).
	cases := []struct{ key, value, want string }{
		{"methods_required", "2",
			// u00–u02 and root keep two usable methods: 4 of 11 can reset.
			"with 2 methods required, 7 of 11 enabled users could not reset today (now 3)"},
		{"methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions",
			// u07 still cannot: questions never count alone.
			"with email, sms, authenticator, recovery codes, voucher and questions allowed, 3 of 11 enabled users could not reset today (now 3); security questions allowed: they never count alone"},
		{"methods_allowed", "sms,authenticator",
			// Only u00–u02 (authenticator) and root (admins keep email and sms) remain.
			"with sms and authenticator allowed, 7 of 11 enabled users could not reset today (now 3)"},
		{"enabled_group", "pilot", "group pilot has 3 members; it applies only once SSPR is enabled for a group (now all)"},
		{"enabled_for", "none", "with SSPR enabled for none, only administrators stay enabled: 1 of 11 users could reset today (now 8)"},
		// Due now: u03, u05, u06, u08, root (never confirmed), u07, u09 (too few methods) = 7.
		{"reconfirm_days", "30", "8 of 11 enabled users would be asked to register or re-confirm at their next sign-in (now 7)"},
		{"reconfirm_days", "0", "nobody is asked to re-confirm; 2 of 11 enabled users would be asked to register or re-confirm at their next sign-in (now 7)"},
		{"require_registration", "false", "0 of 11 enabled users would be asked to register or re-confirm at their next sign-in (now 7)"},
		{"helpdesk_contact", "help@example.org", `people at a dead end will see "Please contact your helpdesk: help@example.org"`},
		{"password_min_length", "14", "applies to passwords set from now on; current passwords stay valid until they are next changed"},
		{"methods_required", "1", "no change: that is the value in force"},
	}
	for _, c := range cases {
		if got := whatIf(t, h, c.key, c.value); got != c.want {
			t.Errorf("what if %s=%s:\n got %s\nwant %s", c.key, c.value, got, c.want)
		}
	}

	// Questions allowed and two required: u08 (email + questions) now counts.
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	if got, want := whatIf(t, h, "methods_required", "2"),
		"with 2 methods required, 6 of 11 enabled users could not reset today (now 3)"; got != want {
		t.Errorf("two methods with questions:\n got %s\nwant %s", got, want)
	}
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher")

	// A group scope: members u00 (can), u04 (can), u07 (cannot), plus root.
	h.SetPolicy(t, "enabled_group", "pilot")
	if got, want := whatIf(t, h, "enabled_for", "group"),
		"group pilot has 3 members; 3 of 4 enabled users (members and administrators) could reset today (now 8 of 11)"; got != want {
		t.Errorf("group scope:\n got %s\nwant %s", got, want)
	}
	h.SetPolicy(t, "enabled_for", "group")
	if got, want := whatIf(t, h, "enabled_group", "empty"),
		"group empty has 0 members; 1 of 1 enabled users (members and administrators) could reset today (now 3 of 4)"; got != want {
		t.Errorf("empty group:\n got %s\nwant %s", got, want)
	}
	if got, want := whatIf(t, h, "enabled_for", "all"),
		"with SSPR enabled for all, 8 of 11 users could reset today (now 3 of 4 enabled)"; got != want {
		t.Errorf("back to all:\n got %s\nwant %s", got, want)
	}
}

func TestPolicyWhatIfRefusesAndSavesNothing(t *testing.T) {
	h := flowstest.New(t)
	seedWhatIf(t, h)
	ctx := context.Background()
	before, err := h.Svc.Policy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := h.CountEvents(t, audit.EventPolicyChanged)
	for _, c := range []struct{ key, value, want string }{
		{"methods_required", "3", "methods required must be 1 or 2"},
		{"reconfirm_days", "731", "days before re-confirm must be 0–730"},
		{"enabled_group", "nope", `group "nope" does not exist`},
		{"enabled_for", "group", "enabled group must name a group"},
		{"methods_allowed", "questions", "methods allowed must include a method other than security questions"},
		{"helpdesk_contact", "call us", "helpdesk contact must be an email address or an http(s) URL"},
		{"no_such_key", "1", "unknown policy key"},
	} {
		_, err := h.Svc.PolicyWhatIf(ctx, c.key, c.value)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("what if %s=%s: %v, want %q", c.key, c.value, err, c.want)
		}
		if _, err := h.Svc.SetPolicy(ctx, h.Admin, c.key, c.value); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("set %s=%s: %v, want %q", c.key, c.value, err, c.want)
		}
	}
	if _, err := h.Svc.PolicyWhatIf(ctx, "enabled_group", "nope"); !errors.Is(err, flows.ErrInvalid) {
		t.Errorf("unknown group: %v, want ErrInvalid", err)
	}
	for _, kv := range [][2]string{{"methods_required", "2"}, {"enabled_for", "none"}, {"helpdesk_contact", "help@example.org"}} {
		whatIf(t, h, kv[0], kv[1])
	}
	after, err := h.Svc.Policy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("a what-if or a refused set changed the policy:\n%+v\n%+v", before, after)
	}
	if n := h.CountEvents(t, audit.EventPolicyChanged); n != events {
		t.Fatalf("%d policy changes audited, want %d", n, events)
	}
}

// The what-if agrees with the per-user rule the flows apply at sign-in, and
// the coverage of the activity report agrees with the registrations report.
func TestCoverageMatchesRegistrationReport(t *testing.T) {
	h := flowstest.New(t)
	seedWhatIf(t, h)
	ctx := context.Background()
	check := func(label string) {
		t.Helper()
		lines, err := h.Svc.RegistrationReport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := flows.CoverageOf(lines)
		got, err := h.Svc.Coverage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: coverage %+v, registrations report says %+v", label, got, want)
		}
		act, err := h.Svc.ActivityReport(ctx, 30, 25, "USD")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(act.Coverage, want) {
			t.Fatalf("%s: activity coverage %+v, want %+v", label, act.Coverage, want)
		}
	}
	check("defaults")
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	h.SetPolicy(t, "methods_required", "2")
	check("two methods with questions")
	h.SetPolicy(t, "enabled_group", "pilot")
	h.SetPolicy(t, "enabled_for", "group")
	check("group scope")
	h.SetPolicy(t, "enabled_for", "none")
	check("nobody")
}

func TestListUserPage(t *testing.T) {
	h := flowstest.New(t)
	seedWhatIf(t, h)
	ctx := context.Background()
	if err := store.SetBlock(ctx, h.DB, store.Block{Scope: store.ScopeAccount, Key: "u05", Reason: "test",
		CreatedAt: h.Clock.Now().Unix(), Until: h.Clock.Now().Add(time.Hour).Unix()}); err != nil {
		t.Fatal(err)
	}
	page, err := h.Svc.ListUserPage(ctx, flows.UserQuery{Limit: 4, Count: true})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 11 || len(page.Users) != 4 || page.HasPrev || !page.HasNext {
		t.Fatalf("first page: total %d, %d users, prev %v, next %v", page.Total, len(page.Users), page.HasPrev, page.HasNext)
	}
	if got := page.Users[0]; got.Username != "root" || !got.Admin ||
		!slices.Equal(got.Methods, []policy.Method{policy.Email, policy.SMS}) {
		t.Fatalf("first row: %+v", got)
	}
	if got := page.Users[1]; got.Username != "u00" ||
		!slices.Equal(got.Methods, []policy.Method{policy.Email, policy.Authenticator}) || got.LastConfirmed.IsZero() {
		t.Fatalf("second row: %+v", got)
	}
	next, err := h.Svc.ListUserPage(ctx, flows.UserQuery{Limit: 4, After: page.Users[3].Username})
	if err != nil {
		t.Fatal(err)
	}
	if next.Total != -1 || next.Users[0].Username != "u03" || !next.Users[0].Disabled || !next.Users[2].Blocked() {
		t.Fatalf("second page: %+v", next)
	}
	found, err := h.Svc.ListUserPage(ctx, flows.UserQuery{Search: "  USER U0  ", Count: true})
	if err != nil || found.Total != 10 {
		t.Fatalf("case-insensitive search: %d, %v", found.Total, err)
	}
	if _, err := h.Svc.ListUserPage(ctx, flows.UserQuery{Search: strings.Repeat("x", flows.MaxSearchLength+1)}); !errors.Is(err, flows.ErrInvalid) {
		t.Fatalf("long search: %v", err)
	}
}
