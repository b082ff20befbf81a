package main

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/sspr-kiosk/sspr/store"
)

var codePattern = regexp.MustCompile(`\b\d{8}\b`)

// codeSource gives a session the code the portal sent its user.
type codeSource interface {
	code(ctx context.Context, s *session, user string) (string, error)
}

// outboxCodes reads codes from the store's outbox table, where the demo
// delivers them.
type outboxCodes struct{ db *store.ReadOnly }

func (o outboxCodes) code(ctx context.Context, _ *session, user string) (string, error) {
	msgs, err := store.OutboxTo(ctx, o.db, user+"@example.com")
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(msgs, func(m store.OutboxMessage) bool { return m.Kind == "code" })
	if i < 0 {
		return "", errors.New("no code message")
	}
	code := codePattern.FindString(msgs[i].Body)
	if code == "" {
		return "", errors.New("no 8-digit code in the newest message")
	}
	return code, nil
}

// code waits for the code mailed to user.
func (m *mailSink) code(ctx context.Context, s *session, user string) (string, error) {
	return m.take(ctx, user+"@example.com", s.o.stepWait, s.gone)
}

// walkReset resets the password of user through the screens, typing the
// code codes gives it.
func (s *session) walkReset(ctx context.Context, codes codeSource, user string) error {
	start := time.Now()
	if err := s.step(ctx, "welcome", "1", textIdentify); err != nil {
		return err
	}
	if err := s.step(ctx, "identify", user+"\r", textMethods); err != nil {
		return err
	}
	if err := s.step(ctx, "choose method", "\r", textSent); err != nil {
		return err
	}
	code, err := codes.code(ctx, s, user)
	if err != nil {
		return fail("read code", err)
	}
	if err := s.step(ctx, "code", code+"\r", textRules); err != nil {
		return err
	}
	if err := s.step(ctx, "new password", s.o.newPW+"\r"+s.o.newPW+"\r", textDone); err != nil {
		return err
	}
	s.resetIn = time.Since(start)
	return nil
}
