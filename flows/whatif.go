package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	return fmt.Errorf("group %q does not exist: %w", name, ErrInvalid)
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

// PolicyWhatIf says in one line what setting key to value would mean for the
// users in the store today, before it is saved: for example "with 2 methods
// required, 1,204 of 5,310 enabled users could not reset today (now 310)".
// A value SetPolicy would refuse gives its error instead, and nothing is saved
// either way.
func (s *Service) PolicyWhatIf(ctx context.Context, key, value string) (string, error) {
	cur, next, err := s.candidate(ctx, s.db, key, value)
	if err != nil {
		return "", fmt.Errorf("what if: %w", err)
	}
	if cur.Get(key) == next.Get(key) {
		return "no change: that is the value in force", nil
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
	cannot := func(o outcome) int { return o.enabled - o.canReset }
	switch key {
	case policy.KeyEnabledFor, policy.KeyEnabledGroup:
		if key == policy.KeyEnabledGroup && next.EnabledFor != policy.ScopeGroup {
			if next.EnabledGroup == "" {
				return "no group: SSPR is enabled for " + string(next.EnabledFor), nil
			}
			trial := next
			trial.EnabledFor = policy.ScopeGroup
			o, err := s.outcomeOf(ctx, pop, trial)
			if err != nil {
				return "", fmt.Errorf("what if: %w", err)
			}
			return fmt.Sprintf("group %s has %s; it applies only once SSPR is enabled for a group (now %s)",
				next.EnabledGroup, count(o.members, "member"), next.EnabledFor), nil
		}
		switch next.EnabledFor {
		case policy.ScopeNone:
			return fmt.Sprintf("with SSPR enabled for none, only administrators stay enabled: %s of %s users could reset today (now %s)",
				thousands(after.canReset), thousands(after.users), thousands(before.canReset)), nil
		case policy.ScopeGroup:
			return fmt.Sprintf("group %s has %s; %s of %s enabled users (members and administrators) could reset today (now %s of %s)",
				next.EnabledGroup, count(after.members, "member"), thousands(after.canReset), thousands(after.enabled),
				thousands(before.canReset), thousands(before.enabled)), nil
		}
		return fmt.Sprintf("with SSPR enabled for all, %s of %s users could reset today (now %s of %s enabled)",
			thousands(after.canReset), thousands(after.enabled), thousands(before.canReset), thousands(before.enabled)), nil
	case policy.KeyMethodsRequired:
		return fmt.Sprintf("with %s required, %s of %s enabled users could not reset today (now %s)",
			count(next.MethodsRequired, "method"), thousands(cannot(after)), thousands(after.enabled), thousands(cannot(before))), nil
	case policy.KeyMethodsAllowed:
		line := fmt.Sprintf("with %s allowed, %s of %s enabled users could not reset today (now %s)",
			MethodList(next.MethodsAllowed), thousands(cannot(after)), thousands(after.enabled), thousands(cannot(before)))
		switch {
		case next.Allows(policy.Questions) && !cur.Allows(policy.Questions):
			line += "; security questions allowed: they never count alone"
		case !next.Allows(policy.Questions) && cur.Allows(policy.Questions):
			line += fmt.Sprintf("; the security questions of %s would no longer count", count(before.perKind[policy.Questions], "user"))
		}
		return line, nil
	case policy.KeyQuestionsToRegister, policy.KeyQuestionsToAnswer:
		line := fmt.Sprintf("people register %d security questions and answer %d at a reset; %s registered questions already",
			next.QuestionsToRegister, next.QuestionsToAnswer, count(after.perKind[policy.Questions], "enabled user"))
		if !next.Allows(policy.Questions) {
			line += "; questions are not allowed now, so this takes effect only once they are"
		}
		return line, nil
	case policy.KeyRequireRegistration, policy.KeyReconfirmDays:
		line := fmt.Sprintf("%s of %s enabled users would be asked to register or re-confirm at their next sign-in (now %s)",
			thousands(after.due), thousands(after.enabled), thousands(before.due))
		if key == policy.KeyReconfirmDays && next.ReconfirmDays == 0 {
			line = "nobody is asked to re-confirm; " + line
		}
		return line, nil
	case policy.KeyNotifyUsersOnReset:
		if next.NotifyUsersOnReset {
			return "users will be told by email or text message when their password is reset or changed", nil
		}
		return "users will not be told when their password is reset: a reset by someone else would go unnoticed", nil
	case policy.KeyNotifyAdminsOnAdminReset:
		if next.NotifyAdminsOnAdminReset {
			return fmt.Sprintf("the other administrators (%s in all) will be emailed when an administrator's password is reset",
				count(after.admins, "administrator")), nil
		}
		return "administrators will not be told when an administrator's password is reset", nil
	case policy.KeyHelpdeskContact:
		if next.HelpdeskContact == "" {
			return `people at a dead end will see "Please contact your helpdesk." with no contact`, nil
		}
		return fmt.Sprintf(`people at a dead end will see "Please contact your helpdesk: %s"`, next.HelpdeskContact), nil
	case policy.KeyBannedWords:
		return fmt.Sprintf("%s will be refused in new passwords; current passwords stay valid until next changed",
			count(len(next.BannedWords), "banned word")), nil
	case policy.KeyAllowUnlock:
		if next.AllowUnlock {
			return "people locked out can unlock their account with the proofs of a reset, keeping their password", nil
		}
		return "a locked account waits for its lockout to end, a password reset or an administrator", nil
	case policy.KeyLockoutThreshold, policy.KeyLockoutDuration:
		return fmt.Sprintf("accounts whose password sspr keeps lock for %s after %s; the directory's own lockout "+
			"applies to directory accounts", durationWords(next.LockoutDuration),
			count(next.LockoutThreshold, "different wrong password")), nil
	}
	return "applies to passwords set from now on; current passwords stay valid until they are next changed", nil
}

// MethodList names methods for a sentence: "email, sms and authenticator".
func MethodList(ms []policy.Method) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = strings.ReplaceAll(string(m), "_", " ")
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// count writes "1 member" or "1,204 members".
func count(n int, noun string) string { return Count(n, noun, noun+"s") }

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
