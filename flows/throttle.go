package flows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/store"
)

// checkBlocked returns ErrBlocked when either the account or the source is
// blocked. The account key is the normalised username as typed, so an unknown
// name is blocked exactly like a real one and a block tells nothing.
func (s *Service) checkBlocked(ctx context.Context, account, source string) error {
	keys := make([]store.BlockKey, 0, 2)
	for _, k := range []store.BlockKey{{Scope: store.ScopeAccount, Key: account}, {Scope: store.ScopeSource, Key: source}} {
		if k.Key != "" {
			keys = append(keys, k)
		}
	}
	blocked, err := store.AnyActiveBlock(ctx, s.db, s.now().Unix(), keys...)
	if err != nil {
		return fmt.Errorf("check block: %w", err)
	}
	if blocked {
		return ErrBlocked
	}
	return nil
}

// recordFailure counts a failed proof against the account and the source and
// blocks either when it reaches its limit. It reports whether the account is
// now blocked.
func (s *Service) recordFailure(ctx context.Context, tx *store.Tx, account, source string) (bool, error) {
	now := s.now()
	accountBlocked := false
	limits := []struct {
		scope, key string
		limit      int
		window     time.Duration
		blockFor   time.Duration
	}{
		{store.ScopeAccount, account, AccountFailLimit, AccountFailWindow, AccountBlockFor},
		{store.ScopeSource, source, SourceFailLimit, SourceFailWindow, SourceBlockFor},
	}
	for _, l := range limits {
		if l.key == "" {
			continue
		}
		if err := store.AddThrottleEvent(ctx, tx, l.scope, l.key, store.EventFail, now.Unix()); err != nil {
			return false, fmt.Errorf("record failure: %w", err)
		}
		n, err := store.CountThrottleEvents(ctx, tx, l.scope, l.key, store.EventFail, now.Add(-l.window).Unix())
		if err != nil {
			return false, fmt.Errorf("record failure: %w", err)
		}
		if n < l.limit {
			continue
		}
		if _, err := store.ActiveBlock(ctx, tx, l.scope, l.key, now.Unix()); err == nil {
			if l.scope == store.ScopeAccount {
				accountBlocked = true
			}
			continue
		}
		until := now.Add(l.blockFor)
		reason := fmt.Sprintf("%d failed attempts within %s", n, l.window)
		if err := store.SetBlock(ctx, tx, store.Block{Scope: l.scope, Key: l.key, Reason: reason,
			CreatedAt: now.Unix(), Until: until.Unix()}); err != nil {
			return false, fmt.Errorf("record failure: %w", err)
		}
		target, src := l.key, source
		if l.scope == store.ScopeSource {
			target = "source:" + l.key
		}
		if err := s.record(ctx, tx, audit.Entry{Event: audit.EventBlockApplied, Actor: "system", Target: target,
			Source: src, Detail: fmt.Sprintf("%s blocked until %s: %s", l.scope, until.UTC().Format(time.RFC3339), reason)}); err != nil {
			return false, err
		}
		if l.scope == store.ScopeAccount {
			accountBlocked = true
		}
	}
	return accountBlocked, nil
}

// allowSend checks and counts a code send against the account.
func (s *Service) allowSend(ctx context.Context, tx *store.Tx, account string) error {
	now := s.now()
	n, err := store.CountThrottleEvents(ctx, tx, store.ScopeAccount, account, store.EventSend, now.Add(-AccountSendWindow).Unix())
	if err != nil {
		return fmt.Errorf("count sends: %w", err)
	}
	if n >= AccountSendLimit {
		return ErrThrottled
	}
	if err := store.AddThrottleEvent(ctx, tx, store.ScopeAccount, account, store.EventSend, now.Unix()); err != nil {
		return fmt.Errorf("count sends: %w", err)
	}
	return nil
}

// clearAccount forgets an account's failures, sends and block after a
// successful reset.
func (s *Service) clearAccount(ctx context.Context, tx *store.Tx, account string) error {
	if err := store.ClearThrottleEvents(ctx, tx, store.ScopeAccount, account, ""); err != nil {
		return err
	}
	if err := store.ClearBlock(ctx, tx, store.ScopeAccount, account); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
