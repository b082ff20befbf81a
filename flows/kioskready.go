package flows

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/store"
)

// AdminReadiness says who could sign in to the admin panel today: how many
// administrators are enabled, and how many of them have the two registered
// methods the admin sign-in asks for. A kiosk is left only through that
// sign-in, so with none ready it can be stopped only from outside.
type AdminReadiness struct {
	Admins int
	Ready  int
}

// AdminReadiness counts the administrators and those who can sign in.
func (s *Service) AdminReadiness(ctx context.Context) (AdminReadiness, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return AdminReadiness{}, err
	}
	admins, err := store.ListUsers(ctx, s.db, store.UserFilter{AdminsOnly: true})
	if err != nil {
		return AdminReadiness{}, fmt.Errorf("admin readiness: %w", err)
	}
	var r AdminReadiness
	for _, u := range admins {
		if u.Disabled {
			continue
		}
		r.Admins++
		methods, err := store.MethodsOf(ctx, s.db, u.ID)
		if err != nil {
			return AdminReadiness{}, fmt.Errorf("admin readiness: %w", err)
		}
		kinds := methodKinds(methods)
		if evaluateRegistration(pol, u, kinds, true, s.canSend, s.now()).canReset {
			r.Ready++
		}
	}
	return r, nil
}
