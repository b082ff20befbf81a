package assets

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// Templates returns the message templates, rooted at their folder: for each
// message NAME, "NAME.txt.tmpl" (text/template; its first line is
// "Subject: ...") and "NAME.html.tmpl" (html/template).
func Templates() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		// fs.Sub fails only on an invalid path, and this one is a constant.
		panic(err)
	}
	return sub
}
