package eval

import "github.com/verimeter/verimeter/tla/syntax"

// letInstances lists the INSTANCEs written in LET definitions of m's
// definitions and assumptions (G == INSTANCE Graphs inside EWD687a's
// TreeWithRoot, IO == INSTANCE IOUtils inside SVG's SVGSerialize), so that
// the loader reads their modules too.
func letInstances(m *syntax.Module) []*syntax.Instance {
	var out []*syntax.Instance
	var visit func(x syntax.Expr)
	visit = func(x syntax.Expr) {
		if l, ok := x.(*syntax.Let); ok {
			for _, d := range l.Defs {
				if d.Instance != nil {
					out = append(out, d.Instance)
				}
			}
		}
		visitChildren(x, visit)
	}
	for _, u := range m.Units {
		switch u := u.(type) {
		case *syntax.Def:
			if u.Body != nil {
				visit(u.Body)
			}
		case *syntax.Assume:
			visit(u.Expr)
		}
	}
	return out
}

// letInstance instantiates the module of a LET definition M == INSTANCE N
// that a path M!Op refers to. Only a module that declares no constant and
// no variable (nor do the modules it extends) is taken: its instance is the
// same wherever the LET is, so nothing of the LET's scope is needed (its
// substitutions would be compiled there). Others stay unsupported.
func (m *Machine) letInstance(x *syntax.Ref, b *bind) (*bind, error) {
	d := b.def
	if b.kind != eLet || d == nil || d.Instance == nil || len(d.Params) != 0 || len(d.Instance.Subst) != 0 {
		return nil, unsupported(x.P, "reference "+x.Parts[0].Name+"!... to a bound name")
	}
	var mods []*syntax.Module
	if err := m.moduleClosure(d.Instance.Module, map[string]bool{}, &mods); err != nil {
		return nil, err
	}
	for _, mod := range mods {
		if len(mod.Constants) != 0 || len(mod.Variables) != 0 {
			return nil, unsupported(x.P, "INSTANCE "+d.Instance.Module+" inside LET (its module declares constants or variables)")
		}
	}
	return m.newScope(d.Instance, nil, 0)
}
