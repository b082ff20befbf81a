package flowstest

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/sspr-kiosk/sspr/assets"
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// Catalogue returns the embedded English catalogue with more languages
// beside it: files maps a file name ("ja.yaml") to its YAML. Tests give a
// language only the messages they read, before its translation exists;
// the rest falls back to English.
func Catalogue(t testing.TB, files map[string]string) *locale.Catalogue {
	t.Helper()
	en, err := fs.ReadFile(assets.Locales(), "en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"en.yaml": {Data: en}}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	cat, err := locale.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
