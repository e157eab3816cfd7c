package gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/verimeter/verimeter/tla/syntax"
)

// Target says which modules a role's machine file is generated from and
// where it goes.
type Target struct {
	Role string
	Path string // output file relative to the module root
	// TestPath is the _test.go file of the test helpers (RenderStoreTest:
	// reference stores, symbolic cryptography), written when a machine of
	// the role has a @store or calls a @crypto operator.
	TestPath string
	Package  string   // Go package name
	Modules  []string // spec modules, without .tla
	// Pending are modules with actions of the role that the spec does not
	// yet let the generator translate; Generate tries them and reports why
	// as diagnostics, so a fix in the spec shows up as soon as it lands.
	Pending []string
	// Unexported gives the machines' declarations unexported Go names
	// (channelParams, channelState, ...). A role's machines are driven by
	// the role's own code; its users call the role, so its exported API
	// stays what a deployment uses.
	Unexported bool
}

// Targets are the generated files. The meter is generated from the modules
// of its reading path (Channel: counters, sealing, key agreement, power
// loss; Collection: taking, sending and dropping acknowledged readings) and
// its command path (Commands); the gateway from its side of the channel
// (key agreement, the replay window, authentication through ChannelCrypto),
// its store-and-forward queue (Collection) and its command relay; the
// head-end from its ingest (signature through CollectionCrypto) and its
// command counter. Modules still pending for a role are listed in
// Pending (verimeter gen lists why); the composed model (System, marked
// @compose) is model-checked only and in no target.
var Targets = []Target{
	{Role: "meter", Path: "meter/machine_gen.go", TestPath: "meter/store_gen_test.go", Package: "meter", Modules: []string{"Channel", "Collection", "Commands", "Firmware", "Tamper"}, Unexported: true},
	{Role: "gateway", Path: "gateway/machine_gen.go", TestPath: "gateway/store_gen_test.go", Package: "gateway", Modules: []string{"Channel", "Collection", "Commands", "Tamper"}, Unexported: true},
	{Role: "headend", Path: "headend/machine_gen.go", TestPath: "headend/store_gen_test.go", Package: "headend", Modules: []string{"Collection", "Commands", "Market", "Tamper"}, Unexported: true},
}

// TargetFor returns the target that writes path (relative to the module root).
func TargetFor(path string) (Target, bool) {
	for _, t := range Targets {
		if t.Path == path {
			return t, true
		}
	}
	return Target{}, false
}

// File is one generated file.
type File struct {
	Path string // relative to the module root
	Src  []byte
}

// Generate builds every target from the modules in specDir. mut, when not
// nil, changes the generated code in one place (tests only). The
// diagnostics are convention violations found in the spec that do not stop
// generation; an error (file:line:col, one per line) means a target could
// not be generated.
func Generate(specDir string, mut *Mutation) ([]File, []Diag, error) {
	var files []File
	var diags []Diag
	for _, t := range Targets {
		src, ds, err := GenerateTarget(specDir, t, mut)
		diags = append(diags, ds...)
		if err != nil {
			return nil, diags, err
		}
		files = append(files, File{Path: t.Path, Src: src})
		if f, err := GenerateStoreTest(specDir, t); err != nil {
			return nil, diags, err
		} else if f != nil {
			files = append(files, *f)
		}
	}
	ds, err := uncovered(specDir, Targets)
	if err != nil {
		return nil, diags, err
	}
	diags = append(diags, ds...)
	return files, dedup(diags), nil
}

// uncovered checks the modules of specDir that no target generates: each
// must be marked `\* @compose` (it composes the others and is only
// model-checked, as System is), and its type annotations must still parse,
// so that the sequence charts and the auditor read well-formed types.
func uncovered(specDir string, targets []Target) ([]Diag, error) {
	paths, err := filepath.Glob(filepath.Join(specDir, "*.tla"))
	if err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	covered := map[string]bool{}
	for _, t := range targets {
		for _, m := range append(append([]string(nil), t.Modules...), t.Pending...) {
			covered[m] = true
		}
	}
	var diags []Diag
	for _, p := range paths {
		mod := strings.TrimSuffix(filepath.Base(p), ".tla")
		if covered[mod] {
			continue
		}
		file, src, err := readModule(specDir, mod)
		if err != nil {
			return nil, fmt.Errorf("gen: %w", err)
		}
		ann, ds := scanAnnotations(file, src)
		diags = append(diags, ds...)
		if ann.Compose == nil {
			if len(ann.Actions) > 0 {
				diags = append(diags, Diag{Pos: syntax.Pos{File: file, Line: 1, Col: 1}, Msg: fmt.Sprintf("module %s has role actions, but no target of statemachine/gen.Targets generates it and it is not marked `\\* @compose: reason`", mod)})
			}
			continue
		}
		for _, name := range sortedKeys(ann.Vars) {
			v := ann.Vars[name]
			if _, d := parseType(v.TypePos, v.Type, ann.Aliases); d != nil {
				diags = append(diags, *d)
			}
		}
	}
	return diags, nil
}

// GenerateTarget generates one role's file.
func GenerateTarget(specDir string, t Target, mut *Mutation) ([]byte, []Diag, error) {
	var ms []*Machine
	var diags []Diag
	for _, mod := range t.Modules {
		m, ds, err := LoadMachine(specDir, mod, t.Role)
		diags = append(diags, ds...)
		if err != nil {
			return nil, diags, err
		}
		m.Unexported = t.Unexported
		ms = append(ms, m)
	}
	src, err := Render(t.Package, ms, mut)
	if err != nil {
		return nil, diags, err
	}
	for _, mod := range t.Pending {
		m, ds, err := LoadMachine(specDir, mod, t.Role)
		diags = append(diags, ds...)
		if err == nil {
			_, err = Render(t.Package, []*Machine{m}, nil)
		}
		if err == nil {
			diags = append(diags, Diag{Pos: syntax.Pos{File: m.File, Line: 1, Col: 1}, Msg: fmt.Sprintf("the %s's machine of %s now translates: move it from Pending to Modules in statemachine/gen.Targets", t.Role, mod)})
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			diags = append(diags, pendingDiag(line, t.Role, mod))
		}
	}
	return src, diags, nil
}

// GenerateStoreTest generates the role's test helpers (nil when no machine
// of the role has a @store or calls a @crypto operator).
func GenerateStoreTest(specDir string, t Target) (*File, error) {
	var ms []*Machine
	for _, mod := range t.Modules {
		m, _, err := LoadMachine(specDir, mod, t.Role)
		if err != nil {
			return nil, err
		}
		m.Unexported = t.Unexported
		ms = append(ms, m)
	}
	src, err := RenderStoreTest(t.Package, ms)
	if err != nil || src == nil {
		return nil, err
	}
	if t.TestPath == "" {
		return nil, fmt.Errorf("gen: the %s's machines have test helpers (a @store, @crypto) but its target names no TestPath", t.Role)
	}
	return &File{Path: t.TestPath, Src: src}, nil
}

// pendingDiag turns an error line "file:line:col: msg" of a pending module
// back into a Diag, saying which role's machine it keeps from being generated.
func pendingDiag(line, role, mod string) Diag {
	d := Diag{Pos: syntax.Pos{File: "spec/" + mod + ".tla", Line: 1, Col: 1}, Msg: line}
	parts := strings.SplitN(line, ":", 4)
	if len(parts) == 4 {
		l, err1 := strconv.Atoi(parts[1])
		c, err2 := strconv.Atoi(parts[2])
		if err1 == nil && err2 == nil {
			d = Diag{Pos: syntax.Pos{File: parts[0], Line: l, Col: c}, Msg: strings.TrimSpace(parts[3])}
		}
	}
	d.Msg = fmt.Sprintf("%s (keeps the %s's machine of %s from being generated)", d.Msg, role, mod)
	return d
}

func dedup(ds []Diag) []Diag {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	seen := map[string]bool{}
	var out []Diag
	for _, d := range ds {
		if seen[d.String()] {
			continue
		}
		seen[d.String()] = true
		// A convention warning repeated as the reason a pending machine
		// is not generated is printed once, with that reason.
		if n := len(out); n > 0 && out[n-1].Pos == d.Pos && strings.HasPrefix(d.Msg, out[n-1].Msg) {
			out[n-1] = d
			continue
		}
		out = append(out, d)
	}
	return out
}

// Stale compares the generated files with those under root and returns the
// paths that differ. With write set it rewrites them instead.
func Stale(root string, files []File, write bool) ([]string, error) {
	var stale []string
	for _, f := range files {
		p := filepath.Join(root, f.Path)
		old, err := os.ReadFile(p)
		if err == nil && bytes.Equal(old, f.Src) {
			continue
		}
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		stale = append(stale, f.Path)
		if write {
			if err := os.WriteFile(p, f.Src, 0o644); err != nil {
				return nil, fmt.Errorf("gen: %w", err)
			}
		}
	}
	return stale, nil
}
