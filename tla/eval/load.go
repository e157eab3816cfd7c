package eval

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/syntax"
)

// ErrUnknownName is wrapped by every resolution error (errors.Is).
var ErrUnknownName = errors.New("unknown name")

// ErrUnsupported is wrapped by every error about a construct the checker
// does not implement yet, so callers can exit with "bad input" (2).
var ErrUnsupported = errors.New("unsupported")

// ErrAssumption is wrapped when an ASSUME of the specification is false
// for the configuration's constants (verimeter check exits 10).
var ErrAssumption = errors.New("assumption failure")

// ErrDuplicate is wrapped when a module declares or defines a name twice,
// or a record constructor repeats a field.
var ErrDuplicate = errors.New("duplicate definition")

// ErrModuleNotFound is wrapped when an EXTENDS or INSTANCE names a module
// that is neither standard, nested, nor a file beside the specification.
var ErrModuleNotFound = errors.New("module not found")

// PosError is an error at a source position; it reads file:line:col: message.
type PosError struct {
	Pos  syntax.Pos
	Msg  string
	Kind error // ErrUnknownName, ErrDuplicate, ErrUnsupported or ErrModuleNotFound
}

func (e *PosError) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap lets errors.Is find the kind.
func (e *PosError) Unwrap() error { return e.Kind }

// library holds modules of TLC's library written in TLA+, read when a
// specification uses one and does not carry its own copy beside itself.
//
//go:embed lib/*.tla
var library embed.FS

// communityModules are the modules of tlaplus/CommunityModules, which TLC
// ships in its jar, and TLAPS: a specification that extends one we do not
// build in (lib/) and does not carry it beside itself is unsupported, not
// wrong.
var communityModules = map[string]bool{
	"BagsExt": true, "Bitwise": true, "CSV": true, "DifferentialEquations": true, "DyadicRationals": true,
	"FiniteSetsExt": true, "Folds": true, "Functions": true, "Graphs": true, "GraphViz": true, "HTML": true,
	"IOUtils": true, "Json": true, "SequencesExt": true, "Statistics": true, "SVG": true, "TLCExt": true,
	"UndirectedGraphs": true, "Relation": true, "Randomization": true, "VectorClocks": true, "Combinatorics": true,
	"ShiViz": true, "Trace": true, "TLAPS": true,
}

// MaxModules caps how many modules one specification may load.
const MaxModules = 256

// standard lists the operators of the built-in standard modules (Specifying
// Systems, chapter 18, and TLC's TLC module) and the modules each extends.
var standard = map[string]struct {
	extends []string
	names   []string
}{
	"Naturals":   {nil, []string{"Nat", "+", "-", "*", "^", "<", ">", "<=", ">=", "%", "\\div", ".."}},
	"Integers":   {[]string{"Naturals"}, []string{"Int", "-."}},
	"Reals":      {[]string{"Integers"}, []string{"Real", "/", "Infinity"}},
	"Sequences":  {[]string{"Naturals"}, []string{"Seq", "Len", "\\o", "Append", "Head", "Tail", "SubSeq", "SelectSeq"}},
	"FiniteSets": {[]string{"Naturals", "Sequences"}, []string{"IsFiniteSet", "Cardinality"}},
	"Bags": {[]string{"Naturals"}, []string{"IsABag", "BagToSet", "SetToBag", "BagIn", "EmptyBag", "\\oplus",
		"\\ominus", "BagUnion", "\\sqsubseteq", "SubBag", "BagOfAll", "BagCardinality", "CopiesIn"}},
	"TLC": {[]string{"Naturals", "Sequences"}, []string{"Print", "PrintT", "Assert", "JavaTime", "TLCGet", "TLCSet",
		":>", "@@", "Permutations", "SortSeq", "RandomElement", "Any", "ToString", "TLCEval"}},
}

// builtins are names every module sees (TLA+ book, section 16.1).
var builtins = []string{"TRUE", "FALSE", "BOOLEAN", "STRING"}

// Spec is a loaded specification: the root module and every module it
// uses, by name.
type Spec struct {
	Root    *syntax.Module
	Modules map[string]*syntax.Module
	dir     string
	scopes  map[string]map[string]entry // exported names of each module
	// parsed holds the files read, in the order parsed (the root first);
	// processed the same files with every file after those it uses, as
	// SANY processes modules (reserveNames).
	parsed, processed []sourceFile
}

// sourceFile is a file of TLA+ read by Load.
type sourceFile struct {
	path string
	src  []byte
}

// Load parses the module in file and every module it uses. Modules are
// searched nested in the files already read, then as NAME.tla beside file;
// the standard modules are built in.
func Load(file string) (*Spec, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	root, err := syntax.ParseModule(file, src)
	if err != nil {
		return nil, err
	}
	s := &Spec{Root: root, Modules: map[string]*syntax.Module{}, dir: filepath.Dir(file),
		scopes: map[string]map[string]entry{}, parsed: []sourceFile{{file, src}}}
	s.addNested(root)
	if err := s.addFollowing(root); err != nil {
		return nil, err
	}
	if err := s.loadUses(root); err != nil {
		return nil, err
	}
	for _, f := range root.Following {
		if err := s.loadUses(f); err != nil {
			return nil, err
		}
	}
	s.processed = append(s.processed, s.parsed[0])
	return s, nil
}

// addFollowing registers the modules that follow m in its file.
func (s *Spec) addFollowing(m *syntax.Module) error {
	for _, f := range m.Following {
		if _, dup := s.Modules[f.Name]; dup {
			return &PosError{f.Pos, fmt.Sprintf("module %s defined twice", f.Name), ErrDuplicate}
		}
		s.addNested(f)
	}
	return nil
}

func (s *Spec) addNested(m *syntax.Module) {
	s.Modules[m.Name] = m
	for _, sub := range m.Submodules {
		s.addNested(sub)
	}
}

func (s *Spec) loadUses(m *syntax.Module) error {
	need := func(name string, pos syntax.Pos) error {
		if _, ok := standard[name]; ok {
			return nil
		}
		if _, ok := s.Modules[name]; ok {
			return nil
		}
		if len(s.Modules) >= MaxModules {
			return &PosError{pos, fmt.Sprintf("more than %d modules", MaxModules), ErrUnsupported}
		}
		path := filepath.Join(s.dir, name+".tla")
		src, err := os.ReadFile(path)
		if err != nil {
			// Modules of TLC's library we carry as TLA+ source (lib/).
			if lsrc, lerr := library.ReadFile("lib/" + name + ".tla"); lerr == nil {
				path, src, err = "(built in)/"+name+".tla", lsrc, nil
			}
		}
		if err != nil {
			if communityModules[name] {
				return &PosError{pos, fmt.Sprintf("unsupported: module %s of TLC's library is not built in (no %s)", name, path), ErrUnsupported}
			}
			return &PosError{pos, fmt.Sprintf("module %s not found (no %s)", name, path), ErrModuleNotFound}
		}
		sub, err := syntax.ParseModule(path, src)
		if err != nil {
			return err
		}
		if path == "(built in)/"+name+".tla" {
			overrideLibrary(sub)
		}
		s.parsed = append(s.parsed, sourceFile{path, src})
		s.addNested(sub)
		if err := s.addFollowing(sub); err != nil {
			return err
		}
		for _, f := range sub.Following {
			if err := s.loadUses(f); err != nil {
				return err
			}
		}
		if err := s.loadUses(sub); err != nil {
			return err
		}
		s.processed = append(s.processed, sourceFile{path, src})
		return nil
	}
	for _, e := range m.Extends {
		if err := need(e, m.Pos); err != nil {
			return err
		}
	}
	walk := func(units []any) error {
		for _, u := range units {
			var in *syntax.Instance
			switch u := u.(type) {
			case *syntax.Instance:
				in = u
			case *syntax.Def:
				in = u.Instance
			}
			if in != nil {
				if err := need(in.Module, in.Pos); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(m.Units); err != nil {
		return err
	}
	for _, in := range letInstances(m) {
		if err := need(in.Module, in.Pos); err != nil {
			return err
		}
	}
	for _, sub := range m.Submodules {
		if err := s.loadUses(sub); err != nil {
			return err
		}
	}
	// LET-level instances are not supported by TLA+; nothing more to load.
	return nil
}

// CheckConfig rejects configurations that ask for features the checker does
// not implement; every section of a .cfg is now supported, so it accepts all
// (kept so that callers can validate a configuration before loading a spec).
func CheckConfig(c *cfg.Config) error { return nil }
