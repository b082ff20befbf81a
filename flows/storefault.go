package flows

import "github.com/sspr-kiosk/sspr/store"

// StoreUnavailable reports whether err comes of sspr's own database failing
// rather than of anything the person did: PostgreSQL unreachable or
// restarting, a statement cut by the timeout, a SQLite file full or locked
// (store.IsFault). Nothing of the step that failed was written or counted;
// the person is told to try again in a minute.
func StoreUnavailable(err error) bool { return store.IsFault(err) }
