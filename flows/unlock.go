package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// ErrUnlockRefused means the directory would not let sspr lift the
// account's lockout; the server log says why (no right to write the
// lockout attribute, a protected account). Nothing was changed.
var ErrUnlockRefused = errors.New("the directory would not let the account be unlocked from here")

// ErrUnlockOff means the policy does not offer unlocking without a reset.
var ErrUnlockOff = refuse(ErrNotAllowed, "refusal.unlock_off", nil)

// Locker is a Directory that locks accounts out after wrong passwords and
// can lift the lockout. (sspr's own store is one; its lockout lives in
// the store, see accountlock.go.)
type Locker interface {
	// Unlock lifts a lockout of the account for failed sign-ins, leaving
	// the password as it is, while tx, which records it in sspr's store, is
	// open (as SetPassword); it reports whether the account was locked out.
	// An unknown account is ErrUnknownUser.
	Unlock(ctx context.Context, tx Tx, username string) (bool, error)
}

// UnlockOutcome says what an unlock did.
type UnlockOutcome struct {
	// Unlocked is set when a lockout was lifted; unset when the account
	// was not locked out.
	Unlocked bool
	// BlockCleared is set when an administrator's unlock also lifted sspr's
	// block of self-service for the account.
	BlockCleared bool
}

// StartUnlock begins "unlock my account" for a username as typed: the
// journey of a reset (StartReset), with its proofs, throttles and decoys,
// that ends by lifting a lockout instead of setting a password.
func (s *Service) StartUnlock(ctx context.Context, username, source string) (ResetStart, error) {
	return s.StartUnlockFrom(ctx, username, Origin{Source: source})
}

// StartUnlockFrom is StartUnlock for a person whose connection may prove a
// method by itself, as StartResetFrom is for a reset: "Your SSH key".
func (s *Service) StartUnlockFrom(ctx context.Context, username string, from Origin) (ResetStart, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return ResetStart{}, err
	}
	if !pol.AllowUnlock {
		return ResetStart{}, ErrUnlockOff
	}
	return s.startFlow(ctx, flowUnlock, username, from)
}

// UnlockAllowed reports whether the policy offers unlocking without a
// reset, for the welcome screen's menu.
func (s *Service) UnlockAllowed(ctx context.Context) (bool, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return false, err
	}
	return pol.AllowUnlock, nil
}

// CompleteUnlock lifts the lockout of an account once the flow has proven
// what a reset would. Whether the account was locked is told only now,
// after the proofs: before, it would tell anyone whether the name is an
// account. The proofs are used up, and the unlock, its audit row and the
// notifications are one transaction with them; an account that was not
// locked is audited too, and nobody is notified.
func (s *Service) CompleteUnlock(ctx context.Context, flowID string) (UnlockOutcome, error) {
	f, proven, err := s.provenFlow(flowID, flowUnlock)
	if err != nil {
		return UnlockOutcome{}, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return UnlockOutcome{}, err
	}
	if !pol.AllowUnlock {
		return UnlockOutcome{}, ErrUnlockOff
	}
	u, err := store.UserByID(ctx, s.db, f.userID)
	if err != nil {
		return UnlockOutcome{}, fmt.Errorf("unlock: %w", err)
	}
	var out UnlockOutcome
	now := s.now()
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		used, err := s.consumeProofs(ctx, tx, proven)
		if err != nil {
			return err
		}
		if out.Unlocked, err = s.unlockAccount(ctx, tx, u.Username); err != nil {
			return err
		}
		methods := make([]string, 0, len(proven))
		for m := range proven {
			methods = append(methods, string(m))
		}
		e := audit.Entry{Event: audit.EventAccountUnlocked, Actor: u.Username, Target: u.Username, Source: f.source,
			Detail: "self-service; methods: " + strings.Join(sortedStrings(methods), ",")}
		if !out.Unlocked {
			e.Outcome = "not locked"
		}
		for _, e := range append(used, e) {
			if err := s.record(ctx, tx, e); err != nil {
				return err
			}
		}
		if !out.Unlocked {
			return nil
		}
		return s.notifyUnlocked(ctx, tx, pol, u, Actor{Name: u.Username, Source: f.source}, now)
	})
	if err != nil {
		return UnlockOutcome{}, fmt.Errorf("unlock: %w", err)
	}
	s.dropFlow(flowID)
	return out, nil
}

// unlockAccount lifts the lockout of an account where its password lives,
// in tx, and reports whether it was locked out. An account the directory
// does not hold was not locked.
func (s *Service) unlockAccount(ctx context.Context, tx *store.Tx, username string) (bool, error) {
	if s.keepsPasswords() {
		u, err := store.UserByName(ctx, tx, username)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return store.ClearLockout(ctx, tx, u.ID, s.now().Unix())
	}
	l, ok := s.dir.(Locker)
	if !ok {
		return false, nil
	}
	unlocked, err := l.Unlock(ctx, Tx{tx: tx}, username)
	if errors.Is(err, ErrUnknownUser) {
		return false, nil
	}
	return unlocked, err
}

// notifyUnlocked tells the person, and the other administrators when the
// account is an administrator's, that the account was unlocked by actor
// (the person themselves, or an administrator), as notifyPasswordSet does
// for a reset.
func (s *Service) notifyUnlocked(ctx context.Context, tx *store.Tx, pol policy.Policy, u store.User, actor Actor,
	at time.Time) error {
	when := at
	adminData := map[string]any{"Admin": u.Username, "Time": when, "Source": actor.Source, "Unlocked": true}
	if actor.Name != u.Username {
		adminData["By"] = actor.Name
	}
	return s.notifyAccount(ctx, tx, pol, u, "unlocked",
		map[string]any{"DisplayName": u.DisplayName, "Time": when, "Source": actor.Source, "Helpdesk": pol.HelpdeskContact},
		adminData)
}

// Unlock is an administrator's unlock of an account: it lifts a lockout
// where the password lives (sspr's store or the directory), and clears
// sspr's own block of self-service and the failures behind it. It works for
// any name, since unknown names are blocked like real ones. Both are
// audited.
func (s *Service) Unlock(ctx context.Context, actor Actor, username string) (UnlockOutcome, error) {
	account := NormaliseUsername(username)
	if account == "" {
		return UnlockOutcome{}, fmt.Errorf("unlock: %w", refuse(ErrInvalid, "refusal.username.empty", nil))
	}
	var out UnlockOutcome
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		_, blockErr := store.ActiveBlock(ctx, tx, store.ScopeAccount, account, s.now().Unix())
		if err := s.clearAccount(ctx, tx, account); err != nil {
			return err
		}
		// The lockout is lifted before anything is appended to the audit
		// chain: appending holds its head, and a failed sign-in counting
		// a wrong password holds the lockout while it waits for the head.
		if ValidateUsername(account) == nil {
			var err error
			if out.Unlocked, err = s.unlockAccount(ctx, tx, account); err != nil {
				return err
			}
		}
		var entries []audit.Entry
		detail := "no block was in force"
		if blockErr == nil {
			out.BlockCleared, detail = true, "block cleared"
			entries = append(entries, audit.Entry{Event: audit.EventBlockCleared, Actor: actor.Name, Target: account,
				Source: actor.Source})
		}
		entries = append(entries, audit.Entry{Event: audit.EventUserUnlocked, Actor: actor.Name, Target: account,
			Source: actor.Source, Detail: detail})
		if out.Unlocked {
			entries = append(entries, audit.Entry{Event: audit.EventAccountUnlocked, Actor: actor.Name, Target: account,
				Source: actor.Source, Detail: "by an administrator"})
		}
		if err := s.recordAll(ctx, tx, entries...); err != nil || !out.Unlocked {
			return err
		}
		u, err := store.UserByName(ctx, tx, account)
		if errors.Is(err, store.ErrNotFound) {
			return nil // a directory account sspr has not met: nowhere to write to
		}
		if err != nil {
			return err
		}
		pol, err := loadPolicy(ctx, tx)
		if err != nil {
			return err
		}
		return s.notifyUnlocked(ctx, tx, pol, u, actor, s.now())
	})
	if err != nil {
		return UnlockOutcome{}, fmt.Errorf("unlock: %w", err)
	}
	return out, nil
}
