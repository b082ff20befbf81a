package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/sspr-kiosk/sspr/store"
)

// ErrKeyMismatch means this process holds another key than the one the
// store's secrets were sealed with and its codes hashed under: it could
// read no authenticator secret and accept no code.
var ErrKeyMismatch = errors.New("this key is not the key the store was first used with")

// CheckKey records the key's fingerprint in the store on its first use, and
// refuses a key whose fingerprint is not the one on record. A program calls
// it on start: a portal or kiosk sharing a store with a key of its own would
// otherwise start and then fail every person who uses an authenticator, and
// seal what they register where the others cannot open it.
func (s *Service) CheckKey(ctx context.Context) error {
	mine := s.keys.Fingerprint()
	recorded, err := store.RecordKeyFingerprint(ctx, s.db, mine, s.now().Unix())
	if err != nil {
		return fmt.Errorf("check key: %w", err)
	}
	if recorded != mine {
		return fmt.Errorf("%w: the store's key has fingerprint %s, this one %s; give every sspr of this store the same key file (key_file)",
			ErrKeyMismatch, short(recorded), short(mine))
	}
	return nil
}

// short is the start of a fingerprint, enough to tell two apart.
func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// KeyFingerprint is the fingerprint of the key this service holds, as
// CheckKey records it.
func (s *Service) KeyFingerprint() string { return s.keys.Fingerprint() }
