package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// outcome is what one policy means for the users in the store today.
type outcome struct {
	// users is everyone; enabled those the policy lets use self-service
	// reset (administrators always); canReset the enabled users whose
	// registrations would let them reset today; due the enabled users who
	// would be asked to register or re-confirm at their next sign-in.
	users, enabled, canReset, due int
	// admins counts administrators that are not disabled.
	admins int
	// members is how many users are in the enabled group (group scope only).
	members int
	// perKind counts the enabled users who registered each method.
	perKind map[policy.Method]int
}

// factKey is everything evaluateRegistration reads of a user, so that users
// alike are evaluated once: with 100,000 users there are a few dozen keys.
type factKey struct {
	admin, disabled, reregister, stale, inScope bool
	kinds                                       uint64
}

// population is every user's registration facts, read once per question.
type population struct {
	facts []store.RegistrationFact
	now   time.Time
}

func (s *Service) population(ctx context.Context) (population, error) {
	facts, err := store.RegistrationFacts(ctx, s.db, methodNames())
	if err != nil {
		return population{}, err
	}
	return population{facts: facts, now: s.now()}, nil
}

func methodNames() []string {
	all := policy.AllMethods()
	out := make([]string, len(all))
	for i, m := range all {
		out[i] = string(m)
	}
	return out
}

// kindsOf lists the methods whose bits are set, in policy.AllMethods order.
func kindsOf(mask uint64) []string {
	var out []string
	for i, m := range policy.AllMethods() {
		if mask&(1<<i) != 0 {
			out = append(out, string(m))
		}
	}
	return out
}

// scopeIDs returns the ids of the enabled group's members when the policy
// enables a group, from the directory in force (store memberships for the
// built-in one).
func (s *Service) scopeIDs(ctx context.Context, pol policy.Policy) (map[int64]bool, error) {
	if pol.EnabledFor != policy.ScopeGroup {
		return nil, nil
	}
	var ids []int64
	var err error
	if s.isBuiltin() {
		ids, err = store.GroupMemberIDs(ctx, s.db, pol.EnabledGroup)
	} else {
		var names []string
		if names, err = s.dir.GroupMembers(ctx, pol.EnabledGroup); err == nil {
			ids, err = store.UserIDsByName(ctx, s.db, names)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("scope members: %w", err)
	}
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

// outcomeOf applies a policy to the population with the same rule the
// sign-in and reset flows use (evaluateRegistration).
func (s *Service) outcomeOf(ctx context.Context, pop population, pol policy.Policy) (outcome, error) {
	scope, err := s.scopeIDs(ctx, pol)
	if err != nil {
		return outcome{}, err
	}
	staleBefore := int64(0)
	if pol.ReconfirmDays > 0 {
		// evaluateRegistration: due when now - confirmed > days.
		staleBefore = pop.now.Add(-time.Duration(pol.ReconfirmDays) * 24 * time.Hour).Unix()
	}
	counts := make(map[factKey]int, 64)
	for _, f := range pop.facts {
		counts[factKey{admin: f.IsAdmin, disabled: f.Disabled, reregister: f.ReregisterRequired,
			stale: f.LastConfirmedAt < staleBefore, inScope: scope[f.ID], kinds: f.Kinds}]++
	}
	o := outcome{users: len(pop.facts), members: len(scope), perKind: map[policy.Method]int{}}
	for k, n := range counts {
		if k.admin && !k.disabled {
			o.admins += n
		}
		enabled := k.admin || pol.EnabledFor == policy.ScopeAll || pol.EnabledFor == policy.ScopeGroup && k.inScope
		if !enabled {
			continue
		}
		// A stand-in with the same facts: confirmed long ago or just now.
		u := store.User{IsAdmin: k.admin, Disabled: k.disabled, ReregisterRequired: k.reregister, LastConfirmedAt: pop.now.Unix()}
		if k.stale {
			u.LastConfirmedAt = 0
		}
		kinds := kindsOf(k.kinds)
		st := evaluateRegistration(pol, u, kinds, true, s.canSend, pop.now)
		o.enabled += n
		if st.canReset {
			o.canReset += n
		}
		if st.due {
			o.due += n
		}
		for _, kind := range kinds {
			o.perKind[policy.Method(kind)] += n
		}
	}
	return o, nil
}

// Coverage computes registration coverage under the policy in force: the
// same numbers as counting RegistrationReport's lines, read in two lean
// scans instead of one line per user.
func (s *Service) Coverage(ctx context.Context) (Coverage, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return Coverage{}, err
	}
	pop, err := s.population(ctx)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverage: %w", err)
	}
	o, err := s.outcomeOf(ctx, pop, pol)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverage: %w", err)
	}
	c := Coverage{Users: o.users, Enabled: o.enabled, AbleToReset: o.canReset, UsersPerKind: map[string]int{}}
	for m, n := range o.perKind {
		c.UsersPerKind[string(m)] = n
	}
	if c.Enabled > 0 {
		c.Share = float64(c.AbleToReset) / float64(c.Enabled)
	}
	return c, nil
}

// checkGroup refuses a group name the directory does not know. A group in
// the store always counts; with another directory, one it can list does.
func (s *Service) checkGroup(ctx context.Context, h store.Handler, name string) error {
	if _, err := store.GroupByName(ctx, h, name); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !s.isBuiltin() {
		if _, err := s.dir.GroupMembers(ctx, name); err == nil {
			return nil
		}
	}
	return locale.Errorf(ErrInvalid, "admin.error.no_group", locale.Args{"Group": strconv.Quote(name)})
}

// candidate returns the policy in force and the one that setting key to
// value would give, refusing what SetPolicy would refuse.
func (s *Service) candidate(ctx context.Context, h store.Handler, key, value string) (policy.Policy, policy.Policy, error) {
	cur, err := loadPolicy(ctx, h)
	if err != nil {
		return policy.Policy{}, policy.Policy{}, err
	}
	next := cur
	next.MethodsAllowed = append([]policy.Method(nil), cur.MethodsAllowed...)
	next.BannedWords = append([]string(nil), cur.BannedWords...)
	if err := next.Set(key, value); err != nil {
		return policy.Policy{}, policy.Policy{}, err
	}
	if err := next.Validate(); err != nil {
		return policy.Policy{}, policy.Policy{}, err
	}
	if next.EnabledGroup != "" && (next.EnabledFor == policy.ScopeGroup || key == policy.KeyEnabledGroup) {
		if err := s.checkGroup(ctx, h, next.EnabledGroup); err != nil {
			return policy.Policy{}, policy.Policy{}, err
		}
	}
	return cur, next, nil
}

// PolicyWhatIf says in one line, in the source language, what setting key
// to value would mean for the users in the store today (PolicyWhatIfIn).
func (s *Service) PolicyWhatIf(ctx context.Context, key, value string) (string, error) {
	return s.PolicyWhatIfIn(ctx, locale.Embedded().Source(), key, value)
}

// PolicyWhatIfIn says in one line what setting key to value would mean for
// the users in the store today, before it is saved, written by p: for
// example "with 2 methods required, 1,204 of 5,310 enabled users could not
// reset today (now 310)". The line has no capital or full stop: a screen
// puts it in a sentence. A value SetPolicy would refuse gives its error
// instead, and nothing is saved either way.
func (s *Service) PolicyWhatIfIn(ctx context.Context, p *locale.Printer, key, value string) (string, error) {
	cur, next, err := s.candidate(ctx, s.db, key, value)
	if err != nil {
		return "", fmt.Errorf("what if: %w", err)
	}
	if cur.Get(key) == next.Get(key) {
		return p.T("admin.whatif.no_change"), nil
	}
	needsUsers := map[string]bool{policy.KeyEnabledFor: true, policy.KeyEnabledGroup: true, policy.KeyMethodsRequired: true,
		policy.KeyMethodsAllowed: true, policy.KeyRequireRegistration: true, policy.KeyReconfirmDays: true,
		policy.KeyQuestionsToRegister: true, policy.KeyQuestionsToAnswer: true, policy.KeyNotifyAdminsOnAdminReset: true}
	var (
		pop           population
		before, after outcome
	)
	if needsUsers[key] {
		if pop, err = s.population(ctx); err != nil {
			return "", fmt.Errorf("what if: %w", err)
		}
		if before, err = s.outcomeOf(ctx, pop, cur); err != nil {
			return "", fmt.Errorf("what if: %w", err)
		}
		if after, err = s.outcomeOf(ctx, pop, next); err != nil {
			return "", fmt.Errorf("what if: %w", err)
		}
	}
	n := p.Number
	cannot := func(o outcome) int { return o.enabled - o.canReset }
	switch key {
	case policy.KeyEnabledFor, policy.KeyEnabledGroup:
		if key == policy.KeyEnabledGroup && next.EnabledFor != policy.ScopeGroup {
			if next.EnabledGroup == "" {
				return p.F("admin.whatif.no_group", locale.Args{"Scope": string(next.EnabledFor)}), nil
			}
			trial := next
			trial.EnabledFor = policy.ScopeGroup
			o, err := s.outcomeOf(ctx, pop, trial)
			if err != nil {
				return "", fmt.Errorf("what if: %w", err)
			}
			return p.N("admin.whatif.group_later", o.members,
				locale.Args{"Group": next.EnabledGroup, "Scope": string(next.EnabledFor)}), nil
		}
		switch next.EnabledFor {
		case policy.ScopeNone:
			return p.F("admin.whatif.scope_none", locale.Args{"Able": n(after.canReset), "Users": n(after.users),
				"Before": n(before.canReset)}), nil
		case policy.ScopeGroup:
			return p.N("admin.whatif.scope_group", after.members, locale.Args{"Group": next.EnabledGroup,
				"Able": n(after.canReset), "Enabled": n(after.enabled),
				"Before": n(before.canReset), "BeforeEnabled": n(before.enabled)}), nil
		}
		return p.F("admin.whatif.scope_all", locale.Args{"Able": n(after.canReset), "Enabled": n(after.enabled),
			"Before": n(before.canReset), "BeforeEnabled": n(before.enabled)}), nil
	case policy.KeyMethodsRequired:
		return p.N("admin.whatif.methods_required", next.MethodsRequired, locale.Args{"Cannot": n(cannot(after)),
			"Enabled": n(after.enabled), "Before": n(cannot(before))}), nil
	case policy.KeyMethodsAllowed:
		args := locale.Args{"Methods": MethodListIn(p, next.MethodsAllowed), "Cannot": n(cannot(after)),
			"Enabled": n(after.enabled), "Before": n(cannot(before))}
		switch {
		case next.Allows(policy.Questions) && !cur.Allows(policy.Questions):
			return p.F("admin.whatif.methods_allowed_questions_added", args), nil
		case !next.Allows(policy.Questions) && cur.Allows(policy.Questions):
			return p.N("admin.whatif.methods_allowed_questions_removed", before.perKind[policy.Questions], args), nil
		}
		return p.F("admin.whatif.methods_allowed", args), nil
	case policy.KeyQuestionsToRegister, policy.KeyQuestionsToAnswer:
		args := locale.Args{"Register": n(next.QuestionsToRegister), "Answer": n(next.QuestionsToAnswer)}
		if !next.Allows(policy.Questions) {
			return p.N("admin.whatif.questions_not_allowed", after.perKind[policy.Questions], args), nil
		}
		return p.N("admin.whatif.questions", after.perKind[policy.Questions], args), nil
	case policy.KeyRequireRegistration, policy.KeyReconfirmDays:
		args := locale.Args{"Due": n(after.due), "Enabled": n(after.enabled), "Before": n(before.due)}
		if key == policy.KeyReconfirmDays && next.ReconfirmDays == 0 {
			return p.F("admin.whatif.due_no_reconfirm", args), nil
		}
		return p.F("admin.whatif.due", args), nil
	case policy.KeyNotifyUsersOnReset:
		if next.NotifyUsersOnReset {
			return p.T("admin.whatif.notify_users_on"), nil
		}
		return p.T("admin.whatif.notify_users_off"), nil
	case policy.KeyNotifyAdminsOnAdminReset:
		if next.NotifyAdminsOnAdminReset {
			return p.N("admin.whatif.notify_admins_on", after.admins, nil), nil
		}
		return p.T("admin.whatif.notify_admins_off"), nil
	case policy.KeyHelpdeskContact:
		if next.HelpdeskContact == "" {
			return p.T("admin.whatif.helpdesk_none"), nil
		}
		return p.F("admin.whatif.helpdesk", locale.Args{"Contact": next.HelpdeskContact}), nil
	case policy.KeyBannedWords:
		return p.N("admin.whatif.banned_words", len(next.BannedWords), nil), nil
	case policy.KeyAllowUnlock:
		if next.AllowUnlock {
			return p.T("admin.whatif.unlock_on"), nil
		}
		return p.T("admin.whatif.unlock_off"), nil
	case policy.KeyLockoutThreshold, policy.KeyLockoutDuration:
		return p.N("admin.whatif.lockout", next.LockoutThreshold,
			locale.Args{"Duration": lockoutWords(p, next.LockoutDuration)}), nil
	case policy.KeyPasswordMaxAgeDays:
		return s.maxAgeWhatIf(ctx, p, cur, next)
	case policy.KeyExpiryReminderDays:
		if len(next.ExpiryReminderDays) == 0 {
			return p.T("admin.whatif.reminders_none"), nil
		}
		days := make([]string, len(next.ExpiryReminderDays))
		for i, d := range next.ExpiryReminderDays {
			days[i] = n(d)
		}
		// The earliest reminder, first in the list, sets the plural form.
		return p.N("admin.whatif.reminders", next.ExpiryReminderDays[0],
			locale.Args{"Days": ListIn(p, days)}), nil
	}
	return p.T("admin.whatif.password_rules"), nil
}

// lockoutWords writes a lockout's length as it is set: whole hours, or
// else minutes ("90 minutes").
func lockoutWords(p *locale.Printer, d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return p.N("duration.hours", int(d/time.Hour), nil)
	}
	return p.N("duration.minutes", int(d/time.Minute), nil)
}

// maxAgeWhatIf says how many of sspr's own passwords a maximum age would
// expire at once, and how many it would bring within the reminder window.
func (s *Service) maxAgeWhatIf(ctx context.Context, p *locale.Printer, cur, next policy.Policy) (string, error) {
	if !s.builtin() {
		return p.T("admin.whatif.max_age_directory"), nil
	}
	counts := func(pol policy.Policy) (expired, soon int, err error) {
		now := s.now()
		_, err = s.scanExpiries(ctx, pol, func(a expiryAccount) error {
			left := a.expiry.ExpiresAt.Sub(now)
			switch {
			case left <= 0:
				expired++
			case left <= pol.ReminderWindow():
				soon++
			}
			return nil
		})
		return expired, soon, err
	}
	expired, soon, err := counts(next)
	if err != nil {
		return "", fmt.Errorf("what if: %w", err)
	}
	wasExpired, wasSoon, err := counts(cur)
	if err != nil {
		return "", fmt.Errorf("what if: %w", err)
	}
	if next.PasswordMaxAgeDays == 0 {
		return p.N("admin.whatif.max_age_never", wasExpired, nil), nil
	}
	return p.N("admin.whatif.max_age", expired, locale.Args{
		"Days": p.N("duration.days", next.PasswordMaxAgeDays, nil), "Soon": p.Number(soon),
		"BeforeExpired": p.Number(wasExpired), "BeforeSoon": p.Number(wasSoon)}), nil
}

// ListIn joins words for a sentence in p's language: "14, 7, 3 and 1".
func ListIn(p *locale.Printer, words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return p.F("admin.list.and", locale.Args{"First": strings.Join(words[:len(words)-1], p.T("admin.list.comma")),
		"Last": words[len(words)-1]})
}

// MethodList names methods for a sentence: "email, sms and authenticator".
func MethodList(ms []policy.Method) string { return MethodListIn(locale.Embedded().Source(), ms) }

// MethodListIn names methods for a sentence in p's language. The names are
// the policy's own, as an admin types them in the setting.
func MethodListIn(p *locale.Printer, ms []policy.Method) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = strings.ReplaceAll(string(m), "_", " ")
	}
	return ListIn(p, names)
}

// thousands writes n with comma separators: 1,204.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
