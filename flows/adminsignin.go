package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// StartAdminSignIn checks an administrator's password and begins the proof
// of two further methods (never security questions, never a voucher). A wrong
// password, or a person who is not an administrator, fails the same way.
func (s *Service) StartAdminSignIn(ctx context.Context, username, pw, source string) (ResetStart, error) {
	account := NormaliseUsername(username)
	if account == "" || pw == "" {
		return ResetStart{}, locale.Errorf(ErrInvalid, "admin.signin.missing", nil)
	}
	// A blocked source does not stop an administrator (see admitProof).
	if err := s.admitProof(ctx, account, source, true); err != nil {
		return ResetStart{}, err
	}
	ok, wrong, err := s.checkPassword(ctx, account, pw)
	if err != nil {
		return ResetStart{}, fmt.Errorf("admin sign-in: %w", err)
	}
	if !ok {
		return ResetStart{}, s.failSignIn(ctx, account, source, audit.EventAdminSignInFailed, wrong)
	}
	u, err := s.localUser(ctx, account)
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		// The directory went away between the two calls: not the
		// person's fault, so not counted.
		return ResetStart{}, fmt.Errorf("admin sign-in: %w", err)
	}
	if err != nil || !u.IsAdmin || u.Disabled {
		return ResetStart{}, s.failSignIn(ctx, account, source, audit.EventAdminSignInFailed, nil)
	}
	f := newFlow(flowAdminSignIn, account, source, s.now())
	f.displayName = u.DisplayName
	pol, err := s.Policy(ctx)
	if err != nil {
		return ResetStart{}, err
	}
	if err := s.prepareFlow(ctx, f, pol, true); err != nil {
		return ResetStart{}, err
	}
	if f.decoy {
		// An administrator without two registered methods cannot sign in to
		// the panel; say so plainly, since the password was right.
		return ResetStart{}, locale.Errorf(ErrNotAllowed, "admin.signin.methods_needed", nil)
	}
	s.putFlow(f)
	return ResetStart{FlowID: f.id, Required: f.required, Options: f.options}, nil
}

// CompleteAdminSignIn turns a proven admin sign-in flow into an admin session.
func (s *Service) CompleteAdminSignIn(ctx context.Context, flowID string) (SessionInfo, error) {
	f, proofs, err := s.provenFlow(flowID, flowAdminSignIn)
	if err != nil {
		return SessionInfo{}, err
	}
	u, err := store.UserByID(ctx, s.db, f.userID)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("admin sign-in: %w", err)
	}
	if !u.IsAdmin || u.Disabled {
		return SessionInfo{}, ErrBadCredentials
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		used, err := s.consumeProofs(ctx, tx, proofs)
		if err != nil {
			return err
		}
		for _, e := range append(used, audit.Entry{Event: audit.EventAdminSignIn, Actor: u.Username, Target: u.Username,
			Source: f.source}) {
			if err := s.record(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SessionInfo{}, fmt.Errorf("admin sign-in: %w", err)
	}
	s.dropFlow(flowID)
	ses := &session{id: secret.Token(), userID: u.ID, username: u.Username, displayName: u.DisplayName, language: u.Language,
		source: f.source, isAdmin: true, created: s.now(), pendingCode: map[policy.Method]pendingContact{}, currentPasswd: true}
	s.putSession(ses)
	return s.sessionInfo(ctx, ses)
}

// adminSession returns the session if it is a signed-in administrator's.
func (s *Service) adminSession(sessionID string) (*session, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return nil, err
	}
	if !ses.isAdmin {
		return nil, ErrNotAllowed
	}
	return ses, nil
}
