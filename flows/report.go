package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// RegistrationLine is one user in the registrations report.
type RegistrationLine struct {
	Username      string    `json:"username"`
	Enabled       bool      `json:"enabled_for_sspr"`
	Methods       []string  `json:"registered_methods"`
	CanReset      bool      `json:"able_to_reset"`
	LastConfirmed time.Time `json:"last_confirmed,omitzero"` // left out when never confirmed
}

// RegistrationReport lists every user with what they registered and whether
// the current policy lets them reset.
func (s *Service) RegistrationReport(ctx context.Context) ([]RegistrationLine, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := store.Registrations(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("registrations report: %w", err)
	}
	inScope, err := s.scopeSet(ctx, pol)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]RegistrationLine, len(rows))
	for i, r := range rows {
		enabled := r.IsAdmin || pol.EnabledFor == policy.ScopeAll || pol.EnabledFor == policy.ScopeGroup && inScope[r.Username]
		st := evaluateRegistration(pol, r.User, r.Kinds, enabled, s.canSend, now)
		line := RegistrationLine{Username: r.Username, Enabled: enabled, Methods: r.Kinds, CanReset: st.canReset}
		if line.Methods == nil {
			line.Methods = []string{}
		}
		if r.LastConfirmedAt > 0 {
			line.LastConfirmed = time.Unix(r.LastConfirmedAt, 0).UTC()
		}
		out[i] = line
	}
	return out, nil
}

// scopeSet returns the members of the enabled group, when the scope is a group.
func (s *Service) scopeSet(ctx context.Context, pol policy.Policy) (map[string]bool, error) {
	set := map[string]bool{}
	if pol.EnabledFor != policy.ScopeGroup {
		return set, nil
	}
	members, err := s.dir.GroupMembers(ctx, pol.EnabledGroup)
	if err != nil {
		return nil, fmt.Errorf("scope members: %w", err)
	}
	for _, m := range members {
		set[m] = true
	}
	return set, nil
}

// Coverage summarises how ready users are for self-service reset.
type Coverage struct {
	Users        int            `json:"users"`
	Enabled      int            `json:"enabled_users"`
	AbleToReset  int            `json:"able_to_reset"`
	Share        float64        `json:"share_able_to_reset"`
	UsersPerKind map[string]int `json:"users_per_method"`
}

// DayActivity is one day of the activity report.
type DayActivity struct {
	Day      string `json:"day"`
	Resets   int    `json:"resets"`
	Changes  int    `json:"changes"`
	Failures int    `json:"failures"`
	Blocks   int    `json:"blocks"`
	// Postponed counts people who left with their registration due.
	Postponed int `json:"registrations_postponed"`
}

// Activity is the activity report: per day over a window, totals, coverage
// and the helpdesk calls self-service resets took off the phones.
type Activity struct {
	Since          time.Time     `json:"since"`
	Until          time.Time     `json:"until"`
	Days           []DayActivity `json:"days"`
	Resets         int           `json:"resets"`
	Changes        int           `json:"changes"`
	Failures       int           `json:"failures"`
	Blocks         int           `json:"blocks"`
	Postponed      int           `json:"registrations_postponed"`
	Coverage       Coverage      `json:"coverage"`
	CostPerCall    float64       `json:"cost_per_call"`
	Currency       string        `json:"currency"`
	EstimatedSaved float64       `json:"estimated_saved"`
}

// ActivityReport counts resets, changes, failures and blocks per day over the
// last days days.
func (s *Service) ActivityReport(ctx context.Context, days int, costPerCall float64, currency string) (Activity, error) {
	if days < 1 || days > 366 {
		return Activity{}, refuse(ErrInvalid, "refusal.report.days", locale.Args{"Max": 366})
	}
	until := s.now().UTC()
	start := time.Date(until.Year(), until.Month(), until.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	events := []audit.Event{audit.EventPasswordReset, audit.EventPasswordChanged, audit.EventVerifyFailed,
		audit.EventSignInFailed, audit.EventAdminSignInFailed, audit.EventBlockApplied, audit.EventRegistrationPostponed}
	counts, err := audit.CountByDay(ctx, s.db, events, start, until.Add(time.Second))
	if err != nil {
		return Activity{}, fmt.Errorf("activity report: %w", err)
	}
	a := Activity{Since: start, Until: until, CostPerCall: costPerCall, Currency: currency}
	for d := 0; d < days; d++ {
		day := start.AddDate(0, 0, d).Format("2006-01-02")
		c := counts[day]
		da := DayActivity{Day: day, Resets: c[audit.EventPasswordReset], Changes: c[audit.EventPasswordChanged],
			Failures: c[audit.EventVerifyFailed] + c[audit.EventSignInFailed] + c[audit.EventAdminSignInFailed],
			Blocks:   c[audit.EventBlockApplied], Postponed: c[audit.EventRegistrationPostponed]}
		a.Days = append(a.Days, da)
		a.Resets += da.Resets
		a.Changes += da.Changes
		a.Failures += da.Failures
		a.Blocks += da.Blocks
		a.Postponed += da.Postponed
	}
	// The same numbers as counting RegistrationReport's lines, without
	// building a line per user: the admin panel's insights show this report.
	if a.Coverage, err = s.Coverage(ctx); err != nil {
		return Activity{}, err
	}
	a.EstimatedSaved = float64(a.Resets) * costPerCall
	return a, nil
}
