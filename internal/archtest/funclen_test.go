package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxFuncLines bounds the body of a hand-written function of the checker
// (tla/) and the generator (statemachine/). The TLA+ compiler and the
// generator are split the way go/types splits its checker: one dispatching
// switch, one function per construct family. A function that grows past
// this bound is a family that wants its own function, found when it is
// written rather than when a newcomer has to read 250 lines of cases.
const maxFuncLines = 100

// funcLenRoots are the trees whose functions are bounded.
var funcLenRoots = []string{"tla", "statemachine"}

// longFunc is a function body over maxFuncLines lines.
type longFunc struct {
	where string // file:line of the declaration
	name  string // package.Name, package.Recv.Name for a method
	lines int
}

// longFuncs returns every function of the non-test, non-generated .go
// files under root whose body is longer than maxFuncLines lines.
func longFuncs(t *testing.T, root string) []longFunc {
	t.Helper()
	var out []longFunc
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		if ast.IsGenerated(f) {
			return nil
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			n := fset.Position(fd.Body.Rbrace).Line - fset.Position(fd.Body.Lbrace).Line - 1
			if n <= maxFuncLines {
				continue
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return fmt.Errorf("relative path of %s: %w", p, err)
			}
			out = append(out, longFunc{
				where: fmt.Sprintf("%s:%d", filepath.ToSlash(rel), fset.Position(fd.Pos()).Line),
				name:  pkgName(root, rel) + "." + funcName(fd),
				lines: n,
			})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// pkgName is the import path, below the module, of the package of the file
// rel under root.
func pkgName(root, rel string) string {
	return filepath.ToSlash(filepath.Join(filepath.Base(root), filepath.Dir(rel)))
}

// funcName is fd's name, prefixed with its receiver's type for a method.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// TestCheckerAndGeneratorFunctionsAreShort: no hand-written function of
// tla/ or statemachine/ has a body over maxFuncLines lines.
func TestCheckerAndGeneratorFunctionsAreShort(t *testing.T) {
	var bad []string
	for _, r := range funcLenRoots {
		for _, f := range longFuncs(t, filepath.Join(root, r)) {
			bad = append(bad, fmt.Sprintf("%s/%s: %s has %d lines", r, f.where, f.name, f.lines))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		t.Errorf("functions over %d lines (split them by construct family):\n%s", maxFuncLines, strings.Join(bad, "\n"))
	}
}
