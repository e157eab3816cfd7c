package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/verimeter/verimeter"

// roles are the packages whose exported API this test keeps to what a
// deployment uses.
var roles = []string{module + "/meter", module + "/gateway", module + "/headend"}

// simulationPackages are the packages (and everything below them) whose
// uses of a role do not count: the fuzz targets and the adversary campaign,
// the simulated world, the WAN fault injector of the tests.
var simulationPackages = []string{module + "/fuzz", module + "/internal/sim", module + "/internal/faultproxy"}

// simulationFiles are the files of cmd/verimeter whose uses of a role do
// not count: the demo (the whole system in one process, with a simulated
// medium and an attacker) and the attack command (the adversary campaign's
// front end). The other commands are what a deployment runs.
func simulationFile(pkg, file string) bool {
	if pkg != module+"/cmd/verimeter" {
		return false
	}
	base := filepath.Base(file)
	return strings.HasPrefix(base, "demo") || base == "attack.go"
}

// allowed lists exported names kept although no production code outside
// their package uses them, grouped by the reason a reviewer can weigh. A
// name "T.*" covers the fields and methods of type T. An entry that no
// longer names an unused exported name fails the test too, so the list
// only shrinks.
var allowed = []struct {
	reason string
	names  []string
}{}

// allowedFor returns the reason an exported name is kept, if any, and the
// entry that keeps it.
func allowedFor(label string) (reason, entry string) {
	for _, g := range allowed {
		for _, n := range g.names {
			if n == label || (strings.HasSuffix(n, ".*") && strings.HasPrefix(label, strings.TrimSuffix(n, "*")) && !strings.Contains(strings.TrimPrefix(label, strings.TrimSuffix(n, "*")), ".")) {
				return g.reason, n
			}
		}
	}
	return "", ""
}

// listed is what `go list -json` tells of one package.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Deps       []string
}

func goList(t *testing.T) []listed {
	t.Helper()
	// -pgo=off: the packages as written; with cmd/verimeter's default.pgo,
	// go list reports each of its dependencies a second time, as the
	// variant compiled with the profile ("headend [.../cmd/verimeter]").
	args := []string{"list", "-pgo=off", "-deps", "-export", "-json=ImportPath,Dir,GoFiles,Export,Deps", "./..."}
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func inModule(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

func under(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// sourceImporter returns the packages it type-checked from source and
// reads every other one from the compiler's export data, so that the role
// objects a user refers to are the very objects the role declared.
type sourceImporter struct {
	src map[string]*types.Package
	gc  types.Importer
}

func (i sourceImporter) Import(path string) (*types.Package, error) {
	if p, ok := i.src[path]; ok {
		return p, nil
	}
	return i.gc.Import(path)
}

// checked is one package type-checked from source.
type checked struct {
	path  string
	pkg   *types.Package
	info  *types.Info
	files []*ast.File
}

// load type-checks from source the roles and every module package that
// depends on one (production files only), in dependency order.
func load(t *testing.T) (*token.FileSet, []checked) {
	t.Helper()
	pkgs := goList(t)
	exports := map[string]string{}
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	gc := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	imp := sourceImporter{src: map[string]*types.Package{}, gc: gc}
	var out []checked
	for _, p := range pkgs { // go list -deps lists dependencies first
		if !inModule(p.ImportPath) {
			continue
		}
		if !slices.Contains(roles, p.ImportPath) && !slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(p.Deps, r) }) {
			continue
		}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		tp, err := conf.Check(p.ImportPath, fset, files, info)
		if err != nil {
			t.Fatalf("type-checking %s: %v", p.ImportPath, err)
		}
		imp.src[p.ImportPath] = tp
		out = append(out, checked{path: p.ImportPath, pkg: tp, info: info, files: files})
	}
	return fset, out
}

// api is one exported name of a role: a package-level name, a method of an
// exported type, or a field of an exported struct type.
type api struct {
	label string // gateway.Gateway.Flush
	kind  string // "name", "method", "field"
	obj   types.Object
	recv  *types.Named // the type of a method or a field
}

func exported(pkg *types.Package) []api {
	var out []api
	short := pkg.Name()
	scope := pkg.Scope()
	for _, n := range scope.Names() {
		obj := scope.Lookup(n)
		if !obj.Exported() {
			continue
		}
		out = append(out, api{label: short + "." + n, kind: "name", obj: obj})
		tn, ok := obj.(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		named, ok := tn.Type().(*types.Named)
		if !ok {
			continue
		}
		for i := range named.NumMethods() {
			m := named.Method(i)
			if m.Exported() {
				out = append(out, api{label: short + "." + n + "." + m.Name(), kind: "method", obj: m, recv: named})
			}
		}
		if st, ok := named.Underlying().(*types.Struct); ok {
			for i := range st.NumFields() {
				f := st.Field(i)
				if f.Exported() {
					out = append(out, api{label: short + "." + n + "." + f.Name(), kind: "field", obj: f, recv: named})
				}
			}
		}
	}
	return out
}

func origin(obj types.Object) types.Object {
	switch o := obj.(type) {
	case *types.Func:
		return o.Origin()
	case *types.Var:
		return o.Origin()
	}
	return obj
}

// interfaces returns the named interfaces of every package the checked
// ones reach, the simulation's excepted, and error.
func interfaces(checked []checked) []*types.Named {
	out := []*types.Named{types.Universe.Lookup("error").Type().(*types.Named)}
	seen := map[*types.Package]bool{}
	var walk func(p *types.Package)
	walk = func(p *types.Package) {
		if seen[p] {
			return
		}
		seen[p] = true
		if under(p.Path(), simulationPackages) {
			return
		}
		for _, n := range p.Scope().Names() {
			tn, ok := p.Scope().Lookup(n).(*types.TypeName)
			if !ok {
				continue
			}
			named, ok := tn.Type().(*types.Named)
			if !ok || named.TypeParams().Len() > 0 {
				continue
			}
			if _, ok := named.Underlying().(*types.Interface); ok {
				out = append(out, named)
			}
		}
		for _, q := range p.Imports() {
			walk(q)
		}
	}
	for _, c := range checked {
		walk(c.pkg)
	}
	return out
}

// TestRolesExportOnlyWhatADeploymentUses lists the exported API of each
// role and fails on every name that no production code outside the role
// uses. A method counts as used when production code calls it, or when its
// type satisfies an interface of another package that has it (the standard
// library's error and fmt.Stringer, the WAN contract, a handler) or one of
// the role's own interfaces whose method production code calls.
func TestRolesExportOnlyWhatADeploymentUses(t *testing.T) {
	fset, pkgs := load(t)
	prodUses := map[types.Object]bool{}    // by production code outside the declaring package
	simUses := map[types.Object][]string{} // by the simulation: which files
	ifaceCalls := map[types.Object]bool{}  // interface methods production code calls
	for _, c := range pkgs {
		sim := under(c.path, simulationPackages)
		for id, obj := range c.info.Uses {
			if obj.Pkg() == nil {
				continue
			}
			obj = origin(obj)
			file := fset.Position(id.Pos()).Filename
			simFile := sim || simulationFile(c.path, file)
			if f, ok := obj.(*types.Func); ok && !simFile {
				if sig := f.Type().(*types.Signature); sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
					ifaceCalls[obj] = true
				}
			}
			if obj.Pkg() == c.pkg {
				continue
			}
			if simFile {
				rel := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file)
				if !slices.Contains(simUses[obj], rel) {
					simUses[obj] = append(simUses[obj], rel)
				}
				continue
			}
			prodUses[obj] = true
		}
	}
	ifaces := interfaces(pkgs)
	satisfies := func(a api) bool {
		m := a.obj.(*types.Func)
		for _, in := range ifaces {
			it := in.Underlying().(*types.Interface)
			idx := -1
			for i := range it.NumMethods() {
				if it.Method(i).Name() == m.Name() {
					idx = i
				}
			}
			if idx < 0 {
				continue
			}
			if !types.Implements(a.recv, it) && !types.Implements(types.NewPointer(a.recv), it) {
				continue
			}
			if in.Obj().Pkg() != a.recv.Obj().Pkg() || ifaceCalls[it.Method(idx)] {
				return true
			}
		}
		return false
	}

	// A type production code receives or passes through a used function,
	// method, field or variable is used even where no code names it
	// (meter.New's *Meter): mark the named types of their signatures.
	var roleAPI []api
	for _, c := range pkgs {
		if slices.Contains(roles, c.path) {
			roleAPI = append(roleAPI, exported(c.pkg)...)
		}
	}
	for _, a := range roleAPI {
		_, entry := allowedFor(a.label)
		if _, isType := a.obj.(*types.TypeName); (entry != "" && !isType) || prodUses[a.obj] || (a.kind == "method" && satisfies(a)) {
			markTypes(a.obj.Type(), prodUses, map[types.Type]bool{})
		}
		if prodUses[a.obj] || (a.kind == "method" && satisfies(a)) {
			prodUses[a.obj] = true
		}
	}

	used := map[string]bool{}
	for _, c := range pkgs {
		if !slices.Contains(roles, c.path) {
			continue
		}
		names := exported(c.pkg)
		counts := map[string]int{}
		kept := 0
		var unused []string
		for _, a := range names {
			counts[a.kind]++
			if prodUses[a.obj] || enumOfUsedType(a.obj, prodUses) || returnedError(a.obj, c) {
				continue
			}
			if reason, entry := allowedFor(a.label); entry != "" {
				used[entry] = true
				kept++
				t.Logf("%s kept: %s", a.label, reason)
				continue
			}
			why := "used by no code outside its package"
			if files := simUses[a.obj]; len(files) > 0 {
				sort.Strings(files)
				why = "used only by the simulation: " + strings.Join(files, ", ")
			}
			pos := fset.Position(a.obj.Pos())
			where := fmt.Sprintf("%s/%s:%d:%d", filepath.Base(filepath.Dir(pos.Filename)), filepath.Base(pos.Filename), pos.Line, pos.Column)
			unused = append(unused, fmt.Sprintf("%s: %s (%s): %s", where, a.label, a.kind, why))
		}
		t.Logf("%s exports %d names, %d methods, %d fields; %d kept by allowed, %d unused", c.pkg.Name(), counts["name"], counts["method"], counts["field"], kept, len(unused))
		for _, u := range unused {
			t.Errorf("%s", u)
		}
	}
	for _, g := range allowed {
		for _, n := range g.names {
			if !used[n] {
				t.Errorf("allowed lists %s, which production code now uses or which no longer exists", n)
			}
		}
	}
}

// markTypes marks as used every named type t is built from.
func markTypes(t types.Type, used map[types.Object]bool, seen map[types.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		used[t.Obj()] = true
		for i := range t.TypeArgs().Len() {
			markTypes(t.TypeArgs().At(i), used, seen)
		}
	case *types.Pointer:
		markTypes(t.Elem(), used, seen)
	case *types.Slice:
		markTypes(t.Elem(), used, seen)
	case *types.Array:
		markTypes(t.Elem(), used, seen)
	case *types.Map:
		markTypes(t.Key(), used, seen)
		markTypes(t.Elem(), used, seen)
	case *types.Chan:
		markTypes(t.Elem(), used, seen)
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				markTypes(tup.At(i).Type(), used, seen)
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			markTypes(t.Field(i).Type(), used, seen)
		}
	}
}

// enumOfUsedType reports whether obj is a constant of a named type of its
// package that production code uses (meter.Breaker's BreakerOpen): the
// values a caller compares a result with belong to the result's type.
func enumOfUsedType(obj types.Object, used map[types.Object]bool) bool {
	c, ok := obj.(*types.Const)
	if !ok {
		return false
	}
	named, ok := c.Type().(*types.Named)
	return ok && named.Obj().Pkg() == c.Pkg() && used[named.Obj()]
}

// returnedError reports whether obj is an error sentinel (an exported
// variable of type error) that its own package's production code uses,
// that is returns or wraps: it is the contract of the package's functions,
// by which a caller tells their failures apart with errors.Is (gateway's
// Retryable, the head-end's HTTP status codes), even where the commands of
// cmd/verimeter only print the error. An error no production code uses at
// all is reported like any other name.
func returnedError(obj types.Object, c checked) bool {
	v, ok := obj.(*types.Var)
	if !ok || !types.Identical(v.Type(), types.Universe.Lookup("error").Type()) {
		return false
	}
	for _, o := range c.info.Uses {
		if o == obj {
			return true
		}
	}
	return false
}
