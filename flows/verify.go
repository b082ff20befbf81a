package flows

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/secret"
	"github.com/sspr-kiosk/sspr/store"
)

// totpPeriod is the RFC 6238 time step.
const totpPeriod = 30

// SendCode sends a one-time code for an email or SMS option of a flow. A
// resend voids the code before it. On the decoy path nothing is sent, but the
// same checks, counters and answers apply.
//
// The person has proved nothing yet, so how delivery goes must not show:
// the code is handed to delivery behind the screen and SendCode answers at
// once, the same way for every name, whether the mail server is fast, slow,
// refusing or hanging. A failed delivery is audited and logged; the person
// reads, as everyone does, how to ask again or choose another way.
func (s *Service) SendCode(ctx context.Context, flowID string, m policy.Method) (CodeSent, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return CodeSent{}, err
	}
	opt, ok := f.option(m)
	if !ok || !opt.SendsCode {
		return CodeSent{}, ErrNotAllowed
	}
	if err := s.checkBlocked(ctx, f.account, f.blockSource()); err != nil {
		return CodeSent{}, err
	}
	now := s.now()
	s.mu.Lock()
	last := f.lastSend[m]
	s.mu.Unlock()
	if !last.IsZero() && now.Before(last.Add(ResendCooldown)) {
		return CodeSent{}, ErrThrottled
	}
	var userID int64
	if !f.decoy {
		userID = f.userID
	}
	sent, challengeID, err := s.sendCode(ctx, codeRequest{
		flowID: f.id, account: f.account, source: f.source, userID: userID, purpose: f.kind.purpose(),
		method: m, to: f.destinations[m], masked: opt.Destination, displayName: f.displayName, decoy: f.decoy, language: f.language,
		behind: true,
	})
	if err != nil {
		return CodeSent{}, err
	}
	s.mu.Lock()
	f.lastSend[m] = now
	f.open[m] = challengeID
	s.mu.Unlock()
	return sent, nil
}

// codeRequest is one code to send, for a flow or a registration.
type codeRequest struct {
	flowID, account, source string
	userID                  int64
	purpose                 string
	method                  policy.Method
	to, masked              string
	displayName             string
	// language is the person's preferred language; empty for the
	// organisation's (and always on the decoy path).
	language string
	decoy    bool
	// behind hands the code to delivery without waiting for it: for
	// someone who has proved nothing yet, so that delivery's speed and
	// failures tell them nothing. A signed-in person registering a contact
	// waits, and is told at once when it fails.
	behind bool
}

// sendCode creates the challenge and sends its code. The challenge and the
// send counter are written first. When the sender waits and delivery
// fails, the challenge is voided and ErrDeliveryFailed returned; when
// delivery happens behind, a failure leaves the challenge as it is: nobody
// ever saw its code, so every code typed for it is simply wrong, as on the
// decoy path.
func (s *Service) sendCode(ctx context.Context, r codeRequest) (CodeSent, string, error) {
	now := s.now()
	code, err := secret.NumericCode(CodeDigits)
	if err != nil {
		return CodeSent{}, "", fmt.Errorf("send code: %w", err)
	}
	c := store.Challenge{ID: secret.Token(), FlowID: r.flowID, UserID: r.userID, Purpose: r.purpose, Kind: string(r.method),
		Destination: r.to, CreatedAt: now.Unix(), ExpiresAt: now.Add(CodeLifetime).Unix()}
	c.CodeHash = s.keys.MAC("code:"+c.ID, code)
	msg, err := s.render(r.language, "code", map[string]any{"Code": code, "Minutes": int(CodeLifetime / time.Minute),
		"DisplayName": r.displayName, "Purpose": r.purpose})
	if err != nil {
		return CodeSent{}, "", fmt.Errorf("send code: %w", err)
	}
	entry := audit.Entry{Event: audit.EventCodeSent, Actor: r.account, Target: r.account, Source: r.source,
		Detail: fmt.Sprintf("%s to %s for %s", r.method, r.masked, r.purpose)}
	if r.decoy {
		entry.Outcome = "unknown account"
	}
	sent := CodeSent{Method: r.method, Destination: r.masked, ExpiresAt: now.Add(CodeLifetime),
		ResendAt: now.Add(ResendCooldown)}
	// The challenge, the send counter and, for a code sent behind, its
	// audit row are one transaction: the same work for every name. The
	// flow's challenges come before the account's counter, as in a wrong
	// code's transaction (its challenge's tries, then the account's
	// failures), so that a resend and a code typed at the same moment
	// queue one behind the other instead of each holding what the other
	// waits for; a send refused by the counter rolls them back.
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.ReplaceOpenChallenges(ctx, tx, c, now.Unix()); err != nil {
			return err
		}
		if !r.behind && !r.decoy {
			return s.allowSend(ctx, tx, r.account)
		}
		// The audit row follows the count: the chain's head goes with it.
		if err := s.allowSend(store.ReadAhead(ctx, tx, store.AuditHeadRead()), tx, r.account); err != nil {
			return err
		}
		return s.record(ctx, tx, entry)
	})
	if err != nil {
		return CodeSent{}, "", fmt.Errorf("send code: %w", err)
	}
	if r.decoy {
		return sent, c.ID, nil
	}
	msg.Channel, msg.To = channelOf(r.method), r.to
	if r.behind {
		s.deliverBehind(ctx, msg, entry)
		return sent, c.ID, nil
	}
	if err := s.dispatcher.SendCode(ctx, msg.Channel, r.to, msg); err != nil {
		s.codeNotDelivered(ctx, entry)
		// Best effort, as the person is told the send failed either way.
		_ = s.db.WithTx(ctx, func(tx *store.Tx) error {
			return store.VoidOpenChallenges(ctx, tx, r.flowID, string(r.method), now.Unix())
		})
		return CodeSent{}, "", ErrDeliveryFailed
	}
	if err := s.recordAlone(ctx, entry); err != nil {
		return CodeSent{}, "", err
	}
	return sent, c.ID, nil
}

// maxDeliveriesBehind bounds the codes being delivered behind the screen at
// once, so a mail server that hangs cannot gather goroutines without end.
const maxDeliveriesBehind = 256

// deliverBehind sends a code without making anyone wait for it. The send
// outlives the request that asked for it (the person may already be typing,
// or have left), bounded by the dispatcher's own timeout.
func (s *Service) deliverBehind(ctx context.Context, msg dispatch.Message, entry audit.Entry) {
	ctx = context.WithoutCancel(ctx)
	select {
	case s.deliveries <- struct{}{}:
	default:
		s.reportFault("deliver code", errDeliveryBacklog)
		s.behind.Add(1)
		go func() {
			defer s.behind.Done()
			s.codeNotDelivered(ctx, entry)
		}()
		return
	}
	s.behind.Add(1)
	go func() {
		defer s.behind.Done()
		defer func() { <-s.deliveries }()
		// The dispatcher reports its own failures to the fault log.
		if err := s.dispatcher.SendCode(ctx, msg.Channel, msg.To, msg); err != nil {
			s.codeNotDelivered(ctx, entry)
		}
	}()
}

// errDeliveryBacklog is why a code was dropped when too many were already
// on their way.
var errDeliveryBacklog = errors.New("too many codes on their way at once")

// codeNotDelivered records a code that did not go out in the audit log,
// where admins see it. The server log hears of it from the dispatcher.
func (s *Service) codeNotDelivered(ctx context.Context, entry audit.Entry) {
	entry.Event, entry.Outcome, entry.Detail = audit.EventCodeSendFailed, "failed", entry.Detail+": delivery failed"
	_ = s.recordAlone(ctx, entry)
}

// WaitDeliveries waits until every code handed to delivery behind the
// screen has gone out or failed, and any other work done behind the
// requests has ended, or ctx is done: at shutdown, so that no code is cut
// off half-sent and nothing writes to a closed store.
func (s *Service) WaitDeliveries(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.behind.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func channelOf(m policy.Method) string { return string(m.Describe().Channel) }

// NormaliseCode strips the spaces and dashes people type inside codes.
func NormaliseCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// VerifyCode checks a proof for a flow: an emailed or texted code, an
// authenticator code, a recovery code or a helpdesk voucher. A wrong proof
// counts against the account and the source. The check, what it marks (the
// challenge verified or its tries counted) and the audit row are one
// transaction, on the decoy path too.
func (s *Service) VerifyCode(ctx context.Context, flowID string, m policy.Method, input string) (Progress, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return Progress{}, err
	}
	if _, ok := f.option(m); !ok || m.Describe().Alphabet == policy.AlphabetNone {
		return Progress{}, ErrNotAllowed
	}
	code := NormaliseCode(input)
	sends := m.Describe().SendsCode()
	s.mu.Lock()
	openID := f.open[m]
	s.mu.Unlock()
	if sends && openID != "" {
		// The code's challenge goes with the look for blocks.
		ctx = store.ReadAhead(ctx, s.db, store.ChallengeRead(openID))
	}
	if err := s.admitProof(ctx, f.account, f.source, f.kind == flowAdminSignIn); err != nil {
		return Progress{}, err
	}
	if err := checkCodeShape(m, code); err != nil {
		return Progress{}, err
	}
	purpose := f.kind.purpose()
	var sent sentChallenge
	if sends {
		sent = s.readSent(ctx, openID)
	}
	var challengeID string
	var cause error
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if f.decoy {
			cause = ErrWrongCode
			// A sent code on the decoy path counts its tries as a real
			// one does, whichever channel it pretends to use.
			if sends {
				challengeID = openID
				cause = s.checkSentCodeIn(ctx, tx, sent, "", true)
			}
		} else {
			challengeID, cause = s.checkProof(ctx, tx, f, m, sent, code)
		}
		if cause != nil {
			if StoreUnavailable(cause) {
				return cause // nothing was checked, so nothing is counted
			}
			if !countsAsFailure(cause) {
				return nil
			}
			return s.recordFailedProof(ctx, tx, f.account, f.source, m, purpose)
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventVerifySucceeded, Actor: f.account, Target: f.account,
			Source: f.source, Detail: fmt.Sprintf("%s for %s", m, purpose)})
	})
	switch {
	case err != nil && cause != nil:
		return Progress{}, fmt.Errorf("verify: %w", err)
	case err != nil:
		return Progress{}, err
	case cause != nil:
		return Progress{}, cause
	}
	return s.proven(f, m, challengeID)
}

// proven records a proof in its flow and says where the flow stands. A
// flow that ends at a dead end says so only now, after a proof.
func (s *Service) proven(f *flow, m policy.Method, challengeID string) (Progress, error) {
	s.mu.Lock()
	f.proven[m] = challengeID
	delete(f.open, m)
	p := f.progress()
	deadEnd := f.deadEnd
	s.mu.Unlock()
	if p.Done && deadEnd != nil {
		return p, deadEnd
	}
	return p, nil
}

// checkCodeShape refuses input that cannot be a code of this kind, with a
// message, before anything is counted.
func checkCodeShape(m policy.Method, code string) error {
	d := m.Describe()
	switch d.Alphabet {
	case policy.AlphabetDigits:
		if !allDigits(code) {
			return refuse(ErrInvalid, "refusal.code.digits", locale.Args{"Digits": d.CodeLength})
		}
	case policy.AlphabetRecovery:
		if code == "" || len(code) > 64 {
			return refuse(ErrInvalid, "refusal.code.recovery_length", locale.Args{"Length": d.CodeLength})
		}
	case policy.AlphabetVoucher:
		if code == "" {
			return refuse(ErrInvalid, "refusal.voucher.empty", nil)
		}
		// A misheard symbol or a group left out is told at once, and not
		// counted against the account.
		if !secret.VoucherShaped(secret.NormaliseVoucher(code)) {
			return refuse(ErrInvalid, "refusal.voucher.shape", locale.Args{"Length": d.CodeLength})
		}
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// failProof counts a failed proof and returns the error to show. A proof that
// hits the account limit blocks the account.
func (s *Service) failProof(ctx context.Context, account, source string, m policy.Method, purpose string, cause error) error {
	if !countsAsFailure(cause) {
		return cause
	}
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		return s.recordFailedProof(ctx, tx, account, source, m, purpose)
	})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return cause
}

// countsAsFailure says whether a failed proof counts against the account and
// the source: an expired or void code does not, since nothing was guessed,
// nor a proof the store failed to check.
func countsAsFailure(cause error) bool {
	return !(errors.Is(cause, ErrCodeExpired) || errors.Is(cause, ErrChallengeVoid) && !errors.Is(cause, ErrWrongCode) ||
		StoreUnavailable(cause))
}

// unlessUnavailable is what a proof's look-up failing tells the person: the
// store failing, when it did (the proof was never checked), else answer.
func unlessUnavailable(err, answer error) error {
	if StoreUnavailable(err) {
		return err
	}
	return answer
}

// recordFailedProof counts a failed proof and audits it, in tx.
func (s *Service) recordFailedProof(ctx context.Context, tx *store.Tx, account, source string, m policy.Method, purpose string) error {
	blocks, err := s.recordFailure(ctx, tx, account, source)
	if err != nil {
		return err
	}
	return s.recordAll(ctx, tx, append(blocks, audit.Entry{Event: audit.EventVerifyFailed, Actor: account, Target: account,
		Source: source, Outcome: "failed", Detail: fmt.Sprintf("%s for %s", m, purpose)})...)
}

// checkProof verifies one proof of a real user in tx and returns the
// verified challenge that stands for it. sent is the challenge of the
// flow's code in flight for m, for a method that sends one.
func (s *Service) checkProof(ctx context.Context, tx *store.Tx, f *flow, m policy.Method, sent sentChallenge, code string) (string, error) {
	now := s.now()
	if m.Describe().SendsCode() {
		if err := s.checkSentCodeIn(ctx, tx, sent, code, false); err != nil {
			return "", err
		}
		return sent.c.ID, nil
	}
	// The methods that send nothing each check their proof their own way.
	switch m {
	case policy.Authenticator:
		method, err := store.MethodOf(ctx, tx, f.userID, string(policy.Authenticator))
		if err != nil {
			return "", unlessUnavailable(err, ErrWrongCode)
		}
		if err := s.checkTOTP(ctx, tx, method, code, f.userID); err != nil {
			return "", err
		}
		return s.verifiedChallenge(ctx, tx, f.id, f.userID, f.kind.purpose(), m, 0, now)
	case policy.RecoveryCodes:
		id, err := store.UnusedRecoveryCode(ctx, tx, f.userID, s.keys.MAC("recovery", secret.NormaliseRecoveryCode(code)))
		if err != nil {
			return "", unlessUnavailable(err, ErrWrongCode)
		}
		return s.verifiedChallenge(ctx, tx, f.id, f.userID, f.kind.purpose(), m, id, now)
	case policy.Voucher:
		v, err := store.ValidVoucher(ctx, tx, f.userID, s.keys.MAC("voucher", secret.NormaliseVoucher(code)), now.Unix())
		if err != nil {
			return "", unlessUnavailable(err, ErrWrongCode)
		}
		return s.verifiedChallenge(ctx, tx, f.id, f.userID, f.kind.purpose(), m, v.ID, now)
	}
	return "", ErrNotAllowed
}

// checkSentCode checks a code against a sent challenge: void, expired, wrong
// (counting towards its five tries) or right (marking it verified). On the
// decoy path every code is wrong, with the same counting.
func (s *Service) checkSentCode(ctx context.Context, challengeID, code string, decoy bool) error {
	return s.checkSentCodeIn(ctx, s.db, s.readSent(ctx, challengeID), code, decoy)
}

// sentChallenge is the challenge of a sent code, read before the code is
// checked against it, or why it could not be read.
type sentChallenge struct {
	c   store.Challenge
	err error
}

// readSent reads the challenge of a sent code. It is read outside the
// transaction that checks the code (and so can go with the statement
// before it, ReadAhead): what is decided from it is made good by writes
// that each name the state they change, so a challenge verified, used or
// voided meanwhile is marked verified by no one else, and wrong tries never
// void a verified one.
func (s *Service) readSent(ctx context.Context, challengeID string) sentChallenge {
	if challengeID == "" {
		return sentChallenge{err: ErrChallengeVoid}
	}
	c, err := store.ChallengeByID(ctx, s.db, challengeID)
	if err != nil {
		return sentChallenge{err: unlessUnavailable(err, ErrChallengeVoid)}
	}
	return sentChallenge{c: c}
}

// checkSentCodeIn is checkSentCode through h, the store or the transaction
// that also records the outcome, on the challenge sent as read before.
func (s *Service) checkSentCodeIn(ctx context.Context, h store.Handler, sent sentChallenge, code string, decoy bool) error {
	if sent.err != nil {
		return sent.err
	}
	now := s.now()
	c := sent.c
	if c.VoidedAt != 0 || c.ConsumedAt != 0 || c.VerifiedAt != 0 {
		return ErrChallengeVoid
	}
	if expired(c.ExpiresAt, now) {
		return ErrCodeExpired
	}
	if !decoy && secret.Equal(c.CodeHash, s.keys.MAC("code:"+c.ID, code)) {
		// The proof is audited next: the chain's head goes with the mark.
		if err := store.MarkChallengeVerified(store.ReadAhead(ctx, h, store.AuditHeadRead()), h, c.ID, now.Unix()); err != nil {
			return unlessUnavailable(err, ErrChallengeVoid)
		}
		return nil
	}
	n, err := store.RecordChallengeFailure(ctx, h, c.ID, CodeMaxAttempts, now.Unix())
	if err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	return &WrongCodeError{AttemptsLeft: max(0, CodeMaxAttempts-n)}
}

// checkTOTP accepts the current or the previous 30-second step only, and only
// a step newer than the last one accepted for this user, so a code cannot be
// replayed.
func (s *Service) checkTOTP(ctx context.Context, tx *store.Tx, method store.Method, code string, userID int64) error {
	raw, err := s.keys.Open(method.Secret, totpAD(userID))
	if err != nil {
		return fmt.Errorf("verify authenticator: %w", err)
	}
	step, ok := matchTOTP(string(raw), code, s.now())
	if !ok {
		return ErrWrongCode
	}
	if step <= method.LastStep {
		return ErrReplay
	}
	if err := store.AdvanceTOTPStep(ctx, tx, method.ID, step); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ErrReplay
		}
		return err
	}
	return nil
}

// matchTOTP returns the step a code belongs to: the current or the previous.
func matchTOTP(secretB32, code string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	for _, step := range []int64{current, current - 1} {
		want, err := totp.GenerateCodeCustom(secretB32, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if secret.Equal(want, code) {
			return step, true
		}
	}
	return 0, false
}

// totpAD binds a sealed TOTP secret to its user, so a secret copied to
// another user's row does not open.
func totpAD(userID int64) []byte { return []byte(fmt.Sprintf("totp:%d", userID)) }

// verifiedChallenge records, in tx, a proof that needed no sent code.
func (s *Service) verifiedChallenge(ctx context.Context, tx *store.Tx, flowID string, userID int64, purpose string,
	m policy.Method, ref int64, now time.Time) (string, error) {
	c := store.Challenge{ID: secret.Token(), FlowID: flowID, UserID: userID, Purpose: purpose, Kind: string(m),
		RefID: ref, CreatedAt: now.Unix(), ExpiresAt: now.Add(FlowLifetime).Unix(), VerifiedAt: now.Unix()}
	if err := store.CreateChallenge(ctx, tx, c); err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	return c.ID, nil
}

// Questions returns the security questions to answer in a flow, drawn at
// random from those the person registered (stable for the flow).
func (s *Service) Questions(ctx context.Context, flowID string) ([]string, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return nil, err
	}
	if _, ok := f.option(policy.Questions); !ok {
		return nil, ErrNotAllowed
	}
	s.mu.Lock()
	drawn := f.questions
	s.mu.Unlock()
	if drawn != nil {
		return drawn, nil
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	answers, err := store.Answers(ctx, s.db, f.userID)
	if err != nil {
		return nil, fmt.Errorf("questions: %w", err)
	}
	pool := make([]string, len(answers))
	for i, a := range answers {
		pool[i] = a.Question
	}
	if f.decoy {
		pool = s.decoyQuestions(f.account, pol.QuestionsToRegister)
	}
	rand.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	n := min(pol.QuestionsToAnswer, len(pool))
	drawn = pool[:n]
	s.mu.Lock()
	f.questions = drawn
	s.mu.Unlock()
	return drawn, nil
}

// VerifyAnswers checks the answers to the drawn questions, in order. Any
// wrong answer fails the whole set without saying which.
func (s *Service) VerifyAnswers(ctx context.Context, flowID string, answers []string) (Progress, error) {
	f, err := s.getFlow(flowID)
	if err != nil {
		return Progress{}, err
	}
	s.mu.Lock()
	drawn := f.questions
	s.mu.Unlock()
	if drawn == nil {
		return Progress{}, ErrNotAllowed
	}
	if len(answers) != len(drawn) {
		return Progress{}, refuse(ErrInvalid, "refusal.questions.answer_all", nil)
	}
	if err := s.admitProof(ctx, f.account, f.source, f.kind == flowAdminSignIn); err != nil {
		return Progress{}, err
	}
	stored, err := store.Answers(ctx, s.db, f.userID)
	if err != nil {
		return Progress{}, fmt.Errorf("verify answers: %w", err)
	}
	byQuestion := map[string]string{}
	for _, a := range stored {
		byQuestion[a.Question] = a.AnswerHash
	}
	allRight := !f.decoy
	for i, q := range drawn {
		hash, ok := byQuestion[q]
		if !ok {
			s.hasher.DummyVerify(ctx, NormaliseAnswer(answers[i]))
			allRight = false
			continue
		}
		right, err := s.hasher.Verify(ctx, NormaliseAnswer(answers[i]), hash)
		if err != nil || !right {
			allRight = false
		}
	}
	if !allRight {
		return Progress{}, s.failProof(ctx, f.account, f.source, policy.Questions, f.kind.purpose(), ErrWrongCode)
	}
	var id string
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if id, err = s.verifiedChallenge(ctx, tx, f.id, f.userID, f.kind.purpose(), policy.Questions, 0, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventVerifySucceeded, Actor: f.account, Target: f.account,
			Source: f.source, Detail: "questions for " + f.kind.purpose()})
	})
	if err != nil {
		return Progress{}, err
	}
	return s.proven(f, policy.Questions, id)
}

// CancelFlow forgets a flow, as when the person walks away.
func (s *Service) CancelFlow(flowID string) { s.dropFlow(flowID) }
