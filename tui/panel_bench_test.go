package tui

import (
	"context"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/store"
)

// seedPanelActivity appends n audit events of the kinds the insights count,
// spread over the last 30 days, in one transaction.
func seedPanelActivity(b testing.TB, h *harness, n int) {
	b.Helper()
	ctx := context.Background()
	kinds := []audit.Event{audit.EventPasswordReset, audit.EventPasswordChanged, audit.EventVerifyFailed, audit.EventBlockApplied}
	chain, err := audit.NewChain(h.Keys.AuditKey())
	if err != nil {
		b.Fatal(err)
	}
	err = h.DB.WithTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			at := h.Clock.Now().Add(-time.Duration(i%30)*24*time.Hour - time.Duration(i%600)*time.Second)
			if _, err := chain.Append(ctx, tx, audit.Entry{At: at, Event: kinds[i%len(kinds)], Actor: "seed",
				Target: fmt.Sprintf("user%06d", i), Source: "bench", Outcome: "ok"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPanel100k measures the admin panel over a store of 100,000 users
// (a third with an email, a fifth with an authenticator) and 5,000 events:
// each step is the key press, the store query it asks for, the result coming
// back and the screen drawn, as the program would do it.
//
//	go test ./tui/ -run '^$' -bench BenchmarkPanel100k -benchtime 50x
func BenchmarkPanel100k(b *testing.B) {
	h := newHarness(b)
	seedPanelUsers(b, h, 100_000)
	seedPanelActivity(b, h, 5_000)
	// A store in use has a short write-ahead log; one that has just taken
	// 100,000 users in one transaction has a long one until the next
	// checkpoint, and every read would look pages up in it.
	if _, err := h.DB.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	d := panelDriver(b, h, Options{Mode: ModeLocal, CostPerCall: 25, Currency: "USD"})
	press := func(msgs ...tea.Msg) {
		d.send(msgs...)
		_ = d.m.View()
	}

	b.Run("users-open", func(b *testing.B) {
		for b.Loop() {
			press(keyMsg("2"))
			b.StopTimer()
			press(keyMsg("1"))
			b.StartTimer()
		}
	})
	b.Run("users-page", func(b *testing.B) {
		press(keyMsg("2"))
		forward := true
		for b.Loop() {
			u := panelOf(d).tabs[1].(*usersTab)
			if forward && !u.page.HasNext || !forward && !u.page.HasPrev {
				forward = !forward
			}
			if forward {
				press(keyMsg("pgdown"))
			} else {
				press(tea.KeyPressMsg{Code: tea.KeyPgUp})
			}
		}
	})
	for _, search := range []struct{ name, base, key string }{
		// No user matches: the page query scans every user, the worst case.
		{"search-keystroke-nomatch", "zz", "q"},
		// A rare match: one user among 100,000.
		{"search-keystroke-rare", "user09999", "9"},
		// A common match: the page fills at once, the count still scans.
		{"search-keystroke-common", "person", "1"},
	} {
		b.Run(search.name, func(b *testing.B) {
			press(keyMsg("2"), keyMsg("/"))
			d.clear()
			d.typeText(search.base)
			typed := false
			for b.Loop() {
				if typed {
					press(keyMsg("backspace"))
				} else {
					press(tea.KeyPressMsg{Code: rune(search.key[0]), Text: search.key})
				}
				typed = !typed
			}
			b.StopTimer()
			press(keyMsg("enter"))
		})
	}
	b.Run("insights", func(b *testing.B) {
		for b.Loop() {
			press(keyMsg("4"))
		}
		if r := panelOf(d).tabs[3].(*insightsTab).report; r == nil || r.Coverage.Users < 100_000 {
			b.Fatalf("insights: %+v", r)
		}
	})
	b.Run("policy-whatif-keystroke", func(b *testing.B) {
		// Days before re-confirm between 3 and 30: every keystroke is a
		// valid new value, and each asks what it would mean.
		panelEditPolicy(d, "reconfirm_days", "3")
		typed := false
		for b.Loop() {
			if typed {
				press(keyMsg("backspace"))
			} else {
				press(tea.KeyPressMsg{Code: '0', Text: "0"})
			}
			typed = !typed
		}
		b.StopTimer()
		press(keyMsg("esc"))
	})
}
