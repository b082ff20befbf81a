package flows

import (
	"context"
	"fmt"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/store"
)

// Languages returns the catalogues the service writes messages from.
func (s *Service) Languages() *locale.Catalogue { return s.languages }

// SetLanguage stores the signed-in person's preferred language: a code of
// a language sspr speaks ("ja", "pt-BR"), or empty for the organisation's
// default. The screens speak it once the person has proved who they are,
// and every email and text message to them is written in it. The change
// is audited like the rest of their security info. A language sspr does
// not speak is ErrInvalid.
func (s *Service) SetLanguage(ctx context.Context, sessionID, code string) error {
	ses, err := s.getSession(sessionID)
	if err != nil {
		return err
	}
	if code != "" {
		l, err := s.languages.Lookup(code)
		if err != nil {
			return fmt.Errorf("set language: %w: %w", ErrInvalid, err)
		}
		code = l.Code
	}
	detail := code
	if detail == "" {
		detail = "default"
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.SetUserLanguage(ctx, tx, ses.userID, code, s.now().Unix()); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.Entry{Event: audit.EventLanguageChanged, Actor: ses.username,
			Target: ses.username, Source: ses.source, Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	s.mu.Lock()
	ses.language = code
	s.mu.Unlock()
	return nil
}

// sessionLanguage is the session's preferred language, read under the lock
// SetLanguage writes it under.
func (s *Service) sessionLanguage(ses *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ses.language
}
