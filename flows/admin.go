package flows

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// Actor is who performs an admin operation and from where, for the audit log.
type Actor struct {
	Name   string
	Source string
}

// AdminActor returns the actor of a signed-in administrator's session, or
// ErrNotAllowed for any other session.
func (s *Service) AdminActor(sessionID string) (Actor, error) {
	ses, err := s.adminSession(sessionID)
	if err != nil {
		return Actor{}, err
	}
	return Actor{Name: ses.username, Source: ses.source}, nil
}

// userForAdmin looks a user up by name for an admin operation.
func (s *Service) userForAdmin(ctx context.Context, h store.Handler, username string) (store.User, error) {
	name := NormaliseUsername(username)
	if err := ValidateUsername(name); err != nil {
		return store.User{}, err
	}
	u, err := store.UserByName(ctx, h, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, locale.Errorf(ErrNotFound, "admin.error.no_user", locale.Args{"User": strconv.Quote(name)})
	}
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// adminChange runs fn on a user inside a transaction and audits it.
func (s *Service) adminChange(ctx context.Context, actor Actor, username string, event audit.Event, detail string,
	fn func(tx *store.Tx, u *store.User) error) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		u, err := s.userForAdmin(ctx, tx, username)
		if err != nil {
			return err
		}
		if err := fn(tx, &u); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: event, Actor: actor.Name, Target: u.Username, Source: actor.Source, Detail: detail})
	})
}

// SetDisabled disables or enables a user. Admins cannot disable themselves,
// and the last administrator cannot be disabled.
func (s *Service) SetDisabled(ctx context.Context, actor Actor, username string, disabled bool) error {
	event := audit.EventUserEnabled
	if disabled {
		event = audit.EventUserDisabled
	}
	err := s.adminChange(ctx, actor, username, event, "", func(tx *store.Tx, u *store.User) error {
		if disabled && u.Username == actor.Name {
			return locale.Errorf(ErrNotAllowed, "admin.error.disable_self", nil)
		}
		if disabled && u.IsAdmin && !u.Disabled {
			n, err := store.CountAdmins(ctx, tx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastAdmin
			}
		}
		u.Disabled, u.UpdatedAt = disabled, s.now().Unix()
		return store.UpdateUser(ctx, tx, *u)
	})
	if err != nil {
		return fmt.Errorf("set disabled: %w", err)
	}
	return nil
}

// SetAdmin makes a user an administrator or not; never removes the last one.
func (s *Service) SetAdmin(ctx context.Context, actor Actor, username string, admin bool) error {
	event := audit.EventAdminGranted
	if !admin {
		event = audit.EventAdminRevoked
	}
	err := s.adminChange(ctx, actor, username, event, "", func(tx *store.Tx, u *store.User) error {
		if !admin && u.IsAdmin {
			n, err := store.CountAdmins(ctx, tx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastAdmin
			}
		}
		if admin && u.Disabled {
			return locale.Errorf(ErrNotAllowed, "admin.error.user_disabled", locale.Args{"User": strconv.Quote(u.Username)})
		}
		u.IsAdmin, u.UpdatedAt = admin, s.now().Unix()
		return store.UpdateUser(ctx, tx, *u)
	})
	if err != nil {
		return fmt.Errorf("set admin: %w", err)
	}
	return nil
}

// Voucher is a helpdesk voucher as shown once to the admin who issued it.
type Voucher struct {
	Code      string
	ExpiresAt time.Time
}

// ReadOut gives the voucher as the helpdesk reads it to the caller: its
// groups of four, each with its symbols spelled ("seven kilo quebec mike"),
// since B, D, P, T and V sound alike on a phone line.
func (v Voucher) ReadOut() (groups, spoken []string) { return secret.SpellGroups(v.Code) }

// ReadOutIn is ReadOut with the digits named in the reader's language.
func (v Voucher) ReadOutIn(p *locale.Printer) (groups, spoken []string) {
	return secret.SpellGroupsWith(v.Code, func(r rune) string {
		if id, ok := digitNames[r]; ok {
			return p.T(id)
		}
		return ""
	})
}

// digitNames are the catalogue's names of the digits a voucher holds.
var digitNames = map[rune]string{
	'2': "voucher.digit.two", '3': "voucher.digit.three", '4': "voucher.digit.four", '5': "voucher.digit.five",
	'6': "voucher.digit.six", '7': "voucher.digit.seven", '8': "voucher.digit.eight", '9': "voucher.digit.nine",
}

// IssueVoucher makes a single-use voucher the helpdesk reads to a caller
// whose identity it checked; it replaces any earlier unused voucher. It is
// bound to that account and lives for the configured voucher lifetime.
func (s *Service) IssueVoucher(ctx context.Context, actor Actor, username string) (Voucher, error) {
	code, err := secret.Voucher()
	if err != nil {
		return Voucher{}, fmt.Errorf("issue voucher: %w", err)
	}
	now := s.now()
	expires := now.Add(s.voucherLife)
	pol, err := s.Policy(ctx)
	if err != nil {
		return Voucher{}, err
	}
	err = s.adminChange(ctx, actor, username, audit.EventVoucherIssued, "expires "+expires.UTC().Format(time.RFC3339),
		func(tx *store.Tx, u *store.User) error {
			if u.Disabled {
				return locale.Errorf(ErrNotAllowed, "admin.error.user_disabled", locale.Args{"User": strconv.Quote(u.Username)})
			}
			if !pol.Allows(policy.Voucher) {
				return locale.Errorf(ErrNotAllowed, "admin.error.vouchers_not_allowed", nil)
			}
			return store.CreateVoucher(ctx, tx, u.ID, s.keys.MAC("voucher", secret.NormaliseVoucher(code)), actor.Name,
				now.Unix(), expires.Unix())
		})
	if err != nil {
		return Voucher{}, fmt.Errorf("issue voucher: %w", err)
	}
	return Voucher{Code: code, ExpiresAt: expires}, nil
}

// RequireReregistration makes a user prove and register their security info
// again. An admin asks for it when the registered info may be wrong or in
// someone else's hands, so keeping it until the next sign-in would let it
// serve a reset meanwhile, and a keypress would be enough to keep it for
// good. Every registered method is removed now, with its secrets (as Entra's
// "require re-register MFA" does); until the person registers again they
// reset with a helpdesk voucher, and the flag stays until what they register
// meets the policy.
func (s *Service) RequireReregistration(ctx context.Context, actor Actor, username string) error {
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		u, err := s.userForAdmin(ctx, tx, username)
		if err != nil {
			return err
		}
		methods, err := store.MethodsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		removed := make([]string, 0, len(methods))
		for _, m := range methods {
			if err := store.DeleteMethod(ctx, tx, u.ID, m.Kind); err != nil {
				return err
			}
			removed = append(removed, m.Kind)
		}
		u.ReregisterRequired, u.UpdatedAt = true, s.now().Unix()
		if err := store.UpdateUser(ctx, tx, u); err != nil {
			return err
		}
		detail := "nothing was registered"
		if len(removed) > 0 {
			detail = "removed " + strings.Join(sortedStrings(removed), ",")
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventReregistrationRequired, Actor: actor.Name, Target: u.Username,
			Source: actor.Source, Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("require re-registration: %w", err)
	}
	return nil
}

// RemoveUserMethod removes one method of a user on an admin's behalf.
func (s *Service) RemoveUserMethod(ctx context.Context, actor Actor, username string, m policy.Method) error {
	err := s.adminChange(ctx, actor, username, audit.EventMethodRemoved, string(m), func(tx *store.Tx, u *store.User) error {
		err := store.DeleteMethod(ctx, tx, u.ID, string(m))
		if errors.Is(err, store.ErrNotFound) {
			return locale.Errorf(ErrNotFound, "admin.error.method_not_registered", locale.Args{"User": u.Username, "Method": string(m)})
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("remove method: %w", err)
	}
	return nil
}

// SetPolicy changes one policy setting after validating it, and audits the
// old and new values.
func (s *Service) SetPolicy(ctx context.Context, actor Actor, key, value string) (policy.Change, error) {
	var change policy.Change
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		// The same checks as PolicyWhatIf (see candidate): a value that
		// previews is a value that saves.
		old, next, err := s.candidate(ctx, tx, key, value)
		if err != nil {
			return err
		}
		change = policy.Change{Key: key, Old: old.Get(key), New: next.Get(key)}
		if err := policy.Save(ctx, tx, next, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventPolicyChanged, Actor: actor.Name, Target: "policy",
			Source: actor.Source, Detail: fmt.Sprintf("%s: %q -> %q", key, change.Old, change.New)})
	})
	if err != nil {
		return policy.Change{}, fmt.Errorf("set policy: %w", err)
	}
	return change, nil
}

func (s *Service) isBuiltin() bool {
	_, ok := s.dir.(*BuiltinDirectory)
	return ok
}

// RegisterVerified records a method for a user whose possession of it was
// proven outside sspr: a migration from another system, or demo data. value
// is the address or number, or the base32 secret of an authenticator.
func (s *Service) RegisterVerified(ctx context.Context, actor Actor, username string, m policy.Method, value string) error {
	now := s.now().Unix()
	err := s.adminChange(ctx, actor, username, audit.EventMethodRegistered, string(m)+" (registered by an administrator)",
		func(tx *store.Tx, u *store.User) error {
			method := store.Method{UserID: u.ID, Kind: string(m), CreatedAt: now, ConfirmedAt: now}
			switch {
			case m.Describe().SendsCode():
				dest, err := checkDestination(m.Describe().Channel, value)
				if err != nil {
					return err
				}
				method.Destination = dest
			case m == policy.Authenticator:
				value = strings.ToUpper(strings.ReplaceAll(value, " ", ""))
				if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(value); err != nil || len(value) < 16 {
					return locale.Errorf(ErrInvalid, "admin.error.authenticator_secret", locale.Args{"Min": 16})
				}
				sealed, err := s.keys.Seal([]byte(value), totpAD(u.ID))
				if err != nil {
					return err
				}
				method.Secret = sealed
			default:
				return locale.Errorf(ErrNotAllowed, "admin.error.not_for_someone_else", locale.Args{"Method": string(m)})
			}
			if err := store.UpsertMethod(ctx, tx, method); err != nil {
				return err
			}
			return store.TouchConfirmed(ctx, tx, u.ID, now)
		})
	if err != nil {
		return fmt.Errorf("register %s: %w", m, err)
	}
	return nil
}
