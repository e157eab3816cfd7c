package eval

import (
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
)

// Instances are resolved at compile time. An instance of a module
// (M == INSTANCE N WITH ...) is a node of kind eScope in a chain of
// bindings: its definitions are eDef bindings whose bodies are compiled in
// the instance's scope, its constants and variables eSubst bindings whose
// substitutions are compiled, by name, in the scope where the INSTANCE is
// written (so that x' in the instance is the substitution primed). Names a
// root-level instance substitutes by themselves are left out, so that they
// fall through to the root's own.

// modScope is the names of one instance of a module.
type modScope struct {
	names map[string]*bind
	insts map[string]*bind // named instances without parameters inside it
}

// scopeOf returns the instance a chain of bindings is inside, if any.
func scopeOf(e *bind) *modScope {
	for s := e; s != nil; s = s.next {
		if s.kind == eScope {
			return s.mod
		}
	}
	return nil
}

// moduleClosure lists module name and the modules it extends or instances
// without a name (non-standard ones), extended ones first.
func (m *Machine) moduleClosure(name string, seen map[string]bool, out *[]*syntax.Module) error {
	if seen[name] {
		return nil
	}
	seen[name] = true
	if _, std := standard[name]; std {
		return nil
	}
	mod := m.spec.Modules[name]
	if mod == nil {
		return &PosError{m.spec.Root.Pos, "module " + name + " not found", ErrModuleNotFound}
	}
	for _, x := range mod.Extends {
		if err := m.moduleClosure(x, seen, out); err != nil {
			return err
		}
	}
	for _, u := range mod.Units {
		if in, ok := u.(*syntax.Instance); ok {
			if err := identitySubst(in); err != nil {
				return err
			}
			if err := m.moduleClosure(in.Module, seen, out); err != nil {
				return err
			}
		}
	}
	*out = append(*out, mod)
	return nil
}

// identitySubst accepts an unnamed INSTANCE only when its substitutions
// are x <- x (its names then simply join the instancing module's).
func identitySubst(in *syntax.Instance) error {
	for _, sb := range in.Subst {
		if !isIdentity(sb) {
			return unsupported(sb.Pos, "INSTANCE "+in.Module+" without a name and with substitutions")
		}
	}
	return nil
}

// isIdentity reports whether sb is x <- x.
func isIdentity(sb syntax.Subst) bool {
	r, ok := sb.Expr.(*syntax.Ref)
	return ok && len(r.Parts) == 1 && r.Parts[0].Name == sb.Name && r.Parts[0].Args == nil
}

// newScope instantiates module in.Module with in's substitutions, which are
// compiled in senv (nil: the root module).
func (m *Machine) newScope(in *syntax.Instance, senv *bind, depth int) (*bind, error) {
	if depth > MaxModules {
		return nil, unsupported(in.Pos, "instances nested too deeply")
	}
	sc := &modScope{names: map[string]*bind{}, insts: map[string]*bind{}}
	self := &bind{kind: eScope, mod: sc}
	var mods []*syntax.Module
	if err := m.moduleClosure(in.Module, map[string]bool{}, &mods); err != nil {
		return nil, err
	}
	given := map[string]syntax.Subst{}
	for _, sb := range in.Subst {
		given[sb.Name] = sb
	}
	over := m.modSubst[in.Module]
	vals := m.modValue[in.Module]
	ref := func(name string) syntax.Expr {
		return &syntax.Ref{Node: syntax.Node{P: in.Pos}, Parts: []syntax.RefPart{{Name: name}}}
	}
	for _, mod := range mods {
		for _, list := range [][]syntax.Decl{mod.Constants, mod.Variables} {
			for _, d := range list {
				if d.Arity > 0 {
					if sb, ok := given[d.Name]; ok {
						// Op <- LAMBDA p : e, or Op <- F: the definition
						// Op(p) == e, compiled where the INSTANCE is written.
						ps, body, err := operatorSubst(sb, d.Arity)
						if err != nil {
							return nil, err
						}
						sc.names[d.Name] = &bind{name: d.Name, kind: eDef, def: &syntax.Def{Pos: d.Pos, Name: d.Name, Params: ps, Body: body}, denv: senv}
						continue
					}
					if senv == nil && m.rootHas(d.Name) {
						continue // implicit substitution by the root's operator of that name
					}
					return nil, unsupported(d.Pos, "operator constant "+d.Name+" of an instanced module")
				}
				switch {
				case vals[d.Name] != nil && given[d.Name].Expr == nil:
					sc.names[d.Name] = &bind{name: d.Name, kind: eSubst, arg: ref(modValueName(in.Module, d.Name))}
				case given[d.Name].Expr != nil:
					sc.names[d.Name] = &bind{name: d.Name, kind: eSubst, arg: given[d.Name].Expr, argEnv: senv}
				case over[d.Name] != "":
					sc.names[d.Name] = &bind{name: d.Name, kind: eSubst, arg: ref(over[d.Name])}
				case senv == nil && m.rootHas(d.Name):
					// implicit substitution by the root's own name: fall through
				default:
					sc.names[d.Name] = &bind{name: d.Name, kind: eSubst, arg: ref(d.Name), argEnv: senv}
				}
			}
		}
	}
	for _, mod := range mods {
		for _, u := range mod.Units {
			d, ok := u.(*syntax.Def)
			if a, named := u.(*syntax.Assume); named && a.Def != nil {
				d, ok = a.Def, true // ASSUME Name == e: Name is e
			}
			if !ok {
				continue
			}
			if vals[d.Name] != nil {
				body := &syntax.Def{Name: d.Name, Pos: d.Pos, Body: ref(modValueName(in.Module, d.Name))}
				sc.names[d.Name] = &bind{name: d.Name, kind: eDef, def: body}
				continue
			}
			if o := over[d.Name]; o != "" {
				if rd, ok := m.defs[o]; ok {
					sc.names[d.Name] = &bind{name: d.Name, kind: eDef, def: rd}
					continue
				}
			}
			sc.names[d.Name] = &bind{name: d.Name, kind: eDef, def: d, denv: self}
		}
	}
	for _, mod := range mods {
		for _, u := range mod.Units {
			if d, ok := u.(*syntax.Def); ok && d.Instance != nil && len(d.Params) == 0 {
				if _, std := standard[d.Instance.Module]; std {
					continue
				}
				sub, err := m.newScope(d.Instance, self, depth+1)
				if err != nil {
					return nil, err
				}
				sc.insts[d.Name] = sub
			}
		}
	}
	return self, nil
}

func (m *Machine) rootHas(name string) bool {
	if _, ok := m.varIndex[name]; ok {
		return true
	}
	if _, ok := m.consts[name]; ok {
		return true
	}
	_, ok := m.defs[name]
	return ok
}

// buildRootInstances instantiates the root's named instances without
// parameters once (the Machine is read-only afterwards).
func (m *Machine) buildRootInstances() error {
	m.rootInsts = map[string]*bind{}
	for _, name := range sortedKeys(m.defs) {
		d := m.defs[name]
		if d.Instance == nil || len(d.Params) != 0 {
			continue
		}
		if _, std := standard[d.Instance.Module]; std {
			continue
		}
		sc, err := m.newScope(d.Instance, nil, 0)
		if err != nil {
			return err
		}
		m.rootInsts[name] = sc
	}
	return nil
}

// pathTarget is what a reference through instances or to a subexpression
// stands for: either a definition to call with args (written where the
// reference is) in denv, or an expression in xenv.
type pathTarget struct {
	def  *syntax.Def
	denv *bind
	args []syntax.Expr
	expr syntax.Expr
	xenv *bind
}

// argBinder binds d's parameters to args on top of denv.
type argBinder func(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv *bind) (*bind, error)

// resolvePath follows I!J!Op(args) through instances, and Def!n to the
// n-th conjunct or disjunct of a definition; env is the scope of the
// reference.
func (m *Machine) resolvePath(x *syntax.Ref, env *bind, bindArgs argBinder) (pathTarget, error) {
	first := x.Parts[0]
	var d *syntax.Def
	var denv *bind
	if b := findIn(env, first.Name); b != nil {
		switch {
		case b.kind == eDef:
			d, denv = b.def, b.denv
		case b.kind == eLet && b.def != nil && b.def.Instance != nil && b.argSc != nil:
			// LET I == INSTANCE M IN I!Op: instantiated below, its
			// implicit substitutions x <- x read where the LET is
			d, denv = b.def, b.argSc.env
		default:
			return pathTarget{}, unsupported(x.P, "reference "+first.Name+"!... to a bound name")
		}
	} else if rd, ok := m.defs[first.Name]; ok {
		d = rd
	} else {
		return pathTarget{}, evalErr(x.P, "unknown name %s", first.Name)
	}
	args := first.Args
	for i := 1; i < len(x.Parts); i++ {
		p := x.Parts[i]
		if d.Instance != nil {
			var inst *bind
			if len(d.Params) == 0 {
				if denv == nil {
					inst = m.rootInsts[d.Name]
				} else if sc := scopeOf(denv); sc != nil {
					inst = sc.insts[d.Name]
				}
			}
			if inst == nil {
				// parameterized (or not prepared): instantiate here
				ne, err := bindArgs(x.P, d, args, denv)
				if err != nil {
					return pathTarget{}, err
				}
				if inst, err = m.newScope(d.Instance, ne, 0); err != nil {
					return pathTarget{}, err
				}
			}
			b, ok := inst.mod.names[p.Name]
			if !ok || b.kind != eDef {
				return pathTarget{}, evalErr(x.P, "instance %s has no definition %s", d.Name, p.Name)
			}
			d, denv, args = b.def, b.denv, p.Args
			continue
		}
		n, err := strconv.Atoi(p.Name)
		if err != nil || len(args) != 0 || len(d.Params) != 0 || i != len(x.Parts)-1 {
			return pathTarget{}, unsupported(x.P, "subexpression reference "+first.Name+"!"+p.Name)
		}
		j, ok := unlabel(d.Body).(*syntax.Junction)
		if !ok || n < 1 || n > len(j.Items) {
			return pathTarget{}, unsupported(x.P, "subexpression reference "+first.Name+"!"+p.Name)
		}
		return pathTarget{expr: j.Items[n-1], xenv: denv}, nil
	}
	return pathTarget{def: d, denv: denv, args: args}, nil
}

// resolvePath at compile time: parameters are bound to arguments compiled
// in the caller's scope.
func (s scope) resolvePath(x *syntax.Ref) (pathTarget, error) {
	caller := s
	return s.c.m.resolvePath(x, s.env, func(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv *bind) (*bind, error) {
		if len(args) != len(d.Params) {
			return nil, evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args))
		}
		ne := denv
		for i, prm := range d.Params {
			if prm.Arity > 0 {
				return nil, unsupported(pos, "higher-order parameter "+prm.Name)
			}
			ne = &bind{name: prm.Name, kind: eParam, arg: args[i], argSc: &caller, next: ne}
		}
		return ne, nil
	})
}

// bindByName binds d's parameters to args written in e, by name (before
// compilation: properties).
func bindByName(e *bind) argBinder {
	return func(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv *bind) (*bind, error) {
		if len(args) != len(d.Params) {
			return nil, evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args))
		}
		ne := denv
		for i, prm := range d.Params {
			if prm.Arity > 0 {
				return nil, unsupported(pos, "higher-order parameter "+prm.Name)
			}
			ne = &bind{name: prm.Name, kind: eSubst, arg: args[i], argEnv: e, next: ne}
		}
		return ne, nil
	}
}

// compile compiles the target of a path reference in s.
func (t pathTarget) compile(s scope, pos syntax.Pos) evalFn {
	if t.def == nil {
		u := s
		u.env = t.xenv
		u.inline++
		if u.inline > maxInline {
			return errFn(evalErr(pos, "definitions nested deeper than %d", maxInline))
		}
		return u.expr(t.expr)
	}
	return s.callDef(pos, t.def, t.denv, t.args)
}

// subst compiles a by-name binding: its expression in its own scope, at the
// level (and under the prime) of the use.
func (s scope) subst(e *bind) evalFn {
	t := s
	t.env = e.argEnv
	t.inline++
	if t.inline > maxInline {
		return errFn(evalErr(e.arg.At(), "definitions nested deeper than %d", maxInline))
	}
	return t.expr(e.arg)
}

// callDef expands a definition of an instance (body in denv) in place.
func (s scope) callDef(pos syntax.Pos, d *syntax.Def, denv *bind, args []syntax.Expr) evalFn {
	if denv == nil {
		return s.call(pos, d, args) // a root definition (c <-[Mod] d)
	}
	if d.Instance != nil {
		return errFn(unsupported(pos, "instance "+d.Name+" used as a value"))
	}
	if len(args) != len(d.Params) {
		return errFn(evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args)))
	}
	if d.FnBounds != nil {
		return s.recFuncValue(pos, s.scopedRec(d, denv), -1)
	}
	if s.recByValue(d) {
		if ru := s.scopedRec(d, denv); !ru.fl.next {
			return s.callRec(pos, ru, -1, s.exprs(args))
		}
	}
	t, enter, err := s.callMemo(pos, d, args, denv)
	if err != nil {
		return errFn(err)
	}
	return enter(t.expr(d.Body))
}

type scopedKey struct {
	d    *syntax.Def
	denv *bind
	init bool
}

// scopedRec is topRec for a recursive operator or function of an instance.
func (s scope) scopedRec(d *syntax.Def, denv *bind) *recUnit {
	c := s.c
	key := scopedKey{d, denv, s.init}
	c.mu.Lock()
	if c.srecs == nil {
		c.srecs = map[scopedKey]*recUnit{}
	}
	ru, ok := c.srecs[key]
	if !ok {
		ru = &recUnit{def: d, defLevel: -1, u: &unit{}, fl: *newFlags()}
		c.srecs[key] = ru
	}
	c.mu.Unlock()
	if ok {
		return ru
	}
	t := scope{c: c, env: denv, units: []*unit{ru.u}, init: s.init, fl: &ru.fl, inline: s.inline + 1}
	s.compileRec(ru, t)
	return ru
}

// modValueName is the name under which the root keeps the configuration's
// c = [Mod] v (not an identifier of TLA+: no name of the spec can clash).
func modValueName(mod, name string) string { return "[" + mod + "]" + name }
