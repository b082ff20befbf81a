package flows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// storeInAPI lists, as "Name" or "Type.Member", every exported name of the
// Go files in dir whose type mentions the store package: the API the TUI and
// the CLI would have to import the store to use.
func storeInAPI(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		local := ""
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "github.com/sspr-kiosk/sspr/store" {
				local = "store"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" {
			continue
		}
		mentions := func(n ast.Node) bool {
			seen := false
			ast.Inspect(n, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
						seen = true
					}
				}
				return !seen
			})
			return seen
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				name := d.Name.Name
				if d.Recv != nil {
					recv := receiverName(d.Recv.List[0].Type)
					if !ast.IsExported(recv) {
						continue
					}
					name = recv + "." + name
				}
				if mentions(d.Type) {
					found = append(found, name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							found = append(found, membersMentioning(s, mentions)...)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && s.Type != nil && mentions(s.Type) {
								found = append(found, n.Name)
							}
						}
					}
				}
			}
		}
	}
	slices.Sort(found)
	return found
}

// receiverName is the type a method is declared on.
func receiverName(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return receiverName(e.X)
	case *ast.IndexExpr:
		return receiverName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// membersMentioning names the exported fields and interface methods of a
// type that mention the store, or the type itself when it is neither a
// struct nor an interface and mentions it.
func membersMentioning(s *ast.TypeSpec, mentions func(ast.Node) bool) []string {
	var list *ast.FieldList
	switch tt := s.Type.(type) {
	case *ast.StructType:
		list = tt.Fields
	case *ast.InterfaceType:
		list = tt.Methods
	default:
		if mentions(s.Type) {
			return []string{s.Name.Name}
		}
		return nil
	}
	var found []string
	for _, field := range list.List {
		names := field.Names
		if len(names) == 0 { // embedded: its exported members are promoted
			if mentions(field.Type) {
				found = append(found, s.Name.Name+".(embedded)")
			}
			continue
		}
		for _, n := range names {
			if n.IsExported() && mentions(field.Type) {
				found = append(found, s.Name.Name+"."+n.Name)
			}
		}
	}
	return found
}

// TestAPISpeaksFlowsTypes: the TUI and the CLI use flows without importing
// the store. What is left takes the store once, where cmd opens it and
// wires the service.
func TestAPISpeaksFlowsTypes(t *testing.T) {
	wiring := []string{"Deps.DB", "NewBuiltinDirectory"}
	if got := storeInAPI(t, "."); !slices.Equal(got, wiring) {
		t.Errorf("exported names with store types: %v; want only the wiring %v", got, wiring)
	}
}
