package tui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// pseudoCode is the tag of the pseudo language: English with every
// message marked ⟦…⟧, so that a word on a screen outside the marks did not
// come from the catalogue.
const pseudoCode = "eo"

// pseudoCatalogue is the embedded English with the pseudo language beside it.
func pseudoCatalogue(t testing.TB) *locale.Catalogue {
	t.Helper()
	raw, err := fs.ReadFile(assets.Locales(), "en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var msgs map[string]any
	if err := yaml.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	for id, v := range msgs {
		switch v := v.(type) {
		case string:
			msgs[id] = "⟦" + v + "⟧"
		case map[string]any:
			for form, s := range v {
				v[form] = "⟦" + s.(string) + "⟧"
			}
		}
	}
	msgs["language.name"] = "⟦Pseudo⟧"
	out, err := yaml.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := locale.Load(fstest.MapFS{"en.yaml": {Data: raw}, pseudoCode + ".yaml": {Data: out}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pseudo is an English message as the pseudo language writes it.
func pseudo(s string) string { return "⟦" + s + "⟧" }

// inPseudo is a kiosk visit in the pseudo language.
func inPseudo(t testing.TB, h *harness) *driver {
	return newDriver(t, h, Options{Mode: ModeKiosk, IdleTimeout: 120 * time.Second, DoneTimeout: 30 * time.Second,
		Languages: pseudoCatalogue(t), Language: pseudoCode})
}

// dataWords are words a registration screen shows that are the person's
// data or protocol text, never prose: addresses, key types, the link an
// authenticator app reads.
var dataWords = regexp.MustCompile(`[\w.+-]+@[\w.-]+|otpauth://\S+|SHA256:\S+|\b(?:ssh-)?ed25519\b|\bED25519\b`)

// assertCatalogueOnly fails when the body of the screen (between the title
// and the help bar) shows a word outside a ⟦…⟧ message, other than data.
func assertCatalogueOnly(t *testing.T, d *driver, extra ...string) {
	t.Helper()
	lines := strings.Split(stripPanel(d.view()), "\n")
	body := strings.Join(lines[1:len(lines)-1], "\n")
	var kept strings.Builder
	depth := 0
	for _, r := range body {
		switch {
		case r == '⟦':
			depth++
		case r == '⟧' && depth > 0:
			depth--
		case depth == 0:
			kept.WriteRune(r)
		}
	}
	rest := dataWords.ReplaceAllString(kept.String(), " ")
	for _, x := range extra {
		rest = strings.ReplaceAll(rest, x, " ")
	}
	if words := regexp.MustCompile(`\p{L}{2,}`).FindAllString(rest, -1); len(words) > 0 {
		t.Fatalf("%T shows words that are not from the catalogue %q:\n%s", d.m.top(), words, d.view())
	}
}

// TestSecurityInfoAllFromCatalogue walks the security-info screens in the
// pseudo language: every word of them comes from the catalogue, the menus,
// notes and questions included, and none is an ID left untranslated.
func TestSecurityInfoAllFromCatalogue(t *testing.T) {
	h := newHarness(t)
	carolWithCodes(t, h)
	d := inPseudo(t, h)
	d.signIn(3, "carol")
	at[*overview](d)
	d.see(pseudo("Your security info"), pseudo("set up"), pseudo("You can reset your password yourself."))
	assertCatalogueOnly(t, d)

	d.chooseItem(pseudo("Remove authenticator app"))
	d.see(pseudo("Remove authenticator app?") + " " + pseudo("(y/n)"))
	assertCatalogueOnly(t, d)
	d.keys("n")

	d.chooseItem(pseudo("Get new recovery codes"))
	d.see(pseudo("The recovery codes you have now stop working at once."))
	assertCatalogueOnly(t, d)
	d.keys("y")
	rc := at[*recoveryCodes](d)
	assertCatalogueOnly(t, d, rc.codes...)
	d.keys("y")
	at[*overview](d)
	d.see(pseudo("Recovery codes saved. Each one works once."))
	assertCatalogueOnly(t, d)

	d.chooseItem(pseudo("Change email address"))
	at[*registerContact](d)
	assertCatalogueOnly(t, d)
	d.clear()
	d.keys("enter")
	d.see(pseudo("Type the email address first."))
	assertCatalogueOnly(t, d)
	d.keys("esc")

	d.chooseItem(pseudo("Change authenticator app"))
	en := at[*enrolAuthenticator](d)
	assertCatalogueOnly(t, d, strings.Split(en.qr, "\n")...)
	d.keys("tab")
	d.see(pseudo("In your app, add an account by hand with this key:"))
	d.typeText("12")
	d.keys("enter")
	d.see(pseudo("Type the 6-digit code your app shows."))
	secret := groupedSecret.FindStringSubmatch(d.words())
	if secret == nil {
		t.Fatalf("no key on screen:\n%s", d.view())
	}
	assertCatalogueOnly(t, d, strings.Fields(secret[1])...)
	d.keys("esc")

	// The language can change while a screen is up (a stored preference,
	// after signing in): what it shows is written again in the new one.
	d.chooseItem(pseudo("Remove recovery codes"))
	d.keys("y")
	d.see(pseudo("Recovery codes removed."))
	d.m.env.p = locale.Embedded().Source()
	d.see("Recovery codes removed.", "Get recovery codes", "Remove authenticator app", "Your security info")
	d.notSee("⟦")
}

// TestQuestionsAndKeysAllFromCatalogue does the same for the security
// questions and SSH keys.
func TestQuestionsAndKeysAllFromCatalogue(t *testing.T) {
	h := newHarness(t)
	h.SetPolicy(t, "methods_allowed", "email,sms,questions,ssh_key")
	registerKey(t, h, "alice", fixedKey(t, 1))
	d := inPseudo(t, h)
	d.signIn(3, "alice")
	at[*overview](d)
	d.see(pseudo("1 of 5 keys"))
	assertCatalogueOnly(t, d, "alice@example.com")

	d.chooseItem(pseudo("Add security questions"))
	rq := at[*registerQuestions](d)
	// The questions themselves are the catalogue of another part.
	var qs []string
	for _, q := range rq.questions {
		qs = append(qs, strings.Fields(q.Value())...)
	}
	assertCatalogueOnly(t, d, qs...)
	d.keys("enter")
	d.see(pseudo("Answer 1 must be 3–40 characters."))
	assertCatalogueOnly(t, d, qs...)
	d.keys("esc")

	d.chooseItem(pseudo("Add or remove SSH keys"))
	at[*sshKeys](d)
	assertCatalogueOnly(t, d, "test")
	d.chooseItem(pseudo("Remove key 1"))
	d.see(pseudo("(y/n)"))
	assertCatalogueOnly(t, d, "test")
	d.keys("y")
	d.see(pseudo("No keys yet."))
	assertCatalogueOnly(t, d)
	d.chooseItem(pseudo("Paste a public key"))
	d.see("⟦Paste one line of your public key file")
	assertCatalogueOnly(t, d)
}

// TestOverviewWordsEveryMethod: every method a person registers has its
// overview sentences, each in the English catalogue.
func TestOverviewWordsEveryMethod(t *testing.T) {
	en := locale.Embedded().Source()
	for _, m := range policy.AllMethods() {
		if m.Describe().Issued {
			continue
		}
		w, ok := overviewWords[m]
		if !ok {
			t.Errorf("%s: no overview words", m)
			continue
		}
		for _, id := range []string{w.add, w.change, w.remove, w.removeConfirm, w.removed} {
			if !en.Has(id) {
				t.Errorf("%s: %q is not in the catalogue", m, id)
			}
		}
	}
}
