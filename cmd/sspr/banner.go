package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// maxBannerBytes bounds what is read of ui.banner_file.
const maxBannerBytes = 16 << 10

// welcomeBanner is what the welcome screen shows above its menu: the
// organisation's banner file, else its name, else sspr's wordmark.
func welcomeBanner(cfg config.UI) (string, error) {
	if cfg.BannerFile == "" {
		if cfg.Organisation != "" {
			return sanitize.String(cfg.Organisation), nil
		}
		return assets.Banner(), nil
	}
	f, err := os.Open(cfg.BannerFile)
	if err != nil {
		return "", fmt.Errorf("ui.banner_file: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxBannerBytes+1))
	if err != nil {
		return "", fmt.Errorf("ui.banner_file: %w", err)
	}
	if len(raw) > maxBannerBytes {
		return "", fmt.Errorf("ui.banner_file: %s is larger than %d KiB", cfg.BannerFile, maxBannerBytes>>10)
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n \t"), "\n")
	if len(lines) > config.MaxBannerLines {
		return "", fmt.Errorf("ui.banner_file: %s has %d lines; the welcome screen has room for %d",
			cfg.BannerFile, len(lines), config.MaxBannerLines)
	}
	for i, l := range lines {
		// Text only: escape sequences and control characters would steer
		// every terminal that shows the welcome screen.
		l = strings.TrimRight(sanitize.String(l), " \t")
		if w := ansi.StringWidth(l); w > config.MaxBannerWidth {
			return "", fmt.Errorf("ui.banner_file: line %d is %d columns wide; at most %d fit", i+1, w, config.MaxBannerWidth)
		}
		lines[i] = l
	}
	banner := strings.Join(lines, "\n")
	if strings.TrimSpace(banner) == "" {
		return "", errors.New("ui.banner_file: the file is empty")
	}
	return banner, nil
}
