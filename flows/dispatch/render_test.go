package dispatch

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/assets"
)

func TestRenderEveryTemplate(t *testing.T) {
	at := time.Date(2025, 3, 1, 14, 5, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name    string
		data    any
		subject string
		want    []string
	}{
		{"code", CodeData{Organisation: "Contoso", Code: "12345678", Minutes: 10, DisplayName: "Alice Liddell", Purpose: "reset"},
			"Your Contoso verification code", []string{"12345678", "10 minutes", "reset your password"}},
		{"reset", ResetData{Organisation: "Contoso", DisplayName: "Alice", Time: at, Source: "kiosk-1", Helpdesk: "help@example.org"},
			"Your Contoso password was reset", []string{"Hello Alice", "1 Mar 2025 13:05 UTC", "kiosk-1", "help@example.org"}},
		{"reset", ResetData{Organisation: "sspr", DisplayName: "Alice", Time: at, Source: "kiosk-1", Changed: true},
			"Your sspr password was changed", []string{"was changed", "contact the helpdesk straight away."}},
		{"admin_reset", AdminResetData{Organisation: "Contoso", Admin: "root", Time: at, Source: "ssh 192.0.2.7:5122"},
			"Contoso: administrator root reset their password", []string{"root", "password self-service at Contoso", "ssh 192.0.2.7:5122", "13:05 UTC"}},
		{"info_changed", InfoChangedData{Organisation: "Contoso", DisplayName: "Alice", Method: "Authenticator app", Change: "added", Time: at,
			Source: "kiosk-1", Helpdesk: "https://help.example.org"},
			"Your Contoso security info changed", []string{"Authenticator app", "added", "https://help.example.org"}},
		{"hook_failed", map[string]any{"Organisation": "Contoso", "User": "alice", "Time": "Sat, 01 Mar 2025 13:05:00 UTC",
			"Source": "kiosk-1", "Reason": "exit status 4"},
			"Contoso: a system did not follow alice's new password", []string{"alice", "exit status 4", "kiosk-1", "hook.failed"}},
		// The flows pass maps, with the time already formatted.
		{"info_changed", map[string]any{"Organisation": "Contoso", "DisplayName": "Alice", "Method": "Email code", "Change": "removed",
			"Time": "Sat, 01 Mar 2025 13:05:00 UTC", "Source": "ssh", "Helpdesk": ""},
			"Your Contoso security info changed", []string{"Email code", "Sat, 01 Mar 2025 13:05:00 UTC"}},
		{"reset", map[string]any{"Organisation": "Contoso", "DisplayName": "Alice", "Time": "then", "Source": "ssh", "Helpdesk": "", "Changed": true},
			"Your Contoso password was changed", []string{"was changed on then"}},
	}
	for _, tt := range tests {
		m, err := Render(tt.name, tt.data)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if m.Subject != tt.subject {
			t.Errorf("%s: subject %q, want %q", tt.name, m.Subject, tt.subject)
		}
		if strings.Contains(m.Text, "Subject:") || strings.HasPrefix(m.Text, "\n") || !strings.HasSuffix(m.Text, "\n") {
			t.Errorf("%s: text %q", tt.name, m.Text)
		}
		if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") {
			t.Errorf("%s: html %q", tt.name, m.HTML)
		}
		for _, w := range tt.want {
			if !strings.Contains(m.Text, w) || !strings.Contains(m.HTML, w) {
				t.Errorf("%s: %q missing from text %q or html", tt.name, w, m.Text)
			}
		}
		if strings.Contains(m.Text, "<no value>") || strings.Contains(m.HTML, "<no value>") {
			t.Errorf("%s: a variable was missing", tt.name)
		}
	}
}

func TestRenderCodeFitsAnSMS(t *testing.T) {
	for _, purpose := range []string{"reset", "unlock", "admin", "register", "other"} {
		m, err := Render("code", CodeData{Organisation: "Contoso", Code: "12345678", Minutes: 10, DisplayName: strings.Repeat("Long Name ", 20), Purpose: purpose})
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(m.Text)); n >= 160 {
			t.Errorf("code SMS for %q is %d characters: %q", purpose, n, m.Text)
		}
		if strings.Contains(m.Text, "Long Name") {
			t.Error("the SMS text carries the display name")
		}
	}
}

func TestRenderEscapesAndCleans(t *testing.T) {
	m, err := Render("reset", ResetData{DisplayName: "<script>alert(1)</script>\x1b]8;;http://evil\x07click\u202e",
		Time: time.Unix(0, 0), Source: "kiosk\r\nBcc: victim@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("html not escaped: %s", m.HTML)
	}
	for _, s := range []string{m.Text, m.HTML, m.Subject} {
		if strings.ContainsAny(s, "\x1b\x07\r\u202e") {
			t.Errorf("control characters survived: %q", s)
		}
	}
	if _, err := Render("admin_reset", AdminResetData{Admin: "root\nBcc: x@y", Time: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	m, _ = Render("admin_reset", AdminResetData{Admin: "root\nBcc: x@y", Time: time.Unix(0, 0)})
	if strings.Contains(m.Subject, "\n") {
		t.Errorf("subject holds a newline: %q", m.Subject)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, name := range []string{"nope", "../config", "code.txt", ""} {
		if _, err := Render(name, nil); !errors.Is(err, ErrNoTemplate) {
			t.Errorf("Render(%q) = %v, want ErrNoTemplate", name, err)
		}
	}
	// A variable the caller forgot is an error, not "<no value>" in a mail.
	if _, err := Render("code", map[string]any{"Code": "1", "Minutes": 10}); err == nil {
		t.Error("Render with a missing variable succeeded")
	}
	if _, err := Render("code", struct{ Code string }{"1"}); err == nil {
		t.Error("Render with a struct lacking fields succeeded")
	}
}

// TestTemplatesHoldNoProse: every sentence of a message comes from the
// catalogue, so a template, its actions, tags and attributes taken away,
// holds no words of its own but the Subject line's name.
func TestTemplatesHoldNoProse(t *testing.T) {
	actions := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	markup := regexp.MustCompile(`(?s)<[^>]*>`)
	names, err := fs.Glob(assets.Templates(), "*.tmpl")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v, %v", names, err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(assets.Templates(), name)
		if err != nil {
			t.Fatal(err)
		}
		rest := markup.ReplaceAllString(actions.ReplaceAllString(string(b), ""), "")
		rest = strings.Replace(rest, "Subject:", "", 1)
		if i := strings.IndexFunc(rest, unicode.IsLetter); i >= 0 {
			t.Errorf("%s holds words of its own: %q", name, strings.TrimSpace(rest[i:min(len(rest), i+60)]))
		}
	}
}
