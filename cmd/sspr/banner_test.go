package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/config"
)

func TestWelcomeBanner(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		ui      config.UI
		want    string
		wantErr string
	}{
		{name: "sspr's own", ui: config.UI{}, want: assets.Banner()},
		{name: "the organisation's name", ui: config.UI{Organisation: "Contoso"}, want: "Contoso"},
		{name: "a banner file", ui: config.UI{Organisation: "Contoso", BannerFile: file("ok.txt", " ___\r\n|C o|  \r\n\n")},
			want: " ___\n|C o|"},
		{name: "escape sequences are dropped",
			ui:   config.UI{BannerFile: file("esc.txt", "\x1b]8;;https://evil.example\x07Contoso\x1b]8;;\x07 \x1b[31mIT\u202e\n")},
			want: "Contoso IT"},
		{name: "too wide", ui: config.UI{BannerFile: file("wide.txt", strings.Repeat("=", 77)+"\n")},
			wantErr: "ui.banner_file: line 1 is 77 columns wide; at most 76 fit"},
		{name: "too tall", ui: config.UI{BannerFile: file("tall.txt", strings.Repeat("x\n", 13))},
			wantErr: "has 13 lines; the welcome screen has room for 12"},
		{name: "too large", ui: config.UI{BannerFile: file("large.txt", strings.Repeat("x", 17<<10))},
			wantErr: "is larger than 16 KiB"},
		{name: "empty", ui: config.UI{BannerFile: file("empty.txt", "\n \n")}, wantErr: "the file is empty"},
		{name: "missing", ui: config.UI{BannerFile: filepath.Join(dir, "nosuch.txt")}, wantErr: "no such file"},
	} {
		got, err := welcomeBanner(tc.ui)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case got != tc.want:
			t.Errorf("%s: banner %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSenderName(t *testing.T) {
	cfg := config.Default()
	if got := senderName(cfg); got != "sspr" {
		t.Errorf("default sender %q", got)
	}
	cfg.UI.Organisation = "Contoso"
	if got := senderName(cfg); got != "Contoso" {
		t.Errorf("organisation's sender %q", got)
	}
	cfg.SMTP.FromName = "Contoso Helpdesk"
	if got := senderName(cfg); got != "Contoso Helpdesk" {
		t.Errorf("from_name %q", got)
	}
}
