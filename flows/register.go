package flows

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// MethodStatus is one line of the security-info overview.
type MethodStatus struct {
	Method policy.Method
	Label  string
	// Allowed is whether policy lets this person use the method.
	Allowed bool
	// Registered is whether the person has it.
	Registered bool
	// Destination is the address or number codes go to, for a method
	// that sends them.
	Destination string
	// Count and Of count what a method holds, for the screens to word:
	// recovery codes still unused of those issued, SSH keys registered of
	// the most a person may have. Both are zero for other methods.
	Count, Of int
	// ConfirmedAt is when the person last confirmed it.
	ConfirmedAt time.Time
}

// Overview is the security-info screen: each method and what is still needed.
type Overview struct {
	Methods  []MethodStatus
	Required int
	// CanReset is true when the registrations satisfy the policy.
	CanReset bool
	// Due and DueReason say whether registration or re-confirmation is needed now.
	Due       bool
	DueReason DueReason
	// CanConfirm says whether confirming the info as it is meets what is
	// due: a re-confirmation, never a re-registration an admin asked for.
	CanConfirm bool
	// SuggestedEmail and SuggestedPhone come from the directory, to pre-fill
	// forms; they count only once verified by a code.
	SuggestedEmail string
	SuggestedPhone string
	// QuestionsToRegister is how many security questions to register.
	QuestionsToRegister int
	// Language is the person's stored preferred language (a catalogue
	// code); empty means the organisation's default.
	Language string
}

// Overview lists a signed-in person's methods and what policy asks of them.
func (s *Service) Overview(ctx context.Context, sessionID string) (Overview, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return Overview{}, err
	}
	u, err := store.UserByID(ctx, s.db, ses.userID)
	if err != nil {
		return Overview{}, fmt.Errorf("overview: %w", err)
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return Overview{}, err
	}
	methods, err := store.MethodsOf(ctx, s.db, u.ID)
	if err != nil {
		return Overview{}, fmt.Errorf("overview: %w", err)
	}
	st, err := s.registrationState(ctx, u)
	if err != nil {
		return Overview{}, err
	}
	ov := Overview{Required: pol.MethodsRequired, CanReset: st.canReset, Due: st.due, DueReason: st.reason, Language: u.Language,
		SuggestedEmail: u.Email, SuggestedPhone: u.Phone, QuestionsToRegister: pol.QuestionsToRegister}
	if u.IsAdmin {
		ov.Required = AdminMethodsRequired
	}
	ov.CanConfirm = st.due && st.canReset && !u.ReregisterRequired
	for _, kind := range policy.AllMethods() {
		if kind.Describe().Issued {
			continue // issued by the helpdesk, not registered
		}
		ms := MethodStatus{Method: kind, Label: kind.Label(), Allowed: s.usable(pol, kind, u.IsAdmin, flowReset)}
		for _, m := range methods {
			if m.Kind != string(kind) {
				continue
			}
			ms.Registered, ms.ConfirmedAt, ms.Destination = true, time.Unix(m.ConfirmedAt, 0), m.Destination
			if kind == policy.RecoveryCodes {
				// How many are left is worth more than that they exist.
				n, err := store.CountUnusedRecoveryCodes(ctx, s.db, u.ID)
				if err != nil {
					return Overview{}, fmt.Errorf("overview: %w", err)
				}
				ms.Count, ms.Of = n, RecoveryCodeCount
			}
			if kind == policy.SSHKey {
				keys, err := store.SSHKeysOf(ctx, s.db, u.ID)
				if err != nil {
					return Overview{}, fmt.Errorf("overview: %w", err)
				}
				ms.Count, ms.Of = len(keys), policy.MaxSSHKeys
			}
		}
		if ms.Allowed || ms.Registered {
			ov.Methods = append(ov.Methods, ms)
		}
	}
	return ov, nil
}

// checkDestination normalises and checks an address or number for a
// channel, returning it as it will be stored.
func checkDestination(ch policy.Channel, dest string) (string, error) {
	if ch == policy.ChannelSMS {
		dest = NormalisePhone(dest)
		return dest, ValidatePhone(dest)
	}
	return dest, ValidateEmail(dest)
}

// BeginContact starts registering an email address or phone number: a code is
// sent to it, and it counts only after that code is entered.
func (s *Service) BeginContact(ctx context.Context, sessionID string, m policy.Method, destination string) (CodeSent, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return CodeSent{}, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return CodeSent{}, err
	}
	ch := m.Describe().Channel
	if ch == policy.ChannelNone {
		return CodeSent{}, ErrNotAllowed
	}
	destination, err = checkDestination(ch, destination)
	if err != nil {
		return CodeSent{}, err
	}
	masked := maskDestination(ch, destination)
	if !pol.Allows(m) || !s.canSend(m) {
		return CodeSent{}, ErrNotAllowed
	}
	if err := s.checkBlocked(ctx, ses.username, ses.source); err != nil {
		return CodeSent{}, err
	}
	now := s.now()
	s.mu.Lock()
	prev := ses.pendingCode[m]
	s.mu.Unlock()
	if prev.destination == destination && now.Before(prev.sentAt.Add(ResendCooldown)) {
		return CodeSent{}, ErrThrottled
	}
	sent, id, err := s.sendCode(ctx, codeRequest{flowID: "reg:" + ses.id, account: ses.username, source: ses.source,
		userID: ses.userID, purpose: "register", method: m, to: destination, masked: masked, displayName: ses.displayName,
		language: s.sessionLanguage(ses)})
	if err != nil {
		return CodeSent{}, err
	}
	s.mu.Lock()
	ses.pendingCode[m] = pendingContact{challengeID: id, destination: destination, sentAt: now}
	s.mu.Unlock()
	sent.Destination = destination
	return sent, nil
}

// ConfirmContact finishes registering an email address or phone number with
// the code sent to it.
func (s *Service) ConfirmContact(ctx context.Context, sessionID string, m policy.Method, input string) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	pending, ok := ses.pendingCode[m]
	s.mu.Unlock()
	if !ok {
		return ErrChallengeVoid
	}
	if err := s.checkBlocked(ctx, ses.username, ses.source); err != nil {
		return err
	}
	code := NormaliseCode(input)
	if err := checkCodeShape(m, code); err != nil {
		return err
	}
	if err := s.checkSentCode(ctx, pending.challengeID, code, false); err != nil {
		return s.failProof(ctx, ses.username, ses.source, m, "register", err)
	}
	now := s.now().Unix()
	err = s.saveMethod(ctx, ses, store.Method{UserID: ses.userID, Kind: string(m), Destination: pending.destination,
		CreatedAt: now, ConfirmedAt: now}, infoChange{id: "email.change.registered",
		args: map[string]any{"Method": m.Describe().Inline}}, func(ctx context.Context, tx *store.Tx) error {
		return store.ConsumeChallenge(ctx, tx, pending.challengeID, now)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(ses.pendingCode, m)
	s.mu.Unlock()
	return nil
}

// saveMethod writes a method registration with its audit row and the
// "your security info changed" notification in one transaction.
// extra writes what the method keeps beside its row, after the row.
func (s *Service) saveMethod(ctx context.Context, ses *session, m store.Method, change infoChange,
	extra func(context.Context, *store.Tx) error) error {
	return s.saveMethodAs(ctx, ses, m, change, string(m.Kind), extra)
}

// saveMethodAs is saveMethod with the audit row's detail given: an SSH
// key is audited by its fingerprint.
func (s *Service) saveMethodAs(ctx context.Context, ses *session, m store.Method, change infoChange, detail string,
	extra func(context.Context, *store.Tx) error) error {
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.UpsertMethod(ctx, tx, m); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(ctx, tx); err != nil {
				return err
			}
		}
		if err := store.TouchConfirmed(ctx, tx, m.UserID, m.ConfirmedAt); err != nil {
			return err
		}
		if err := s.settleReregistration(ctx, tx, m.UserID); err != nil {
			return err
		}
		return s.infoChanged(ctx, tx, ses, policy.Method(m.Kind), change, detail, audit.EventMethodRegistered)
	})
	if err != nil {
		return fmt.Errorf("register %s: %w", m.Kind, err)
	}
	return nil
}

// settleReregistration ends a re-registration an admin asked for once what
// the person registered since meets the policy: each of those methods was
// proven while registering it.
func (s *Service) settleReregistration(ctx context.Context, tx *store.Tx, userID int64) error {
	u, err := store.UserByID(ctx, tx, userID)
	if err != nil || !u.ReregisterRequired {
		return err
	}
	pol, err := loadPolicy(ctx, tx)
	if err != nil {
		return err
	}
	methods, err := store.MethodsOf(ctx, tx, userID)
	if err != nil {
		return err
	}
	if !evaluateRegistration(pol, u, methodKinds(methods), true, s.canSend, s.now()).canReset {
		return nil
	}
	u.ReregisterRequired, u.UpdatedAt = false, s.now().Unix()
	return store.UpdateUser(ctx, tx, u)
}

// methodKinds lists the kinds of registered methods.
func methodKinds(methods []store.Method) []string {
	kinds := make([]string, 0, len(methods))
	for _, m := range methods {
		kinds = append(kinds, m.Kind)
	}
	return kinds
}

// infoChange is what happened to a person's security info, as the
// notification words it: a catalogue message and its placeholders, a
// "Method" among them a catalogue ID too, written in the reader's language.
type infoChange struct {
	id   string
	args map[string]any
}

// infoChanged records a registration change, with detail in the audit
// row, and tells the person.
func (s *Service) infoChanged(ctx context.Context, tx *store.Tx, ses *session, m policy.Method, change infoChange, detail string,
	event audit.Event) error {
	if err := s.record(ctx, tx, audit.Entry{Event: event, Actor: ses.username, Target: ses.username,
		Source: ses.source, Detail: detail}); err != nil {
		return err
	}
	pol, err := loadPolicy(ctx, tx)
	if err != nil {
		return err
	}
	u, err := store.UserByID(ctx, tx, ses.userID)
	if err != nil {
		return err
	}
	for _, to := range s.contactsOf(ctx, tx, u) {
		msg, err := s.render(u.Language, "info_changed", map[string]any{"DisplayName": u.DisplayName, "Method": m.Label(),
			"Change": change.id, "ChangeArgs": change.args, "Time": s.now(), "Source": ses.source,
			"Helpdesk": pol.HelpdeskContact})
		if err != nil {
			return err
		}
		msg.Kind, msg.Channel, msg.To = dispatch.KindNotification, to[0], to[1]
		if err := s.dispatcher.Notify(ctx, tx, msg); err != nil {
			return err
		}
	}
	return nil
}

// Enrolment is what the authenticator set-up screen shows.
type Enrolment struct {
	// Secret is the base32 shared secret, for typing into an app.
	Secret string
	// URI is the otpauth:// URI the QR code carries.
	URI string
}

// BeginAuthenticator creates a new authenticator secret for the person; it is
// saved only once ConfirmAuthenticator sees a code made from it.
func (s *Service) BeginAuthenticator(ctx context.Context, sessionID string) (Enrolment, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return Enrolment{}, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return Enrolment{}, err
	}
	if !pol.Usable(policy.Authenticator, ses.isAdminUser(ctx, s)) {
		return Enrolment{}, ErrNotAllowed
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: ses.username, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fmt.Errorf("authenticator: %w", err)
	}
	s.mu.Lock()
	ses.pendingTOTP = key.Secret()
	s.mu.Unlock()
	return Enrolment{Secret: key.Secret(), URI: otpauthURI(s.issuer, ses.username, key.Secret())}, nil
}

func (ses *session) isAdminUser(ctx context.Context, s *Service) bool {
	u, err := store.UserByID(ctx, s.db, ses.userID)
	return err == nil && u.IsAdmin
}

// ConfirmAuthenticator saves the pending authenticator once a code from it is
// right. The step of that code becomes the last one used, so it cannot be
// replayed at a reset.
func (s *Service) ConfirmAuthenticator(ctx context.Context, sessionID, input string) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	pending := ses.pendingTOTP
	s.mu.Unlock()
	if pending == "" {
		return ErrChallengeVoid
	}
	code := NormaliseCode(input)
	if err := checkCodeShape(policy.Authenticator, code); err != nil {
		return err
	}
	if err := s.checkBlocked(ctx, ses.username, ses.source); err != nil {
		return err
	}
	step, ok := matchTOTP(pending, code, s.now())
	if !ok {
		return s.failProof(ctx, ses.username, ses.source, policy.Authenticator, "register", ErrWrongCode)
	}
	sealed, err := s.keys.Seal([]byte(pending), totpAD(ses.userID))
	if err != nil {
		return fmt.Errorf("authenticator: %w", err)
	}
	now := s.now().Unix()
	if err := s.saveMethod(ctx, ses, store.Method{UserID: ses.userID, Kind: string(policy.Authenticator), Secret: sealed,
		LastStep: step, CreatedAt: now, ConfirmedAt: now}, infoChange{id: "email.change.authenticator"}, nil); err != nil {
		return err
	}
	s.mu.Lock()
	ses.pendingTOTP = ""
	s.mu.Unlock()
	return nil
}

// NewRecoveryCodes replaces the person's recovery codes with a fresh set and
// returns them: this is the only time they can be read.
func (s *Service) NewRecoveryCodes(ctx context.Context, sessionID string) ([]string, error) {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return nil, err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	if !pol.Usable(policy.RecoveryCodes, ses.isAdminUser(ctx, s)) {
		return nil, ErrNotAllowed
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		c, err := secret.RecoveryCode(RecoveryCodeLength)
		if err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		codes[i], hashes[i] = c, s.keys.MAC("recovery", secret.NormaliseRecoveryCode(c))
	}
	now := s.now().Unix()
	err = s.saveMethod(ctx, ses, store.Method{UserID: ses.userID, Kind: string(policy.RecoveryCodes), CreatedAt: now,
		ConfirmedAt: now}, infoChange{id: "email.change.recovery"}, func(ctx context.Context, tx *store.Tx) error {
		return store.ReplaceRecoveryCodes(ctx, tx, ses.userID, hashes, now)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// QuestionAnswer is one security question with its answer, as typed.
type QuestionAnswer struct {
	Question string
	Answer   string
}

// RegisterQuestions replaces the person's security questions. Answers are
// 3–40 characters after normalising, unique, and hashed like passwords.
func (s *Service) RegisterQuestions(ctx context.Context, sessionID string, qas []QuestionAnswer) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	if !pol.Usable(policy.Questions, ses.isAdminUser(ctx, s)) {
		return ErrNotAllowed
	}
	if len(qas) != pol.QuestionsToRegister {
		return refuse(ErrInvalid, "refusal.questions.count", locale.Args{"Number": pol.QuestionsToRegister})
	}
	if err := CheckQuestions(qas); err != nil {
		return err
	}
	rows := make([]store.QuestionAnswer, 0, len(qas))
	for _, qa := range qas {
		hash, err := s.hasher.Hash(ctx, NormaliseAnswer(qa.Answer))
		if err != nil {
			return fmt.Errorf("register questions: %w", err)
		}
		rows = append(rows, store.QuestionAnswer{Question: sourceQuestion(qa.Question), AnswerHash: hash})
	}
	now := s.now().Unix()
	return s.saveMethod(ctx, ses, store.Method{UserID: ses.userID, Kind: string(policy.Questions), CreatedAt: now,
		ConfirmedAt: now}, infoChange{id: "email.change.questions"}, func(ctx context.Context, tx *store.Tx) error {
		return store.ReplaceAnswers(ctx, tx, ses.userID, rows, now)
	})
}

// QuestionError is a refused set of security questions, naming the
// question or answer at fault so a form can put the cursor there. It wraps
// ErrInvalid.
type QuestionError struct {
	// Index is the question's place in the set, from 0.
	Index int
	// Answer is set when the answer is at fault, not the question.
	Answer bool
	// refusal is what a person reads.
	refusal error
}

// Error returns the error as one sentence.
func (e *QuestionError) Error() string { return e.refusal.Error() }

// Unwrap makes errors.Is(err, ErrInvalid) true, and gives screens the
// refusal to write in the reader's language.
func (e *QuestionError) Unwrap() error { return e.refusal }

// CheckQuestions checks questions and answers as RegisterQuestions does,
// but for how many the policy asks: each question 1–200 printable
// characters, each answer 3–40 after normalising, no question asked twice
// and no answer given twice. A refusal is a *QuestionError for the first
// fault; nil means the set would be saved.
func CheckQuestions(qas []QuestionAnswer) error {
	seenQ, seenA := map[string]bool{}, map[string]bool{}
	for i, qa := range qas {
		q := NormaliseQuestion(qa.Question)
		a := NormaliseAnswer(qa.Answer)
		// The same catalogue question in two languages is asked twice.
		asked := NormaliseAnswer(sourceQuestion(q))
		switch {
		case q == "" || utf8.RuneCountInString(q) > MaxQuestionLength || hasUnsafeRune(q):
			return &QuestionError{Index: i, refusal: refuse(ErrInvalid, "refusal.question.length",
				locale.Args{"Number": i + 1, "Max": MaxQuestionLength})}
		case utf8.RuneCountInString(a) < MinAnswerLength || utf8.RuneCountInString(a) > MaxAnswerLength || hasUnsafeRune(a):
			return &QuestionError{Index: i, Answer: true, refusal: refuse(ErrInvalid, "refusal.answer.length",
				locale.Args{"Number": i + 1, "Min": MinAnswerLength, "Max": MaxAnswerLength})}
		case seenQ[asked]:
			return &QuestionError{Index: i, refusal: refuse(ErrInvalid, "refusal.question.twice", locale.Args{"Number": i + 1})}
		case seenA[a]:
			return &QuestionError{Index: i, Answer: true, refusal: refuse(ErrInvalid, "refusal.answer.repeated",
				locale.Args{"Number": i + 1})}
		}
		seenQ[asked], seenA[a] = true, true
	}
	return nil
}

// NormaliseQuestion trims and collapses the spaces of a question.
func NormaliseQuestion(s string) string {
	return collapseSpaces(s)
}

// RemoveMethod removes one of the signed-in person's methods.
func (s *Service) RemoveMethod(ctx context.Context, sessionID string, m policy.Method) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.DeleteMethod(ctx, tx, ses.userID, string(m)); err != nil {
			return err
		}
		return s.infoChanged(ctx, tx, ses, m, infoChange{id: "email.change.removed",
			args: map[string]any{"Method": m.Describe().Inline}}, string(m), audit.EventMethodRemoved)
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("remove %s: %w", m, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", m, err)
	}
	return nil
}

// ConfirmInfo records that the person checked their security info is right.
// It does not end a re-registration an admin asked for: that takes methods
// proven anew (see RequireReregistration).
func (s *Service) ConfirmInfo(ctx context.Context, sessionID string) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	u, err := store.UserByID(ctx, s.db, ses.userID)
	if err != nil {
		return fmt.Errorf("confirm info: %w", err)
	}
	if u.ReregisterRequired {
		return fmt.Errorf("confirm info: %w", refuse(ErrNotAllowed, "refusal.reregister_required", nil))
	}
	now := s.now()
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.ConfirmMethods(ctx, tx, ses.userID, now.Unix()); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventInfoConfirmed, Actor: ses.username, Target: ses.username, Source: ses.source})
	})
	if err != nil {
		return fmt.Errorf("confirm info: %w", err)
	}
	return nil
}

// PostponeRegistration ends a session whose registration is due without the
// registration done: the person leaves, and is asked again at their next
// sign-in. It is recorded, so reports show how many people put it off.
// With nothing due it only signs out.
func (s *Service) PostponeRegistration(ctx context.Context, sessionID string) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	info, err := s.sessionInfo(ctx, ses)
	if err != nil {
		return fmt.Errorf("postpone registration: %w", err)
	}
	if info.RegistrationDue {
		err := s.recordAlone(ctx, audit.Entry{Event: audit.EventRegistrationPostponed, Actor: ses.username,
			Target: ses.username, Source: ses.source, Detail: info.DueReason.String()})
		if err != nil {
			return fmt.Errorf("postpone registration: %w", err)
		}
	}
	s.SignOut(sessionID)
	return nil
}
