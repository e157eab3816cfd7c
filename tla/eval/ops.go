package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

func (m *Machine) args(pos syntax.Pos, as []syntax.Expr, n int, e *env, f *frame) ([]value.Value, error) {
	if len(as) != n {
		return nil, evalErr(pos, "expected %d arguments, got %d", n, len(as))
	}
	vs := make([]value.Value, n)
	for i, a := range as {
		v, err := m.eval(a, e, f)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// builtin evaluates the constants and operators of the standard modules.
func (m *Machine) builtin(x *syntax.Ref, p syntax.RefPart, e *env, f *frame) (value.Value, error) {
	one := func() (value.Value, error) {
		vs, err := m.args(x.P, p.Args, 1, e, f)
		if err != nil {
			return nil, err
		}
		return vs[0], nil
	}
	switch p.Name {
	case "TRUE":
		return value.True, nil
	case "FALSE":
		return value.False, nil
	case "BOOLEAN":
		return value.BooleanSet, nil
	case "Nat":
		return value.NatSet, nil
	case "Int":
		return value.IntSet, nil
	case "STRING":
		return value.StringSet, nil
	case "SelectSeq":
		return m.selectSeq(x, p, e, f)
	case "Len", "Head", "Tail", "Cardinality", "IsFiniteSet", "Seq":
		a, err := one()
		if err != nil {
			return nil, err
		}
		var v value.Value
		switch p.Name {
		case "Len":
			v, err = value.Len(a)
		case "Head":
			v, err = value.Head(a)
		case "Tail":
			v, err = value.Tail(a)
		case "Cardinality":
			v, err = value.Cardinality(a)
		case "IsFiniteSet":
			v, err = value.IsFiniteSet(a)
		case "Seq":
			s, ok := a.(value.SetValue)
			if !ok {
				return nil, evalErr(x.P, "Seq of %s, which is not a set", a)
			}
			v = value.NewSeqSet(s)
		}
		return v, wrap(x.P, err)
	case "Append":
		vs, err := m.args(x.P, p.Args, 2, e, f)
		if err != nil {
			return nil, err
		}
		v, err := value.Append(vs[0], vs[1])
		return v, wrap(x.P, err)
	case "SubSeq":
		vs, err := m.args(x.P, p.Args, 3, e, f)
		if err != nil {
			return nil, err
		}
		v, err := value.SubSeq(vs[0], vs[1], vs[2])
		return v, wrap(x.P, err)
	case "Permutations":
		a, err := one()
		if err != nil {
			return nil, err
		}
		v, err := value.Permutations(a)
		return v, wrap(x.P, err)
	}
	return nil, unsupported(x.P, "operator "+p.Name+" (not defined, or not built in yet)")
}

func (m *Machine) opApp(x *syntax.OpApp, e *env, f *frame) (value.Value, error) {
	switch x.Op {
	case "'":
		if f.primed {
			return nil, evalErr(x.P, "double prime")
		}
		f2 := *f
		f2.primed = true
		return m.eval(x.Args[0], e, &f2)
	case "~":
		b, err := m.evalBool(x.Args[0], e, f)
		return value.Bool(!b), err
	case "=>":
		a, err := m.evalBool(x.Args[0], e, f)
		if err != nil || !a {
			return value.True, err
		}
		b, err := m.evalBool(x.Args[1], e, f)
		return value.Bool(b), err
	case "<=>":
		a, err := m.evalBool(x.Args[0], e, f)
		if err != nil {
			return nil, err
		}
		b, err := m.evalBool(x.Args[1], e, f)
		return value.Bool(a == b), err
	case "UNCHANGED":
		f2 := *f
		f2.primed = true
		a, err := m.eval(x.Args[0], e, f)
		if err != nil {
			return nil, err
		}
		b, err := m.eval(x.Args[0], e, &f2)
		if err != nil {
			return nil, err
		}
		eq, err := value.Equal(a, b)
		return value.Bool(eq), wrap(x.P, err)
	case "ENABLED":
		return m.enabledOp(x, e, f)
	case "[]", "<>", "~>", "-+->", "\\cdot":
		return nil, unsupported(x.P, x.Op+" (temporal and action operators come with liveness checking)")
	}
	if x.Op == "\\in" || x.Op == "\\notin" {
		if rs, ok := x.Args[1].(*syntax.RecordSet); ok {
			return m.inRecordSet(x, rs, e, f)
		}
	}
	if x.Op == "UNION" {
		if se, ok := x.Args[0].(*syntax.SetEnum); ok {
			return m.unionEnum(se, e, f)
		}
	}
	// user-defined infix/prefix operators
	if d, ok := m.defs[x.Op]; ok {
		return m.call(x.P, d, x.Args, nil, e, f)
	}
	if b, ok := e.find(x.Op); ok && b.def != nil {
		return m.call(x.P, b.def, x.Args, b.env, e, f)
	}
	vs := make([]value.Value, len(x.Args))
	for i, a := range x.Args {
		v, err := m.eval(a, e, f)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	var v value.Value
	var err error
	if len(vs) == 1 {
		switch x.Op {
		case "-.":
			v, err = value.Neg(vs[0])
		case "SUBSET":
			s, ok := vs[0].(value.SetValue)
			if !ok {
				return nil, evalErr(x.P, "SUBSET of %s", vs[0])
			}
			v = value.NewSubset(s)
		case "UNION":
			v, err = value.BigUnionValue(vs[0])
		case "DOMAIN":
			fn, ok := vs[0].(*value.Func)
			if !ok {
				return nil, evalErr(x.P, "DOMAIN of %s, which is not a function", vs[0])
			}
			v = fn.Domain()
		default:
			return nil, unsupported(x.P, "prefix operator "+x.Op)
		}
		return v, wrap(x.P, err)
	}
	a, b := vs[0], vs[1]
	switch x.Op {
	case "=", "/=":
		var eq bool
		eq, err = value.Equal(a, b)
		v = value.Bool(eq == (x.Op == "="))
	case "\\in", "\\notin":
		var in bool
		in, err = value.In(a, b)
		v = value.Bool(in == (x.Op == "\\in"))
	case "\\cup":
		v, err = value.UnionValue(a, b)
	case "\\cap":
		v, err = value.Intersect(a, b)
	case "\\":
		v, err = value.DifferenceValue(a, b)
	case "\\subseteq":
		sa, ok1 := a.(value.SetValue)
		sb, ok2 := b.(value.SetValue)
		if !ok1 || !ok2 {
			return nil, evalErr(x.P, "\\subseteq of non-sets %s, %s", a, b)
		}
		var in bool
		in, err = value.IsSubset(sa, sb)
		v = value.Bool(in)
	case "+":
		v, err = value.Add(a, b)
	case "-":
		v, err = value.Sub(a, b)
	case "*":
		v, err = value.Mul(a, b)
	case "\\div":
		v, err = value.Div(a, b)
	case "%":
		v, err = value.Mod(a, b)
	case "^":
		v, err = value.Pow(a, b)
	case "<", ">", "<=", ">=":
		ia, ok1 := a.(value.Int)
		ib, ok2 := b.(value.Int)
		if !ok1 || !ok2 {
			return nil, evalErr(x.P, "%s of %s and %s, which are not both integers", x.Op, a, b)
		}
		switch x.Op {
		case "<":
			v = value.Bool(ia < ib)
		case ">":
			v = value.Bool(ia > ib)
		case "<=":
			v = value.Bool(ia <= ib)
		default:
			v = value.Bool(ia >= ib)
		}
	case "..":
		ia, ok1 := a.(value.Int)
		ib, ok2 := b.(value.Int)
		if !ok1 || !ok2 {
			return nil, evalErr(x.P, ".. of %s and %s", a, b)
		}
		v = value.NewInterval(int32(ia), int32(ib))
	case "\\o":
		v, err = value.Concat(a, b)
	case ":>":
		v = value.ColonGreater(a, b)
	case "@@":
		v, err = value.AtAt(a, b)
	default:
		return nil, unsupported(x.P, "operator "+x.Op)
	}
	return v, wrap(x.P, err)
}
