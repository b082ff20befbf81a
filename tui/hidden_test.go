package tui

import (
	"context"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/invisible"
	"github.com/sspr-kiosk/sspr/store"
)

// Characters that a terminal would not show must not let one name pass for
// another. d.view checks every screen these tests draw for them as well.

// TestUsersTabShowsHiddenCharacters plants, as someone who can write the
// database would, a user the flows refuse: a name that reads "admin". The
// Users tab shows it written out, in the list and in full.
func TestUsersTabShowsHiddenCharacters(t *testing.T) {
	h := newHarness(t)
	h.exec(t, `INSERT INTO users (username, display_name, created_at, updated_at) VALUES (?, ?, 1, 1)`,
		"ad\u200bmin", "Ad\u200bmin\u00ad")
	d := panelDriver(t, h, Options{Mode: ModeLocal})
	d.keys("2")
	d.see("admin Ada Admin", "ad<U+200B>min Ad<U+200B>min<U+00") // the name cut to its column

	// A search typed with the hidden character finds the planted row
	// alone, and its page shows it written out.
	panelSearch(d, "ad\u200bmin")
	d.see("/ ad<U+200B>min", "1–1 of 1 matching", "ad<U+200B>min Ad<U+200B>min<U+00")
	d.keys("enter")
	d.see("ad<U+200B>min", "Name Ad<U+200B>min<U+00AD>")
	d.notSee("Ada Admin")
}

// TestAuditTabShowsHiddenCharacters: a sign-in typed as "alice" with a
// zero-width space fails like any unknown name, and the Audit tab shows the
// name it was tried with written out, not as "alice".
func TestAuditTabShowsHiddenCharacters(t *testing.T) {
	h := newHarness(t)
	d := kiosk(t, h)
	d.signIn(2, "alice\u200b") // alice's own password
	at[*signIn](d)
	d.see("alice<U+200B>")

	d = panelDriver(t, h, Options{Mode: ModeLocal})
	d.keys("3", "/")
	d.typeText("alice\u200b")
	d.keys("enter")
	d.see("Filter: user alice<U+200B>", "user.signin_failed alice<U+200B>")
	d.keys("enter")
	d.see("actor alice<U+200B> · target alice<U+200B>")
}

// TestResetIdentifyHiddenCharacter: a username typed with a zero-width
// space at the reset's first step shows written out in the field, and
// walks the decoy path: the same screens as an unknown name, nothing sent,
// nothing counted against the real account. Nothing says the name is odd.
func TestResetIdentifyHiddenCharacter(t *testing.T) {
	walk := func(name string) (views []string, h *harness) {
		h = newHarness(t)
		d := kiosk(t, h)
		d.keys("enter")
		in := at[*identify](d)
		d.typeText(name)
		if v := in.input.Value(); v != name {
			t.Fatalf("the field holds %+q, typed %+q", v, name)
		}
		d.see("› " + invisible.Spell(name)) // "alice<U+200B>" for the hidden one
		sent := h.Inbox.Count()
		d.keys("enter")
		at[*methods](d)
		snap := func() { views = append(views, maskedEmail.ReplaceAllString(d.view(), "x•••x@example.com")) }
		snap()
		d.sendEmailCode()
		snap()
		for _, v := range d.wrongCodes(2) {
			views = append(views, maskedEmail.ReplaceAllString(v, "x•••x@example.com"))
		}
		if n := h.Inbox.Count(); n != sent {
			t.Fatalf("%+q: %d messages sent", name, n-sent)
		}
		return views, h
	}
	hidden, h := walk("alice\u200b")
	unknown, _ := walk("zed")
	if len(hidden) != len(unknown) {
		t.Fatalf("%d screens for alice\\u200b, %d for zed", len(hidden), len(unknown))
	}
	for i := range hidden {
		if hidden[i] != unknown[i] {
			t.Errorf("screen %d differs:\nalice\\u200b:\n%s\nzed:\n%s", i, hidden[i], unknown[i])
		}
	}
	ctx := context.Background()
	for account, want := range map[string]int{"alice": 0, "alice\u200b": 2} {
		n, err := store.CountThrottleEvents(ctx, h.DB, store.ScopeAccount, account, store.EventFail, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%d failures counted against %+q, want %d", n, account, want)
		}
	}
	if flows.NormaliseUsername("alice\u200b") == "alice" {
		t.Fatal("normalising strips the hidden character: the name would reach alice")
	}
}
