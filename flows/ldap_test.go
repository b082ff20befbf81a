package flows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/invisible"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
	"github.com/sspr-kiosk/sspr/store/ldapdir"
	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// ldapEnv is a Service whose directory is a running slapd.
type ldapEnv struct {
	*flowstest.Harness
	srv    *slapdtest.Server
	client *ldapdir.Client
}

// newLDAPEnv runs a slapd and a Service whose directory is that slapd.
func newLDAPEnv(t *testing.T, opts flows.LDAPOptions, mutate ...func(*ldapdir.Config)) *ldapEnv {
	t.Helper()
	srv := slapdtest.Start(t)
	cfg := ldapdir.Config{URL: srv.URL, StartTLS: true, CAFile: srv.CAFile, BindDN: slapdtest.ServiceDN,
		BindPassword: slapdtest.ServicePassword, BaseDN: slapdtest.PeopleDN, GroupBaseDN: slapdtest.GroupsDN,
		AttrDisplayName: "displayName", Timeout: 5 * time.Second, PoolSize: 2}
	for _, m := range mutate {
		m(&cfg)
	}
	client, err := ldapdir.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := flows.NewLDAPDirectory(client, opts)
	t.Cleanup(func() { _ = dir.Close() })
	// The directory keeps real time; so do the flows here.
	h := flowstest.New(t, flowstest.Options{Start: time.Now(), Directory: dir})
	return &ldapEnv{Harness: h, srv: srv, client: client}
}

// signIn signs a user in with the password the directory holds for them.
func (e *ldapEnv) signIn(t *testing.T, user string) flows.SessionInfo {
	t.Helper()
	info, err := e.Svc.SignIn(context.Background(), user, slapdtest.Users[user].Password, "kiosk-1")
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	return info
}

// failures counts the failed proofs recorded against an account.
func (e *ldapEnv) failures(t *testing.T, account string) int {
	t.Helper()
	n, err := store.CountThrottleEvents(context.Background(), e.DB, store.ScopeAccount, account, store.EventFail, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *ldapEnv) passwordIs(t *testing.T, user, pw string) bool {
	t.Helper()
	ok, err := e.client.CheckPassword(context.Background(), user, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// screenText is what the TUI shows for an error that matches ErrNotAllowed:
// the text after the last ": ".
func screenText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

func TestLDAPSignInAndPrefill(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{PrefillContacts: true})
	ctx := context.Background()
	info := e.signIn(t, "alice")
	if info.Username != "alice" || info.DisplayName != "Alice Liddell" {
		t.Errorf("session %+v", info)
	}
	ov, err := e.Svc.Overview(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ov.SuggestedEmail != "alice@example.org" || ov.SuggestedPhone != "+15550100001" {
		t.Errorf("suggested %q %q, want the directory's mail and mobile", ov.SuggestedEmail, ov.SuggestedPhone)
	}
	for _, m := range ov.Methods {
		if m.Registered {
			t.Errorf("%s counts as registered before any code was entered", m.Method)
		}
	}
	// The suggestion counts once a code sent to it is entered.
	if _, err := e.Svc.BeginContact(ctx, info.ID, policy.Email, ov.SuggestedEmail); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.ConfirmContact(ctx, info.ID, policy.Email, e.Inbox.LastCode(t, "alice@example.org")); err != nil {
		t.Fatal(err)
	}

	if _, err := e.Svc.SignIn(ctx, "alice", "not alice's password", "kiosk-1"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if n := e.failures(t, "alice"); n != 1 {
		t.Errorf("a wrong password counted %d times, want once", n)
	}
	if _, err := e.Svc.SignIn(ctx, "nobody", "some password", "kiosk-1"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Errorf("unknown user: %v", err)
	}

	// Without prefill, nothing from the directory is suggested.
	quiet := newLDAPEnv(t, flows.LDAPOptions{})
	info = quiet.signIn(t, "alice")
	ov, err = quiet.Svc.Overview(ctx, info.ID)
	if err != nil || ov.SuggestedEmail != "" || ov.SuggestedPhone != "" {
		t.Errorf("suggested %q %q without prefill (%v)", ov.SuggestedEmail, ov.SuggestedPhone, err)
	}
}

func TestLDAPResetByServiceAccount(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{PrefillContacts: true})
	ctx := context.Background()
	info := e.signIn(t, "leo")
	if _, err := e.Svc.BeginContact(ctx, info.ID, policy.Email, "leo@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.ConfirmContact(ctx, info.ID, policy.Email, e.Inbox.LastCode(t, "leo@example.org")); err != nil {
		t.Fatal(err)
	}
	e.Svc.SignOut(info.ID)

	rs, err := e.Svc.StartReset(ctx, "Leo", "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		t.Fatal(err)
	}
	p, err := e.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, e.Inbox.LastCode(t, "leo@example.org"))
	if err != nil || !p.Done {
		t.Fatalf("verify: %+v, %v", p, err)
	}
	const next = "Velvet Tangerine Harbour 42"
	if err := e.Svc.CompleteReset(ctx, rs.FlowID, next); err != nil {
		t.Fatal(err)
	}
	if !e.passwordIs(t, "leo", next) || e.passwordIs(t, "leo", slapdtest.Users["leo"].Password) {
		t.Error("the directory does not hold the new password")
	}
	if n := e.CountEvents(t, audit.EventPasswordReset); n != 1 {
		t.Errorf("%d reset events", n)
	}
	if _, err := e.Svc.SignIn(ctx, "leo", next, "kiosk-1"); err != nil {
		t.Errorf("sign in with the new password: %v", err)
	}
}

func TestLDAPChangeAndDirectoryRefusal(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	// sspr's own history is off, so the directory's is the one that refuses.
	e.SetPolicy(t, "password_history", "0")
	const first, second = "Velvet Tangerine Harbour 42", "Quiet Copper Lighthouse 77"

	info := e.signIn(t, "kim")
	if err := e.Svc.ChangePassword(ctx, info.ID, slapdtest.Users["kim"].Password, first); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.ChangePassword(ctx, info.ID, first, second); err != nil {
		t.Fatal(err)
	}
	if !e.passwordIs(t, "kim", second) {
		t.Fatal("the directory does not hold the new password")
	}

	err := e.Svc.ChangePassword(ctx, info.ID, second, first)
	var refused *flows.DirectoryRefusedError
	if !errors.As(err, &refused) || refused.Reason != ldapdir.PolicyPasswordInHistory {
		t.Fatalf("back to an old password: %v (%T)", err, err)
	}
	if !errors.Is(err, flows.ErrPasswordRejected) || !errors.Is(err, flows.ErrNotAllowed) {
		t.Errorf("%v should match ErrPasswordRejected and ErrNotAllowed", err)
	}
	var pe *ldapdir.PolicyError
	if !errors.As(err, &pe) {
		t.Errorf("%v should carry the directory's PolicyError", err)
	}
	const sentence = "The directory refused this password because you have used it before; choose one you have not used."
	if refused.Sentence() != sentence || screenText(err)+"." != "t"+sentence[1:] {
		t.Errorf("sentence %q, screen text %q", refused.Sentence(), screenText(err))
	}
	if !e.passwordIs(t, "kim", second) {
		t.Error("the refused change changed the password")
	}
	if n := e.CountEvents(t, audit.EventPasswordChanged); n != 2 {
		t.Errorf("%d change events, want 2: the refusal must roll the store back", n)
	}

	// A wrong current password at change time (changed elsewhere since the
	// sign-in) is a wrong password, not a directory failure.
	if err := e.Svc.ChangePassword(ctx, info.ID, "not kim's password", "Amber Falcon Meadow 19"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Errorf("wrong current password: %v", err)
	}
}

func TestLDAPGroupScope(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	if _, err := e.Svc.SetPolicy(ctx, e.Admin, "enabled_group", "no-such-group"); !errors.Is(err, flows.ErrInvalid) {
		t.Errorf("a group the directory does not have: %v", err)
	}
	e.SetPolicy(t, "enabled_group", "sspr-users")
	e.SetPolicy(t, "enabled_for", "group")
	// Registration is asked of people in scope only.
	if info := e.signIn(t, "alice"); !info.RegistrationDue {
		t.Error("alice is in sspr-users: registration should be due")
	}
	if info := e.signIn(t, "carol"); info.RegistrationDue {
		t.Error("carol is not in sspr-users: registration should not be due")
	}
	report, err := e.Svc.RegistrationReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report) == 0 {
		t.Error("empty registration report")
	}
}

func TestLDAPDirectoryDownIsNotCounted(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	info := e.signIn(t, "alice")
	e.srv.Down()

	for range flows.AccountFailLimit + 1 {
		_, err := e.Svc.SignIn(ctx, "alice", slapdtest.Users["alice"].Password, "kiosk-1")
		if !errors.Is(err, flows.ErrDirectoryUnavailable) || errors.Is(err, flows.ErrBadCredentials) ||
			errors.Is(err, flows.ErrBlocked) {
			t.Fatalf("sign in with the directory down: %v", err)
		}
		if !errors.Is(err, ldapdir.ErrUnavailable) {
			t.Errorf("%v should carry ldapdir.ErrUnavailable", err)
		}
	}
	_, err := e.Svc.StartAdminSignIn(ctx, "alice", "a password", "kiosk-1")
	if !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Errorf("admin sign-in with the directory down: %v", err)
	}
	if _, err := e.Svc.StartReset(ctx, "alice", "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Errorf("start reset with the directory down: %v", err)
	}
	if n := e.failures(t, "alice"); n != 0 {
		t.Errorf("%d failures counted against alice while the directory was down", n)
	}
	if n := e.CountEvents(t, audit.EventSignInFailed) + e.CountEvents(t, audit.EventAdminSignInFailed); n != 0 {
		t.Errorf("%d failed sign-ins audited while the directory was down", n)
	}
	err = e.Svc.ChangePassword(ctx, info.ID, slapdtest.Users["alice"].Password, "Velvet Tangerine Harbour 42")
	if !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Errorf("change with the directory down: %v", err)
	}
	if n := e.CountEvents(t, audit.EventPasswordChanged); n != 0 {
		t.Errorf("a change was recorded although the directory was down")
	}
}

func TestLDAPWrongServicePassword(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{}, func(cfg *ldapdir.Config) { cfg.BindPassword = "not the service password" })
	_, err := e.Svc.SignIn(context.Background(), "alice", slapdtest.Users["alice"].Password, "kiosk-1")
	if !errors.Is(err, flows.ErrDirectoryUnavailable) || !errors.Is(err, ldapdir.ErrServiceBind) {
		t.Errorf("sign in with a wrong service password: %v", err)
	}
	if n := e.failures(t, "alice"); n != 0 {
		t.Errorf("%d failures counted against alice for sspr's own misconfiguration", n)
	}
}

// TestLDAPWrongServicePasswordBacksOff: with a wrong service password,
// resets and sign-ins within a minute fail at once as "directory
// unavailable" and cost the service account one failed bind, so ppolicy
// never locks it; after the minute sspr binds again.
func TestLDAPWrongServicePasswordBacksOff(t *testing.T) {
	clk := clock.NewFake(time.Now())
	e := newLDAPEnv(t, flows.LDAPOptions{}, func(cfg *ldapdir.Config) {
		cfg.BindPassword, cfg.Clock = "not the service password", clk
	})
	ctx := context.Background()
	failedBinds := func() int {
		v, err := e.srv.Values(slapdtest.ServiceDN, "pwdFailureTime")
		if err != nil {
			t.Fatal(err)
		}
		return len(v)
	}
	for i := range 3 * slapdtest.MaxFailure {
		if _, err := e.Svc.StartReset(ctx, "alice", "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
			t.Fatalf("reset %d: %v", i, err)
		}
		if _, err := e.Svc.SignIn(ctx, "bob", slapdtest.Users["bob"].Password, "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
			t.Fatalf("sign-in %d: %v", i, err)
		}
		clk.Advance(5 * time.Second)
	}
	if n := failedBinds(); n != 1 {
		t.Errorf("%d failed service binds within a minute; want 1", n)
	}
	clk.Advance(ldapdir.BindBackoff)
	if _, err := e.Svc.StartReset(ctx, "alice", "kiosk-1"); !errors.Is(err, flows.ErrDirectoryUnavailable) {
		t.Fatalf("reset after the pause: %v", err)
	}
	if n := failedBinds(); n != 2 {
		t.Errorf("%d failed service binds after the pause; want 2", n)
	}
	if locked, err := e.srv.Values(slapdtest.ServiceDN, "pwdAccountLockedTime"); err != nil || len(locked) > 0 {
		t.Errorf("the service account is locked (%v, %v)", locked, err)
	}
	if n := e.failures(t, "alice") + e.failures(t, "bob"); n != 0 {
		t.Errorf("%d failures counted against people for sspr's own misconfiguration", n)
	}
}

func TestLDAPExpiredPassword(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	_, err := e.Svc.SignIn(context.Background(), "erin", slapdtest.Users["erin"].Password, "kiosk-1")
	var refused *flows.DirectoryRefusedError
	if !errors.As(err, &refused) || refused.Reason != ldapdir.PolicyPasswordExpired || errors.Is(err, flows.ErrPasswordRejected) {
		t.Fatalf("expired password: %v", err)
	}
	if got := screenText(err); got != "your password has expired; choose “Reset a forgotten password” to set a new one" {
		t.Errorf("screen text %q", got)
	}
	if n := e.failures(t, "erin"); n != 0 {
		t.Errorf("a right but expired password counted as a failure")
	}
}

func TestDirectoryRefusedSentences(t *testing.T) {
	for r := ldapdir.PolicyUnknown; r <= ldapdir.PolicyRestriction; r++ {
		err := &flows.DirectoryRefusedError{Reason: r}
		s := err.Error()
		if s == "" || strings.Contains(s, ": ") || strings.HasSuffix(s, ".") || strings.ContainsAny(s[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("%v: %q must be a lower-case clause without \": \" or a final full stop", r, s)
		}
		if sen := err.Sentence(); !strings.HasSuffix(sen, ".") || sen[:1] != strings.ToUpper(s[:1]) {
			t.Errorf("%v: sentence %q", r, sen)
		}
		if !errors.Is(err, flows.ErrNotAllowed) {
			t.Errorf("%v does not match ErrNotAllowed", r)
		}
	}
}

// TestLDAPDisplayNameWithHiddenCharacters: sspr does not own the directory,
// so a display name there that holds characters a reader cannot see is not
// refused (the person can still sign in) but kept as the directory has it,
// controls and bidi aside, for the screens to show written out.
func TestLDAPDisplayNameWithHiddenCharacters(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{})
	ctx := context.Background()
	const hostile = "Gr\u200bace\u00ad H\u0335\u0321\u0322opper\u202e"
	conn, err := ldap.DialURL(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(slapdtest.AdminDN, slapdtest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	mod := ldap.NewModifyRequest(slapdtest.Users["grace"].DN(), nil)
	mod.Replace("displayName", []string{hostile})
	if err := conn.Modify(mod); err != nil {
		t.Fatal(err)
	}

	info := e.signIn(t, "grace")
	const kept = "Gr\u200bace\u00ad H\u0335\u0321\u0322opper"
	if info.DisplayName != kept {
		t.Fatalf("display name %+q, want the directory's %+q without the bidi control", info.DisplayName, kept)
	}
	d, err := e.Svc.ShowUser(ctx, "grace")
	if err != nil || d.DisplayName != kept {
		t.Fatalf("sspr's record of grace: %+q, %v", d.DisplayName, err)
	}
	if flows.ValidateDisplayName(kept) == nil {
		t.Fatal("the same name typed into sspr would be accepted")
	}
	if got, want := invisible.Spell(d.DisplayName), "Gr<U+200B>ace<U+00AD> H\u0335\u0321<U+0322>opper"; got != want {
		t.Fatalf("shown as %+q, want %+q", got, want)
	}
}

// TestLDAPSSHKeys: with ldap.attr_ssh_keys set, a portal connection made
// with a key the directory holds for nina (openssh-lpk's sshPublicKey) is
// offered "Your SSH key" and resets her password in the directory with it;
// her 1024-bit RSA key and a value that is no key prove nothing; security
// info lists the directory's key, read only. Without the setting the
// directory's keys count for nothing.
func TestLDAPSSHKeys(t *testing.T) {
	e := newLDAPEnv(t, flows.LDAPOptions{}, func(cfg *ldapdir.Config) { cfg.AttrSSHKeys = "sshPublicKey" })
	ctx := context.Background()
	e.SetPolicy(t, "methods_allowed", "email,authenticator,ssh_key")
	parse := func(line string) gossh.PublicKey {
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	key, weak := parse(slapdtest.SSHKey), parse(slapdtest.WeakSSHKey)

	rs, err := e.Svc.StartResetFrom(ctx, "nina", flows.Origin{Source: "ssh:127.0.0.1", Key: weak})
	if err != nil {
		t.Fatal(err)
	}
	if hasOption(rs.Options, policy.SSHKey) {
		t.Errorf("a 1024-bit key is offered: %+v", rs.Options)
	}
	info := e.signIn(t, "nina")
	keys, err := e.Svc.SSHKeys(ctx, info.ID)
	if err != nil || len(keys) != 1 || !keys[0].FromDirectory || keys[0].Fingerprint != gossh.FingerprintSHA256(key) {
		t.Fatalf("nina's keys in security info: %+v, %v", keys, err)
	}

	rs, err = e.Svc.StartResetFrom(ctx, "nina", flows.Origin{Source: "ssh:127.0.0.1", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Svc.ProveByConnection(ctx, rs.FlowID, policy.SSHKey)
	if err != nil || !p.Done {
		t.Fatalf("prove with the directory's key: %+v, %v", p, err)
	}
	const next = "Lantern walrus copper 7"
	if err := e.Svc.CompleteReset(ctx, rs.FlowID, next); err != nil {
		t.Fatal(err)
	}
	if !e.passwordIs(t, "nina", next) {
		t.Error("the directory does not hold the new password")
	}

	off := newLDAPEnv(t, flows.LDAPOptions{})
	off.SetPolicy(t, "methods_allowed", "email,authenticator,ssh_key")
	rs, err = off.Svc.StartResetFrom(ctx, "nina", flows.Origin{Source: "ssh:127.0.0.1", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if hasOption(rs.Options, policy.SSHKey) {
		t.Errorf("offered without ldap.attr_ssh_keys: %+v", rs.Options)
	}
}
