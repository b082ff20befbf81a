package tui

import (
	"testing"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestDatabaseAwayMidReset: PostgreSQL stops while alice is typing the code
// she was sent. She reads that sspr can't reach its database and to try
// again in a minute, not that something went wrong with her code; when the
// server is back the same code, typed again, takes her on.
func TestDatabaseAwayMidReset(t *testing.T) {
	c := pgtest.NewCluster(t)
	h := &harness{flowstest.New(t, flowstest.Options{DSN: c.CreateDB(t)})}
	h.seed(t)
	d := kiosk(t, h)
	d.startReset("alice")
	d.sendEmailCode()
	code := h.Inbox.LastCode(t, "alice@example.com")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	d.typeText(code)
	d.keys("enter")
	at[*codeEntry](d)
	d.see("sspr can't reach its database right now, try again in a minute.")
	d.notSee("code is not right", "Something went wrong")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	d.clear()
	d.typeText(code)
	d.keys("enter")
	at[*newPassword](d)
}
