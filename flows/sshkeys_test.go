package flows_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// newSSHKey makes an ed25519 public key and its authorized_keys line.
func newSSHKey(t testing.TB, comment string) (gossh.PublicKey, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pk, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pk))) + " " + comment
}

// sshKeyHarness allows SSH keys beside email and gives alice and bob a
// registered email address, the way back for a connection without a key.
func sshKeyHarness(t *testing.T) *flowstest.Harness {
	t.Helper()
	h := flowstest.New(t)
	h.SetPolicy(t, "methods_allowed", "email,authenticator,ssh_key")
	for _, name := range []string{"alice", "bob"} {
		h.AddUser(t, name, false)
		h.RegisterEmail(t, name)
	}
	return h
}

func hasOption(opts []flows.MethodOption, m policy.Method) bool {
	for _, o := range opts {
		if o.Method == m {
			return true
		}
	}
	return false
}

// TestSSHKeyReset walks the whole method: a pasted key is registered and
// listed with its type, fingerprint and comment; a connection verified
// with it is offered "Your SSH key" for alice and proves it with nothing
// typed, enough for a reset with one method required; the audit log keeps
// the fingerprint and never the key.
func TestSSHKeyReset(t *testing.T) {
	h := sshKeyHarness(t)
	ctx := context.Background()
	pk, line := newSSHKey(t, "alice@laptop")
	sid := h.SignIn(t, "alice")
	added, err := h.Svc.AddSSHKey(ctx, sid, line)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := h.Svc.SSHKeys(ctx, sid)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	if k := keys[0]; k.Name != "ED25519" || k.Fingerprint != gossh.FingerprintSHA256(pk) || k.Comment != "alice@laptop" ||
		added.Fingerprint != k.Fingerprint {
		t.Errorf("listed %+v, added %+v", k, added)
	}

	rs, err := h.Svc.StartResetFrom(ctx, "alice", flows.Origin{Source: "ssh:127.0.0.1", Key: pk})
	if err != nil {
		t.Fatal(err)
	}
	if !hasOption(rs.Options, policy.SSHKey) || !hasOption(rs.Options, policy.Email) {
		t.Fatalf("options = %+v, want the SSH key beside email", rs.Options)
	}
	p, err := h.Svc.ProveByConnection(ctx, rs.FlowID, policy.SSHKey)
	if err != nil || !p.Done {
		t.Fatalf("prove by key: %+v, %v", p, err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new passphrase 2026"); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(ctx, h.DB, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wire := base64.StdEncoding.EncodeToString(pk.Marshal())
	var registered, verified bool
	for _, e := range entries {
		if strings.Contains(e.Detail, wire) || strings.Contains(e.Detail, wire[20:40]) {
			t.Errorf("audit %s holds the key: %q", e.Event, e.Detail)
		}
		registered = registered || e.Event == audit.EventMethodRegistered && e.Detail == "ssh_key "+added.Fingerprint
		verified = verified || e.Event == audit.EventVerifySucceeded && e.Detail == "ssh_key "+added.Fingerprint+" for reset"
	}
	if !registered || !verified {
		t.Errorf("audit lacks the fingerprint: registered %v, verified %v", registered, verified)
	}
}

// TestSSHKeyNotOffered: the method is offered only to a connection
// verified with a key registered to the name typed: not to one with
// another key, or none, or with alice's key for bob, or at all once the
// policy stops allowing it; and it can never be proved where not offered.
func TestSSHKeyNotOffered(t *testing.T) {
	h := sshKeyHarness(t)
	ctx := context.Background()
	pk, line := newSSHKey(t, "alice@laptop")
	other, _ := newSSHKey(t, "")
	if _, err := h.Svc.AddSSHKey(ctx, h.SignIn(t, "alice"), line); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user string
		key        gossh.PublicKey
	}{
		{"another key", "alice", other},
		{"no key", "alice", nil},
		{"alice's key for bob", "bob", pk},
		{"an unknown name", "nobody", pk},
	} {
		rs, err := h.Svc.StartResetFrom(ctx, tc.user, flows.Origin{Source: "ssh:127.0.0.1", Key: tc.key})
		if err != nil {
			t.Fatal(err)
		}
		if hasOption(rs.Options, policy.SSHKey) {
			t.Errorf("%s: offered %+v", tc.name, rs.Options)
		}
		if _, err := h.Svc.ProveByConnection(ctx, rs.FlowID, policy.SSHKey); !errors.Is(err, flows.ErrNotAllowed) {
			t.Errorf("%s: proved anyway: %v", tc.name, err)
		}
	}
	h.SetPolicy(t, "methods_allowed", "email,authenticator")
	rs, err := h.Svc.StartResetFrom(ctx, "alice", flows.Origin{Source: "ssh:127.0.0.1", Key: pk})
	if err != nil {
		t.Fatal(err)
	}
	if hasOption(rs.Options, policy.SSHKey) {
		t.Errorf("offered with the policy off: %+v", rs.Options)
	}
	if _, err := h.Svc.AddSSHKey(ctx, h.SignIn(t, "alice"), line); !errors.Is(err, flows.ErrNotAllowed) {
		t.Errorf("registered with the policy off: %v", err)
	}
}

// TestSSHKeyOneOfTwo: with two methods required the key counts as one,
// and the reset waits for a second, different way.
func TestSSHKeyOneOfTwo(t *testing.T) {
	h := sshKeyHarness(t)
	ctx := context.Background()
	h.SetPolicy(t, "methods_required", "2")
	pk, line := newSSHKey(t, "")
	if _, err := h.Svc.AddSSHKey(ctx, h.SignIn(t, "alice"), line); err != nil {
		t.Fatal(err)
	}
	rs, err := h.Svc.StartResetFrom(ctx, "alice", flows.Origin{Source: "ssh:127.0.0.1", Key: pk})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Svc.ProveByConnection(ctx, rs.FlowID, policy.SSHKey)
	if err != nil || p.Done || len(p.Proven) != 1 || hasOption(p.Options, policy.SSHKey) || !hasOption(p.Options, policy.Email) {
		t.Fatalf("after the key: %+v, %v", p, err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new passphrase 2026"); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("reset with one of two: %v", err)
	}
	h.SendCode(t, rs.FlowID, policy.Email)
	p, err = h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com"))
	if err != nil || !p.Done {
		t.Fatalf("after email: %+v, %v", p, err)
	}
}

// TestSSHKeyRegistration: refusals say why and store nothing; a key is
// registered once; five keys at most; the connected key registers in one
// call; removing keys one by one unregisters the method with the last, and
// removing the method takes every key.
func TestSSHKeyRegistration(t *testing.T) {
	h := sshKeyHarness(t)
	ctx := context.Background()
	sid := h.SignIn(t, "alice")
	for _, bad := range []string{"garbage", strings.Repeat("A", 100<<10), "ssh-dss AAAAB3NzaC1kc3MAAACBAP x"} {
		if _, err := h.Svc.AddSSHKey(ctx, sid, bad); !errors.Is(err, flows.ErrInvalid) {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
	pk, line := newSSHKey(t, "first")
	if _, err := h.Svc.AddConnectedSSHKey(ctx, sid, pk); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.AddSSHKey(ctx, sid, line); !errors.Is(err, flows.ErrExists) {
		t.Errorf("the same key twice: %v", err)
	}
	for i := 2; i <= policy.MaxSSHKeys; i++ {
		_, l := newSSHKey(t, fmt.Sprint("key", i))
		if _, err := h.Svc.AddSSHKey(ctx, sid, l); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	_, sixth := newSSHKey(t, "sixth")
	if _, err := h.Svc.AddSSHKey(ctx, sid, sixth); !errors.Is(err, flows.ErrKeyLimit) {
		t.Errorf("a sixth key: %v", err)
	}
	keys, _ := h.Svc.SSHKeys(ctx, sid)
	if len(keys) != policy.MaxSSHKeys {
		t.Fatalf("%d keys stored", len(keys))
	}
	registered := func() bool {
		ov, err := h.Svc.Overview(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		for _, ms := range ov.Methods {
			if ms.Method == policy.SSHKey {
				return ms.Registered
			}
		}
		return false
	}
	for i, k := range keys[:2] {
		if err := h.Svc.RemoveSSHKey(ctx, sid, k.ID); err != nil {
			t.Fatal(err)
		}
		if left, _ := h.Svc.SSHKeys(ctx, sid); len(left) != len(keys)-i-1 {
			t.Fatalf("after removing %d: %d left", i+1, len(left))
		}
	}
	if err := h.Svc.RemoveSSHKey(ctx, sid, keys[0].ID); !errors.Is(err, flows.ErrNotFound) {
		t.Errorf("removing a removed key: %v", err)
	}
	if !registered() {
		t.Fatal("the method went before its last key")
	}
	if err := h.Svc.RemoveMethod(ctx, sid, policy.SSHKey); err != nil {
		t.Fatal(err)
	}
	if left, _ := h.Svc.SSHKeys(ctx, sid); len(left) != 0 || registered() {
		t.Errorf("after removing the method: %d keys, registered %v", len(left), registered())
	}
	// And one key at a time, to the last.
	if _, err := h.Svc.AddConnectedSSHKey(ctx, sid, pk); err != nil {
		t.Fatal(err)
	}
	left, _ := h.Svc.SSHKeys(ctx, sid)
	if err := h.Svc.RemoveSSHKey(ctx, sid, left[0].ID); err != nil || registered() {
		t.Errorf("after removing the last key: %v, registered %v", err, registered())
	}
}

// TestSSHKeyAdmin: an administrator's key may serve their reset beside
// another method, but it is never one of the two sign-in methods they must
// have, and the panel never offers it.
func TestSSHKeyAdmin(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.SetPolicy(t, "methods_allowed", "email,authenticator,ssh_key")
	h.AddUser(t, "root", true)
	h.RegisterEmail(t, "root")
	pk, line := newSSHKey(t, "")
	sid := h.SignIn(t, "root")
	if _, err := h.Svc.AddSSHKey(ctx, sid, line); err != nil {
		t.Fatal(err)
	}
	ov, err := h.Svc.Overview(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if ov.CanReset {
		t.Error("email and an SSH key count as an administrator's two methods")
	}
	h.RegisterAuthenticator(t, "root")
	rs, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, "ssh:127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if hasOption(rs.Options, policy.SSHKey) {
		t.Errorf("admin sign-in offers the key: %+v", rs.Options)
	}
	rs, err = h.Svc.StartResetFrom(ctx, "root", flows.Origin{Source: "ssh:127.0.0.1", Key: pk})
	if err != nil {
		t.Fatal(err)
	}
	if !hasOption(rs.Options, policy.SSHKey) || rs.Required != 2 {
		t.Errorf("an administrator's reset: %+v", rs)
	}
}

// TestSSHKeyReported: the admin panel's user list shows who has keys, the
// registrations report lists the method and the coverage counts it.
func TestSSHKeyReported(t *testing.T) {
	h := sshKeyHarness(t)
	ctx := context.Background()
	_, line := newSSHKey(t, "")
	if _, err := h.Svc.AddSSHKey(ctx, h.SignIn(t, "alice"), line); err != nil {
		t.Fatal(err)
	}
	page, err := h.Svc.ListUserPage(ctx, flows.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, u := range page.Users {
		has[u.Username] = slices.Contains(u.Methods, policy.SSHKey)
	}
	if !has["alice"] || has["bob"] {
		t.Errorf("user list says who has keys: %v", has)
	}
	cov, err := h.Svc.Coverage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cov.UsersPerKind["ssh_key"] != 1 {
		t.Errorf("coverage per method: %v", cov.UsersPerKind)
	}
	lines, err := h.Svc.RegistrationReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Username == "alice" && !slices.Contains(l.Methods, "ssh_key") {
			t.Errorf("registrations report for alice: %v", l.Methods)
		}
	}
}

// TestSSHKeyUnlock: "unlock my account" offers the key as a reset does, and
// the key alone lifts the lockout with the password unchanged.
func TestSSHKeyUnlock(t *testing.T) {
	h, ctx := lockoutHarness(t)
	h.SetPolicy(t, "methods_allowed", "email,authenticator,ssh_key")
	pk, line := newSSHKey(t, "")
	if _, err := h.Svc.AddSSHKey(ctx, h.SignIn(t, "alice"), line); err != nil {
		t.Fatal(err)
	}
	lockAlice(t, h)
	rs, err := h.Svc.StartUnlockFrom(ctx, "alice", flows.Origin{Source: "ssh:127.0.0.1", Key: pk})
	if err != nil || !hasOption(rs.Options, policy.SSHKey) {
		t.Fatalf("unlock options %+v, %v", rs.Options, err)
	}
	if p, err := h.Svc.ProveByConnection(ctx, rs.FlowID, policy.SSHKey); err != nil || !p.Done {
		t.Fatalf("prove by key: %+v, %v", p, err)
	}
	out, err := h.Svc.CompleteUnlock(ctx, rs.FlowID)
	if err != nil || !out.Unlocked {
		t.Fatalf("unlock: %+v, %v", out, err)
	}
	if err := signIn(h, flowstest.Password); err != nil {
		t.Fatalf("the old password after the unlock: %v", err)
	}
}
