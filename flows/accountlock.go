package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// A lockout of an account whose password sspr keeps: lockout_threshold
// different wrong passwords since the last right one lock the account for
// lockout_duration, as a directory's own lockout would (OpenLDAP ppolicy,
// Active Directory). A wrong password typed again exactly is not counted
// twice (Entra's smart lockout): it is someone's mistake, not a guess. While
// locked, no password is checked, the right one included, so the lockout
// cannot be used to test guesses, and the answer is the same "wrong username
// or password" as for any other failure, so it tells nobody that the
// account exists. It is a different thing from sspr's own block of
// self-service after failed proofs (throttle.go), which an unlock does not
// lift.

// wrongPassword is a wrong password of a known local account, to count
// towards its lockout. Only its keyed MAC is kept.
type wrongPassword struct {
	userID int64
	mac    string
}

// checkPassword checks a password where it lives. For an account whose
// password sspr keeps, a lockout in force refuses it unchecked (after the
// same work), a right one forgets the wrong ones before it, and a wrong one
// comes back to be counted with the failure (failSignIn).
func (s *Service) checkPassword(ctx context.Context, account, pw string) (bool, *wrongPassword, error) {
	if !s.keepsPasswords() {
		ok, err := s.dir.CheckPassword(ctx, account, pw)
		return ok, nil, err
	}
	u, err := store.UserByName(ctx, s.db, account)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.PasswordHash == "" {
		ok, err := s.dir.CheckPassword(ctx, account, pw)
		return ok, nil, err
	}
	if err != nil {
		return false, nil, fmt.Errorf("check password: %w", err)
	}
	now := s.now().Unix()
	lock, err := store.LockoutOf(ctx, s.db, u.ID)
	if err != nil {
		return false, nil, fmt.Errorf("check password: %w", err)
	}
	if lock.LockedUntil > now {
		s.hasher.DummyVerify(ctx, pw)
		return false, nil, nil
	}
	ok, err := s.dir.CheckPassword(ctx, account, pw)
	if err != nil {
		return false, nil, err
	}
	if !ok {
		return false, &wrongPassword{userID: u.ID, mac: s.keys.MAC("wrong-password", strconv.FormatInt(u.ID, 10)+":"+pw)}, nil
	}
	if lock.Failures > 0 {
		err := s.db.WithTx(ctx, func(tx *store.Tx) error {
			_, err := store.ClearLockout(ctx, tx, u.ID, now)
			return err
		})
		if err != nil {
			return false, nil, fmt.Errorf("check password: %w", err)
		}
	}
	return true, nil, nil
}

// countWrongPassword counts a wrong password in tx and locks the account
// out when it reaches the policy's threshold. It returns the audit entry of
// the lockout, if it locked, for the caller to record last (see
// recordFailure).
func (s *Service) countWrongPassword(ctx context.Context, tx *store.Tx, pol policy.Policy, w *wrongPassword,
	account, source string) ([]audit.Entry, error) {
	now := s.now()
	// A lockout that has ended starts the count afresh.
	if _, err := store.EndExpiredLockout(ctx, tx, w.userID, now.Unix()); err != nil {
		return nil, err
	}
	n, err := store.CountWrongPassword(ctx, tx, w.userID, w.mac, now.Unix())
	if err != nil {
		return nil, err
	}
	if n < pol.LockoutThreshold {
		return nil, nil
	}
	until := now.Add(pol.LockoutDuration)
	locked, err := store.LockOut(ctx, tx, w.userID, now.Unix(), until.Unix())
	if err != nil || !locked {
		return nil, err
	}
	return []audit.Entry{{Event: audit.EventAccountLocked, Actor: "system", Target: account, Source: source,
		Detail: fmt.Sprintf("locked out until %s after %d different wrong passwords", until.UTC().Format(time.RFC3339), n)}}, nil
}
