package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/hooks"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// ResetStart is what the method picker shows.
type ResetStart struct {
	FlowID   string
	Required int
	Options  []MethodOption
}

// StartReset begins a password reset for a username as typed. Unknown,
// disabled and unregistered names get a decoy flow that looks the same and
// can never succeed; nothing here says whether an account exists.
func (s *Service) StartReset(ctx context.Context, username, source string) (ResetStart, error) {
	return s.StartResetFrom(ctx, username, Origin{Source: source})
}

// StartResetFrom is StartReset for a person whose connection may prove a
// method by itself: an SSH connection verified with a key registered to
// the account offers "Your SSH key".
func (s *Service) StartResetFrom(ctx context.Context, username string, from Origin) (ResetStart, error) {
	return s.startFlow(ctx, flowReset, username, from)
}

// startFlow begins a reset or an unlock: the same look-up, decoy, blocks
// and methods, whichever it leads to.
func (s *Service) startFlow(ctx context.Context, kind flowKind, username string, from Origin) (ResetStart, error) {
	source := from.Source
	account := NormaliseUsername(username)
	if account == "" {
		return ResetStart{}, refuse(ErrInvalid, "refusal.username.enter", nil)
	}
	if len(account) > 256 {
		account = account[:256]
	}
	// The blocks and the policy in one statement, and with it, where the
	// account is sspr's own, the account and its methods read ahead: one
	// round trip, for a name that exists or not.
	now := s.now()
	if s.builtin() && ValidateUsername(account) == nil {
		ctx = store.ReadAhead(ctx, s.db, store.UserByNameRead(account), store.MethodsAndVoucherRead(account, now.Unix()))
	}
	values, blocked, err := store.PolicyValuesAndBlocked(ctx, s.db, now.Unix(), blockKeys(account, source)...)
	if err != nil {
		return ResetStart{}, fmt.Errorf("start: %w", err)
	}
	if err := s.whichBlock(ctx, account, source, now.Unix(), blocked); err != nil {
		return ResetStart{}, err
	}
	pol, err := usablePolicy(policy.FromValues(values))
	if err != nil {
		return ResetStart{}, err
	}
	f := newFlow(kind, account, source, now)
	f.key = from.Key
	if err := s.prepareFlow(ctx, f, pol, false); err != nil {
		return ResetStart{}, err
	}
	s.putFlow(f)
	return ResetStart{FlowID: f.id, Required: f.required, Options: f.options}, nil
}

// prepareFlow looks the account up and fills in the methods it may prove
// with, under pol, the policy in force.
func (s *Service) prepareFlow(ctx context.Context, f *flow, pol policy.Policy, adminOnly bool) error {
	f.required = pol.MethodsRequired
	// Every flow pays for the typical account's shape, so a decoy's look-up
	// costs what a real one does.
	s.shapeNow(ctx)
	u, dirKeys, err := s.lookUp(ctx, f.account)
	switch {
	case errors.Is(err, ErrUnknownUser):
		return s.makeDecoy(ctx, f, pol)
	case err != nil:
		return err
	}
	f.userID, f.isAdmin, f.dirKeys, f.language = u.ID, u.IsAdmin, dirKeys, u.Language
	if u.IsAdmin {
		f.required = AdminMethodsRequired
	}
	if adminOnly && !u.IsAdmin {
		return s.makeDecoy(ctx, f, pol)
	}
	if u.Disabled {
		f.deadEnd = ErrDisabled
	} else if enabled, err := s.enabledFor(ctx, pol, u); err != nil {
		return err
	} else if !enabled {
		f.deadEnd = ErrNotEnabled
	}
	methods, voucher, err := store.MethodsAndVoucher(ctx, s.db, u.Username, f.created.Unix())
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	nonQuestion := 0
	for _, kind := range policy.AllMethods() {
		if !s.usable(pol, kind, u.IsAdmin, f.kind) {
			continue
		}
		d := kind.Describe()
		if d.Issued {
			// Always offered, so its presence tells nothing; it counts only
			// when the helpdesk actually issued one.
			f.options = append(f.options, MethodOption{Method: kind, Label: kind.Label()})
			if voucher {
				nonQuestion++
			}
			continue
		}
		if d.ByConnection {
			// Offered only when this connection proves it: with a key of
			// the account's, registered in sspr or held by the directory.
			_, ok, err := s.connectionKey(ctx, s.db, f)
			if err != nil {
				return fmt.Errorf("start: %w", err)
			}
			if ok {
				f.options = append(f.options, MethodOption{Method: kind, Label: d.Label})
				if d.CountsAlone {
					nonQuestion++
				}
			}
			continue
		}
		for _, m := range methods {
			if m.Kind != string(kind) {
				continue
			}
			o := MethodOption{Method: kind, Label: d.Label}
			if d.SendsCode() {
				o.Destination, o.SendsCode = maskDestination(d.Channel, m.Destination), true
				f.destinations[kind] = m.Destination
			}
			if kind == policy.Questions {
				// Too few answers saved for what the policy asks is no way through.
				answers, err := store.Answers(ctx, s.db, u.ID)
				if err != nil {
					return fmt.Errorf("start: %w", err)
				}
				if len(answers) < pol.QuestionsToAnswer {
					continue
				}
			}
			if d.CountsAlone {
				nonQuestion++
			}
			f.options = append(f.options, o)
		}
	}
	// Without a registered method that could ever satisfy the policy, the
	// person walks the decoy path: the same screens, no way through.
	if nonQuestion == 0 || len(f.options) < f.required {
		f.userID, f.isAdmin, f.deadEnd, f.options = 0, false, nil, nil
		f.destinations = map[policy.Method]string{}
		return s.makeDecoy(ctx, f, pol)
	}
	return nil
}

// usable says whether a method may be used in this kind of flow.
func (s *Service) usable(pol policy.Policy, m policy.Method, isAdmin bool, kind flowKind) bool {
	d := m.Describe()
	if !pol.Usable(m, isAdmin) {
		return false
	}
	// The panel takes only an administrator's own sign-in methods.
	if kind == flowAdminSignIn && (d.Issued || d.Admin != policy.AdminAlways) {
		return false
	}
	// A code nobody can deliver is no way to prove anything.
	return !d.SendsCode() || s.canSend(m)
}

// canSend says whether codes of a sending method can be delivered: a
// channel for it is configured.
func (s *Service) canSend(m policy.Method) bool {
	ch := m.Describe().Channel
	return ch != policy.ChannelNone && s.dispatcher.HasChannel(string(ch))
}

// maskDestination hides most of an address or number of a channel.
func maskDestination(ch policy.Channel, dest string) string {
	if ch == policy.ChannelSMS {
		return MaskPhone(dest)
	}
	return MaskEmail(dest)
}

// Configured reports whether this server can offer method m at all: email
// and text codes need their delivery channel configured (smtp, sms); the
// other methods need nothing. Policy may allow a method that is not
// configured, and then nobody is offered it, which the admin should see.
func (s *Service) Configured(m policy.Method) bool {
	return !m.Describe().SendsCode() || s.canSend(m)
}

// localUser finds the person in the directory and sspr's own record of them.
func (s *Service) localUser(ctx context.Context, account string) (store.User, error) {
	u, _, err := s.lookUp(ctx, account)
	return u, err
}

// lookUp is localUser with the SSH keys the directory holds for the person
// (none from the built-in directory), read in the same look-up.
func (s *Service) lookUp(ctx context.Context, account string) (store.User, []string, error) {
	if ValidateUsername(account) != nil {
		return store.User{}, nil, ErrUnknownUser
	}
	if s.builtin() {
		// The built-in directory is sspr's own record: one look-up is both.
		u, err := store.UserByName(ctx, s.db, account)
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, nil, ErrUnknownUser
		}
		if err != nil {
			return store.User{}, nil, fmt.Errorf("look up user: %w", err)
		}
		return u, nil, nil
	}
	du, err := s.dir.Lookup(ctx, account)
	if err != nil {
		return store.User{}, nil, err
	}
	u, err := store.UserByName(ctx, s.db, du.Username)
	if errors.Is(err, store.ErrNotFound) {
		// A directory user sspr has not seen yet: keep a local record for
		// registrations, without a password (the directory holds it).
		now := s.now().Unix()
		u = store.User{Username: du.Username, DisplayName: du.DisplayName, Email: du.Email, Phone: du.Phone,
			Disabled: du.Disabled, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateUser(ctx, s.db, &u); err != nil && !errors.Is(err, store.ErrDuplicate) {
			return store.User{}, nil, fmt.Errorf("look up user: %w", err)
		}
		u, err = store.UserByName(ctx, s.db, du.Username)
		return u, du.SSHKeys, err
	}
	if err != nil {
		return store.User{}, nil, fmt.Errorf("look up user: %w", err)
	}
	if du.Disabled {
		u.Disabled = true
	}
	return u, du.SSHKeys, nil
}

// enabledFor applies the policy's scope to a user. Administrators are always
// enabled, under their own fixed policy.
func (s *Service) enabledFor(ctx context.Context, pol policy.Policy, u store.User) (bool, error) {
	if u.IsAdmin {
		return true, nil
	}
	switch pol.EnabledFor {
	case policy.ScopeAll:
		return true, nil
	case policy.ScopeGroup:
		ok, err := s.dir.IsMember(ctx, u.Username, pol.EnabledGroup)
		if err != nil {
			return false, fmt.Errorf("check scope: %w", err)
		}
		return ok, nil
	}
	return false, nil
}

// subjectOf returns who a live flow id or session id is about.
func (s *Service) subjectOf(id string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if f, ok := s.flows.get(id, now); ok {
		return f.account, f.displayName, nil
	}
	if ses, ok := s.sessions.get(id, now); ok {
		return ses.username, ses.displayName, nil
	}
	return "", "", ErrFlowExpired
}

// CompleteReset sets the new password once the flow has proven enough. The
// password, its history, the consumption of every proof, the unblock and the
// audit row are one transaction: a crash leaves the old password or the new
// one, and each proof is used exactly once. An error wrapping
// ErrNotFollowed means the password was set but the organisation's changed
// program failed (hooks.on_failure: report): the flow is over all the same.
func (s *Service) CompleteReset(ctx context.Context, flowID, newPassword string) error {
	f, proven, err := s.provenFlow(flowID, flowReset)
	if err != nil {
		return err
	}
	// The user, the policy and the password history in one round trip.
	u, values, history, err := store.UserPolicyHistory(ctx, s.db, f.userID, policy.MaxPasswordHistory)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	pol, err := usablePolicy(policy.FromValues(values))
	if err != nil {
		return err
	}
	n := min(len(history), pol.PasswordHistory)
	err = s.writePassword(ctx, u, pol, history[:n:n], newPassword, "", proven,
		f.source, audit.EventPasswordReset)
	if err != nil && !errors.Is(err, ErrNotFollowed) {
		return err
	}
	s.dropFlow(flowID)
	return err
}

// CompleteResetSignedIn sets the new password as CompleteReset does and,
// when the person's security info falls short, signs them in to set it up:
// they have just proven who they are, often with a helpdesk voucher because
// they had nothing registered. The session cannot change the password
// again. SessionInfo.RegistrationDue says whether policy requires the
// registration; an empty ID means nothing falls short. As with
// CompleteReset, an error wrapping ErrNotFollowed comes with a password
// that was set (and the session, if any).
func (s *Service) CompleteResetSignedIn(ctx context.Context, flowID, newPassword string) (SessionInfo, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return SessionInfo{}, err
	}
	notFollowed := s.CompleteReset(ctx, flowID, newPassword)
	if notFollowed != nil && !errors.Is(notFollowed, ErrNotFollowed) {
		return SessionInfo{}, notFollowed
	}
	u, err := store.UserByID(ctx, s.db, f.userID)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("reset: %w", err)
	}
	st, err := s.registrationState(ctx, u)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("reset: %w", err)
	}
	if !st.due && st.canReset {
		return SessionInfo{}, notFollowed
	}
	ses := &session{id: secret.Token(), userID: u.ID, username: u.Username, displayName: u.DisplayName, language: u.Language,
		source: f.source, created: s.now(), pendingCode: map[policy.Method]pendingContact{}}
	s.putSession(ses)
	info, err := s.sessionInfo(ctx, ses)
	if err != nil {
		return SessionInfo{}, err
	}
	return info, notFollowed
}

// setPassword applies the rules and writes the new password, consuming the
// given proofs, in one transaction.
func (s *Service) setPassword(ctx context.Context, u store.User, newPassword, oldPassword string,
	proofs map[policy.Method]string, source string, event audit.Event) error {
	pol, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	var history []string
	if pol.PasswordHistory > 0 {
		if history, err = store.PasswordHistory(ctx, s.db, u.ID, pol.PasswordHistory); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
	}
	return s.writePassword(ctx, u, pol, history, newPassword, oldPassword, proofs, source, event)
}

// writePassword is setPassword with the policy and the user's newest
// pol.PasswordHistory history hashes already read.
func (s *Service) writePassword(ctx context.Context, u store.User, pol policy.Policy, history []string,
	newPassword, oldPassword string, proofs map[policy.Method]string, source string, event audit.Event) error {
	ev := s.rulesFor(pol, u.Username, u.DisplayName).Evaluate(newPassword)
	if !ev.OK {
		return &RejectedError{Evaluation: ev}
	}
	if pol.PasswordHistory > 0 {
		if u.PasswordHash != "" && !contains(history, u.PasswordHash) {
			history = append(history, u.PasswordHash)
		}
		reused, err := s.hasher.InHistory(ctx, newPassword, history)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if reused {
			ev = s.markHistory(ev, pol)
			return &RejectedError{Evaluation: ev}
		}
	}
	kind := hooks.KindChange
	if event == audit.EventPasswordReset {
		kind = hooks.KindReset
	}
	hookIn := hooks.Input{Username: u.Username, Password: newPassword, Kind: kind}
	if err := s.hooks.Check(ctx, hookIn); err != nil {
		var refused *hooks.RefusedError
		if errors.As(err, &refused) {
			return &HookRefusedError{Message: refused.Message}
		}
		s.faults.Report("password check", err)
		return fmt.Errorf("set password: %w", ErrCheckUnavailable)
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	now := s.now()
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		// The contacts to tell go with the first statement: nothing in
		// the transaction changes them.
		used, err := s.consumeProofs(store.ReadAhead(ctx, tx, store.MethodsOfRead(u.ID)), tx, proofs)
		if err != nil {
			return err
		}
		if err := s.dir.SetPassword(ctx, Tx{tx: tx}, u.Username, PasswordChange{Old: oldPassword, New: newPassword, Hash: hash}); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		keep := pol.PasswordHistory
		if keep < 1 {
			keep = 1
		}
		if err := store.AddPasswordHistory(ctx, tx, u.ID, hash, now.Unix(), keep); err != nil {
			return err
		}
		if err := s.clearAccount(ctx, tx, u.Username); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		// A new password ends a lockout of sspr's own (a directory ends
		// its own in SetPassword).
		unlocked := false
		if s.keepsPasswords() {
			// The last statement before the audit rows that needs an
			// answer: the chain's head goes with it.
			var err error
			if unlocked, err = store.ClearLockout(store.ReadAhead(ctx, tx, store.AuditHeadRead()), tx, u.ID, now.Unix()); err != nil {
				return fmt.Errorf("set password: %w", err)
			}
		}
		methods := make([]string, 0, len(proofs))
		for m := range proofs {
			methods = append(methods, string(m))
		}
		var details []string
		if len(methods) > 0 {
			details = append(details, "methods: "+strings.Join(sortedStrings(methods), ","))
		}
		if unlocked {
			details = append(details, "account unlocked")
		}
		detail := strings.Join(details, "; ")
		// The audit rows last: appending holds the chain's head, which
		// every replica's transactions wait for.
		for _, e := range append(used, audit.Entry{Event: event, Actor: u.Username, Target: u.Username,
			Source: source, Detail: detail}) {
			if err := s.record(ctx, tx, e); err != nil {
				return err
			}
		}
		// Where no lockout was cleared, the head goes with the first
		// statement of the notifications that needs an answer, if any.
		return s.notifyPasswordSet(store.ReadAhead(ctx, tx, store.AuditHeadRead()), tx, pol, u, source, now, event)
	})
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return s.passwordChangedHook(ctx, hookIn, source)
}

// passwordChangedHook tells the organisation's program of a password that
// was set. Its failure is logged; with hooks.on_failure report it is also
// audited and returned as ErrNotFollowed, so the person hears of it.
func (s *Service) passwordChangedHook(ctx context.Context, in hooks.Input, source string) error {
	err := s.hooks.Changed(ctx, in)
	if err == nil {
		return nil
	}
	s.faults.Report("password changed hook", err)
	if !s.hookReport {
		return nil
	}
	// The failure is audited and the admins told in one transaction: the
	// password is set whatever becomes of this.
	rctx := context.WithoutCancel(ctx)
	if aerr := s.db.WithTx(rctx, func(tx *store.Tx) error {
		if err := s.record(rctx, tx, audit.Entry{Event: audit.EventHookFailed, Actor: "system", Target: in.Username,
			Source: source, Outcome: audit.OutcomeFailed, Detail: err.Error()}); err != nil {
			return err
		}
		return s.emailAdmins(rctx, tx, 0, "hook_failed", map[string]any{"User": in.Username,
			"Time": s.now(), "Source": source, "Reason": err.Error()})
	}); aerr != nil {
		s.faults.Report("password changed hook", aerr)
	}
	return fmt.Errorf("set password: %w", ErrNotFollowed)
}

// consumeProofs marks every proof used, inside the transaction of what they
// prove, and returns the audit entries that says so, which the caller
// records last. The rows are taken in one order (by method), and the audit
// chain's head after every other row, so that two replicas consuming the
// same voucher and recovery code at once queue one behind the other instead
// of each holding what the other waits for.
func (s *Service) consumeProofs(ctx context.Context, tx *store.Tx, proofs map[policy.Method]string) ([]audit.Entry, error) {
	methods := make([]policy.Method, 0, len(proofs))
	for m := range proofs {
		methods = append(methods, m)
	}
	slices.Sort(methods)
	var entries []audit.Entry
	for _, m := range methods {
		e, err := s.consumeProof(ctx, tx, m, proofs[m])
		if err != nil {
			return nil, err
		}
		if e != nil {
			entries = append(entries, *e)
		}
	}
	return entries, nil
}

// consumeProof marks one proof used and returns the audit entry its use
// needs, if any.
func (s *Service) consumeProof(ctx context.Context, tx *store.Tx, m policy.Method, challengeID string) (*audit.Entry, error) {
	now := s.now().Unix()
	userID, refID, err := store.ConsumeChallengeRef(ctx, tx, challengeID, now)
	if errors.Is(err, store.ErrConflict) {
		// Only now is it worth a look to tell a challenge that is gone
		// from one that was used or voided.
		if _, err := store.ChallengeByID(ctx, tx, challengeID); err != nil {
			return nil, fmt.Errorf("consume proof: %w", err)
		}
		return nil, fmt.Errorf("consume proof: %w", ErrChallengeVoid)
	}
	if err != nil {
		return nil, fmt.Errorf("consume proof: %w", err)
	}
	switch m {
	case policy.RecoveryCodes:
		if err := store.UseRecoveryCode(ctx, tx, refID, now); err != nil {
			return nil, fmt.Errorf("consume proof: %w", usedOr(err))
		}
	case policy.Voucher:
		if err := store.UseVoucher(ctx, tx, refID, now); err != nil {
			return nil, fmt.Errorf("consume proof: %w", usedOr(err))
		}
		u, err := store.UserByID(ctx, tx, userID)
		if err != nil {
			return nil, fmt.Errorf("consume proof: %w", err)
		}
		return &audit.Entry{Event: audit.EventVoucherUsed, Actor: u.Username, Target: u.Username}, nil
	}
	return nil, nil
}

// usedOr is ErrChallengeVoid for a proof someone used first (the store's
// ErrConflict), and err itself otherwise: a database that failed did not
// use anyone's code, and the person is told what did happen.
func usedOr(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return ErrChallengeVoid
	}
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// expired reports whether a challenge's time is up at now.
func expired(expiresAt int64, now time.Time) bool { return now.Unix() >= expiresAt }
