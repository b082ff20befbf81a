package flows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/store"
)

// Block is a block in force, as the admin panel and the CLI list it.
type Block struct {
	Scope BlockScope
	// Key is what is blocked: the account's name as typed, or the source
	// ("kiosk:counter-9", "ssh:203.0.113.7").
	Key string
	// Reason says why, in words: "30 failures in 5 minutes".
	Reason string
	// Since and Until are in the service clock's location.
	Since, Until time.Time
}

// Blocks lists the blocks in force, sources first (each holds back
// everyone there) and the newest first, at most limit of them (all when
// limit is 0), with how many are in force in all. Names an attacker made
// up are listed too: they are blocked like real ones.
func (s *Service) Blocks(ctx context.Context, limit int) ([]Block, int, error) {
	rows, total, err := store.ActiveBlocks(ctx, s.db, s.now().Unix(), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list blocks: %w", err)
	}
	out := make([]Block, len(rows))
	for i, r := range rows {
		scope := BlockAccount
		if r.Scope == store.ScopeSource {
			scope = SourceScope(r.Key)
		}
		out[i] = Block{Scope: scope, Key: r.Key, Reason: r.Reason, Since: s.at(r.CreatedAt), Until: s.at(r.Until)}
	}
	return out, total, nil
}

// ClearBlock lifts a block in force and forgets the failures that led to
// it, so an account or a source starts afresh (a source's pace included).
// scope is BlockAccount, or BlockTerminal or BlockAddress for a source
// (either: the key says which). It is audited; ErrNotFound when no such
// block is in force.
func (s *Service) ClearBlock(ctx context.Context, actor Actor, scope BlockScope, key string) error {
	storeScope, target := store.ScopeSource, "source:"+key
	switch scope {
	case BlockAccount:
		key = NormaliseUsername(key)
		storeScope, target = store.ScopeAccount, key
	case BlockTerminal, BlockAddress:
	default:
		return fmt.Errorf("clear block: %q is neither an account nor a source: %w", scope, ErrInvalid)
	}
	if key == "" && scope == BlockAccount {
		return fmt.Errorf("clear block: %w", refuse(ErrInvalid, "refusal.block.which_account", nil))
	}
	if key == "" {
		return fmt.Errorf("clear block: %w", refuse(ErrInvalid, "refusal.block.which_source", nil))
	}
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		b, err := store.ActiveBlock(ctx, tx, storeScope, key, s.now().Unix())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s %q is not blocked: %w", storeScope, key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := store.ClearBlock(ctx, tx, storeScope, key); err != nil {
			return err
		}
		if err := store.ClearThrottleEvents(ctx, tx, storeScope, key, store.EventFail); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventBlockCleared, Actor: actor.Name, Target: target,
			Source: actor.Source, Detail: fmt.Sprintf("lifted the %s's block due to end %s (%s)", storeScope,
				time.Unix(b.Until, 0).UTC().Format(time.RFC3339), b.Reason)})
	})
	if err != nil {
		return fmt.Errorf("clear block: %w", err)
	}
	return nil
}
