package gen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The generated files of the roles read as code written by hand would:
// no double negation, no declaration the package's production code does
// not use, and the helpers meant for tests (the symbolic cryptography, the
// reference stores) only in _test.go files, so a device build never links
// them. These tests read the files as committed; the staleness tests make
// them the generator's output.

// generatedFiles are the production files the generator writes, relative
// to the module root.
func generatedFiles() []string {
	files := []string{"statemachine/gen/internal/genexample/machine_gen.go"}
	for _, t := range Targets {
		files = append(files, t.Path)
	}
	return files
}

// parseDir parses the .go files of dir, test files too when tests is set.
func parseDir(t *testing.T, fset *token.FileSet, dir string, tests bool) map[string]*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ast.File{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") && !tests {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = f
	}
	return out
}

// unparen strips the parentheses around x.
func unparen(x ast.Expr) ast.Expr {
	for {
		p, ok := x.(*ast.ParenExpr)
		if !ok {
			return x
		}
		x = p.X
	}
}

// isNot reports whether x is a negation !y.
func isNot(x ast.Expr) bool {
	u, ok := unparen(x).(*ast.UnaryExpr)
	return ok && u.Op == token.NOT
}

// doubleNegations lists the negations in f that negate a negation (!!x,
// !(!x)) or a disjunction with a negated operand (!(!a || b), which is
// a && !b).
func doubleNegations(fset *token.FileSet, f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		u, ok := n.(*ast.UnaryExpr)
		if !ok || u.Op != token.NOT {
			return true
		}
		x := unparen(u.X)
		bad := isNot(x)
		if b, ok := x.(*ast.BinaryExpr); ok && b.Op == token.LOR {
			for _, d := range disjuncts(b) {
				bad = bad || isNot(d)
			}
		}
		if bad {
			out = append(out, fmt.Sprintf("%s: double negation", fset.Position(u.Pos())))
		}
		return true
	})
	return out
}

// disjuncts are the operands of a chain of ||.
func disjuncts(x ast.Expr) []ast.Expr {
	if b, ok := unparen(x).(*ast.BinaryExpr); ok && b.Op == token.LOR {
		return append(disjuncts(b.X), disjuncts(b.Y)...)
	}
	return []ast.Expr{x}
}

// TestGeneratedCodeHasNoDoubleNegation: no generated file, production or
// test, negates a negation.
func TestGeneratedCodeHasNoDoubleNegation(t *testing.T) {
	fset := token.NewFileSet()
	var bad []string
	for _, p := range generatedFiles() {
		dir := filepath.Join("../..", filepath.Dir(p))
		for path, f := range parseDir(t, fset, dir, true) {
			if ast.IsGenerated(f) || strings.HasSuffix(path, "_gen.go") {
				bad = append(bad, doubleNegations(fset, f)...)
			}
		}
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	if len(bad) > 0 {
		t.Errorf("generated code negates negations:\n%s", strings.Join(bad, "\n"))
	}
}

// testHelpers are the suffixes of the names RenderStoreTest writes for
// tests: they never appear in a production file.
var testHelpers = []string{"SymbolicCrypto", "MapStore", "Full"}

// TestGeneratedCodeDeclaresOnlyWhatProductionUses: every unexported
// top-level name a generated production file declares is used by the
// production code of its package (the generated file included), and no
// test helper (<M>SymbolicCrypto, <M>MapStore, <M>Full) is declared there:
// those belong in the generated _test.go file. Uses are found by name,
// without type information: a method receiver's type and the declaration
// itself are not uses. (Which exported names a role uses is the role's
// affair: a machine's API is generated whole.)
func TestGeneratedCodeDeclaresOnlyWhatProductionUses(t *testing.T) {
	var bad []string
	for _, p := range generatedFiles() {
		fset := token.NewFileSet()
		path := filepath.Join("../..", p)
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		files := parseDir(t, fset, filepath.Dir(path), false)
		gf := files[path]
		if gf == nil {
			t.Fatalf("%s is not among the package's files", path)
		}
		declared := map[*ast.Ident]bool{}
		var names []*ast.Ident
		for _, d := range gf.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names = append(names, d.Name)
				}
				declared[d.Name] = true
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names = append(names, s.Name)
						declared[s.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names = append(names, n)
							declared[n] = true
						}
					}
				}
			}
		}
		receivers := map[*ast.Ident]bool{}
		for _, f := range files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
					ast.Inspect(fd.Recv, func(n ast.Node) bool {
						if id, ok := n.(*ast.Ident); ok {
							receivers[id] = true
						}
						return true
					})
				}
			}
		}
		uses := map[string]int{}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && !declared[id] && !receivers[id] {
					uses[id.Name]++
				}
				return true
			})
		}
		for _, n := range names {
			for _, h := range testHelpers {
				if n.IsExported() && strings.HasSuffix(n.Name, h) {
					bad = append(bad, fmt.Sprintf("%s: %s is a test helper in a production file", fset.Position(n.Pos()), n.Name))
				}
			}
			if n.Name != "_" && !n.IsExported() && uses[n.Name] == 0 {
				bad = append(bad, fmt.Sprintf("%s: %s is declared and not used by the package's production code", fset.Position(n.Pos()), n.Name))
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("generated declarations without a production use:\n%s", strings.Join(bad, "\n"))
	}
}
