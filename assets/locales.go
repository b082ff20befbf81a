package assets

import (
	"embed"
	"io/fs"
)

//go:embed locales/*.yaml
var localeFiles embed.FS

// Locales returns the message catalogues, one YAML file per language named
// by its BCP 47 tag ("en.yaml", "pt-BR.yaml"), rooted at their folder.
// English is the source; every other file translates its keys.
func Locales() fs.FS {
	sub, err := fs.Sub(localeFiles, "locales")
	if err != nil {
		// fs.Sub fails only on an invalid path, and this one is a constant.
		panic(err)
	}
	return sub
}
