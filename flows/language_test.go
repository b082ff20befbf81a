package flows_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/store"
)

// jaTest is a Japanese catalogue holding only what these tests read; the
// rest falls back to English. The real ja.yaml comes from a translator.
const jaTest = `language.name: 日本語
format.time: "15:04"
format.date: "2006年1月2日"
format.datetime: "2006年1月2日 15:04"
duration.minutes:
  other: "{{.Count}}分"
email.when: "{{.Time}}（UTC）"
email.hello: "{{.Name}} 様"
email.code.subject: "{{.Organisation}} の確認コード"
email.code.text.reset: "パスワードのリセット用コードは {{.Code}} です。有効期限は{{.Expires}}です。このコードは誰にも教えないでください。"
email.code.intro.reset: "パスワードのリセット用コードは次のとおりです。"
email.code.expires: "有効期限は{{.Expires}}で、一度だけ使用できます。"
email.code.never_share: "このコードは誰にも教えないでください。ヘルプデスクがコードを尋ねることはありません。"
email.reset.subject: "{{.Organisation}} のパスワードがリセットされました"
email.reset.body: "{{.Time}}に{{.Source}}からパスワードがリセットされました。"
email.if_you: "ご自身による操作であれば、対応は不要です。"
email.if_not_you: "お心当たりがない場合は、直ちにヘルプデスクにご連絡ください。"
`

// withJapanese returns the embedded catalogues with the test's Japanese.
func withJapanese(t *testing.T) *locale.Catalogue {
	t.Helper()
	return flowstest.Catalogue(t, map[string]string{"ja.yaml": jaTest})
}

// wireMail is an email as it crossed the SMTP server, taken apart.
type wireMail struct {
	header mail.Header
	text   string
	html   string
}

func parseWire(t *testing.T, raw []byte) wireMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	w := wireMail{header: msg.Header}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		w.text = decodePart(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return w
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body := decodePart(t, p.Header.Get("Content-Transfer-Encoding"), p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			w.html = body
		} else {
			w.text = body
		}
	}
	return w
}

func decodePart(t *testing.T, encoding string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (w wireMail) subject(t *testing.T) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(w.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// languageHarness is a service whose email goes through a real SMTP
// server and whose text messages land in sms.
func languageHarness(t *testing.T, orgLanguage string) (*flowstest.Harness, *flowstest.MailServer, *flowstest.Inbox) {
	t.Helper()
	ms := flowstest.StartMailServer(t)
	sms := &flowstest.Inbox{}
	h := flowstest.New(t, flowstest.Options{Languages: withJapanese(t), Language: orgLanguage,
		Channels: func(*store.DB, clock.Clock) map[string]dispatch.Channel {
			ch, err := dispatch.NewSMTPChannel(dispatch.SMTPConfig{Host: ms.Host, Port: ms.Port, TLS: dispatch.TLSNone,
				From: "sspr@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			return map[string]dispatch.Channel{dispatch.ChannelEmail: ch, dispatch.ChannelSMS: sms}
		}})
	return h, ms, sms
}

// resetCode starts a reset for name and has a code sent by m.
func resetCode(t *testing.T, h *flowstest.Harness, name string, m policy.Method) string {
	t.Helper()
	rs := h.StartReset(t, name)
	h.SendCode(t, rs.FlowID, m)
	return rs.FlowID
}

// TestEmailInPreferredLanguage: a person who chose Japanese gets the
// emailed code in Japanese through a real SMTP server, marked
// Content-Language: ja, the texted code in Japanese, and the notice of the
// reset in Japanese too; the screens learn the language once they have
// proved who they are. Someone who chose nothing gets the organisation's
// language.
func TestEmailInPreferredLanguage(t *testing.T) {
	ctx := context.Background()
	h, ms, sms := languageHarness(t, "")
	for _, name := range []string{"aiko", "bob"} {
		h.AddUser(t, name, false)
		h.RegisterVerified(t, name, policy.Email, name+"@example.com")
		h.RegisterVerified(t, name, policy.SMS, "+15551234567")
	}
	if err := h.Svc.SetLanguage(ctx, h.SignIn(t, "aiko"), "ja_JP.UTF-8"); err != nil {
		t.Fatal(err)
	}
	if n := h.CountEvents(t, audit.EventLanguageChanged); n != 1 {
		t.Errorf("%d language changes audited, want 1", n)
	}

	flowID := resetCode(t, h, "aiko", policy.Email)
	msgs := ms.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want 1", len(msgs))
	}
	w := parseWire(t, msgs[0])
	if got := w.header.Get("Content-Language"); got != "ja" {
		t.Errorf("Content-Language = %q, want ja", got)
	}
	if got, want := w.subject(t), "sspr の確認コード"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	for _, part := range []string{w.text, w.html} {
		if !strings.Contains(part, "パスワードのリセット用コード") || !strings.Contains(part, "10分") ||
			strings.Contains(part, "expires") {
			t.Errorf("email not in Japanese:\n%s", part)
		}
	}
	// A reset's code is sent before the person proved anything: it names
	// nobody, as a decoy's would not.
	if !strings.Contains(w.html, `<html lang="ja">`) || strings.Contains(w.html, "様") {
		t.Errorf("html:\n%s", w.html)
	}
	code := strings.Fields(strings.TrimPrefix(w.text, "パスワードのリセット用コードは "))[0]
	prog, err := h.Svc.VerifyCode(ctx, flowID, policy.Email, code)
	if err != nil {
		t.Fatal(err)
	}
	if !prog.Done || prog.Language != "ja" {
		t.Errorf("proof: done %v, language %q; want the stored ja", prog.Done, prog.Language)
	}
	if err := h.Svc.CompleteReset(ctx, flowID, "a much longer passphrase 2026"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Dispatcher.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	msgs = ms.Messages()
	notice := parseWire(t, msgs[len(msgs)-1])
	if got := notice.header.Get("Content-Language"); got != "ja" ||
		notice.subject(t) != "sspr のパスワードがリセットされました" || !strings.Contains(notice.text, "（UTC）") {
		t.Errorf("reset notice: Content-Language %q, subject %q, text:\n%s", got, notice.subject(t), notice.text)
	}

	resetCode(t, h, "aiko", policy.SMS)
	if got := sms.Last(t); got.Language != "ja" || !strings.HasPrefix(got.Text, "パスワードのリセット用コードは ") {
		t.Errorf("sms in %q: %q", got.Language, got.Text)
	}

	// No preference: the organisation's language, here English.
	resetCode(t, h, "bob", policy.SMS)
	if got := sms.Last(t); got.Language != "en" || !strings.Contains(got.Text, "is your code to reset your password") {
		t.Errorf("sms in %q: %q", got.Language, got.Text)
	}
	resetCode(t, h, "bob", policy.Email)
	msgs = ms.Messages()
	if w := parseWire(t, msgs[len(msgs)-1]); w.header.Get("Content-Language") != "en" ||
		w.subject(t) != "Your sspr verification code" {
		t.Errorf("bob's email: Content-Language %q, subject %q", w.header.Get("Content-Language"), w.subject(t))
	}
}

// TestNoPreferenceGetsOrganisationLanguage: with ui.language Japanese,
// someone who chose nothing gets Japanese, and someone who chose English
// gets English.
func TestNoPreferenceGetsOrganisationLanguage(t *testing.T) {
	ctx := context.Background()
	h, _, sms := languageHarness(t, "ja")
	for _, name := range []string{"bob", "eve"} {
		h.AddUser(t, name, false)
		h.RegisterVerified(t, name, policy.SMS, "+15551234567")
	}
	if err := h.Svc.SetLanguage(ctx, h.SignIn(t, "eve"), "en"); err != nil {
		t.Fatal(err)
	}
	resetCode(t, h, "bob", policy.SMS)
	if got := sms.Last(t); got.Language != "ja" || !strings.Contains(got.Text, "リセット用コード") {
		t.Errorf("bob: sms in %q: %q", got.Language, got.Text)
	}
	resetCode(t, h, "eve", policy.SMS)
	if got := sms.Last(t); got.Language != "en" || !strings.Contains(got.Text, "is your code") {
		t.Errorf("eve: sms in %q: %q", got.Language, got.Text)
	}
}

// TestSetLanguage: only a language sspr speaks is stored; empty goes back
// to the organisation's; the signed-in person's session and overview say
// which.
func TestSetLanguage(t *testing.T) {
	ctx := context.Background()
	h, _, _ := languageHarness(t, "")
	h.AddUser(t, "aiko", false)
	sid := h.SignIn(t, "aiko")
	if err := h.Svc.SetLanguage(ctx, sid, "zz"); !errors.Is(err, flows.ErrInvalid) {
		t.Fatalf("zz: %v, want ErrInvalid", err)
	}
	if err := h.Svc.SetLanguage(ctx, "no-such-session", "ja"); err == nil {
		t.Fatal("a language set without a session")
	}
	if err := h.Svc.SetLanguage(ctx, sid, "ja"); err != nil {
		t.Fatal(err)
	}
	ov, err := h.Svc.Overview(ctx, sid)
	if err != nil || ov.Language != "ja" {
		t.Fatalf("overview language %q, %v", ov.Language, err)
	}
	info, err := h.Svc.SignIn(ctx, "aiko", flowstest.Password, flowstest.Source)
	if err != nil || info.Language != "ja" {
		t.Fatalf("sign-in language %q, %v", info.Language, err)
	}
	if err := h.Svc.SetLanguage(ctx, sid, ""); err != nil {
		t.Fatal(err)
	}
	if lang, err := store.UserLanguage(ctx, h.DB, "aiko"); err != nil || lang != "" {
		t.Fatalf("stored %q, %v; want the default", lang, err)
	}
}

// TestInfoChangedNamesTheMethod: the "security info changed" notice names
// the method and the change in words, never by catalogue ID.
func TestInfoChangedNamesTheMethod(t *testing.T) {
	ctx := context.Background()
	h := flowstest.New(t)
	h.AddUser(t, "erin", false)
	h.RegisterVerified(t, "erin", policy.Email, "erin@example.com")
	h.RegisterVerified(t, "erin", policy.SMS, "+15551234567")
	if err := h.Svc.RemoveMethod(ctx, h.SignIn(t, "erin"), policy.SMS); err != nil {
		t.Fatal(err)
	}
	rows, err := store.ListOutbox(ctx, h.DB, 0, 100)
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox: %d rows, %v", len(rows), err)
	}
	m := rows[len(rows)-1]
	for _, want := range []string{"Method: Text message code", "Change: removed your mobile number"} {
		if !strings.Contains(m.Body, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("notice lacks %q:\n%s\n%s", want, m.Body, m.HTML)
		}
	}
	if strings.Contains(m.Body+m.HTML, "method.") {
		t.Errorf("notice holds a catalogue ID:\n%s", m.Body)
	}
}
