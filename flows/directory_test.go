package flows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
)

var errAfterWrite = errors.New("the directory failed after writing")

// failAfterWrite is the built-in directory that, when fail is set, fails
// after it has written the new hash: what a crash between the hash and the
// rest of the record looks like to the transaction.
type failAfterWrite struct {
	*flows.BuiltinDirectory
	fail bool
}

func (d *failAfterWrite) SetPassword(ctx context.Context, tx flows.Tx, username string, change flows.PasswordChange) error {
	if err := d.BuiltinDirectory.SetPassword(ctx, tx, username, change); err != nil {
		return err
	}
	if d.fail {
		return errAfterWrite
	}
	return nil
}

// TestBuiltinPasswordWriteIsInTheRecordsTransaction: the built-in directory
// writes the new hash in the transaction that records the change, so when
// that transaction fails the old password stands, with no record of a
// change; never a new password that history and audit do not know of.
func TestBuiltinPasswordWriteIsInTheRecordsTransaction(t *testing.T) {
	dir := &failAfterWrite{fail: true}
	h := flowstest.New(t, flowstest.Options{Directory: dir})
	dir.BuiltinDirectory = flows.NewBuiltinDirectory(h.DB, h.Hasher, h.Clock)
	ctx := context.Background()
	h.AddUser(t, "alice", false)
	sid := h.SignIn(t, "alice")
	next := "a brand new " + goodPassword

	if err := h.Svc.ChangePassword(ctx, sid, flowstest.Password, next); !errors.Is(err, errAfterWrite) {
		t.Fatalf("change with the directory failing: %v", err)
	}
	if _, err := h.Svc.SignIn(ctx, "alice", flowstest.Password, flowstest.Source); err != nil {
		t.Fatalf("the old password no longer works after a failed change: %v", err)
	}
	if _, err := h.Svc.SignIn(ctx, "alice", next, flowstest.Source); !errors.Is(err, flows.ErrBadCredentials) {
		t.Fatalf("the new password works though its change was rolled back: %v", err)
	}
	if n := h.CountEvents(t, audit.EventPasswordChanged); n != 0 {
		t.Fatalf("password.changed rows after a failed change = %d", n)
	}

	dir.fail = false
	if err := h.Svc.ChangePassword(ctx, sid, flowstest.Password, next); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.SignIn(ctx, "alice", next, flowstest.Source); err != nil {
		t.Fatalf("the new password does not work: %v", err)
	}
	if n := h.CountEvents(t, audit.EventPasswordChanged); n != 1 {
		t.Fatalf("password.changed rows = %d", n)
	}
}
