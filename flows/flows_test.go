package flows_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// goodPassword is the passphrase the tests build new passwords from.
const goodPassword = "correct horse battery staple"

// aliceWithEmail is a harness with alice, who has a verified email
// address, and a context for the calls.
func aliceWithEmail(t *testing.T) (*flowstest.Harness, context.Context) {
	t.Helper()
	h := flowstest.New(t)
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	return h, context.Background()
}

func TestResetByEmailCodeEndToEnd(t *testing.T) {
	h, ctx := aliceWithEmail(t)

	rs := h.StartReset(t, "Alice ")
	if len(rs.Options) == 0 || rs.Options[0].Method != policy.Email || rs.Options[0].Destination != "a•••e@example.com" {
		t.Fatalf("options = %+v", rs.Options)
	}
	sent, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email)
	if err != nil {
		t.Fatal(err)
	}
	if got := sent.ExpiresAt.Sub(h.Clock.Now()); got != 10*time.Minute {
		t.Fatalf("code lifetime = %v", got)
	}
	p, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com"))
	if err != nil || !p.Done {
		t.Fatalf("verify: %+v %v", p, err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.SignIn(ctx, "alice", "a brand new "+goodPassword, "kiosk-1"); err != nil {
		t.Fatalf("new password does not work: %v", err)
	}
	if _, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, "kiosk-1"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if n := h.CountEvents(t, audit.EventPasswordReset); n != 1 {
		t.Fatalf("password.reset audit rows = %d", n)
	}
	// The flow is gone: the same proof cannot reset twice.
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "yet another "+goodPassword); !errors.Is(err, flows.ErrFlowExpired) {
		t.Fatalf("second reset with the same flow: %v", err)
	}
}

func TestCodeExpiresAfterTenMinutes(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want error
	}{
		{9*time.Minute + 59*time.Second, nil},
		{10*time.Minute + 1*time.Second, flows.ErrCodeExpired},
	} {
		t.Run(tc.wait.String(), func(t *testing.T) {
			h := flowstest.New(t)
			ctx := context.Background()
			h.AddUser(t, "alice", false)
			h.RegisterEmail(t, "alice")
			rs := h.StartReset(t, "alice")
			if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
				t.Fatal(err)
			}
			h.Clock.Advance(tc.wait)
			_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com"))
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("after %v: err = %v, want %v", tc.wait, err, tc.want)
			}
		})
	}
}

func TestFifthWrongCodeVoidsAndBlocks(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	right := h.Inbox.LastCode(t, "alice@example.com")
	wrong := "00000000"
	if wrong == right {
		wrong = "11111111"
	}
	for i := 1; i <= 4; i++ {
		_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, wrong)
		var wc *flows.WrongCodeError
		if !errors.As(err, &wc) || wc.AttemptsLeft != 5-i {
			t.Fatalf("wrong try %d: %v", i, err)
		}
	}
	_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, wrong)
	var wc *flows.WrongCodeError
	if !errors.As(err, &wc) || wc.AttemptsLeft != 0 {
		t.Fatalf("5th wrong try: %v", err)
	}
	// The 6th submission is refused even with the right code: the account is
	// now blocked for 24 hours.
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, right); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("6th try with the right code: %v", err)
	}
	if _, err := h.Svc.StartReset(ctx, "alice", "kiosk-2"); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("start while blocked: %v", err)
	}
	if n := h.CountEvents(t, audit.EventBlockApplied); n != 1 {
		t.Fatalf("block.applied rows = %d", n)
	}
	h.Clock.Advance(24*time.Hour + time.Second)
	if _, err := h.Svc.StartReset(ctx, "alice", "kiosk-2"); err != nil {
		t.Fatalf("start after the block expired: %v", err)
	}
}

func TestChallengeVoidAfterFiveWrongWithoutAccountBlock(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	right := h.Inbox.LastCode(t, "alice@example.com")
	for i := 0; i < 5; i++ {
		if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "12345678"); err == nil && right != "12345678" {
			t.Fatal("a wrong code was accepted")
		}
	}
	// An admin clears the account block; the voided code still cannot be
	// used, once the source's pace lets a proof through.
	if _, err := h.Svc.Unlock(ctx, h.Admin, "alice"); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(flows.SourceMaxDelay)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, right); !errors.Is(err, flows.ErrChallengeVoid) {
		t.Fatalf("right code after 5 wrong ones: %v", err)
	}
}

func TestResendVoidsPreviousCode(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	first := h.Inbox.LastCode(t, "alice@example.com")
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); !errors.Is(err, flows.ErrThrottled) {
		t.Fatalf("resend inside the cooldown: %v", err)
	}
	h.Clock.Advance(flows.ResendCooldown)
	h.SendCode(t, rs.FlowID, policy.Email)
	second := h.Inbox.LastCode(t, "alice@example.com")
	if first != second {
		if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, first); err == nil {
			t.Fatal("the first code still works after a resend")
		}
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, second); err != nil {
		t.Fatalf("second code: %v", err)
	}
}

func TestSendLimitPerAccount(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice") // one send already
	rs := h.StartReset(t, "alice")
	sends := 1
	for ; sends < flows.AccountSendLimit; sends++ {
		if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
			t.Fatalf("send %d: %v", sends+1, err)
		}
		h.Clock.Advance(flows.ResendCooldown)
	}
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); !errors.Is(err, flows.ErrThrottled) {
		t.Fatalf("send %d: %v", sends+1, err)
	}
}

func TestTOTPReplayRefused(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "bob", false)
	key := h.RegisterAuthenticator(t, "bob")
	h.Clock.Advance(30 * time.Second) // the enrolment used this step

	rs := h.StartReset(t, "bob")
	code := h.TOTP(t, key, h.Clock.Now())
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, code); err != nil {
		t.Fatalf("first use: %v", err)
	}
	rs2 := h.StartReset(t, "bob")
	if _, err := h.Svc.VerifyCode(ctx, rs2.FlowID, policy.Authenticator, code); !errors.Is(err, flows.ErrReplay) {
		t.Fatalf("replay in the same step: %v", err)
	}
	// The previous step is still accepted only if newer than the last used.
	prev := h.TOTP(t, key, h.Clock.Now().Add(-30*time.Second))
	if _, err := h.Svc.VerifyCode(ctx, rs2.FlowID, policy.Authenticator, prev); err == nil {
		t.Fatal("an older step than the last accepted was accepted")
	}
	h.Clock.Advance(30 * time.Second)
	if _, err := h.Svc.VerifyCode(ctx, rs2.FlowID, policy.Authenticator, h.TOTP(t, key, h.Clock.Now())); err != nil {
		t.Fatalf("next step: %v", err)
	}
}

func TestTOTPWindow(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "bob", false)
	key := h.RegisterAuthenticator(t, "bob")
	h.Clock.Advance(5 * time.Minute)
	rs := h.StartReset(t, "bob")
	old := h.TOTP(t, key, h.Clock.Now().Add(-60*time.Second))
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, old); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("code two steps old: %v", err)
	}
	prev := h.TOTP(t, key, h.Clock.Now().Add(-30*time.Second))
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, prev); err != nil {
		t.Fatalf("previous step: %v", err)
	}
}

func TestDecoyLooksLikeRealUser(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	h.AddUser(t, "carol", false) // exists, but registered nothing

	real := h.StartReset(t, "alice")
	for _, name := range []string{"mallory", "carol"} {
		decoy := h.StartReset(t, name)
		if len(decoy.Options) != len(real.Options) || decoy.Required != real.Required {
			t.Fatalf("%s: decoy options %+v vs real %+v", name, decoy.Options, real.Options)
		}
		if decoy.Options[0].Method != real.Options[0].Method || decoy.Options[0].Label != real.Options[0].Label {
			t.Fatalf("%s: decoy option %+v vs real %+v", name, decoy.Options[0], real.Options[0])
		}
		if !regexp.MustCompile(`^[a-z]•••[a-z]@example\.com$`).MatchString(decoy.Options[0].Destination) {
			t.Fatalf("%s: decoy destination %q", name, decoy.Options[0].Destination)
		}
		again := h.StartReset(t, name)
		if again.Options[0].Destination != decoy.Options[0].Destination {
			t.Fatalf("%s: decoy destination changes between tries", name)
		}
		sent, err := h.Svc.SendCode(ctx, decoy.FlowID, policy.Email)
		if err != nil {
			t.Fatalf("%s: decoy send: %v", name, err)
		}
		if sent.ExpiresAt.Sub(h.Clock.Now()) != 10*time.Minute {
			t.Fatalf("%s: decoy expiry differs", name)
		}
		before := h.Inbox.Count()
		_, err = h.Svc.VerifyCode(ctx, decoy.FlowID, policy.Email, "12345678")
		var wc *flows.WrongCodeError
		if !errors.As(err, &wc) || wc.AttemptsLeft != 4 {
			t.Fatalf("%s: decoy wrong code: %v", name, err)
		}
		if h.Inbox.Count() != before {
			t.Fatalf("%s: the decoy sent something", name)
		}
	}
	// Blocks apply to unknown names exactly as to real ones.
	decoy := h.StartReset(t, "nobody")
	h.SendCode(t, decoy.FlowID, policy.Email)
	for i := 0; i < 5; i++ {
		h.Clock.Advance(flows.SourceMaxDelay) // as the source's pace asks
		_, _ = h.Svc.VerifyCode(ctx, decoy.FlowID, policy.Email, "12345678")
	}
	if _, err := h.Svc.StartReset(ctx, "nobody", "kiosk-1"); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("unknown name after 5 failures: %v", err)
	}
}

func TestDisabledUserLearnsOnlyAfterProof(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.AddUser(t, "root", true)
	h.RegisterEmail(t, "alice")
	if err := h.Svc.SetDisabled(ctx, h.Admin, "alice", true); err != nil {
		t.Fatal(err)
	}
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com"))
	if !errors.Is(err, flows.ErrDisabled) {
		t.Fatalf("disabled user after proof: %v", err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("disabled user reset: %v", err)
	}
}

func TestGroupScope(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	if err := h.Svc.AddGroup(ctx, h.Admin, "pilot"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.SetPolicy(ctx, h.Admin, "enabled_for", "group"); err == nil {
		t.Fatal("scope group without a group name was accepted")
	}
	h.SetPolicy(t, "enabled_group", "pilot")
	h.SetPolicy(t, "enabled_for", "group")
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); !errors.Is(err, flows.ErrNotEnabled) {
		t.Fatalf("outside the group: %v", err)
	}
	if err := h.Svc.SetMember(ctx, h.Admin, "pilot", "alice", true); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Minute)
	rs = h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatalf("inside the group: %v", err)
	}
}

func TestQuestionsNeverSufficeAlone(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	h.AddUser(t, "dave", false)
	sid := h.SignIn(t, "dave")
	qas := []flows.QuestionAnswer{
		{Question: "What was the name of your first stuffed animal?", Answer: "Mr Bear"},
		{Question: "In which town did your grandmother live?", Answer: "Kirkwall"},
		{Question: "What was your childhood nickname?", Answer: "Dodo"},
	}
	if err := h.Svc.RegisterQuestions(ctx, sid, qas); err != nil {
		t.Fatal(err)
	}
	// Questions only: with one method required the person still cannot reset.
	rs := h.StartReset(t, "dave")
	for _, o := range rs.Options {
		if o.Method == policy.Questions {
			t.Fatalf("questions offered to a person who has nothing else: %+v", rs.Options)
		}
	}
	// With an email as well, questions count as the second of two.
	h.RegisterEmail(t, "dave")
	h.SetPolicy(t, "methods_required", "2")
	rs = h.StartReset(t, "dave")
	qs, err := h.Svc.Questions(ctx, rs.FlowID)
	if err != nil {
		t.Fatal(err)
	}
	answers := make([]string, len(qs))
	for i, q := range qs {
		for _, qa := range qas {
			if qa.Question == q {
				answers[i] = "  " + qa.Answer + " " // normalised: case and spaces do not matter
			}
		}
	}
	wrong := append([]string(nil), answers...)
	wrong[1] = "not it"
	if _, err := h.Svc.VerifyAnswers(ctx, rs.FlowID, wrong); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("one wrong answer: %v", err)
	}
	p, err := h.Svc.VerifyAnswers(ctx, rs.FlowID, answers)
	if err != nil {
		t.Fatal(err)
	}
	if p.Done {
		t.Fatal("questions alone satisfied a 2-method policy")
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("reset with questions only: %v", err)
	}
	h.SendCode(t, rs.FlowID, policy.Email)
	p, err = h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "dave@example.com"))
	if err != nil || !p.Done {
		t.Fatalf("email after questions: %+v %v", p, err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
}

func TestQuestionRules(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "dave", false)
	sid := h.SignIn(t, "dave")
	qa := func(a, b, c string) []flows.QuestionAnswer {
		return []flows.QuestionAnswer{{Question: "Q one?", Answer: a}, {Question: "Q two?", Answer: b}, {Question: "Q three?", Answer: c}}
	}
	if err := h.Svc.RegisterQuestions(ctx, sid, qa("alpha", "bravo", "charlie")); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("questions while policy forbids them: %v", err)
	}
	h.SetPolicy(t, "methods_allowed", "email,questions")
	for name, bad := range map[string][]flows.QuestionAnswer{
		"short answer":     qa("ab", "bravo", "charlie"),
		"long answer":      qa("alpha", "bravo", "this answer is far too long to be accepted as one"),
		"same answer":      qa("alpha", "ALPHA ", "charlie"),
		"same question":    {{Question: "Q one?", Answer: "alpha"}, {Question: "q  ONE?", Answer: "bravo"}, {Question: "Q three?", Answer: "charlie"}},
		"too few":          qa("alpha", "bravo", "charlie")[:2],
		"control in quest": {{Question: "Q\x1b[31m?", Answer: "alpha"}, {Question: "Q two?", Answer: "bravo"}, {Question: "Q three?", Answer: "charlie"}},
	} {
		if err := h.Svc.RegisterQuestions(ctx, sid, bad); !errors.Is(err, flows.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAdminPolicy(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.SetPolicy(t, "methods_allowed", "email,sms,authenticator,recovery_codes,voucher,questions")
	h.AddUser(t, "root", true)
	// An admin with only email cannot reset: admins always need two methods.
	h.RegisterEmail(t, "root")
	rs := h.StartReset(t, "root")
	if rs.Required != 2 {
		t.Fatalf("admin required = %d", rs.Required)
	}
	if _, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, "kiosk-1"); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("admin sign-in with one method: %v", err)
	}
	// Questions never count for an admin.
	sid := h.SignIn(t, "root")
	if err := h.Svc.RegisterQuestions(ctx, sid, []flows.QuestionAnswer{{"Q1?", "alpha"}, {"Q2?", "bravo"}, {"Q3?", "charlie"}}); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("admin registering questions: %v", err)
	}
	key := h.RegisterAuthenticator(t, "root")
	h.Clock.Advance(30 * time.Second)

	// Wrong password and non-admin fail the same way.
	if _, err := h.Svc.StartAdminSignIn(ctx, "root", "wrong", "kiosk-1"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("wrong admin password: %v", err)
	}
	h.AddUser(t, "alice", false)
	if _, err := h.Svc.StartAdminSignIn(ctx, "alice", flowstest.Password, "kiosk-1"); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("non-admin at the admin sign-in: %v", err)
	}

	st, err := h.Svc.StartAdminSignIn(ctx, "root", flowstest.Password, "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range st.Options {
		if o.Method == policy.Questions || o.Method == policy.Voucher {
			t.Fatalf("admin sign-in offers %s", o.Method)
		}
	}
	if _, err := h.Svc.VerifyCode(ctx, st.FlowID, policy.Authenticator, h.TOTP(t, key, h.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.CompleteAdminSignIn(ctx, st.FlowID); !errors.Is(err, flows.ErrNotProven) {
		t.Fatalf("admin sign-in with one method: %v", err)
	}
	h.SendCode(t, st.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, st.FlowID, policy.Email, h.Inbox.LastCode(t, "root@example.com")); err != nil {
		t.Fatal(err)
	}
	info, err := h.Svc.CompleteAdminSignIn(ctx, st.FlowID)
	if err != nil || !info.IsAdmin {
		t.Fatalf("admin sign-in: %+v %v", info, err)
	}
	if _, err := h.Svc.AdminActor(info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.AdminActor(sid); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("a password-only session acting as admin: %v", err)
	}
}

func TestPasswordHistoryAndRules(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	sid := h.SignIn(t, "alice")
	var rej *flows.RejectedError
	if err := h.Svc.ChangePassword(ctx, sid, flowstest.Password, flowstest.Password); !errors.As(err, &rej) {
		t.Fatalf("reusing the current password: %v", err)
	}
	passwords := []string{"first " + goodPassword, "second " + goodPassword}
	for _, pw := range passwords {
		if err := h.Svc.ChangePassword(ctx, sid, "", pw); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Svc.ChangePassword(ctx, sid, "", passwords[0]); !errors.As(err, &rej) {
		t.Fatalf("reusing a recent password: %v", err)
	}
	for _, bad := range []string{"short", "password123", "alice alice alice alice"} {
		if err := h.Svc.ChangePassword(ctx, sid, "", bad); !errors.Is(err, flows.ErrPasswordRejected) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
	h.SetPolicy(t, "banned_words", "contoso")
	if err := h.Svc.ChangePassword(ctx, sid, "", "c0nt0$o rules the whole wide world"); !errors.Is(err, flows.ErrPasswordRejected) {
		t.Fatalf("banned word through leetspeak: %v", err)
	}
	h.SetPolicy(t, "password_history", "0")
	if err := h.Svc.ChangePassword(ctx, sid, "", passwords[0]); err != nil {
		t.Fatalf("history 0 refused a previous password: %v", err)
	}
	if n := h.CountEvents(t, audit.EventPasswordChanged); n != 3 {
		t.Fatalf("password.changed rows = %d", n)
	}
}

func TestRecoveryCodeSingleUse(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "erin", false)
	codes, err := h.Svc.NewRecoveryCodes(ctx, h.SignIn(t, "erin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || len(codes[0]) != 10 {
		t.Fatalf("codes = %v", codes)
	}
	rs := h.StartReset(t, "erin")
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, codes[3]); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	rs = h.StartReset(t, "erin")
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, codes[3]); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("reused recovery code: %v", err)
	}
	// Lower case and dashes are forgiven.
	c := codes[4]
	typed := c[:5] + "-" + c[5:]
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.RecoveryCodes, typed); err != nil {
		t.Fatalf("recovery code with a dash: %v", err)
	}
}

func TestVoucher(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "frank", false)
	h.AddUser(t, "root", true)
	v, err := h.Svc.IssueVoucher(ctx, h.Admin, "frank")
	if err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Hour + time.Second)
	rs := h.StartReset(t, "frank")
	var found bool
	for _, o := range rs.Options {
		found = found || o.Method == policy.Voucher
	}
	if !found {
		t.Fatalf("voucher not offered: %+v", rs.Options)
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("expired voucher: %v", err)
	}
	v, err = h.Svc.IssueVoucher(ctx, h.Admin, "frank")
	if err != nil {
		t.Fatal(err)
	}
	rs = h.StartReset(t, "frank")
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	rs = h.StartReset(t, "frank")
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); !errors.Is(err, flows.ErrWrongCode) {
		t.Fatalf("voucher used twice: %v", err)
	}
	if err := h.Svc.SetDisabled(ctx, h.Admin, "frank", true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.IssueVoucher(ctx, h.Admin, "frank"); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("voucher for a disabled user: %v", err)
	}
}

func TestSuccessfulResetClearsFailures(t *testing.T) {
	h, ctx := aliceWithEmail(t)
	rs := h.StartReset(t, "alice")
	h.SendCode(t, rs.FlowID, policy.Email)
	for i := 0; i < 4; i++ {
		_, _ = h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "99999999")
	}
	h.Clock.Advance(flows.ResendCooldown)
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	// Four failures were forgotten: four more do not block.
	rs = h.StartReset(t, "alice")
	h.Clock.Advance(flows.ResendCooldown)
	h.SendCode(t, rs.FlowID, policy.Email)
	for i := 0; i < 4; i++ {
		_, _ = h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "99999999")
	}
	if _, err := h.Svc.StartReset(ctx, "alice", "kiosk-1"); err != nil {
		t.Fatalf("blocked although a reset cleared the count: %v", err)
	}
}

func TestSourceBlock(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	for i := 0; i < flows.SourceFailLimit; i++ {
		// Different names, one source: the source is blocked after 30.
		_, _ = h.Svc.SignIn(ctx, "user"+string(rune('a'+i%26))+string(rune('a'+i/26)), "wrong", "ssh:203.0.113.9")
	}
	if _, err := h.Svc.StartReset(ctx, "someone", "ssh:203.0.113.9"); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("source after 30 failures: %v", err)
	}
	if _, err := h.Svc.StartReset(ctx, "someone", "ssh:203.0.113.10"); err != nil {
		t.Fatalf("another source: %v", err)
	}
	h.Clock.Advance(30*time.Minute + time.Second)
	if _, err := h.Svc.StartReset(ctx, "someone", "ssh:203.0.113.9"); err != nil {
		t.Fatalf("source after its block: %v", err)
	}
}

// TestDeliveryFailure: a reset's code that cannot be delivered does not
// show: the send answers as for any name, every code typed for it is wrong
// in the same words as on the decoy path, and the failure is audited and
// reported for the server log. A signed-in person registering an address is
// told at once.
func TestDeliveryFailure(t *testing.T) {
	clk := clock.NewFake(flowstest.Start)
	faults, log := newFaults(clk)
	h := flowstest.New(t, flowstest.Options{Clock: clk, Faults: faults})
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	h.RegisterEmail(t, "alice")
	h.Inbox.SetFail(true)
	rs := h.StartReset(t, "alice")
	if _, err := h.Svc.SendCode(ctx, rs.FlowID, policy.Email); err != nil {
		t.Fatalf("send through a failing channel: %v", err)
	}
	h.Settle()
	if n := h.CountEvents(t, audit.EventCodeSendFailed); n != 1 {
		t.Fatalf("code.send_failed rows = %d", n)
	}
	log.expect(t, 1, `msg="delivery failed"`, flowstest.ErrGatewayDown.Error())
	_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, "12345678")
	var wrong *flows.WrongCodeError
	if !errors.As(err, &wrong) || wrong.AttemptsLeft != flows.CodeMaxAttempts-1 {
		t.Fatalf("a code typed for an undelivered send: %v", err)
	}

	sid := h.SignIn(t, "alice")
	if _, err := h.Svc.BeginContact(ctx, sid, policy.Email, "alice.new@example.com"); !errors.Is(err, flows.ErrDeliveryFailed) {
		t.Fatalf("registering through a failing channel: %v", err)
	}
}

func TestLastAdminAndSelf(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "root", true)
	if err := h.Svc.SetAdmin(ctx, h.Admin, "root", false); !errors.Is(err, flows.ErrLastAdmin) {
		t.Fatalf("unmaking the last admin: %v", err)
	}
	if err := h.Svc.SetDisabled(ctx, h.Admin, "root", true); !errors.Is(err, flows.ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	h.AddUser(t, "ops", true)
	if err := h.Svc.SetDisabled(ctx, flows.Actor{Name: "ops"}, "ops", true); !errors.Is(err, flows.ErrNotAllowed) {
		t.Fatalf("disabling yourself: %v", err)
	}
	if err := h.Svc.SetAdmin(ctx, h.Admin, "root", false); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationDue(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	info, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, "kiosk-1")
	if err != nil || !info.RegistrationDue {
		t.Fatalf("new user: %+v %v", info, err)
	}
	h.RegisterEmail(t, "alice")
	info, _ = h.Svc.SignIn(ctx, "alice", flowstest.Password, "kiosk-1")
	if info.RegistrationDue {
		t.Fatalf("registered user still due: %s", info.DueReason)
	}
	h.Clock.Advance(181 * 24 * time.Hour)
	info, _ = h.Svc.SignIn(ctx, "alice", flowstest.Password, "kiosk-1")
	if !info.RegistrationDue {
		t.Fatal("re-confirmation not due after 181 days")
	}
	if err := h.Svc.ConfirmInfo(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	info, _ = h.Svc.Session(ctx, info.ID)
	if info.RegistrationDue {
		t.Fatal("still due after confirming")
	}
	if err := h.Svc.RequireReregistration(ctx, h.Admin, "alice"); err != nil {
		t.Fatal(err)
	}
	info, _ = h.Svc.Session(ctx, info.ID)
	if !info.RegistrationDue {
		t.Fatal("not due after an admin asked for re-registration")
	}
}

func TestNotificationsOnReset(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "root", true)
	h.AddUser(t, "ops", true)
	h.RegisterEmail(t, "root")
	key := h.RegisterAuthenticator(t, "root")
	h.Clock.Advance(30 * time.Second)
	rs := h.StartReset(t, "root")
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Authenticator, h.TOTP(t, key, h.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	h.SendCode(t, rs.FlowID, policy.Email)
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Email, h.Inbox.LastCode(t, "root@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
		t.Fatal(err)
	}
	rows, err := store.ListOutbox(ctx, h.DB, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var toRoot, toOps int
	for _, r := range rows {
		if r.Kind != string(dispatch.KindNotification) {
			continue
		}
		switch r.Destination {
		case "root@example.com":
			toRoot++
		case "ops@example.com":
			toOps++
		}
	}
	if toRoot == 0 || toOps == 0 {
		t.Fatalf("notifications: root %d, ops %d (%+v)", toRoot, toOps, rows)
	}
}
