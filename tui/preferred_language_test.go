package tui

import (
	"context"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/store"
)

// withJapanese is the embedded catalogue with a Japanese one holding only
// what these tests read; the real ja.yaml comes from a translator.
func withJapanese(t *testing.T) *locale.Catalogue {
	t.Helper()
	return flowstest.Catalogue(t, map[string]string{"ja.yaml": "language.name: 日本語\noverview.language: 言語\n" +
		"overview.language.saved: \"今後、sspr は{{.Language}}でご連絡します。\"\n"})
}

// languageKiosk is a kiosk whose service and screens both speak the test's
// Japanese, starting in English.
func languageKiosk(t *testing.T) (*harness, *driver) {
	t.Helper()
	cat := withJapanese(t)
	h := &harness{flowstest.New(t, flowstest.Options{Languages: cat})}
	h.seed(t)
	d := newDriver(t, h, Options{Mode: ModeKiosk, IdleTimeout: 120 * time.Second, DoneTimeout: 30 * time.Second,
		Languages: cat, Language: "en"})
	return h, d
}

func (d *driver) language() string { return d.m.env.p.Language().Code }

// storeLanguage stores a person's preferred language through the service.
func storeLanguage(t *testing.T, h *harness, name, code string) {
	t.Helper()
	info, err := h.Svc.SignIn(context.Background(), name, testPassword, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.SetLanguage(context.Background(), info.ID, code); err != nil {
		t.Fatal(err)
	}
	h.Svc.SignOut(info.ID)
}

// TestStoredLanguageAfterProof: a person whose stored language is Japanese
// is spoken to in Japanese from the moment their proof is taken, and the
// visit's own language is back once they are gone.
func TestStoredLanguageAfterProof(t *testing.T) {
	h, d := languageKiosk(t)
	storeLanguage(t, h, "alice", "ja")
	d.startReset("alice")
	d.sendEmailCode()
	if got := d.language(); got != "en" {
		t.Fatalf("before the proof the visit speaks %q", got)
	}
	d.typeText(h.Inbox.LastCode(t, "alice@example.com"))
	d.keys("enter")
	at[*newPassword](d)
	if got := d.language(); got != "ja" {
		t.Fatalf("after the proof the visit speaks %q, want ja", got)
	}
	d.keys("esc", "y")
	d.tick(2 * time.Minute)
	at[*welcome](d)
	if got := d.language(); got != "en" {
		t.Fatalf("the next visit speaks %q, want en", got)
	}
}

// TestStoredLanguageAtSignIn: signing in with a password is proof too.
func TestStoredLanguageAtSignIn(t *testing.T) {
	h, d := languageKiosk(t)
	storeLanguage(t, h, "carol", "ja")
	d.signIn(3, "carol")
	at[*overview](d)
	if got := d.language(); got != "ja" {
		t.Fatalf("after sign-in the visit speaks %q, want ja", got)
	}
}

// TestChooseLanguageInSecurityInfo: "Language" in security info shows the
// choice and opens the list; the one picked is stored, spoken from then
// on, and said so in it.
func TestChooseLanguageInSecurityInfo(t *testing.T) {
	h, d := languageKiosk(t)
	d.signIn(3, "erin")
	at[*overview](d)
	d.see("Language", "English")
	d.chooseItem("Language")
	at[*languagePicker](d)
	d.see("English", "日本語")
	d.keys("down", "enter")
	at[*overview](d)
	if got := d.language(); got != "ja" {
		t.Fatalf("the visit speaks %q, want ja", got)
	}
	d.see("言語", "今後、sspr は日本語でご連絡します。")
	if got, err := store.UserLanguage(context.Background(), h.DB, "erin"); err != nil || got != "ja" {
		t.Fatalf("stored %q, %v; want ja", got, err)
	}
}
