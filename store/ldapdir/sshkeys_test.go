package ldapdir

import (
	"context"
	"slices"
	"testing"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// TestLookupSSHKeys: with AttrSSHKeys set, Lookup reads every value of
// the attribute (openssh-lpk's sshPublicKey) as the directory holds it;
// without it, none are asked for.
func TestLookupSSHKeys(t *testing.T) {
	srv := slapdtest.Start(t)
	ctx := context.Background()
	c := newClient(t, srv, func(cfg *Config) { cfg.AttrSSHKeys = "sshPublicKey" })
	e, err := c.Lookup(ctx, "nina")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{slapdtest.SSHKey, slapdtest.WeakSSHKey, "not a key"}
	if !slices.Equal(e.SSHKeys, want) {
		t.Errorf("nina's keys: %q, want %q", e.SSHKeys, want)
	}
	if e, err := c.Lookup(ctx, "alice"); err != nil || len(e.SSHKeys) != 0 {
		t.Errorf("alice has no keys: %+v, %v", e, err)
	}
	if e, err := newClient(t, srv).Lookup(ctx, "nina"); err != nil || len(e.SSHKeys) != 0 {
		t.Errorf("keys read without AttrSSHKeys: %+v, %v", e, err)
	}
}
