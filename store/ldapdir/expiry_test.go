package ldapdir

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

// TestPasswordExpiryOpenLDAP reads expiry from a real slapd with ppolicy:
// nora's pwdChangedTime plus pwdMaxAge of her own policy; erin's one-day
// policy; alice, under the default policy without a maximum age, never
// expires, named as the default or not.
func TestPasswordExpiryOpenLDAP(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv, func(cfg *Config) { cfg.PasswordPolicyDN = slapdtest.DefaultPolicyDN })
	ctx := context.Background()
	changed := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	ex, err := c.PasswordExpiry(ctx, "nora")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ChangedAt.Equal(changed) || !ex.ExpiresAt.Equal(changed.Add(slapdtest.NinetyDays*time.Second)) {
		t.Errorf("nora: changed %v, expires %v; want %v and 90 days later", ex.ChangedAt, ex.ExpiresAt, changed)
	}
	ex, err = c.PasswordExpiry(ctx, "erin")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ExpiresAt.Equal(changed.Add(24 * time.Hour)) {
		t.Errorf("erin expires %v; want a day after %v", ex.ExpiresAt, changed)
	}
	ex, err = c.PasswordExpiry(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ExpiresAt.IsZero() || ex.ChangedAt.IsZero() {
		t.Errorf("alice: changed %v, expires %v; want a change time (from createTimestamp) and no expiry",
			ex.ChangedAt, ex.ExpiresAt)
	}
	if _, err := c.PasswordExpiry(ctx, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("nobody: %v; want ErrNoSuchUser", err)
	}
}

// TestPasswordExpiryActiveDirectory reads the expiry the way Active
// Directory gives it, from a server that answers as AD does (returning
// only attributes asked for by name, as AD does for constructed ones):
// msDS-UserPasswordExpiryTimeComputed and pwdLastSet, both FILETIMEs;
// "never" is the largest value.
func TestPasswordExpiryActiveDirectory(t *testing.T) {
	changed := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	expires := changed.Add(42 * 24 * time.Hour)
	ad := newFakeAD(t, "CN=Ann,OU=People,DC=corp,DC=example", map[string][]string{"sAMAccountName": {"ann"},
		attrADExpiry: {FileTime(expires)}, attrADPwdLastSet: {FileTime(changed)}})
	c := ad.client(t)
	ex, err := c.PasswordExpiry(context.Background(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ExpiresAt.Equal(expires) || !ex.ChangedAt.Equal(changed) {
		t.Errorf("expiry %v changed %v; want %v and %v", ex.ExpiresAt, ex.ChangedAt, expires, changed)
	}

	ad.mu.Lock()
	ad.entry[attrADExpiry] = []string{"9223372036854775807"}
	ad.mu.Unlock()
	ex, err = c.PasswordExpiry(context.Background(), "ann")
	if err != nil || !ex.ExpiresAt.IsZero() || !ex.ChangedAt.Equal(changed) {
		t.Errorf("never-expiring password: %+v, %v; want no expiry", ex, err)
	}
	if _, err := c.PasswordExpiry(context.Background(), "bob"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("bob: %v; want ErrNoSuchUser", err)
	}
	if len(ad.recorded()) != 0 {
		t.Errorf("reading expiry wrote %v", ad.recorded())
	}
}

func TestFileTime(t *testing.T) {
	// 2021-01-01 00:00 UTC, as AD tools show it.
	got, err := ParseFileTime("132539328000000000")
	if err != nil || !got.Equal(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseFileTime = %v, %v", got, err)
	}
	for _, s := range []string{"0", "9223372036854775807"} {
		if got, err := ParseFileTime(s); err != nil || !got.IsZero() {
			t.Errorf("ParseFileTime(%s) = %v, %v; want the zero time", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "x", "9223372036854775808"} {
		if _, err := ParseFileTime(s); err == nil {
			t.Errorf("ParseFileTime(%q) took it", s)
		}
	}
}

// FuzzParseFileTime: any text gives a time or an error, and a time written
// back with FileTime reads the same.
func FuzzParseFileTime(f *testing.F) {
	for _, s := range []string{"0", "132539328000000000", "9223372036854775807", "-5", " 12 ", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFileTime(s)
		if err != nil || got.IsZero() {
			return
		}
		again, err := ParseFileTime(FileTime(got))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q: %v, written back %v (%v)", s, got, again, err)
		}
	})
}
