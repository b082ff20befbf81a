package flows

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// Evaluation is the per-rule result of checking a new password.
type Evaluation = password.Evaluation

// SessionLifetime bounds a signed-in session; the TUI's idle timeouts are shorter.
const SessionLifetime = 30 * time.Minute

// session is a signed-in person, held in memory; callers hold its id.
type session struct {
	id          string
	userID      int64
	username    string
	displayName string
	// language is the person's preferred language, for the codes sent
	// while they register; SetLanguage changes it.
	language string
	source   string
	isAdmin  bool // signed in through the admin sign-in with two methods
	created  time.Time
	// pending registration state
	pendingCode   map[policy.Method]pendingContact
	pendingTOTP   string
	currentPasswd bool // signed in with the current password (change allowed)
	// dirExpiry is the directory's expiry of the password, read at sign-in
	// (a directory is not asked again at every look at the session).
	dirExpiry PasswordExpiry
}

type pendingContact struct {
	challengeID string
	destination string
	sentAt      time.Time
}

// SessionInfo describes a signed-in person to the screens.
type SessionInfo struct {
	ID          string
	Username    string
	DisplayName string
	IsAdmin     bool
	// MustChange is set for a temporary password that must be changed first.
	MustChange bool
	// RegistrationDue is set when policy makes the person register or
	// re-confirm their security info now.
	RegistrationDue bool
	// DueReason says why; the screens word it in the person's language.
	DueReason DueReason
	// Required is how many ways to prove who they are policy asks of this
	// person, which the reason's sentence names.
	Required int
	// PasswordExpiresAt is when the password expires; zero when it never
	// does or the directory does not say.
	PasswordExpiresAt time.Time
	// PasswordExpired is set for a password in sspr's own store past
	// password_max_age_days: it must be changed first, like a temporary one.
	// (A directory refuses an expired password at sign-in.)
	PasswordExpired bool
	// ExpirySoon is set within the reminder window (the longest of
	// expiry_reminder_days), when the screens offer a change.
	ExpirySoon bool
	// Language is the person's stored preferred language (a catalogue
	// code; empty when they chose none): the screens speak it for the
	// rest of the visit.
	Language string
}

// SignIn checks a username and current password, for "change password" and
// "security info". A wrong password counts as a failed proof.
func (s *Service) SignIn(ctx context.Context, username, pw, source string) (SessionInfo, error) {
	account := NormaliseUsername(username)
	if account == "" || pw == "" {
		return SessionInfo{}, refuse(ErrInvalid, "refusal.sign_in.enter", nil)
	}
	if len(pw) > 4*MaxPasswordLength {
		return SessionInfo{}, ErrBadCredentials
	}
	if err := s.admitProof(ctx, account, source, false); err != nil {
		return SessionInfo{}, err
	}
	ok, wrong, err := s.checkPassword(ctx, account, pw)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("sign in: %w", err)
	}
	if !ok {
		return SessionInfo{}, s.failSignIn(ctx, account, source, audit.EventSignInFailed, wrong)
	}
	u, err := s.localUser(ctx, account)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("sign in: %w", err)
	}
	if u.Disabled {
		return SessionInfo{}, ErrDisabled
	}
	ses := &session{id: secret.Token(), userID: u.ID, username: u.Username, displayName: u.DisplayName, language: u.Language,
		source: source, created: s.now(), pendingCode: map[policy.Method]pendingContact{}, currentPasswd: true}
	if !s.builtin() {
		ses.dirExpiry = s.directoryExpiry(ctx, u.Username)
	}
	s.putSession(ses)
	if err := s.recordAlone(ctx, audit.Entry{Event: audit.EventSignIn, Actor: u.Username, Target: u.Username, Source: source}); err != nil {
		return SessionInfo{}, err
	}
	return s.sessionInfo(ctx, ses)
}

// failSignIn counts a failed sign-in against the account and the source,
// and a wrong password (when given) towards the account's lockout, in one
// transaction with its audit row.
func (s *Service) failSignIn(ctx context.Context, account, source string, event audit.Event, wrong *wrongPassword) error {
	pol, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		entries, err := s.recordFailure(ctx, tx, account, source)
		if err != nil {
			return err
		}
		if wrong != nil {
			locked, err := s.countWrongPassword(ctx, tx, pol, wrong, account, source)
			if err != nil {
				return err
			}
			entries = append(entries, locked...)
		}
		// The audit rows after every other row (see recordFailure).
		return s.recordAll(ctx, tx, append(entries,
			audit.Entry{Event: event, Actor: account, Target: account, Source: source, Outcome: "failed"})...)
	})
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	return ErrBadCredentials
}

// newSessions makes the table of signed-in sessions, each kept for
// SessionLifetime.
func newSessions() *expiringMap[*session] {
	return newExpiringMap(SessionLifetime, func(ses *session) time.Time { return ses.created })
}

func (s *Service) putSession(ses *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions.put(ses.id, ses, s.now())
}

func (s *Service) getSession(id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ses, ok := s.sessions.get(id, s.now())
	if !ok {
		return nil, ErrFlowExpired
	}
	return ses, nil
}

// SignOut forgets a session.
func (s *Service) SignOut(sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions.drop(sessionID)
}

// Session returns the current state of a session.
func (s *Service) Session(ctx context.Context, sessionID string) (SessionInfo, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return SessionInfo{}, err
	}
	return s.sessionInfo(ctx, ses)
}

func (s *Service) sessionInfo(ctx context.Context, ses *session) (SessionInfo, error) {
	u, err := store.UserByID(ctx, s.db, ses.userID)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("session: %w", err)
	}
	info := SessionInfo{ID: ses.id, Username: u.Username, DisplayName: u.DisplayName, IsAdmin: ses.isAdmin,
		MustChange: u.MustChange, Language: u.Language}
	st, err := s.registrationState(ctx, u)
	if err != nil {
		return SessionInfo{}, err
	}
	info.RegistrationDue, info.DueReason, info.Required = st.due, st.reason, st.required
	pol, err := s.Policy(ctx)
	if err != nil {
		return SessionInfo{}, err
	}
	s.mu.Lock()
	ex := ses.dirExpiry
	s.mu.Unlock()
	if s.builtin() {
		ex = localExpiry(pol, u.PasswordHash != "", u.PasswordChangedAt, u.CreatedAt)
	}
	if ex.Expires() {
		now := s.now()
		info.PasswordExpiresAt = ex.ExpiresAt
		info.PasswordExpired = s.builtin() && !now.Before(ex.ExpiresAt)
		info.ExpirySoon = !info.PasswordExpired && ex.ExpiresAt.Sub(now) <= pol.ReminderWindow()
	}
	return info, nil
}

// directoryExpiry reads the directory's expiry of a password for a session.
// It only informs (a reminder on screen), so a directory that cannot say
// gives no expiry instead of refusing the sign-in.
func (s *Service) directoryExpiry(ctx context.Context, username string) PasswordExpiry {
	r, ok := s.dir.(ExpiryReader)
	if !ok {
		return PasswordExpiry{}
	}
	ex, err := r.PasswordExpiry(ctx, username)
	if err != nil {
		return PasswordExpiry{}
	}
	return ex
}

// DueReason is why a person must register or re-confirm their security
// info now. It is a fact, not a sentence: the screens write it in the
// person's language, and the audit log keeps its name.
type DueReason int

const (
	// NotDue is the reason of a person with nothing due.
	NotDue DueReason = iota
	// DueTooFew: fewer ways to prove who they are than policy requires.
	DueTooFew
	// DueReregister: the helpdesk asked for registration anew, and what
	// was registered was removed.
	DueReregister
	// DueReconfirm: the time has come to confirm the info is still right.
	DueReconfirm
)

// String names the reason for logs and the audit trail.
func (r DueReason) String() string {
	switch r {
	case DueTooFew:
		return "too few methods registered"
	case DueReregister:
		return "re-registration requested"
	case DueReconfirm:
		return "re-confirmation due"
	}
	return "nothing due"
}

type regState struct {
	due        bool
	reason     DueReason
	required   int
	canReset   bool
	usable     int
	registered []string
}

// registrationState applies the policy to a user's registrations: whether they
// could reset today, and whether they must register or re-confirm now.
func (s *Service) registrationState(ctx context.Context, u store.User) (regState, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return regState{}, err
	}
	methods, err := store.MethodsOf(ctx, s.db, u.ID)
	if err != nil {
		return regState{}, fmt.Errorf("registration state: %w", err)
	}
	enabled, err := s.enabledFor(ctx, pol, u)
	if err != nil {
		return regState{}, err
	}
	st := evaluateRegistration(pol, u, methodKinds(methods), enabled, s.canSend, s.now())
	return st, nil
}

// evaluateRegistration is the pure rule behind registrationState, shared with
// the registrations report.
func evaluateRegistration(pol policy.Policy, u store.User, kinds []string, enabled bool, canSend func(policy.Method) bool,
	now time.Time) regState {
	required := pol.MethodsRequired
	if u.IsAdmin {
		required = AdminMethodsRequired
	}
	st := regState{registered: kinds, required: required}
	nonQuestion := 0
	for _, k := range kinds {
		m := policy.Method(k)
		d := m.Describe()
		if !pol.Usable(m, u.IsAdmin) {
			continue
		}
		// An administrator's two are sign-in methods: a method that cannot
		// sign in to the panel is never one of them.
		if u.IsAdmin && d.Admin != policy.AdminAlways {
			continue
		}
		// A code nobody can deliver proves nothing (as in Service.usable).
		if d.SendsCode() && !canSend(m) {
			continue
		}
		st.usable++
		if d.CountsAlone {
			nonQuestion++
		}
	}
	st.canReset = enabled && !u.Disabled && st.usable >= required && nonQuestion >= 1
	if !enabled || !pol.RequireRegistration && !u.ReregisterRequired {
		return st
	}
	switch {
	case u.ReregisterRequired:
		// RequireReregistration removed what was registered; the flag
		// stays until what is registered anew meets the policy.
		st.due, st.reason = true, DueReregister
	case st.usable < required || nonQuestion == 0:
		st.due, st.reason = true, DueTooFew
	case pol.ReconfirmDays > 0 && now.Sub(time.Unix(u.LastConfirmedAt, 0)) > time.Duration(pol.ReconfirmDays)*24*time.Hour:
		st.due, st.reason = true, DueReconfirm
	}
	return st
}

// ChangePassword sets a new password for a person signed in with the current one.
func (s *Service) ChangePassword(ctx context.Context, sessionID, oldPassword, newPassword string) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	if !ses.currentPasswd {
		return ErrNotProven
	}
	u, err := store.UserByID(ctx, s.db, ses.userID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.setPassword(ctx, u, newPassword, oldPassword, nil, ses.source, audit.EventPasswordChanged); err != nil {
		return err
	}
	s.mu.Lock()
	ses.dirExpiry = PasswordExpiry{}
	s.mu.Unlock()
	return nil
}

// markHistory adds an unmet history rule to an evaluation.
func (s *Service) markHistory(ev Evaluation, pol policy.Policy) Evaluation {
	ev.Results = append(ev.Results, password.NotRecentResult(pol.PasswordHistory, true))
	ev.OK = false
	return ev
}

// notifyPasswordSet queues the notifications policy asks for, in tx.
func (s *Service) notifyPasswordSet(ctx context.Context, tx *store.Tx, pol policy.Policy, u store.User, source string,
	at time.Time, event audit.Event) error {
	when := at
	return s.notifyAccount(ctx, tx, pol, u, "reset",
		map[string]any{"DisplayName": u.DisplayName, "Time": when, "Source": source, "Helpdesk": pol.HelpdeskContact,
			"Changed": event == audit.EventPasswordChanged},
		map[string]any{"Admin": u.Username, "Time": when, "Source": source})
}

// notifyAccount queues, in tx, what policy asks for after a change to an
// account: the message template to the person (NotifyUsersOnReset) and,
// for an administrator's account, admin_reset to the other administrators
// (NotifyAdminsOnAdminReset), each filled with its data.
func (s *Service) notifyAccount(ctx context.Context, tx *store.Tx, pol policy.Policy, u store.User, template string,
	data, adminData map[string]any) error {
	if pol.NotifyUsersOnReset {
		for _, to := range s.contactsOf(ctx, tx, u) {
			msg, err := s.render(u.Language, template, data)
			if err != nil {
				return fmt.Errorf("notify: %w", err)
			}
			msg.Kind, msg.Channel, msg.To = dispatch.KindNotification, to[0], to[1]
			if err := s.dispatcher.Notify(ctx, tx, msg); err != nil {
				return fmt.Errorf("notify: %w", err)
			}
		}
	}
	if u.IsAdmin && pol.NotifyAdminsOnAdminReset {
		return s.emailAdmins(ctx, tx, u.ID, "admin_reset", adminData)
	}
	return nil
}

// emailAdmins queues the message template name, filled with data, to the
// email of every enabled administrator but the one with id except, in h.
func (s *Service) emailAdmins(ctx context.Context, h store.Handler, except int64, name string, data map[string]any) error {
	admins, err := store.ListUsers(ctx, h, store.UserFilter{AdminsOnly: true})
	if err != nil {
		return fmt.Errorf("notify admins: %w", err)
	}
	for _, a := range admins {
		if a.ID == except || a.Disabled {
			continue
		}
		for _, to := range s.contactsOf(ctx, h, a) {
			if to[0] != "email" {
				continue
			}
			msg, err := s.render(a.Language, name, data)
			if err != nil {
				return fmt.Errorf("notify admins: %w", err)
			}
			msg.Kind, msg.Channel, msg.To = dispatch.KindNotification, "email", to[1]
			if err := s.dispatcher.Notify(ctx, h, msg); err != nil {
				return fmt.Errorf("notify admins: %w", err)
			}
		}
	}
	return nil
}

// contactsOf lists where a person gets notifications: verified email first,
// then the directory's email; a verified phone as well.
func (s *Service) contactsOf(ctx context.Context, h store.Handler, u store.User) [][2]string {
	methods, _ := store.MethodsOf(ctx, h, u.ID)
	kinds := make([][2]string, len(methods))
	for i, m := range methods {
		kinds[i] = [2]string{m.Kind, m.Destination}
	}
	return contactsFrom(kinds, u.Email)
}

// contactsFrom is the rule of contactsOf over registered methods given as
// kind and destination, and the directory's email.
func contactsFrom(methods [][2]string, email string) [][2]string {
	var out [][2]string
	haveEmail := false
	for _, m := range methods {
		if ch := policy.Method(m[0]).Describe().Channel; ch != policy.ChannelNone {
			out = append(out, [2]string{string(ch), m[1]})
			haveEmail = haveEmail || ch == policy.ChannelEmail
		}
	}
	if !haveEmail && email != "" {
		out = append(out, [2]string{"email", email})
	}
	return out
}

// NormaliseAnswer folds a security answer so that case, Unicode forms and
// spacing do not matter: NFKC, case-folded, spaces collapsed.
func NormaliseAnswer(s string) string {
	s = norm.NFKC.String(s)
	s = cases.Fold().String(s)
	return strings.Join(strings.Fields(s), " ")
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
