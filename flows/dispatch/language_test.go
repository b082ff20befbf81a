package dispatch

import (
	"io/fs"
	"mime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// jaCatalogue is the embedded catalogue with a Japanese one holding only
// the code message; the real ja.yaml comes from a translator.
func jaCatalogue(t *testing.T) *locale.Catalogue {
	t.Helper()
	en, err := fs.ReadFile(assets.Locales(), "en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ja := `language.name: 日本語
duration.minutes:
  other: "{{.Count}}分"
email.code.subject: "{{.Organisation}} の確認コード"
email.code.text.reset: "パスワードのリセット用コードは {{.Code}} です。有効期限は{{.Expires}}です。"
`
	cat, err := locale.Load(fstest.MapFS{"en.yaml": {Data: en}, "ja.yaml": {Data: []byte(ja)}})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestCodeEmailInJapanese: a code rendered in Japanese crosses a real SMTP
// conversation in Japanese, with Content-Language: ja; a language sspr
// does not speak renders in English.
func TestCodeEmailInJapanese(t *testing.T) {
	r, err := NewRenderer(jaCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.RenderIn("ja", "code", CodeData{Organisation: "Contoso", Code: "27182818", Minutes: 10, Purpose: "reset"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Language != "ja" || m.Text != "パスワードのリセット用コードは 27182818 です。有効期限は10分です。\n" {
		t.Fatalf("rendered in %q: %q", m.Language, m.Text)
	}
	m.Kind, m.Channel, m.To = KindCode, ChannelEmail, "aiko@example.com"
	ms := startMailServer(t, serverOptions{})
	if err := sendOne(t, newSMTP(t, smtpConfig(ms, TLSNone)), m); err != nil {
		t.Fatal(err)
	}
	got := ms.received()
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	p := parseMail(t, got[0].data)
	if cl := p.header.Get("Content-Language"); cl != "ja" {
		t.Errorf("Content-Language = %q, want ja", cl)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
	if err != nil || subject != "Contoso の確認コード" {
		t.Errorf("Subject = %q (%v)", subject, err)
	}
	if p.text != m.Text || !strings.Contains(p.html, `lang="ja"`) {
		t.Errorf("text %q, html %q", p.text, p.html)
	}

	en, err := r.RenderIn("xx", "code", CodeData{Organisation: "Contoso", Code: "27182818", Minutes: 10, Purpose: "reset"})
	if err != nil || en.Language != "en" || !strings.HasPrefix(en.Text, "27182818 is your code") {
		t.Errorf("unknown language: %q, %q, %v", en.Language, en.Text, err)
	}
}

// TestContentLanguageOnlyATag: a language read back from the store
// becomes a header only when it is a well-formed tag.
func TestContentLanguageOnlyATag(t *testing.T) {
	ms := startMailServer(t, serverOptions{})
	ch := newSMTP(t, smtpConfig(ms, TLSNone))
	for _, lang := range []string{"ja\r\nBcc: victim@example.org", "", "not a tag!"} {
		m := codeEmail(t, "alice@example.com", "31415926")
		m.Language = lang
		if err := sendOne(t, ch, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range ms.received() {
		p := parseMail(t, r.data)
		if cl := p.header.Get("Content-Language"); cl != "" || p.header.Get("Bcc") != "" {
			t.Errorf("Content-Language %q, Bcc %q", cl, p.header.Get("Bcc"))
		}
	}
}
