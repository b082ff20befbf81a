package flows

import (
	"context"
	"errors"
	"fmt"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/sshkey"
	"github.com/sspr-kiosk/sspr/store"
)

// An SSH key proves who someone is only as the key the SSH portal verified
// in the handshake, by the client's signature: never as a key a client
// merely offered (CVE-2024-45337). The portal hands that key to the TUI,
// which hands it here as part of the Origin of a journey; flows keep it with
// the flow and compare it byte for byte with the keys registered to the
// account named.

// Origin is where a journey comes from: the source (a kiosk's terminal or
// an SSH client's address), and the public key the SSH connection was
// verified with, if any.
type Origin struct {
	// Source names where the person is, for the audit log and throttles.
	Source string
	// Key is the connection's verified public key: nil at a kiosk and
	// for a connection made without a key.
	Key gossh.PublicKey
}

// SSHKey is one of a person's registered SSH keys, as screens show it.
type SSHKey struct {
	ID int64
	// Name is the type and size: "ED25519", "RSA 4096".
	Name string
	// Fingerprint is the SHA256 fingerprint, as ssh-keygen -l prints it.
	Fingerprint string
	// Comment is the comment of the key's line, cleaned.
	Comment string
	// AddedAt is when it was registered.
	AddedAt time.Time
	// FromDirectory marks a key the directory holds: it proves as the
	// others do, and is changed in the directory, not here.
	FromDirectory bool
}

// ErrKeyLimit means the person has as many SSH keys as they may.
var ErrKeyLimit = fmt.Errorf("you have %d SSH keys, the most you may: remove one first", policy.MaxSSHKeys)

// DescribeSSHKey reads a public key as the screens show it; an error says
// why it could not be registered.
func DescribeSSHKey(pk gossh.PublicKey) (SSHKey, error) {
	k, err := sshkey.FromPublicKey(pk, "")
	if err != nil {
		return SSHKey{}, fmt.Errorf("ssh key: %w", err)
	}
	return SSHKey{Name: k.Name(), Fingerprint: k.Fingerprint}, nil
}

// SSHKeys lists the signed-in person's SSH keys: those registered in sspr,
// then those the directory holds (a directory out of reach lists none).
func (s *Service) SSHKeys(ctx context.Context, sessionID string) ([]SSHKey, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return nil, err
	}
	rows, err := store.SSHKeysOf(ctx, s.db, ses.userID)
	if err != nil {
		return nil, fmt.Errorf("ssh keys: %w", err)
	}
	out := make([]SSHKey, 0, len(rows))
	seen := map[string]bool{}
	for _, r := range rows {
		out = append(out, SSHKey{ID: r.ID, Name: sshkey.Key{Type: r.Type, Bits: r.Bits}.Name(),
			Fingerprint: r.Fingerprint, Comment: r.Comment, AddedAt: time.Unix(r.CreatedAt, 0)})
		seen[r.Fingerprint] = true
	}
	du, err := s.dir.Lookup(ctx, ses.username)
	if err != nil {
		return out, nil
	}
	for _, line := range du.SSHKeys {
		if k, err := sshkey.Parse(line); err == nil && !seen[k.Fingerprint] {
			seen[k.Fingerprint] = true
			out = append(out, SSHKey{Name: k.Name(), Fingerprint: k.Fingerprint, Comment: k.Comment, FromDirectory: true})
		}
	}
	return out, nil
}

// AddSSHKey registers the public key of a pasted authorized_keys line. A
// key refused says why (ErrInvalid wraps the reason).
func (s *Service) AddSSHKey(ctx context.Context, sessionID, line string) (SSHKey, error) {
	k, err := sshkey.Parse(line)
	if err != nil {
		return SSHKey{}, keyRefused(err)
	}
	return s.addSSHKey(ctx, sessionID, k)
}

// AddConnectedSSHKey registers the key the person's SSH connection was
// verified with: the TUI passes the key its portal session holds.
func (s *Service) AddConnectedSSHKey(ctx context.Context, sessionID string, pk gossh.PublicKey) (SSHKey, error) {
	k, err := sshkey.FromPublicKey(pk, "")
	if err != nil {
		return SSHKey{}, keyRefused(err)
	}
	return s.addSSHKey(ctx, sessionID, k)
}

func (s *Service) addSSHKey(ctx context.Context, sessionID string, k sshkey.Key) (SSHKey, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return SSHKey{}, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return SSHKey{}, err
	}
	if !pol.Usable(policy.SSHKey, ses.isAdminUser(ctx, s)) {
		return SSHKey{}, ErrNotAllowed
	}
	now := s.now().Unix()
	row := store.SSHKey{UserID: ses.userID, Type: k.Type, Bits: k.Bits, Fingerprint: k.Fingerprint, PublicKey: k.Wire,
		Comment: k.Comment, CreatedAt: now}
	err = s.saveMethodAs(ctx, ses, store.Method{UserID: ses.userID, Kind: store.SSHKeyKind, CreatedAt: now, ConfirmedAt: now},
		infoChange{id: "email.change.ssh_added", args: map[string]any{"Fingerprint": k.Fingerprint}}, sshKeyDetail(k.Fingerprint), func(ctx context.Context, tx *store.Tx) error {
			return store.AddSSHKey(ctx, tx, row, policy.MaxSSHKeys)
		})
	switch {
	case errors.Is(err, store.ErrDuplicate):
		return SSHKey{}, fmt.Errorf("you have registered this key already: %w", ErrExists)
	case errors.Is(err, store.ErrLimit):
		return SSHKey{}, ErrKeyLimit
	case err != nil:
		return SSHKey{}, err
	}
	return SSHKey{Name: k.Name(), Fingerprint: k.Fingerprint, Comment: k.Comment, AddedAt: time.Unix(now, 0)}, nil
}

// RemoveSSHKey removes one of the signed-in person's SSH keys; the last one
// gone, the method is no longer registered.
func (s *Service) RemoveSSHKey(ctx context.Context, sessionID string, keyID int64) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		keys, err := store.SSHKeysOf(ctx, tx, ses.userID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID != keyID {
				continue
			}
			if _, err := store.DeleteSSHKey(ctx, tx, ses.userID, keyID); err != nil {
				return err
			}
			return s.infoChanged(ctx, tx, ses, policy.SSHKey,
				infoChange{id: "email.change.ssh_removed", args: map[string]any{"Fingerprint": k.Fingerprint}},
				sshKeyDetail(k.Fingerprint), audit.EventMethodRemoved)
		}
		return store.ErrNotFound
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("remove ssh key: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove ssh key: %w", err)
	}
	return nil
}

// sshKeyDetail is what the audit log keeps of a key: its fingerprint, never
// the key.
func sshKeyDetail(fingerprint string) string { return string(policy.SSHKey) + " " + fingerprint }

// connectionKey returns the key of the account that the flow's connection
// was verified with, if there is one: registered in sspr, or held by the
// directory (then its ID is 0).
func (s *Service) connectionKey(ctx context.Context, h store.Handler, f *flow) (store.SSHKey, bool, error) {
	if f.key == nil || f.userID == 0 {
		return store.SSHKey{}, false, nil
	}
	k, err := store.SSHKeyByFingerprint(ctx, h, f.userID, gossh.FingerprintSHA256(f.key))
	switch {
	case err == nil && (sshkey.Key{Wire: k.PublicKey}).Matches(f.key):
		// The fingerprint found the row; the key itself is the same.
		return k, true, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.SSHKey{}, false, fmt.Errorf("ssh key: %w", err)
	}
	for _, line := range f.dirKeys {
		// A directory key is held to the same rules as a pasted one.
		if dk, err := sshkey.Parse(line); err == nil && dk.Matches(f.key) {
			return store.SSHKey{UserID: f.userID, Type: dk.Type, Bits: dk.Bits, Fingerprint: dk.Fingerprint,
				PublicKey: dk.Wire, Comment: dk.Comment}, true, nil
		}
	}
	return store.SSHKey{}, false, nil
}

// ProveByConnection proves a method of a flow that the connection itself
// proves, with nothing typed: the SSH key the portal verified, when it is
// registered to the account. It is offered only then, so a refusal here
// means the flow or the key changed underneath.
func (s *Service) ProveByConnection(ctx context.Context, flowID string, m policy.Method) (Progress, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return Progress{}, err
	}
	if _, ok := f.option(m); !ok || !m.Describe().ByConnection || f.decoy {
		return Progress{}, ErrNotAllowed
	}
	if err := s.admitProof(ctx, f.account, f.source, f.kind == flowAdminSignIn); err != nil {
		return Progress{}, err
	}
	var id string
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		k, ok, err := s.connectionKey(ctx, tx, f)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotAllowed
		}
		if id, err = s.verifiedChallenge(ctx, tx, f.id, f.userID, f.kind.purpose(), m, k.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventVerifySucceeded, Actor: f.account, Target: f.account,
			Source: f.source, Detail: fmt.Sprintf("%s for %s", sshKeyDetail(k.Fingerprint), f.kind.purpose())})
	})
	if err != nil {
		return Progress{}, err
	}
	return s.proven(f, m, id)
}

// keyRefused is the refusal a person reads for a key sshkey would not
// take; it wraps ErrInvalid and sshkey's own error.
func keyRefused(err error) error {
	var ke *sshkey.KeyError
	args := locale.Args{"Min": sshkey.MinRSABits}
	if errors.As(err, &ke) {
		args["Bits"], args["Type"] = ke.Bits, ke.Type
	}
	switch {
	case errors.Is(err, sshkey.ErrTooLong):
		return refuseBecause(err, "refusal.sshkey.too_long", args)
	case errors.Is(err, sshkey.ErrSeveral):
		return refuseBecause(err, "refusal.sshkey.several", args)
	case errors.Is(err, sshkey.ErrWeak):
		return refuseBecause(err, "refusal.sshkey.weak", args)
	case errors.Is(err, sshkey.ErrUnsupported) && ke != nil:
		return refuseBecause(err, "refusal.sshkey.unsupported_type", args)
	case errors.Is(err, sshkey.ErrUnsupported):
		return refuseBecause(err, "refusal.sshkey.unsupported", args)
	}
	return refuseBecause(err, "refusal.sshkey.not_a_key", args)
}
