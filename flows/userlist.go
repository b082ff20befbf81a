package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// MaxSearchLength is the longest user search accepted, in characters.
const MaxSearchLength = 100

// UserRow is one user in the admin panel's user table.
type UserRow struct {
	Username    string
	DisplayName string
	Email       string
	Phone       string
	// Methods are the registered methods, in policy.AllMethods order.
	Methods []policy.Method
	// LastConfirmed is when the user last confirmed their info; zero if never.
	LastConfirmed time.Time
	// BlockedUntil is when an account block in force ends; zero if none is.
	BlockedUntil       time.Time
	Disabled           bool
	Admin              bool
	TemporaryPassword  bool
	ReregisterRequired bool
	// NoPassword is set for someone sspr keeps passwords for but holds
	// none of yet (imported without one): they can only reset, with a
	// voucher or a registered method.
	NoPassword bool
}

// Blocked reports whether an account block is in force.
func (r UserRow) Blocked() bool { return !r.BlockedUntil.IsZero() }

// States lists the user's states, most urgent first, in the words every
// admin view uses; none means the account is simply active.
func (r UserRow) States() []string {
	return userStates(r.Blocked(), r.Disabled, r.Admin, r.TemporaryPassword, r.NoPassword, r.ReregisterRequired)
}

// The words for a user's state, shared by the admin panel and the CLI.
const (
	StateActive            = "active"
	StateBlocked           = "blocked"
	StateDisabled          = "disabled"
	StateAdmin             = "admin"
	StateTemporaryPassword = "temporary password"
	StateNoPassword        = "no password"
	StateReregister        = "re-register"
)

func userStates(blocked, disabled, admin, temporary, noPassword, reregister bool) []string {
	var out []string
	for _, s := range []struct {
		on   bool
		word string
	}{{blocked, StateBlocked}, {disabled, StateDisabled}, {admin, StateAdmin}, {temporary, StateTemporaryPassword},
		{noPassword, StateNoPassword}, {reregister, StateReregister}} {
		if s.on {
			out = append(out, s.word)
		}
	}
	return out
}

// StateLine is a user's states as one phrase: "admin, temporary password",
// or "active" when there is nothing to say.
func StateLine(states []string) string {
	if len(states) == 0 {
		return StateActive
	}
	return strings.Join(states, ", ")
}

// keepsPasswords reports whether sspr's own store holds the passwords, so
// a user without one there has none at all.
func (s *Service) keepsPasswords() bool {
	_, ok := s.dir.(*BuiltinDirectory)
	return ok
}

// UserQuery asks for one page of users.
type UserQuery struct {
	// Search matches a substring of the username, display name or email;
	// LIKE wildcards match literally.
	Search string
	// After and Before are the username the page starts after, or ends
	// before; neither means the first page.
	After, Before string
	// Limit is the page size (1–500; default 20).
	Limit int
	// Count asks for the number of users the search matches, for "x of y".
	Count bool
}

// UserPage is one page of users.
type UserPage struct {
	Users            []UserRow
	HasPrev, HasNext bool
	// Total is how many users the search matches; -1 when not counted.
	Total int
}

// ListUserPage returns one page of users with their methods and states, for
// the admin panel, in one query; when asked, the users the search matches
// are counted too. Pages are keyed by username, so page 5,000 costs what
// page 1 does.
func (s *Service) ListUserPage(ctx context.Context, q UserQuery) (UserPage, error) {
	q.Search = strings.TrimSpace(q.Search)
	if utf8.RuneCountInString(q.Search) > MaxSearchLength {
		return UserPage{}, refuse(ErrInvalid, "refusal.search.too_long", locale.Args{"Max": MaxSearchLength})
	}
	page, err := store.ListUserPage(ctx, s.db, store.UserPageFilter{Search: q.Search, After: q.After, Before: q.Before,
		Limit: q.Limit, Now: s.now().Unix()})
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	total := -1
	switch {
	case !q.Count:
	case q.After == "" && q.Before == "" && !page.HasNext:
		// The first page holds every match: the query that found it has
		// already read them all, so there is nothing left to count. This is
		// a search that matches few users, the one that reads the whole
		// table to fill its page; a search that fills its page at once
		// is the one that pays for the count.
		total = len(page.Rows)
	default:
		if total, err = store.CountUserPage(ctx, s.db, q.Search); err != nil {
			return UserPage{}, fmt.Errorf("list users: %w", err)
		}
	}
	out := UserPage{HasPrev: page.HasPrev, HasNext: page.HasNext, Total: total, Users: make([]UserRow, len(page.Rows))}
	order := policy.AllMethods()
	for i, r := range page.Rows {
		u := UserRow{Username: r.Username, DisplayName: r.DisplayName, Email: r.Email, Phone: r.Phone, Disabled: r.Disabled, Admin: r.IsAdmin,
			TemporaryPassword: r.MustChange, ReregisterRequired: r.ReregisterRequired,
			NoPassword: !r.HasPassword && s.keepsPasswords()}
		for _, k := range r.Kinds {
			u.Methods = append(u.Methods, policy.Method(k))
		}
		slices.SortFunc(u.Methods, func(a, b policy.Method) int {
			return slices.Index(order, a) - slices.Index(order, b)
		})
		if r.LastConfirmedAt > 0 {
			u.LastConfirmed = time.Unix(r.LastConfirmedAt, 0).UTC()
		}
		if r.BlockedUntil > 0 {
			u.BlockedUntil = time.Unix(r.BlockedUntil, 0).UTC()
		}
		out.Users[i] = u
	}
	return out, nil
}
