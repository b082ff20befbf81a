package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// panelDriver signs the seeded admin in through the screens (password,
// emailed code, authenticator) and returns the driver on the panel.
func panelDriver(t testing.TB, h *harness, opts Options) *driver {
	t.Helper()
	d := newDriver(t, h, opts)
	d.keys("4")
	at[*signIn](d)
	d.typeText("admin")
	d.keys("enter")
	d.typeText(testPassword)
	d.keys("enter")
	at[*methods](d)
	d.keys("enter") // email me a code: the first way offered
	at[*codeEntry](d)
	d.typeText(h.Inbox.LastCode(t, "admin@example.com"))
	d.keys("enter")
	at[*methods](d)
	d.keys("enter") // the authenticator, the way left
	d.typeText(h.totpNow(t, testSecret))
	d.keys("enter")
	p := at[*adminHome](d)
	p.tabs[0].(*policyTab).delay = 0
	return d
}

func panelOf(d *driver) *adminHome { return at[*adminHome](d) }

// panelChoose moves the open menu of the panel (the leave menu, or the
// users tab's actions or method picker) to label and selects it.
func panelChoose(d *driver, label string) {
	d.t.Helper()
	p := panelOf(d)
	mn := &p.menu
	if !p.leaving {
		mn = p.tabs[1].(*usersTab).at.menu()
	}
	if mn == nil {
		d.t.Fatalf("no menu open:\n%s", d.view())
	}
	// A label is given in English; in another language the item is the
	// same message, translated.
	label = d.inVisitLanguage(label)
	for range len(mn.items) {
		if mn.items[mn.cursor] == label {
			d.keys("enter")
			return
		}
		d.keys("down")
	}
	d.t.Fatalf("no %q in %q", label, mn.items)
}

// panelSearch shows the users that a search matches, leaving the field.
func panelSearch(d *driver, q string) {
	d.t.Helper()
	d.keys("2", "/")
	d.clear()
	d.typeText(q)
	d.keys("enter")
}

// panelAct searches for a user, opens the actions on them (the first row)
// and chooses one.
func panelAct(d *driver, user, action string) {
	d.t.Helper()
	panelSearch(d, user)
	if u := panelOf(d).tabs[1].(*usersTab); len(u.page.Users) == 0 || u.page.Users[0].Username != user {
		d.t.Fatalf("%s is not the first row:\n%s", user, d.view())
	}
	d.keys("enter")
	panelChoose(d, action)
}

// panelEditPolicy opens the editor of a setting and types a new value.
func panelEditPolicy(d *driver, key, value string) {
	d.t.Helper()
	d.keys("1")
	p := panelOf(d)
	t := p.tabs[0].(*policyTab)
	for t.cursor != indexOf(policy.Keys(), key) {
		d.keys("down")
	}
	d.keys("enter")
	d.clear()
	d.typeText(value)
}

func indexOf(keys []string, k string) int {
	for i, s := range keys {
		if s == k {
			return i
		}
	}
	return -1
}

func countAudit(t testing.TB, h *harness, f audit.Filter) int {
	t.Helper()
	entries, err := h.Svc.AuditEntries(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestPanelTabs(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	d.see("Administration · Policy", "1 Policy", "2 Users", "3 Audit", "4 Insights", "5 Blocks", "Signed in as admin.",
		"Enabled for", "all", "Methods required", "Helpdesk contact", helpdesk, "Banned words")
	d.keys("2")
	d.see("Administration · Users", "USERNAME", "alice", "Alice Example", "dave", "blocked", "admin", "1–6 of 6")
	d.keys("right")
	d.see("Administration · Audit", "Audit chain intact")
	d.keys("right")
	d.see("Administration · Insights", "Coverage")
	d.keys("right")
	d.see("Administration · Blocks")
	d.keys("right")
	d.see("Administration · Policy")
	d.keys("left")
	d.see("Administration · Blocks")
	d.keys("left")
	d.see("Administration · Insights")
	d.keys("3")
	d.see("Administration · Audit")
	// In the search field, digits and arrows are text and cursor moves.
	d.keys("2", "/")
	d.typeText("4")
	d.keys("left", "right")
	d.see("Administration · Users")
	if got := panelOf(d).tabs[1].(*usersTab).search.Value(); got != "4" {
		t.Fatalf("search field holds %q", got)
	}
}

func TestPanelIdleLock(t *testing.T) {
	h := newHarness(t)
	// No idle wipe of the root: the panel's own lock is what is tested.
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	id := panelOf(d).info.ID
	d.tick(9 * time.Minute)
	d.keys("down") // activity resets the lock
	d.tick(9*time.Minute + 59*time.Second)
	at[*adminHome](d)
	if _, err := h.Svc.AdminActor(id); err != nil {
		t.Fatalf("session ended before the lock: %v", err)
	}
	d.tick(time.Second)
	at[*welcome](d)
	if _, err := h.Svc.AdminActor(id); err == nil {
		t.Fatal("the session outlived the idle lock")
	}
}

func TestPanelLeaveMenu(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	id := panelOf(d).info.ID
	d.keys("esc")
	d.see("Leave the administration panel?", "Back to the panel", "Sign out")
	d.notSee("Leave kiosk mode")
	panelChoose(d, "Back to the panel")
	d.see("Enabled for")
	d.keys("esc")
	panelChoose(d, "Sign out")
	at[*welcome](d)
	if _, err := h.Svc.AdminActor(id); err == nil {
		t.Fatal("still signed in after signing out")
	}

	h.Clock.Advance(30 * time.Second) // a fresh authenticator code
	k := panelDriver(t, h, Options{Mode: ModeKiosk})
	k.keys("esc")
	k.see("Leave kiosk mode")
	panelChoose(k, "Leave kiosk mode")
	if !k.quit {
		t.Fatal("leave kiosk mode does not quit")
	}
}

// Nothing of the panel works without a live admin session: a session that
// ended, or one signed in with a password alone, gets no data.
func TestPanelNeedsAdminSession(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	h.Svc.SignOut(panelOf(d).info.ID)
	d.keys("2")
	at[*deadEndScreen](d)
	d.see("Your administrator session has ended")
	d.notSee("Alice Example")

	d2 := newDriver(t, h, Options{Mode: ModeLocal})
	info, err := h.Svc.SignIn(context.Background(), "admin", testPassword, "kiosk:test")
	if err != nil {
		t.Fatal(err)
	}
	d2.send(journeyMsg{newAdminHome(d2.m.env, info)})
	at[*deadEndScreen](d2)
	d2.notSee("Enabled for")
	for _, tab := range newAdminHome(d2.m.env, info).tabs {
		cmds := []tea.Cmd{tab.open()}
		for len(cmds) > 0 {
			msg := cmds[0]()
			cmds = cmds[1:]
			if batch, ok := msg.(tea.BatchMsg); ok {
				cmds = append(cmds, batch...)
				continue
			}
			if _, ok := msg.(panelEndedMsg); !ok {
				t.Fatalf("%s tab loaded %T for a password-only session", tab.label(), msg)
			}
		}
	}
}

// An administrator whose only methods are security questions cannot sign in
// to the panel: the fixed admin policy never counts questions.
func TestPanelQuestionsOnlyAdminCannotSignIn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	if _, err := h.Svc.AddUser(ctx, h.Admin, flows.NewUser{Username: "quinn", DisplayName: "Quinn Q",
		Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	info, err := h.Svc.SignIn(ctx, "quinn", testPassword, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.RegisterQuestions(ctx, info.ID, []flows.QuestionAnswer{
		{Question: "What was the name of your first stuffed animal?", Answer: "Mr Bear"},
		{Question: "In which town did your grandmother live?", Answer: "Kirkwall"},
		{Question: "What was your childhood nickname?", Answer: "Dodo"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.SetAdmin(ctx, h.Admin, "quinn", true); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, h, Options{Mode: ModeKiosk})
	d.keys("4")
	d.typeText("quinn")
	d.keys("enter")
	d.typeText(testPassword)
	d.keys("enter")
	at[*signIn](d)
	d.see("Administrators need two registered methods other than security questions.")
	if n := countAudit(t, h, audit.Filter{Events: []audit.Event{audit.EventAdminSignIn}, Target: "quinn"}); n != 0 {
		t.Fatalf("%d admin sign-ins recorded for quinn", n)
	}
}

func TestPanelPolicyEditAndSave(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelEditPolicy(d, policy.KeyMethodsRequired, "3")
	d.see("Methods required", "(1 or 2)", "In force 1", "Methods required must be 1 or 2.")
	d.keys("enter")
	d.notSee("Save methods required")
	d.clear()
	d.typeText("2")
	// alice, bob, carol, dave and admin can reset now; with two methods only
	// carol and admin can.
	d.see("✓ Valid.", "What if: with 2 methods required, 4 of 6 enabled users could not reset today (now 1).")
	d.keys("enter")
	d.see("Save methods required: 1 → 2?")
	d.keys("n")
	d.notSee("Save methods required")
	if pol, _ := h.Svc.Policy(context.Background()); pol.MethodsRequired != 1 {
		t.Fatal("saved after no")
	}
	d.keys("enter", "y")
	d.see("Saved: methods required changed from 1 to 2.")
	if pol, _ := h.Svc.Policy(context.Background()); pol.MethodsRequired != 2 {
		t.Fatal("not saved")
	}
	entries, err := h.Svc.AuditEntries(context.Background(), audit.Filter{Events: []audit.Event{audit.EventPolicyChanged}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e := entries[0]; e.Actor != "admin" || e.Detail != `methods_required: "1" -> "2"` {
		t.Fatalf("audit: %s", e)
	}
}

func TestPanelPolicyRefusals(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	before, _ := h.Svc.Policy(context.Background())
	changes := countAudit(t, h, audit.Filter{Events: []audit.Event{audit.EventPolicyChanged}})
	for _, c := range []struct{ key, value, want string }{
		{policy.KeyReconfirmDays, "731", "Days before re-confirm must be 0–730."},
		{policy.KeyPasswordMinLength, "7", "Password minimum length must be 8–64."},
		{policy.KeyEnabledGroup, "nope", `Group "nope" does not exist.`},
		{policy.KeyEnabledFor, "group", "Enabled group must name a group when enabled for is group."},
		{policy.KeyMethodsAllowed, "questions", "Methods allowed must include a method other than security questions."},
		{policy.KeyHelpdeskContact, "call 555", "Helpdesk contact must be an email address or an http(s) URL."},
	} {
		panelEditPolicy(d, c.key, c.value)
		d.see(c.want)
		d.keys("enter")
		d.notSee("Save ")
		d.see(c.want)
		d.keys("esc")
		// Back on the list, which scrolls to the setting edited.
		d.see("Enter changes the selected setting")
	}
	after, _ := h.Svc.Policy(context.Background())
	if after.Get(policy.KeyEnabledGroup) != before.Get(policy.KeyEnabledGroup) || after.ReconfirmDays != before.ReconfirmDays ||
		after.PasswordMinLength != before.PasswordMinLength || after.HelpdeskContact != before.HelpdeskContact {
		t.Fatalf("a refused value was saved: %+v", after)
	}
	if n := countAudit(t, h, audit.Filter{Events: []audit.Event{audit.EventPolicyChanged}}); n != changes {
		t.Fatalf("%d policy changes audited, want %d", n, changes)
	}
}

func TestPanelPolicyGroupWhatIf(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.Svc.AddGroup(ctx, h.Admin, "pilot"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "erin"} {
		if err := h.Svc.SetMember(ctx, h.Admin, "pilot", u, true); err != nil {
			t.Fatal(err)
		}
	}
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelEditPolicy(d, policy.KeyEnabledGroup, "pilot")
	d.see("What if: group pilot has 2 members; it applies only once SSPR is enabled for a group (now all).")
	d.keys("enter", "y")
	d.see("Saved: enabled group changed from (none) to pilot.")
	panelEditPolicy(d, policy.KeyEnabledFor, "group")
	// alice (can), erin (cannot) and admin (can).
	d.see("What if: group pilot has 2 members; 2 of 3 enabled users (members and administrators) could reset today (now 5 of 6).")
}

func TestPanelHelpdeskPreview(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelEditPolicy(d, policy.KeyHelpdeskContact, "https://help.example.org/reset")
	d.see("In force "+helpdesk, "As people at a dead end will see it:",
		"Please contact your helpdesk: https://help.example.org/reset")
	d.keys("enter", "y")
	d.see("Saved: helpdesk contact changed")
	if got := h.Svc.HelpdeskContact(context.Background()); got != "https://help.example.org/reset" {
		t.Fatalf("helpdesk contact %q", got)
	}
	panelEditPolicy(d, policy.KeyHelpdeskContact, "")
	d.see("Please contact your helpdesk.")
}

// seedPanelUsers adds n users named user000… and two whose display names
// hold LIKE's wildcards.
func seedPanelUsers(t testing.TB, h *harness, n int) {
	t.Helper()
	ctx := context.Background()
	users := make([]store.ImportUser, 0, n+2)
	for i := range n {
		users = append(users, store.ImportUser{User: store.User{Username: fmt.Sprintf("user%06d", i),
			DisplayName: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("user%06d@example.org", i), CreatedAt: 1, UpdatedAt: 1}})
	}
	users = append(users,
		store.ImportUser{User: store.User{Username: "pct", DisplayName: "The 100% Club", CreatedAt: 1, UpdatedAt: 1}},
		store.ImportUser{User: store.User{Username: "snake", DisplayName: "snake_case", CreatedAt: 1, UpdatedAt: 1}})
	err := h.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.ImportUsers(ctx, tx, users, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO methods (user_id, kind, created_at, confirmed_at)
			SELECT id, 'email', 1, 1 FROM users WHERE username LIKE 'user%' AND id % 3 = 0`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO methods (user_id, kind, created_at, confirmed_at)
			SELECT id, 'authenticator', 1, 1 FROM users WHERE username LIKE 'user%' AND id % 5 = 0`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPanelUsersPagingAndSearch(t *testing.T) {
	h := newHarness(t)
	seedPanelUsers(t, h, 30)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	d.keys("2")
	d.see("1–12 of 38", "admin", "alice", "pct")
	d.keys("pgdown")
	d.see("13–24 of 38", "user000004")
	d.notSee("alice")
	d.keys("pgdown", "pgdown")
	d.see("37–38 of 38", "user000028", "user000029")
	d.keys("pgdown") // no further page
	d.see("37–38 of 38")
	d.keys("pgup")
	d.see("25–36 of 38")
	// Down past the last row opens the next page.
	for range 12 {
		d.keys("down")
	}
	d.see("37–38 of 38")
	d.keys("pgup", "pgup", "pgup")
	d.see("1–12 of 38")
	d.keys("pgup")
	d.see("1–12 of 38")

	// Search as you type, on username, display name or email.
	d.keys("/")
	d.typeText("carol")
	d.see("1–1 of 1 matching “carol”", "Carol Example")
	d.clear()
	d.typeText("person 2")
	d.see("of 11 matching “person 2”") // Person 2, 20–29
	// LIKE's wildcards match themselves.
	d.clear()
	d.typeText("%")
	d.see("1–1 of 1 matching “%”", "The 100% Club")
	d.clear()
	d.typeText("_")
	d.see("1–1 of 1 matching “_”", "snake_case")
	d.clear()
	d.typeText(`\`)
	d.see(`no user matches “\”`)
	// Escape sequences in a paste or in key text are stripped before a
	// search and before the screen (d.view checks the whole screen).
	d.clear()
	d.paste("ali\x1b]8;;https://evil.example/\x07ce\x1b[2J")
	d.see("matching “alice”", "Alice Example")
	d.clear()
	d.send(keyMsg("x"), teaKeyText("\x1b[31mred\u202e"))
	if v := panelOf(d).tabs[1].(*usersTab).search.Value(); strings.ContainsAny(v, "\x1b\u202e") {
		t.Fatalf("search field holds %q", v)
	}
	d.notSee("evil.example")
	// A paste longer than the field is refused whole.
	d.clear()
	d.paste(strings.Repeat("a", flows.MaxSearchLength+1))
	d.see("That paste is too long for this field; nothing was pasted.")
	if v := panelOf(d).tabs[1].(*usersTab).search.Value(); v != "" {
		t.Fatalf("search field holds %d characters", len(v))
	}
}

func TestPanelUserActions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	byAdmin := func(ev audit.Event, target string) int {
		return countAudit(t, h, audit.Filter{Events: []audit.Event{ev}, Target: target, Actor: "admin"})
	}

	// Clear a block.
	panelSearch(d, "dave")
	d.see("blocked")
	d.keys("enter")
	d.see("dave", "State", "blocked until")
	panelChoose(d, "Clear the block")
	d.see("Clear the block on dave, and their failed attempts?")
	d.keys("y")
	d.see("dave is unblocked.")
	if panelOf(d).tabs[1].(*usersTab).page.Users[0].Blocked() {
		t.Fatal("dave is still shown blocked")
	}
	if byAdmin(audit.EventBlockCleared, "dave") != 1 {
		t.Fatal("unblock not audited")
	}

	// Disable, then a voucher for the disabled user is refused.
	panelAct(d, "alice", "Disable the account")
	d.see("Disable alice? They will not be able to sign in or reset.")
	d.keys("y")
	d.see("alice is disabled.", "disabled")
	panelAct(d, "alice", "Issue a helpdesk voucher")
	d.keys("y")
	d.see(`User "alice" is disabled.`)
	if byAdmin(audit.EventVoucherIssued, "alice") != 0 {
		t.Fatal("a voucher was issued for a disabled user")
	}
	panelAct(d, "alice", "Enable the account")
	d.keys("y")
	d.see("alice is enabled.")

	// A voucher, shown once with its expiry.
	panelAct(d, "alice", "Issue a helpdesk voucher")
	d.see("Check who the caller is first.")
	d.keys("y")
	d.see("Helpdesk voucher for alice", "expires at 10:", "(in 60 min)", "It is shown only now")
	code := panelOf(d).tabs[1].(*usersTab).at.shownVoucher().Code
	d.see(code)
	d.keys("space")
	d.notSee(code)
	if where := findSecret(d.m, code); where != "" {
		t.Fatalf("the voucher is still held at %s", where)
	}
	if byAdmin(audit.EventVoucherIssued, "alice") != 1 {
		t.Fatal("voucher not audited")
	}

	// Require re-registration.
	panelAct(d, "bob", "Require re-registration")
	d.keys("y")
	d.see("bob will register again at their next sign-in.", "re-register")

	// Remove one method.
	panelAct(d, "carol", "Remove a method…")
	d.see("Remove which method?", "Email code", "Text message code")
	panelChoose(d, "Text message code")
	d.see("Remove Text message code from carol?")
	d.keys("y")
	d.see("Text message code removed from carol.")
	if byAdmin(audit.EventMethodRemoved, "carol") != 1 {
		t.Fatal("method removal not audited")
	}

	// No at the question changes nothing.
	panelAct(d, "erin", "Make administrator")
	d.keys("n")
	d.keys("esc")
	if d2, _ := h.Svc.ShowUser(ctx, "erin"); d2.Admin {
		t.Fatal("made admin after no")
	}
	panelAct(d, "erin", "Make administrator")
	d.keys("y")
	d.see("erin is now an administrator.")
	panelAct(d, "erin", "Remove administrator rights")
	d.keys("y")
	d.see("erin is no longer an administrator.")
	if byAdmin(audit.EventAdminGranted, "erin") != 1 || byAdmin(audit.EventAdminRevoked, "erin") != 1 {
		t.Fatal("admin changes not audited")
	}

	// Refusals: disabling yourself, removing the last administrator.
	panelAct(d, "admin", "Disable the account")
	d.keys("y")
	d.see("You cannot disable your own account.")
	panelAct(d, "admin", "Remove administrator rights")
	d.keys("y")
	d.see("There must be at least one administrator, and this would leave none.")
	if u, _ := h.Svc.ShowUser(ctx, "admin"); !u.Admin || u.Disabled {
		t.Fatalf("a refused change was saved: %+v", u)
	}
	if byAdmin(audit.EventUserDisabled, "admin")+byAdmin(audit.EventAdminRevoked, "admin") != 0 {
		t.Fatal("a refused change was audited")
	}
}

func TestPanelAudit(t *testing.T) {
	h := newHarness(t)
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	panelAct(d, "alice", "Disable the account")
	d.keys("y", "3")
	d.see("Audit chain intact:", "rows verified.", "Filter: none")
	// Newest first: the disabling, then the admin's sign-in.
	first := panelOf(d).tabs[2].(*auditTab).entries[0]
	if first.Event != audit.EventUserDisabled || first.Target != "alice" {
		t.Fatalf("newest entry: %s", first)
	}
	d.keys("enter")
	d.see("actor admin · target alice", "source kiosk:test · outcome ok", "hash")
	d.keys("enter")
	d.notSee("source kiosk:test · outcome ok")

	// Filter by user, event kind (a prefix) and days.
	d.keys("/")
	d.typeText("dave")
	d.keys("tab")
	d.typeText("block")
	d.keys("tab")
	d.typeText("2026-03-02")
	d.keys("tab")
	d.typeText("2026-03-02")
	d.keys("enter")
	d.see("Filter: user dave · event block · from 2026-03-02 · to 2026-03-02", "block.applied")
	for _, e := range panelOf(d).tabs[2].(*auditTab).entries {
		if e.Target != "dave" || !strings.HasPrefix(string(e.Event), "block.") {
			t.Fatalf("filter let through %s", e)
		}
	}
	d.notSee("user.signin_failed")
	d.keys("/")
	d.keys("tab", "tab", "tab")
	d.clear()
	d.typeText("2026-03-01")
	d.keys("enter")
	d.see("The first day must not be after the last day.")
	d.clear()
	d.keys("shift+tab")
	d.clear()
	d.typeText("yesterday")
	d.keys("enter")
	d.see("Write the first day as YYYY-MM-DD, or 7d for the last seven days.")
	d.clear()
	d.typeText("7d")
	d.keys("shift+tab")
	d.clear()
	d.typeText("nonsense")
	d.keys("enter")
	d.see("No event kind is called or starts with “nonsense”")
	d.keys("esc")
	d.see("Filter: user dave · event block") // unchanged
	d.keys("/")
	for range auditFields {
		d.clear()
		d.keys("tab")
	}
	d.keys("enter")
	d.see("Filter: none")

	// A tampered row breaks the chain; its hostile detail is shown safely.
	h.exec(t, `UPDATE audit SET detail = ? WHERE id = 2`, "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 \u202eevil")
	d.keys("1", "3")
	d.see("Audit chain broken: row 2 was edited (MAC mismatch)")
	a := panelOf(d).tabs[2].(*auditTab)
	for range 100 {
		if a.entries[a.cursor].ID == 2 {
			break
		}
		d.keys("down")
	}
	d.keys("enter")
	d.see("detail click")
	d.notSee("evil.example")
}

func TestPanelInsights(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// One self-service reset today, by alice.
	rs, err := h.Svc.StartReset(ctx, "alice", "kiosk:test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, newPass); err != nil {
		t.Fatal(err)
	}
	d := panelDriver(t, h, Options{Mode: ModeLocal, CostPerCall: 1250, Currency: "EUR"})
	d.keys("4")
	want, err := h.Svc.ActivityReport(ctx, 30, 1250, "EUR")
	if err != nil {
		t.Fatal(err)
	}
	got := panelOf(d).tabs[3].(*insightsTab).report
	if got == nil || got.Resets != want.Resets || got.Failures != want.Failures || got.Blocks != want.Blocks ||
		got.Coverage.AbleToReset != want.Coverage.AbleToReset || got.EstimatedSaved != want.EstimatedSaved {
		t.Fatalf("insights differ from the activity report:\n%+v\n%+v", got, want)
	}
	// alice, bob, carol, dave and admin can reset; erin cannot.
	d.see("Coverage 5 of 6 enabled users can reset (83.3%)", "email 4", "app 2", "text 1",
		"1 self-service reset in 30 days × 1,250.00 EUR = 1,250.00 EUR",
		"Resets per day · 1 in all", "Failures per day · 5 in all", "Blocks per day · 1 in all",
		"2026-02-01", "2026-03-02", "██")
}

// teaKeyText is a key press whose text holds more than one character, as an
// input method or a hostile terminal may send.
func teaKeyText(s string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: 'x', Text: s} }

// TestAuditFindingsLine: the Audit tab names what verify found, whole-log
// findings too, and points to the CLI for the rest.
func TestAuditFindingsLine(t *testing.T) {
	got := findingsLine(locale.Embedded().Source(), []audit.Finding{{ID: 17, Text: "row 17 was edited (MAC mismatch)"},
		{ID: 0, Text: "the audit table was emptied (checkpoint says 57 rows)"}})
	if got != "row 17 was edited (MAC mismatch); the audit table was emptied (checkpoint says 57 rows)" {
		t.Fatalf("two findings: %q", got)
	}
	var many []audit.Finding
	for i := range 5 {
		many = append(many, audit.Finding{ID: int64(i + 1), Text: fmt.Sprintf("row %d was edited\x1b[2J", i+1)})
	}
	got = findingsLine(locale.Embedded().Source(), many)
	if got != "row 1 was edited; row 2 was edited; row 3 was edited; and 2 more findings (sspr audit verify lists them all)" {
		t.Fatalf("five findings: %q", got)
	}
}
