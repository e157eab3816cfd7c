package eval

import (
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
)

// modScope is the names of one instance of a module (M == INSTANCE N WITH
// ...): its definitions (bodies evaluated in the instance) and its constants
// and variables bound to their substitutions (evaluated where the INSTANCE
// is written). Names a root-level instance substitutes by themselves are
// left out, so that they fall through to the root's own.
type modScope struct {
	names map[string]*binding
	insts map[string]*env // named instances without parameters inside it
}

// scopeOf returns the scope of the environment node that holds definitions.
func scopeOf(e *env) *modScope {
	for s := e; s != nil; s = s.next {
		if s.b.scope != nil {
			return s.b.scope
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
		r, ok := sb.Expr.(*syntax.Ref)
		if !ok || len(r.Parts) != 1 || r.Parts[0].Name != sb.Name || r.Parts[0].Args != nil {
			return unsupported(sb.Pos, "INSTANCE "+in.Module+" without a name and with substitutions")
		}
	}
	return nil
}

// newScope instantiates module in.Module with in's substitutions, which are
// evaluated in senv (nil: the root module).
func (m *Machine) newScope(in *syntax.Instance, senv *env, depth int) (*env, error) {
	if depth > MaxModules {
		return nil, unsupported(in.Pos, "instances nested too deeply")
	}
	sc := &modScope{names: map[string]*binding{}, insts: map[string]*env{}}
	self := &env{b: binding{scope: sc}}
	var mods []*syntax.Module
	if err := m.moduleClosure(in.Module, map[string]bool{}, &mods); err != nil {
		return nil, err
	}
	given := map[string]syntax.Expr{}
	for _, sb := range in.Subst {
		given[sb.Name] = sb.Expr
	}
	over := m.modSubst[in.Module]
	for _, mod := range mods {
		for _, list := range [][]syntax.Decl{mod.Constants, mod.Variables} {
			for _, d := range list {
				if d.Arity > 0 {
					return nil, unsupported(d.Pos, "operator constant "+d.Name+" of an instanced module")
				}
				ref := func(name string) syntax.Expr {
					return &syntax.Ref{Node: syntax.Node{P: in.Pos}, Parts: []syntax.RefPart{{Name: name}}}
				}
				switch {
				case given[d.Name] != nil:
					sc.names[d.Name] = &binding{name: d.Name, expr: given[d.Name], env: senv}
				case over[d.Name] != "":
					sc.names[d.Name] = &binding{name: d.Name, expr: ref(over[d.Name])}
				case senv == nil && m.rootHas(d.Name):
					// implicit substitution by the root's own name: fall through
				default:
					sc.names[d.Name] = &binding{name: d.Name, expr: ref(d.Name), env: senv}
				}
			}
		}
	}
	for _, mod := range mods {
		for _, u := range mod.Units {
			d, ok := u.(*syntax.Def)
			if !ok {
				continue
			}
			if o := over[d.Name]; o != "" {
				if rd, ok := m.defs[o]; ok {
					sc.names[d.Name] = &binding{name: d.Name, def: rd}
					continue
				}
			}
			sc.names[d.Name] = &binding{name: d.Name, def: d, env: self}
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
	m.rootInsts = map[string]*env{}
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

// target of a reference through instances or to a subexpression: either a
// definition to call with args in denv, or an expression to evaluate in xenv.
type pathTarget struct {
	def  *syntax.Def
	denv *env
	args []syntax.Expr
	expr syntax.Expr
	xenv *env
}

// resolvePath follows I!J!Op(args) through instances, and Def!n to the
// n-th conjunct or disjunct of a definition.
func (m *Machine) resolvePath(x *syntax.Ref, e *env) (pathTarget, error) {
	first := x.Parts[0]
	var d *syntax.Def
	var denv *env
	if b, ok := e.find(first.Name); ok {
		if b.def == nil {
			return pathTarget{}, unsupported(x.P, "reference "+first.Name+"!... to a bound name")
		}
		d, denv = b.def, b.env
	} else if rd, ok := m.defs[first.Name]; ok {
		d = rd
	} else {
		return pathTarget{}, evalErr(x.P, "unknown name %s", first.Name)
	}
	args := first.Args
	for i := 1; i < len(x.Parts); i++ {
		p := x.Parts[i]
		if d.Instance != nil {
			var inst *env
			if len(d.Params) == 0 {
				if denv == nil {
					inst = m.rootInsts[d.Name]
				} else if sc := scopeOf(denv); sc != nil {
					inst = sc.insts[d.Name]
				}
			}
			if inst == nil {
				// parameterized (or not prepared): instantiate here
				ne, err := m.bindArgs(x.P, d, args, denv, e)
				if err != nil {
					return pathTarget{}, err
				}
				if inst, err = m.newScope(d.Instance, ne, 0); err != nil {
					return pathTarget{}, err
				}
			}
			b, ok := inst.b.scope.names[p.Name]
			if !ok || b.def == nil {
				return pathTarget{}, evalErr(x.P, "instance %s has no definition %s", d.Name, p.Name)
			}
			d, denv, args = b.def, b.env, p.Args
			continue
		}
		n, err := strconv.Atoi(p.Name)
		if err != nil || len(args) != 0 || len(d.Params) != 0 || i != len(x.Parts)-1 {
			return pathTarget{}, unsupported(x.P, "subexpression reference "+first.Name+"!"+p.Name)
		}
		body := d.Body
		for {
			if l, ok := body.(*syntax.Label); ok {
				body = l.Body
				continue
			}
			break
		}
		j, ok := body.(*syntax.Junction)
		if !ok || n < 1 || n > len(j.Items) {
			return pathTarget{}, unsupported(x.P, "subexpression reference "+first.Name+"!"+p.Name)
		}
		return pathTarget{expr: j.Items[n-1], xenv: denv}, nil
	}
	return pathTarget{def: d, denv: denv, args: args}, nil
}
