package gen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Target says which modules a role's machine file is generated from and
// where it goes.
type Target struct {
	Role    string
	Path    string   // output file relative to the module root
	Package string   // Go package name
	Modules []string // spec modules, without .tla
}

// Targets are the generated files. The meter is generated from the modules
// of its reading path (Channel: counters, sealing, power loss; Collection:
// taking readings) and its command path (Commands); Firmware is not yet
// (its MANIFEST alias is undefined, and it uses EXCEPT and IF over actions).
var Targets = []Target{
	{Role: "meter", Path: "meter/machine_gen.go", Package: "meter", Modules: []string{"Channel", "Collection", "Commands"}},
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
	}
	return files, dedup(diags), nil
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
		ms = append(ms, m)
	}
	src, err := Render(t.Package, ms, mut)
	return src, diags, err
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
		if !seen[d.String()] {
			seen[d.String()] = true
			out = append(out, d)
		}
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
