package flows_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

const day = 24 * time.Hour

// replica opens the harness's store file again and builds a second Service
// on it, as another replica, or sspr after a restart, would: nothing in
// memory is shared with the first. dir is its directory (nil: the store).
func replica(t *testing.T, h *flowstest.Harness, dir flows.Directory) (*flows.Service, *store.DB) {
	t.Helper()
	var db *store.DB
	var err error
	if h.DSN() != "" {
		db, err = store.OpenPostgres(context.Background(), h.DSN(), store.PostgresOptions{})
	} else {
		db, err = store.Open(context.Background(), filepath.Join(h.Dir, "sspr.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := dispatch.New(map[string]dispatch.Channel{dispatch.ChannelEmail: h.Inbox, dispatch.ChannelSMS: h.Inbox}, db,
		h.Clock, dispatch.Options{})
	svc, err := flows.New(flows.Deps{DB: db, Clock: h.Clock, Hasher: h.Hasher, Checker: password.NewChecker(),
		Keys: h.Keys, Dispatcher: d, Directory: dir, KioskLocation: "the counter", PortalCommand: "ssh reset@portal"})
	if err != nil {
		t.Fatal(err)
	}
	return svc, db
}

// queued returns the expiry reminders in the outbox.
func queued(t *testing.T, db *store.DB) []store.OutboxMessage {
	t.Helper()
	all, err := store.ListOutbox(context.Background(), db, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxMessage
	for _, m := range all {
		if m.Kind == string(dispatch.KindNotification) && strings.Contains(m.Subject, "password expires") {
			out = append(out, m)
		}
	}
	return out
}

// addUnreachable adds a user with a password and no address at all.
func addUnreachable(t *testing.T, h *flowstest.Harness, name string) {
	t.Helper()
	if _, err := h.Svc.AddUser(context.Background(), h.Admin, flows.NewUser{Username: name, DisplayName: "Test " + name,
		Password: flowstest.Password}); err != nil {
		t.Fatal(err)
	}
}

func remind(t *testing.T, svc *flows.Service, dry bool) (flows.RemindReport, []flows.PlannedReminder) {
	t.Helper()
	var planned []flows.PlannedReminder
	rep, err := svc.RunReminders(context.Background(), flows.RemindOptions{DryRun: dry,
		Each: func(p flows.PlannedReminder) { planned = append(planned, p) }})
	if err != nil {
		t.Fatal(err)
	}
	return rep, planned
}

// TestLocalPasswordExpiry: with password_max_age_days 30 a password set
// today is fine; 20 days on it is within the 14-day reminder window; past
// 30 days it has expired and must be changed first; changing it starts a
// new 30 days.
func TestLocalPasswordExpiry(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")
	set := h.Clock.Now()

	info, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, flowstest.Source)
	if err != nil {
		t.Fatal(err)
	}
	if info.PasswordExpired || info.ExpirySoon || !info.PasswordExpiresAt.Equal(set.Add(30*day)) {
		t.Fatalf("new password: %+v", info)
	}
	h.Clock.Advance(20 * day)
	if info, _ = h.Svc.SignIn(ctx, "alice", flowstest.Password, flowstest.Source); info.PasswordExpired || !info.ExpirySoon {
		t.Fatalf("10 days left: expired %v, soon %v", info.PasswordExpired, info.ExpirySoon)
	}
	h.Clock.Advance(10*day + time.Second)
	info, err = h.Svc.SignIn(ctx, "alice", flowstest.Password, flowstest.Source)
	if err != nil {
		t.Fatalf("an expired local password still signs in, to be changed: %v", err)
	}
	if !info.PasswordExpired || info.ExpirySoon {
		t.Fatalf("past 30 days: expired %v, soon %v", info.PasswordExpired, info.ExpirySoon)
	}
	if err := h.Svc.ChangePassword(ctx, info.ID, flowstest.Password, "a fresh "+goodPassword); err != nil {
		t.Fatal(err)
	}
	info, err = h.Svc.Session(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.PasswordExpired || info.ExpirySoon || !info.PasswordExpiresAt.Equal(h.Clock.Now().Add(30*day)) {
		t.Fatalf("after the change: %+v", info)
	}

	// With no maximum age, nothing expires.
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "0")
	h.Clock.Advance(400 * day)
	if info, _ = h.Svc.Session(ctx, info.ID); info.PasswordExpired || !info.PasswordExpiresAt.IsZero() {
		t.Fatalf("max age 0: %+v", info)
	}
}

// TestRemindersOncePerThreshold: each threshold of expiry_reminder_days
// queues one reminder per contact, never a second, neither on the next run
// nor after a restart; the message says when the password expires and how
// to change it.
func TestRemindersOncePerThreshold(t *testing.T) {
	h := flowstest.New(t, flowstest.Options{KioskLocation: "Room 101", PortalCommand: "ssh -p 2222 reset@portal.example.org"})
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	addUnreachable(t, h, "bob")
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")

	h.Clock.Advance(10 * day) // 20 days left: before the first threshold
	if rep, planned := remind(t, h.Svc, false); rep.Due != 0 || len(planned) != 0 {
		t.Fatalf("20 days left: %+v %v", rep, planned)
	}
	h.Clock.Advance(6 * day) // 14 days left
	rep, planned := remind(t, h.Svc, false)
	if rep.Due != 2 || rep.Messages != 1 || rep.Unreachable != 1 || len(planned) != 1 || planned[0].Days != 14 ||
		planned[0].Username != "alice" || planned[0].To != "a•••e@example.com" {
		t.Fatalf("14 days left: %+v %+v", rep, planned)
	}
	msgs := queued(t, h.DB)
	if len(msgs) != 1 || msgs[0].Destination != "alice@example.com" {
		t.Fatalf("outbox: %+v", msgs)
	}
	m := msgs[0]
	for _, want := range []string{"expires in 14 days"} {
		if !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q lacks %q", m.Subject, want)
		}
	}
	for _, want := range []string{"Room 101", "ssh -p 2222 reset@portal.example.org", "Change password",
		"1 Apr 2026 09:00 UTC"} {
		if !strings.Contains(m.Body, want) || !strings.Contains(m.HTML, want) && want != "Change password" {
			t.Errorf("message lacks %q:\n%s\n%s", want, m.Body, m.HTML)
		}
	}

	if rep, planned := remind(t, h.Svc, false); rep.AlreadySent != 1 || rep.Messages != 0 || len(planned) != 0 {
		t.Fatalf("second run: %+v %v", rep, planned)
	}
	again, db := replica(t, h, nil)
	if rep, _ := remind(t, again, false); rep.AlreadySent != 1 || rep.Messages != 0 {
		t.Fatalf("after a restart: %+v", rep)
	}
	if n := len(queued(t, db)); n != 1 {
		t.Fatalf("%d messages after a restart; want 1", n)
	}

	// Past 7 days left, one reminder for 7; past 3 and 1, one each.
	for i, left := range []time.Duration{6 * day, 2*day + time.Hour, 12 * time.Hour} {
		h.Clock.Set(flowstest.Start.Add(30*day - left))
		for range 2 {
			remind(t, again, false)
			remind(t, h.Svc, false)
		}
		if n := len(queued(t, h.DB)); n != i+2 {
			t.Fatalf("%v left: %d messages; want %d", left, n, i+2)
		}
	}
	if last := queued(t, h.DB)[3]; !strings.Contains(last.Subject, "expires in 1 day") {
		t.Errorf("last subject %q", last.Subject)
	}
	// Expired: no more reminders.
	h.Clock.Set(flowstest.Start.Add(31 * day))
	if rep, _ := remind(t, h.Svc, false); rep.Due != 0 {
		t.Fatalf("expired: %+v", rep)
	}

	// A new password starts afresh.
	ses := h.SignIn(t, "alice")
	if err := h.Svc.ChangePassword(ctx, ses, flowstest.Password, "a fresh "+goodPassword); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(16 * day)
	if rep, _ := remind(t, h.Svc, false); rep.Messages != 1 {
		t.Fatalf("new password, 14 days left: %+v", rep)
	}
}

// TestRemindersTwoReplicasAtOnce: two replicas on one store file running
// the same reminders at the same moment queue each message once.
func TestRemindersTwoReplicasAtOnce(t *testing.T) {
	h := flowstest.New(t)
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		h.AddUser(t, name, false)
		h.RegisterEmail(t, name)
	}
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")
	h.Clock.Advance(27 * day)
	other, _ := replica(t, h, nil)
	var wg sync.WaitGroup
	for _, svc := range []*flows.Service{h.Svc, other, h.Svc, other} {
		wg.Go(func() {
			if _, err := svc.RunReminders(context.Background(), flows.RemindOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(queued(t, h.DB)); n != 4 {
		t.Fatalf("%d messages queued by two replicas for 4 people; want 4", n)
	}
}

// TestRemindDryRunSendsNothing: a dry run lists what it would send and
// leaves no message and no record behind, so the real run still sends.
func TestRemindDryRunSendsNothing(t *testing.T) {
	h, _ := aliceWithEmail(t)
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")
	h.Clock.Advance(28 * day)
	rep, planned := remind(t, h.Svc, true)
	if rep.Messages != 1 || len(planned) != 1 || planned[0].DaysLeft != 2 || planned[0].Days != 3 {
		t.Fatalf("dry run: %+v %+v", rep, planned)
	}
	if n := len(queued(t, h.DB)); n != 0 {
		t.Fatalf("dry run queued %d messages", n)
	}
	if rep, _ := remind(t, h.Svc, false); rep.Messages != 1 {
		t.Fatalf("real run after the dry run: %+v", rep)
	}
}

// TestExpiryOverview counts the passwords expiring within 7 and 30 days
// and names the people no reminder can reach.
func TestExpiryOverview(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	h.Clock.Advance(20 * day)
	addUnreachable(t, h, "bob")
	h.Clock.Advance(20 * day)
	h.AddUser(t, "carol", false)
	h.RegisterEmail(t, "carol")
	ov, err := h.Svc.ExpiryOverview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Expires || ov.Next30 != 0 {
		t.Fatalf("no maximum age: %+v", ov)
	}
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "45")
	// alice: 5 days left; bob: 25; carol: 45.
	if ov, err = h.Svc.ExpiryOverview(ctx); err != nil {
		t.Fatal(err)
	}
	if !ov.Expires || ov.Next7 != 1 || ov.Next30 != 2 || ov.Expired != 0 || ov.Unreachable != 1 ||
		len(ov.UnreachableNames) != 1 || ov.UnreachableNames[0] != "bob" {
		t.Fatalf("overview: %+v", ov)
	}
}

// TestAddUserPasswordSetAt: a password carried over with the time it was
// set ages from then; a time to come counts as now.
func TestAddUserPasswordSetAt(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "30")
	now := h.Clock.Now()
	for name, setAt := range map[string]time.Time{"old": now.Add(-29 * day), "future": now.Add(day)} {
		if _, err := h.Svc.AddUser(ctx, h.Admin, flows.NewUser{Username: name, DisplayName: name,
			Password: flowstest.Password, PasswordSetAt: setAt}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := h.Svc.SignIn(ctx, "old", flowstest.Password, flowstest.Source)
	if err != nil || !info.ExpirySoon || !info.PasswordExpiresAt.Equal(now.Add(day)) {
		t.Fatalf("old: %+v, %v", info, err)
	}
	info, err = h.Svc.SignIn(ctx, "future", flowstest.Password, flowstest.Source)
	if err != nil || info.ExpirySoon || !info.PasswordExpiresAt.Equal(now.Add(30*day)) {
		t.Fatalf("future: %+v, %v", info, err)
	}
}

// TestExpiryWhatIf: before a maximum age is saved, the admin reads how many
// passwords it would expire at once and bring within the reminder window.
func TestExpiryWhatIf(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.Clock.Advance(50 * day)
	h.AddUser(t, "bob", false)
	h.Clock.Advance(10 * day)
	h.AddUser(t, "carol", false)
	// alice's password is 60 days old, bob's 10, carol's new.
	line, err := h.Svc.PolicyWhatIf(ctx, policy.KeyPasswordMaxAgeDays, "20")
	if err != nil {
		t.Fatal(err)
	}
	if want := "with passwords lasting 20 days, 1 password would have expired, to be changed at the next sign-in, " +
		"and 1 more would expire within the reminder window (now 0 and 0)"; line != want {
		t.Errorf("what if 20:\n got %q\nwant %q", line, want)
	}
	h.SetPolicy(t, policy.KeyPasswordMaxAgeDays, "20")
	if line, _ = h.Svc.PolicyWhatIf(ctx, policy.KeyPasswordMaxAgeDays, "0"); line != "passwords never expire; 1 password expired now would work again" {
		t.Errorf("what if 0: %q", line)
	}
	if line, _ = h.Svc.PolicyWhatIf(ctx, policy.KeyExpiryReminderDays, "7,1"); line != "reminders go out 7 and 1 days before a password expires, each once per password" {
		t.Errorf("what if 7,1: %q", line)
	}
	if line, _ = h.Svc.PolicyWhatIf(ctx, policy.KeyExpiryReminderDays, ""); !strings.HasPrefix(line, "no password expiry reminders") {
		t.Errorf("what if none: %q", line)
	}
}
