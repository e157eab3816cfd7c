package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// selectSeq is SelectSeq(s, Test): the subsequence of s whose elements
// satisfy the operator Test (a definition of one argument, LET or module
// level, or a LAMBDA), the one higher-order operator of the standard
// modules.
func (m *Machine) selectSeq(x *syntax.Ref, p syntax.RefPart, e *env, f *frame) (value.Value, error) {
	if len(p.Args) != 2 {
		return nil, evalErr(x.P, "SelectSeq takes 2 arguments, got %d", len(p.Args))
	}
	sv, err := m.eval(p.Args[0], e, f)
	if err != nil {
		return nil, err
	}
	seq, ok := sv.(*value.Func)
	if !ok || !seq.IsSeq() {
		return nil, evalErr(x.P, "SelectSeq of %s, which is not a sequence", sv)
	}
	var test func(v value.Value) (bool, error)
	switch t := p.Args[1].(type) {
	case *syntax.Lambda:
		if len(t.Params) != 1 {
			return nil, evalErr(t.P, "SelectSeq's test takes one argument")
		}
		test = func(v value.Value) (bool, error) {
			return m.evalBool(t.Body, e.with(binding{name: t.Params[0], val: v}), f)
		}
	case *syntax.Ref:
		var d *syntax.Def
		var denv *env
		if len(t.Parts) == 1 && t.Parts[0].Args == nil {
			if b, ok := e.find(t.Parts[0].Name); ok && b.def != nil {
				d, denv = b.def, b.env
			} else if !ok {
				d = m.defs[t.Parts[0].Name]
			}
		}
		if d == nil || len(d.Params) != 1 || d.Params[0].Arity != 0 || d.FnBounds != nil || d.Instance != nil {
			return nil, unsupported(t.P, "SelectSeq test that is not an operator of one argument")
		}
		test = func(v value.Value) (bool, error) {
			return m.evalBool(d.Body, denv.with(binding{name: d.Params[0].Name, val: v}), f)
		}
	default:
		return nil, unsupported(p.Args[1].At(), "SelectSeq test that is not an operator of one argument")
	}
	var out []value.Value
	for i := 0; i < seq.Len(); i++ {
		ok, err := test(seq.RangeAt(i))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, seq.RangeAt(i))
		}
	}
	return value.Tuple(out...), nil
}

// unionEnum is UNION {S1, ..., Sn} written out: the sets are kept apart
// (value.NewLazyUnion) instead of being put in a set first, which would
// enumerate each of them to hash it.
func (m *Machine) unionEnum(se *syntax.SetEnum, e *env, f *frame) (value.Value, error) {
	sets := make([]value.SetValue, len(se.Elems))
	for i, x := range se.Elems {
		s, err := m.evalSet(x, e, f)
		if err != nil {
			return nil, err
		}
		sets[i] = s
	}
	return value.NewLazyUnion(sets), nil
}

// inRecordSet is r \in [f1 : S1, ..., fn : Sn] decided field by field,
// without building the record set (which hashes, hence enumerates, each Si).
func (m *Machine) inRecordSet(x *syntax.OpApp, rs *syntax.RecordSet, e *env, f *frame) (value.Value, error) {
	v, err := m.eval(x.Args[0], e, f)
	if err != nil {
		return nil, err
	}
	want := x.Op == "\\in"
	fn, ok := v.(*value.Func)
	if !ok || fn.Len() != len(rs.Fields) {
		return value.Bool(!want), nil
	}
	for i, name := range rs.Fields {
		fv, err := fn.Apply(m.strs.String(name))
		if err != nil {
			return value.Bool(!want), nil // not a field of v
		}
		s, err := m.evalSet(rs.Sets[i], e, f)
		if err != nil {
			return nil, err
		}
		in, err := s.Contains(fv)
		if err != nil {
			return nil, wrap(x.P, err)
		}
		if !in {
			return value.Bool(!want), nil
		}
	}
	return value.Bool(want), nil
}
