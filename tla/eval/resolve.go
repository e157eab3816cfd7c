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
	for _, c := range m.Constants {
		sc[c.Name] = entry{kind: kConstant}
	}
	for _, v := range m.Variables {
		sc[v.Name] = entry{kind: kVariable}
	}
	for _, u := range m.Units {
		switch u := u.(type) {
		case *syntax.Def:
			if u.Local && !withLocal {
				continue
			}
			if u.Instance != nil {
				sc[u.Name] = entry{kind: kInstance, module: u.Instance.Module}
			} else {
				sc[u.Name] = entry{kind: kDef}
			}
		case *syntax.Assume:
			if u.Name != "" {
				sc[u.Name] = entry{kind: kDef}
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
		r := &resolver{spec: s, global: sc}
		for _, u := range m.Units {
			if err := r.unit(u); err != nil {
				return err
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
	local  []string // bound names, innermost last
}

func (r *resolver) push(names ...string) int {
	n := len(r.local)
	r.local = append(r.local, names...)
	return n
}

func (r *resolver) pop(n int) { r.local = r.local[:n] }

func (r *resolver) lookup(name string) (entry, bool) {
	for i := len(r.local) - 1; i >= 0; i-- {
		if r.local[i] == name {
			return entry{kind: kBound}, true
		}
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
		if err := r.bounds(d.FnBounds); err != nil {
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

func (r *resolver) bounds(bs []syntax.Bound) error {
	// Sets are resolved before the names come into scope.
	for _, b := range bs {
		if b.Set != nil {
			if err := r.expr(b.Set); err != nil {
				return err
			}
		}
	}
	for _, b := range bs {
		r.push(b.Names...)
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
		return r.exprs(x.Args)
	case *syntax.Junction:
		return r.exprs(x.Items)
	case *syntax.If:
		return r.exprs([]syntax.Expr{x.Cond, x.Then, x.Else})
	case *syntax.Case:
		for _, a := range x.Arms {
			if err := r.exprs([]syntax.Expr{a.Cond, a.Val}); err != nil {
				return err
			}
		}
		return r.expr(x.Other)
	case *syntax.Let:
		mark := len(r.local)
		defer r.pop(mark)
		for _, d := range x.Defs {
			r.push(d.Name) // visible in later definitions and, if RECURSIVE, in itself
		}
		for _, d := range x.Defs {
			if err := r.def(d); err != nil {
				return err
			}
		}
		return r.expr(x.Body)
	case *syntax.Quant:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.Bounds); err != nil {
			return err
		}
		return r.expr(x.Body)
	case *syntax.SetEnum:
		return r.exprs(x.Elems)
	case *syntax.SetFilter:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds([]syntax.Bound{x.Bound}); err != nil {
			return err
		}
		return r.expr(x.Pred)
	case *syntax.SetMap:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.Bounds); err != nil {
			return err
		}
		return r.expr(x.Elem)
	case *syntax.Tuple:
		return r.exprs(x.Elems)
	case *syntax.FuncCons:
		mark := len(r.local)
		defer r.pop(mark)
		if err := r.bounds(x.Bounds); err != nil {
			return err
		}
		return r.expr(x.Body)
	case *syntax.FuncSet:
		return r.exprs([]syntax.Expr{x.Dom, x.Rng})
	case *syntax.Record:
		return r.exprs(x.Vals)
	case *syntax.RecordSet:
		return r.exprs(x.Sets)
	case *syntax.Except:
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
