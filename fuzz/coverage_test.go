package fuzz

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// decoderName matches the exported functions and methods that take
// untrusted input by convention: they parse, decode, verify, open or decrypt.
var decoderName = regexp.MustCompile(`^(Unmarshal|Parse|Decode|Verify|Read|Open|Decrypt|Check|Handle|Ingest)`)

// exempt lists decoders without their own fuzz target, each with the reason.
var exempt = map[string]string{
	"protocol.ReadCertificate": "reads a PEM file the operator wrote; the DER inside goes through x509, fuzzed by FuzzCertificate",
	"protocol.ReadKey":         "reads the operator's own private key file",
	"protocol.ReadCRL":         "reads a PEM file the operator wrote; parsing is x509.ParseRevocationList",
	"protocol.VerifyImage":     "compares a SHA-256 digest and a length; no parsing",
	"plc.OpenSerial":           "opens a device path",
	"protocol.OpenFileStore":   "opens a file path; the record parsing is exercised by the torn-write and linearizability tests",
	"sim.CheckStep":            "selects the simulation's own report rows by a step name the scenario defines; no input from the field",
	"headend.OpenPostgres":     "takes the operator's connection string from its own configuration, not input from the field",
}

// takesInput reports whether a function has a parameter of a type that
// carries untrusted input: []byte, string, or io.Reader.
func takesInput(ft *ast.FuncType) bool {
	for _, p := range ft.Params.List {
		switch t := p.Type.(type) {
		case *ast.ArrayType:
			if id, ok := t.Elt.(*ast.Ident); ok && t.Len == nil && id.Name == "byte" {
				return true
			}
		case *ast.Ident:
			if t.Name == "string" {
				for _, n := range p.Names {
					if !strings.Contains(strings.ToLower(n.Name), "path") && !strings.Contains(strings.ToLower(n.Name), "dir") {
						return true
					}
				}
			}
		case *ast.SelectorExpr:
			if x, ok := t.X.(*ast.Ident); ok && x.Name == "io" && t.Sel.Name == "Reader" {
				return true
			}
		}
	}
	return false
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(r *ast.FieldList) bool {
	t := r.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if g, ok := t.(*ast.IndexExpr); ok {
		t = g.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// TestEveryDecoderHasAFuzzTarget walks the module: every exported decoder
// (by name and parameter type) must be called from the body of some FuzzXxx
// function, or be listed in exempt with a reason.
func TestEveryDecoderHasAFuzzTarget(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	decoders := map[string]string{} // pkg.Name -> position
	called := map[string]bool{}     // names called inside fuzz bodies
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		test := strings.HasSuffix(path, "_test.go")
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if test {
				if strings.HasPrefix(fd.Name.Name, "Fuzz") && fd.Body != nil {
					ast.Inspect(fd.Body, func(n ast.Node) bool {
						switch x := n.(type) {
						case *ast.SelectorExpr:
							called[x.Sel.Name] = true
						case *ast.Ident:
							called[x.Name] = true
						}
						return true
					})
				}
				continue
			}
			if fd.Recv != nil && !exportedRecv(fd.Recv) {
				continue
			}
			if f.Name.Name == "main" || !fd.Name.IsExported() || !decoderName.MatchString(fd.Name.Name) || !takesInput(fd.Type) {
				continue
			}
			decoders[f.Name.Name+"."+fd.Name.Name] = fset.Position(fd.Pos()).String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for name, pos := range decoders {
		if called[name[strings.IndexByte(name, '.')+1:]] {
			continue
		}
		if _, ok := exempt[name]; ok {
			continue
		}
		missing = append(missing, pos+": "+name)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("decoders without a fuzz target (add a FuzzXxx that calls each, or an exemption with a reason):\n%s", strings.Join(missing, "\n"))
	}
	if len(decoders) < 10 {
		t.Fatalf("found only %d decoders: the walk is broken", len(decoders))
	}
	t.Logf("%d decoders, each called from a fuzz target or exempt with a reason", len(decoders))
}
