package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/sspr-kiosk/sspr/store/ldapdir/slapdtest"
)

const adDN = "CN=Jo Locked,OU=People,DC=corp,DC=example"

// adUser is an AD entry for jo with the given lockoutTime and adminCount.
func adUser(lockoutTime, adminCount string) map[string][]string {
	e := map[string][]string{"sAMAccountName": {"jo"}, "cn": {"Jo Locked"}, "userAccountControl": {"512"},
		"lockoutTime": {lockoutTime}}
	if adminCount != "" {
		e["adminCount"] = []string{adminCount}
	}
	return e
}

// TestADUnlockWritesLockoutTime: unlocking an AD account replaces
// lockoutTime with 0 and writes nothing else; an account that is not
// locked out gets no write at all.
func TestADUnlockWritesLockoutTime(t *testing.T) {
	ctx := context.Background()
	ad := newFakeAD(t, adDN, adUser("133794720000000000", ""))
	c := ad.client(t)
	e, err := c.Lookup(ctx, "jo")
	if err != nil || !e.Locked || e.Disabled || e.Protected {
		t.Fatalf("jo before: %+v, %v", e, err)
	}
	unlocked, err := c.Unlock(ctx, "jo")
	if err != nil || !unlocked {
		t.Fatalf("unlock: %v, %v", unlocked, err)
	}
	if want := []string{adDN + `: replace lockoutTime="0"`}; !slices.Equal(ad.recorded(), want) {
		t.Fatalf("writes %q, want %q", ad.recorded(), want)
	}
	unlocked, err = c.Unlock(ctx, "jo")
	if err != nil || unlocked {
		t.Fatalf("second unlock: %v, %v", unlocked, err)
	}
	if n := len(ad.recorded()); n != 1 {
		t.Fatalf("an account not locked out got %d writes: %q", n, ad.recorded())
	}
}

// TestADUnlockRefusals: no right to write lockoutTime, and a protected
// account (adminCount=1), are each an UnlockRefusedError that says which.
func TestADUnlockRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		adminCount string
		protected  bool
		says       string
	}{
		{"", false, "the service account has no right to write lockoutTime"},
		{"1", true, "the account is protected (adminCount=1)"},
	} {
		ad := newFakeAD(t, adDN, adUser("133794720000000000", tc.adminCount))
		ad.refuse["lockoutTime"] = ldap.LDAPResultInsufficientAccessRights
		_, err := ad.client(t).Unlock(ctx, "jo")
		var re *UnlockRefusedError
		if !errors.As(err, &re) || !errors.Is(err, ErrUnlockRefused) || !errors.Is(err, ErrAccess) {
			t.Fatalf("adminCount %q: %v (%T), want an UnlockRefusedError", tc.adminCount, err, err)
		}
		if re.Protected != tc.protected || re.Attribute != "lockoutTime" || re.DN != adDN ||
			!strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), adDN) {
			t.Errorf("adminCount %q: %+v: %v", tc.adminCount, re, err)
		}
	}
}

// TestADResetUnlocks: a reset of a locked-out AD account writes the new
// unicodePwd, then lockoutTime 0; when the directory refuses the second,
// the reset reports ErrStillLocked (the password is set).
func TestADResetUnlocks(t *testing.T) {
	ctx := context.Background()
	const pw = "A new Passw0rd for Jo"
	want := []string{adDN + `: replace unicodePwd=` + fmt.Sprintf("%q", EncodeUnicodePwd(pw)), adDN + `: replace lockoutTime="0"`}

	ad := newFakeAD(t, adDN, adUser("133794720000000000", ""))
	if err := ad.client(t).SetPassword(ctx, "jo", PasswordChange{New: pw}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ad.recorded(), want) {
		t.Fatalf("writes %q, want %q", ad.recorded(), want)
	}

	ad = newFakeAD(t, adDN, adUser("133794720000000000", "1"))
	ad.refuse["lockoutTime"] = ldap.LDAPResultInsufficientAccessRights
	err := ad.client(t).SetPassword(ctx, "jo", PasswordChange{New: pw})
	if !errors.Is(err, ErrStillLocked) || !errors.Is(err, ErrUnlockRefused) {
		t.Fatalf("reset with the unlock refused: %v", err)
	}
	if !slices.Equal(ad.recorded(), want) {
		t.Fatalf("writes %q, want %q", ad.recorded(), want)
	}

	// Not locked out: the password alone.
	ad = newFakeAD(t, adDN, adUser("0", ""))
	if err := ad.client(t).SetPassword(ctx, "jo", PasswordChange{New: pw}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ad.recorded(), want[:1]) {
		t.Fatalf("writes %q, want %q", ad.recorded(), want[:1])
	}
}

// TestPPolicyUnlock: an account ppolicy locked out after wrong binds is
// unlocked by the service account with its password unchanged: the old
// password binds again, and the failures that led to the lock are gone.
func TestPPolicyUnlock(t *testing.T) {
	srv := slapdtest.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	judy := slapdtest.Users["judy"]
	if unlocked, err := c.Unlock(ctx, "judy"); err != nil || unlocked {
		t.Fatalf("unlock of an account not locked: %v, %v", unlocked, err)
	}
	for range slapdtest.MaxFailure {
		mustCheck(t, c, "judy", "wrong password", false)
	}
	mustCheck(t, c, "judy", judy.Password, false)
	if v := operational(t, srv, judy.DN(), AttrPPolicyLocked); v == "" {
		t.Fatal("judy is not locked after the wrong binds")
	}
	unlocked, err := c.Unlock(ctx, "judy")
	if err != nil || !unlocked {
		t.Fatalf("unlock: %v, %v", unlocked, err)
	}
	if v := operational(t, srv, judy.DN(), AttrPPolicyLocked); v != "" {
		t.Fatalf("pwdAccountLockedTime = %q after the unlock", v)
	}
	if v, _ := srv.Values(judy.DN(), "pwdFailureTime"); len(v) != 0 {
		t.Fatalf("pwdFailureTime = %v after the unlock", v)
	}
	mustCheck(t, c, "judy", judy.Password, true)

	// An account an administrator locked for good stays locked.
	if unlocked, err := c.Unlock(ctx, "dave"); err != nil || unlocked {
		t.Fatalf("unlock of dave: %v, %v", unlocked, err)
	}
	if v := operational(t, srv, slapdtest.Users["dave"].DN(), AttrPPolicyLocked); v != "000001010000Z" {
		t.Fatalf("dave's lock = %q", v)
	}

	// A service account without the right to write the lock is refused,
	// and says so.
	for range slapdtest.MaxFailure {
		mustCheck(t, c, "heidi", "wrong password", false)
	}
	carol := newClient(t, srv, func(cfg *Config) {
		cfg.BindDN, cfg.BindPassword = slapdtest.Users["carol"].DN(), slapdtest.Users["carol"].Password
	})
	_, err = carol.Unlock(ctx, "heidi")
	var re *UnlockRefusedError
	if !errors.As(err, &re) || re.Protected || re.Attribute != AttrPPolicyLocked ||
		!strings.Contains(err.Error(), "no right to write pwdAccountLockedTime") {
		t.Fatalf("unlock without the right: %v", err)
	}
}
