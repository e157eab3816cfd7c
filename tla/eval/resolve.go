package eval

import (
	"fmt"

	"github.com/verimeter/verimeter/tla/syntax"
)

type entryKind uint8

const (
	kBuiltin entryKind = iota
	kConstant
	kVariable
	kDef
	kInstance // a named instance M == INSTANCE N: Module says which
	kBound    // parameter or bound identifier
)

type entry struct {
	kind   entryKind
	module string // for kInstance
}

// exported returns the names module name makes visible to a module that
// extends it: its constants, variables and non-LOCAL definitions, and those
// of the modules it extends or instances without a name.
func (s *Spec) exported(name string, pos syntax.Pos, depth int) (map[string]entry, error) {
	if sc, ok := s.scopes[name]; ok {
		return sc, nil
	}
	if depth > MaxModules {
		return nil, &PosError{pos, "modules extend each other in a cycle at " + name, ErrUnsupported}
	}
	sc := map[string]entry{}
	if std, ok := standard[name]; ok {
		for _, e := range std.extends {
			sub, err := s.exported(e, pos, depth+1)
			if err != nil {
				return nil, err
			}
			for k, v := range sub {
				sc[k] = v
			}
		}
		for _, n := range std.names {
			sc[n] = entry{kind: kBuiltin}
		}
		s.scopes[name] = sc
		return sc, nil
	}
	m, ok := s.Modules[name]
	if !ok {
		return nil, &PosError{pos, "module " + name + " not found", ErrModuleNotFound}
	}
	full, err := s.moduleScope(m, depth, false)
	if err != nil {
		return nil, err
	}
	s.scopes[name] = full
	return full, nil
}

// moduleScope builds the names visible inside m (withLocal) or exported by m.
func (s *Spec) moduleScope(m *syntax.Module, depth int, withLocal bool) (map[string]entry, error) {
	sc := map[string]entry{}
	for _, b := range builtins {
		sc[b] = entry{kind: kBuiltin}
	}
	for _, e := range m.Extends {
		sub, err := s.exported(e, m.Pos, depth+1)
		if err != nil {
			return nil, err
		}
		for k, v := range sub {
			sc[k] = v
		}
	}
	// A module may not declare or define a name twice, nor one it already
	// has from a module it extends (TLA+ book, section 17.5; SANY reports
	// "Multiple declarations or definitions").
	add := func(name string, pos syntax.Pos, e entry) error {
		if prev, dup := sc[name]; dup && !(prev.kind == e.kind && (e.kind == kConstant || e.kind == kVariable)) {
			return &PosError{pos, fmt.Sprintf("%s is already defined or declared", name), ErrDuplicate}
		}
		sc[name] = e
		return nil
	}
	for _, c := range m.Constants {
		if err := add(c.Name, c.Pos, entry{kind: kConstant}); err != nil {
			return nil, err
		}
	}
	for _, v := range m.Variables {
		if err := add(v.Name, v.Pos, entry{kind: kVariable}); err != nil {
			return nil, err
		}
	}
	for _, u := range m.Units {
		switch u := u.(type) {
		case *syntax.Def:
			if u.Local && !withLocal {
				continue
			}
			e := entry{kind: kDef}
			if u.Instance != nil {
				e = entry{kind: kInstance, module: u.Instance.Module}
			}
			if err := add(u.Name, u.Pos, e); err != nil {
				return nil, err
			}
		case *syntax.Assume:
			if u.Name != "" {
				if err := add(u.Name, u.Pos, entry{kind: kDef}); err != nil {
					return nil, err
				}
			}
		case *syntax.Instance:
			if u.Local && !withLocal {
				continue
			}
			sub, err := s.exported(u.Module, u.Pos, depth+1)
			if err != nil {
				return nil, err
			}
			target := s.Modules[u.Module]
			for k, v := range sub {
				if target != nil && (isDeclared(target, k)) {
					continue // constants and variables are substituted, not imported
				}
				sc[k] = v
			}
		}
	}
	for _, sub := range m.Submodules {
		sc[sub.Name] = entry{kind: kBuiltin}
	}
	return sc, nil
}

func isDeclared(m *syntax.Module, name string) bool {
	for _, c := range m.Constants {
		if c.Name == name {
			return true
		}
	}
	for _, v := range m.Variables {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Resolve checks every name in the root module and in every module it uses:
// each must be in scope. It returns the first error in source order.
func (s *Spec) Resolve() error {
	done := map[string]bool{}
	var visit func(m *syntax.Module) error
	visit = func(m *syntax.Module) error {
		if done[m.Name] {
			return nil
		}
		done[m.Name] = true
		sc, err := s.moduleScope(m, 0, true)
		if err != nil {
			return err
		}
		// TLA+ has no forward references: a module's own definition is in
		// scope only after it (or anywhere once declared RECURSIVE).
		r := &resolver{spec: s, global: sc, later: map[string]bool{}}
		for _, u := range m.Units {
			if d, ok := u.(*syntax.Def); ok && !contains(m.Recursive, d.Name) {
				r.later[d.Name] = true
			}
		}
		order := newDeclOrder(m, r.later)
		for _, u := range m.Units {
			order.reach(u, r.later)
			if err := r.unit(u); err != nil {
				return err
			}
			if d, ok := u.(*syntax.Def); ok {
				delete(r.later, d.Name)
			}
		}
		for _, sub := range m.Submodules {
			if err := visit(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(s.Root); err != nil {
		return err
	}
	for _, name := range sortedKeys(s.Modules) {
		if err := visit(s.Modules[name]); err != nil {
			return err
		}
	}
	return nil
}

type resolver struct {
	spec   *Spec
	global map[string]entry
	local  []string        // bound names, innermost last
	later  map[string]bool // own definitions not reached yet
}

func (r *resolver) push(names ...string) int {
	n := len(r.local)
	r.local = append(r.local, names...)
	return n
}

// bind brings bound identifiers into scope; TLA+ forbids reusing a name
// already in scope (TLA+ book, section 17.5; SANY: multiply-defined).
func (r *resolver) bind(pos syntax.Pos, names ...string) error {
	for i, n := range names {
		if _, ok := r.lookup(n); ok || contains(names[:i], n) {
			return &PosError{pos, fmt.Sprintf("%s is already defined; a bound identifier may not reuse it", n), ErrDuplicate}
		}
	}
	r.push(names...)
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// coreOps are the operators built into TLA+ itself; every other operator
// symbol must come from a module in scope (e.g. + from Naturals).
var coreOps = map[string]bool{
	"=": true, "/=": true, "\\in": true, "\\notin": true, "\\cup": true, "\\cap": true, "\\": true,
	"\\subseteq": true, "\\X": true, "/\\": true, "\\/": true, "=>": true, "<=>": true, "~": true,
	"'": true, "ENABLED": true, "UNCHANGED": true, "[]": true, "<>": true, "~>": true, "-+->": true,
	"\\cdot": true, "SUBSET": true, "UNION": true, "DOMAIN": true,
}

func (r *resolver) pop(n int) { r.local = r.local[:n] }

func (r *resolver) lookup(name string) (entry, bool) {
	for i := len(r.local) - 1; i >= 0; i-- {
		if r.local[i] == name {
			return entry{kind: kBound}, true
		}
	}
	if r.later[name] {
		return entry{}, false
	}
	e, ok := r.global[name]
	return e, ok
}

func (r *resolver) unit(u any) error {
	switch u := u.(type) {
	case *syntax.Def:
		return r.def(u)
	case *syntax.Assume:
		return r.expr(u.Expr)
	case *syntax.Instance:
		return r.instance(u)
	}
	return nil
}

func (r *resolver) def(d *syntax.Def) error {
	mark := len(r.local)
	defer r.pop(mark)
	for _, p := range d.Params {
		r.push(p.Name)
	}
	if d.Instance != nil {
		return r.instance(d.Instance)
	}
	if d.FnBounds != nil {
		if err := r.bounds(d.Pos, d.FnBounds); err != nil {
			return err
		}
		r.push(d.Name) // a recursive function refers to itself
	}
	return r.expr(d.Body)
}

// instance checks an INSTANCE: every substituted name is a constant or
// variable of the instanced module, every expression resolves here, and
// every constant or variable not substituted is in scope under its own
// name (implicit substitution, TLA+ book 17.5.5).
func (r *resolver) instance(in *syntax.Instance) error {
	target := r.spec.Modules[in.Module]
	if target == nil {
		if _, ok := standard[in.Module]; ok {
			return nil
		}
		return &PosError{in.Pos, "module " + in.Module + " not found", ErrModuleNotFound}
	}
	given := map[string]bool{}
	for _, sb := range in.Subst {
		if !isDeclared(target, sb.Name) {
			return &PosError{sb.Pos, fmt.Sprintf("%s is not a constant or variable of module %s", sb.Name, in.Module), ErrUnknownName}
		}
		given[sb.Name] = true
		if err := r.expr(sb.Expr); err != nil {
			return err
		}
	}
	for _, list := range [][]syntax.Decl{target.Constants, target.Variables} {
		for _, c := range list {
			if given[c.Name] {
				continue
			}
			if _, ok := r.lookup(c.Name); !ok {
				return &PosError{in.Pos, fmt.Sprintf("INSTANCE %s: no substitution for %s and no %s in scope", in.Module, c.Name, c.Name), ErrUnknownName}
			}
		}
	}
	return nil
}

func (r *resolver) bounds(pos syntax.Pos, bs []syntax.Bound) error {
	// Sets are resolved before the names come into scope.
	for _, b := range bs {
		if b.Set != nil {
			if err := r.expr(b.Set); err != nil {
				return err
			}
		}
	}
	for _, b := range bs {
		if err := r.bind(pos, b.Names...); err != nil {
			return err
		}
	}
	return nil
}

func (r *resolver) ref(x *syntax.Ref) error {
	first := x.Parts[0]
	e, ok := r.lookup(first.Name)
	if !ok {
		return &PosError{x.P, "unknown name " + first.Name, ErrUnknownName}
	}
	for _, a := range first.Args {
		if err := r.expr(a); err != nil {
			return err
		}
	}
	if len(x.Parts) == 1 {
		return nil
	}
	if e.kind == kInstance {
		sc, err := r.spec.exported(e.module, x.P, 0)
		if err != nil {
			return err
		}
		second := x.Parts[1]
		if _, ok := sc[second.Name]; !ok {
			return &PosError{x.P, fmt.Sprintf("module %s (instance %s) has no %s", e.module, first.Name, second.Name), ErrUnknownName}
		}
	}
	// Later parts are positional or label references (Inv!1, Inv!P0) or
	// names inside the instance; their arguments still resolve here.
	for _, p := range x.Parts[1:] {
		for _, a := range p.Args {
			if err := r.expr(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) exprs(es []syntax.Expr) error {
	for _, e := range es {
		if err := r.expr(e); err != nil {
			return err
		}
	}
	return nil
}

func (r *resolver) expr(e syntax.Expr) error {
	switch x := e.(type) {
	case nil:
		return nil
	case *syntax.Num, *syntax.Str, *syntax.AtSign, *syntax.OpArg:
		return nil
	case *syntax.Ref:
		return r.ref(x)
	case *syntax.OpApp:
		if !coreOps[x.Op] {
			if _, ok := r.lookup(x.Op); !ok {
				return &PosError{x.P, "unknown operator " + x.Op + " (missing EXTENDS?)", ErrUnknownName}
			}
		}
		return r.exprs(x.Args)
	case *syntax.Junction:
		return r.exprs(x.Items)
	case *syntax.If:
		return r.exprs([]syntax.Expr{x.Cond, x.Then, x.Else})
	case *syntax.Case:
		return r.caseExpr(x)
	case *syntax.Let:
		return r.letExpr(x)
	case *syntax.Quant:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.P, x.Bounds); err != nil {
			return err
		}
		return r.expr(x.Body)
	case *syntax.SetEnum:
		return r.exprs(x.Elems)
	case *syntax.SetFilter:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.P, []syntax.Bound{x.Bound}); err != nil {
			return err
		}
		return r.expr(x.Pred)
	case *syntax.SetMap:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.P, x.Bounds); err != nil {
			return err
		}
		return r.expr(x.Elem)
	case *syntax.Tuple:
		return r.exprs(x.Elems)
	case *syntax.FuncCons:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.P, x.Bounds); err != nil {
			return err
		}
		return r.expr(x.Body)
	case *syntax.FuncSet:
		return r.exprs([]syntax.Expr{x.Dom, x.Rng})
	case *syntax.Record:
		if err := uniqueFields(x.P, x.Fields); err != nil {
			return err
		}
		return r.exprs(x.Vals)
	case *syntax.RecordSet:
		if err := uniqueFields(x.P, x.Fields); err != nil {
			return err
		}
		return r.exprs(x.Sets)
	case *syntax.Except:
		return r.exceptExpr(x)
	case *syntax.Apply:
		if err := r.expr(x.Fn); err != nil {
			return err
		}
		return r.exprs(x.Args)
	case *syntax.Dot:
		return r.expr(x.Rec)
	case *syntax.Times:
		return r.exprs(x.Sets)
	case *syntax.BoxAction:
		return r.exprs([]syntax.Expr{x.Action, x.Sub})
	case *syntax.Fairness:
		return r.exprs([]syntax.Expr{x.Sub, x.Action})
	case *syntax.Lambda:
		mark := r.push(x.Params...)
		defer r.pop(mark)
		return r.expr(x.Body)
	case *syntax.Label:
		return r.expr(x.Body)
	}
	return &PosError{e.At(), fmt.Sprintf("unsupported expression %T", e), ErrUnsupported}
}

// uniqueFields rejects [a |-> 1, a |-> 2] and [a : S, a : T].
func uniqueFields(pos syntax.Pos, fields []string) error {
	for i, f := range fields {
		for _, g := range fields[:i] {
			if f == g {
				return &PosError{pos, "field " + f + " appears twice in a record constructor", ErrDuplicate}
			}
		}
	}
	return nil
}

// caseExpr resolves the arms of a CASE and its OTHER.
func (r *resolver) caseExpr(x *syntax.Case) error {
	for _, a := range x.Arms {
		if err := r.exprs([]syntax.Expr{a.Cond, a.Val}); err != nil {
			return err
		}
	}
	return r.expr(x.Other)
}

// letExpr resolves a LET's definitions, each in scope of the earlier ones,
// and its body in scope of them all.
func (r *resolver) letExpr(x *syntax.Let) error {
	mark := len(r.local)
	defer r.pop(mark)
	// A definition is visible in later ones; a RECURSIVE one also in
	// itself and in those before it.
	r.push(x.Recursive...)
	for _, d := range x.Defs {
		if err := r.def(d); err != nil {
			return err
		}
		if !contains(x.Recursive, d.Name) {
			r.push(d.Name)
		}
	}
	return r.expr(x.Body)
}

// exceptExpr resolves [f EXCEPT ![i]... = v, ...]: the function, every
// index of every path, every new value.
func (r *resolver) exceptExpr(x *syntax.Except) error {
	if err := r.expr(x.Fn); err != nil {
		return err
	}
	for _, u := range x.Updates {
		for _, k := range u.Path {
			if err := r.exprs(k.Index); err != nil {
				return err
			}
		}
		if err := r.expr(u.Val); err != nil {
			return err
		}
	}
	return nil
}
