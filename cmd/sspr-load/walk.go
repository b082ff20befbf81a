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

// walkReset resets the password of user through the screens, reading the
// emailed code from the outbox table.
func (s *session) walkReset(ctx context.Context, db *store.ReadOnly, user string) error {
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
	msgs, err := store.OutboxTo(ctx, db, user+"@example.com")
	if err != nil {
		return fail("read code", err)
	}
	i := slices.IndexFunc(msgs, func(m store.OutboxMessage) bool { return m.Kind == "code" })
	if i < 0 {
		return fail("read code", errors.New("no code message"))
	}
	code := codePattern.FindString(msgs[i].Body)
	if code == "" {
		return fail("read code", errors.New("no 8-digit code in the newest message"))
	}
	if err := s.step(ctx, "code", code+"\r", textNewPW); err != nil {
		return err
	}
	if err := s.step(ctx, "new password", s.o.newPW+"\r"+s.o.newPW+"\r", textDone); err != nil {
		return err
	}
	s.resetIn = time.Since(start)
	return nil
}
