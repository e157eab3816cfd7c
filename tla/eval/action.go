package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// act enumerates the ways action x can be satisfied from the partial next
// state f.nxt, calling emit with each completed assignment and the name of
// the action (as TLC names it: the innermost operator reached from Next
// through disjunctions, existentials and definitions). naming is true until
// a conjunction is entered.
func (m *Machine) act(x syntax.Expr, e *env, f *frame, name string, naming bool,
	emit func(nxt []value.Value, name string) error) error {
	switch y := x.(type) {
	case *syntax.Label:
		return m.act(y.Body, e, f, name, naming, emit)
	case *syntax.Junction:
		if y.Op == "\\/" {
			for _, it := range y.Items {
				if err := m.act(it, e, f, name, naming, emit); err != nil {
					return err
				}
			}
			return nil
		}
		return m.conj(y.Items, 0, e, f, name, emit)
	case *syntax.Quant:
		if y.Kind == "\\E" {
			return m.forBounds(y.Bounds, 0, e, f, func(e2 *env) error {
				return m.act(y.Body, e2, f, name, naming, emit)
			})
		}
	case *syntax.If:
		c, err := m.evalBool(y.Cond, e, f)
		if err != nil {
			return err
		}
		if c {
			return m.act(y.Then, e, f, name, naming, emit)
		}
		return m.act(y.Else, e, f, name, naming, emit)
	case *syntax.Case:
		for _, a := range y.Arms {
			c, err := m.evalBool(a.Cond, e, f)
			if err != nil {
				return err
			}
			if c {
				return m.act(a.Val, e, f, name, naming, emit)
			}
		}
		if y.Other != nil {
			return m.act(y.Other, e, f, name, naming, emit)
		}
		return evalErr(y.P, "no CASE arm applies")
	case *syntax.Let:
		return m.act(y.Body, m.letEnv(y, e), f, name, naming, emit)
	case *syntax.Ref:
		if len(y.Parts) > 1 {
			t, err := m.resolvePath(y, e)
			if err != nil {
				return err
			}
			if t.def == nil {
				return m.act(t.expr, t.xenv, f, name, naming, emit)
			}
			if t.def.FnBounds == nil && t.def.Instance == nil {
				ne, err := m.bindArgs(y.P, t.def, t.args, t.denv, e)
				if err != nil {
					return err
				}
				if naming {
					name = y.Parts[len(y.Parts)-1].Name
				}
				return m.act(t.def.Body, ne, f, name, naming, emit)
			}
		}
		if len(y.Parts) == 1 {
			p := y.Parts[0]
			if b, ok := e.find(p.Name); ok {
				if b.expr != nil && p.Args == nil {
					return m.act(b.expr, b.env, f, name, naming, emit)
				}
				if b.def != nil && b.def.FnBounds == nil {
					ne, err := m.bindArgs(y.P, b.def, p.Args, b.env, e)
					if err != nil {
						return err
					}
					if naming {
						name = p.Name
					}
					return m.act(b.def.Body, ne, f, name, naming, emit)
				}
			} else if d, ok := m.defs[p.Name]; ok && d.FnBounds == nil && d.Instance == nil {
				if _, isConst := m.constDefs[p.Name]; !isConst || len(d.Params) > 0 {
					ne, err := m.bindArgs(y.P, d, p.Args, nil, e)
					if err != nil {
						return err
					}
					if naming {
						name = p.Name
					}
					return m.act(d.Body, ne, f, name, naming, emit)
				}
			}
		}
	case *syntax.OpApp:
		switch y.Op {
		case "=":
			if i, ok := m.target(y.Args[0], e, f); ok {
				v, err := m.eval(y.Args[1], e, f)
				if err != nil {
					return err
				}
				return m.assign(i, v, f, name, emit)
			}
		case "\\in":
			if i, ok := m.target(y.Args[0], e, f); ok {
				s, err := m.evalSet(y.Args[1], e, f)
				if err != nil {
					return err
				}
				elems, err := s.Enumerate()
				if err != nil {
					return wrap(y.P, err)
				}
				for j := 0; j < elems.Len(); j++ {
					if err := m.assign(i, elems.At(j), f, name, emit); err != nil {
						return err
					}
				}
				return nil
			}
		case "UNCHANGED":
			if !f.init {
				return m.unchanged(y.Args[0], e, f, name, emit)
			}
		}
	}
	b, err := m.evalBool(x, e, f)
	if err != nil || !b {
		return err
	}
	return emit(f.nxt, name)
}

func (m *Machine) conj(items []syntax.Expr, i int, e *env, f *frame, name string,
	emit func([]value.Value, string) error) error {
	if i == len(items) {
		return emit(f.nxt, name)
	}
	return m.act(items[i], e, f, name, false, func(nxt []value.Value, n string) error {
		f2 := *f
		f2.nxt = nxt
		return m.conj(items, i+1, e, &f2, n, emit)
	})
}

// target reports whether x is x' (or, in Init, x) for a variable x not yet
// assigned: then = and \in assign it.
// Operator arguments and instance substitutions standing for x or x' are
// followed (q' = ... in Lose(q) == ..., called as Lose(msgQ)).
func (m *Machine) target(x syntax.Expr, e *env, f *frame) (int, bool) {
	primed := false
	for depth := 0; depth < MaxCallDepth; depth++ {
		switch y := x.(type) {
		case *syntax.Label:
			x = y.Body
			continue
		case *syntax.OpApp:
			if y.Op != "'" || primed || f.init {
				return 0, false
			}
			primed = true
			x = y.Args[0]
			continue
		case *syntax.Ref:
			if len(y.Parts) != 1 || y.Parts[0].Args != nil {
				return 0, false
			}
			if b, bound := e.find(y.Parts[0].Name); bound {
				if b.expr == nil {
					return 0, false
				}
				x, e = b.expr, b.env
				continue
			}
			i, ok := m.varIndex[y.Parts[0].Name]
			if !ok || f.nxt[i] != nil || primed == f.init {
				return 0, false
			}
			return i, true
		}
		return 0, false
	}
	return 0, false
}

func (m *Machine) assign(i int, v value.Value, f *frame, name string, emit func([]value.Value, string) error) error {
	nxt := make([]value.Value, len(f.nxt))
	copy(nxt, f.nxt)
	nxt[i] = v
	return emit(nxt, name)
}

func (m *Machine) unchanged(x syntax.Expr, e *env, f *frame, name string, emit func([]value.Value, string) error) error {
	var vars []int
	var collect func(x syntax.Expr) bool
	collect = func(x syntax.Expr) bool {
		switch y := x.(type) {
		case *syntax.Tuple:
			for _, el := range y.Elems {
				if !collect(el) {
					return false
				}
			}
			return true
		case *syntax.Ref:
			if len(y.Parts) != 1 || y.Parts[0].Args != nil {
				return false
			}
			if i, ok := m.varIndex[y.Parts[0].Name]; ok {
				vars = append(vars, i)
				return true
			}
			if d, ok := m.defs[y.Parts[0].Name]; ok && len(d.Params) == 0 && d.FnBounds == nil {
				return collect(d.Body)
			}
		}
		return false
	}
	if !collect(x) {
		// Not a tuple of variables: evaluate it as a predicate.
		v, err := m.opApp(&syntax.OpApp{Node: syntax.Node{P: x.At()}, Op: "UNCHANGED", Args: []syntax.Expr{x}}, e, f)
		if err != nil || v != value.True {
			return err
		}
		return emit(f.nxt, name)
	}
	nxt := make([]value.Value, len(f.nxt))
	copy(nxt, f.nxt)
	for _, i := range vars {
		if nxt[i] == nil {
			nxt[i] = f.cur[i]
			continue
		}
		eq, err := value.Equal(nxt[i], f.cur[i])
		if err != nil || !eq {
			return err
		}
	}
	return emit(nxt, name)
}

func (m *Machine) bindArgs(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv, e *env) (*env, error) {
	if len(args) != len(d.Params) {
		return nil, evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args))
	}
	ne := denv
	for i, p := range d.Params {
		if p.Arity > 0 {
			return nil, unsupported(pos, "higher-order parameter "+p.Name)
		}
		ne = ne.with(binding{name: p.Name, expr: args[i], env: e})
	}
	return ne, nil
}
