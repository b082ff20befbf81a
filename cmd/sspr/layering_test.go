package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// importersOf lists the Go files under root, tests left out, that import
// the package path.
func importersOf(t *testing.T, root, path string) []string {
	t.Helper()
	var found []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(file, ".go") || strings.HasSuffix(file, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == path {
				found = append(found, filepath.ToSlash(file))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestStoreOnlyWhereOpened: the command opens the store and hands it to
// flows; everything else speaks flows, and the TUI never sees the store.
func TestStoreOnlyWhereOpened(t *testing.T) {
	const store = "github.com/sspr-kiosk/sspr/store"
	if got, want := importersOf(t, ".", store), []string{"app.go"}; !slices.Equal(got, want) {
		t.Errorf("cmd/sspr files importing the store: %v; want only %v, which opens it", got, want)
	}
	if got := importersOf(t, "../../tui", store); len(got) != 0 {
		t.Errorf("tui files importing the store: %v", got)
	}
}
