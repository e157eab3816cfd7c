package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// selectSeq is SelectSeq(s, Test): the subsequence of s whose elements
// satisfy the operator Test (a definition of one argument, LET, module or
// instance level, or a LAMBDA), the one higher-order operator of the
// standard modules. The element is bound to a hidden slot and Test applied
// to it as to any argument.
func (s scope) selectSeq(x *syntax.Ref, p syntax.RefPart) evalFn {
	if len(p.Args) != 2 {
		return errFn(evalErr(x.P, "SelectSeq takes 2 arguments, got %d", len(p.Args)))
	}
	seqFn := s.expr(p.Args[0])
	var test func(*rt) (bool, error)
	var slot int
	switch t := p.Args[1].(type) {
	case *syntax.Lambda:
		if len(t.Params) != 1 {
			return errFn(evalErr(t.P, "SelectSeq's test takes one argument"))
		}
		var s2 scope
		s2, slot = s.bindSlot(t.Params[0])
		test = s2.boolean(t.Body)
	case *syntax.Ref:
		if len(t.Parts) != 1 || t.Parts[0].Args != nil {
			return errFn(unsupported(t.P, "SelectSeq test that is not an operator of one argument"))
		}
		const hidden = "\x00elem"
		var s2 scope
		s2, slot = s.bindSlot(hidden)
		elem := &syntax.Ref{Node: syntax.Node{P: t.P}, Parts: []syntax.RefPart{{Name: hidden}}}
		call := &syntax.Ref{Node: syntax.Node{P: t.P}, Parts: []syntax.RefPart{{Name: t.Parts[0].Name, Args: []syntax.Expr{elem}}}}
		test = s2.boolean(call)
	default:
		return errFn(unsupported(p.Args[1].At(), "SelectSeq test that is not an operator of one argument"))
	}
	pos := x.P
	return func(r *rt) (value.Value, error) {
		sv, err := seqFn(r)
		if err != nil {
			return nil, err
		}
		seq, ok := sv.(*value.Func)
		if !ok || !seq.IsSeq() {
			return nil, evalErr(pos, "SelectSeq of %s, which is not a sequence", sv)
		}
		var out []value.Value
		for i := 0; i < seq.Len(); i++ {
			r.slots[slot] = seq.RangeAt(i)
			ok, err := test(r)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, seq.RangeAt(i))
			}
		}
		return value.Tuple(out...), nil
	}
}

// unionEnum is UNION {S1, ..., Sn} written out: the sets are kept apart
// (value.NewLazyUnion) instead of being put in a set first, which would
// enumerate each of them to hash it.
func (s scope) unionEnum(se *syntax.SetEnum) evalFn {
	fs := make([]func(*rt) (value.SetValue, error), len(se.Elems))
	for i, x := range se.Elems {
		fs[i] = s.set(x)
	}
	return func(r *rt) (value.Value, error) {
		sets := make([]value.SetValue, len(fs))
		for i, f := range fs {
			st, err := f(r)
			if err != nil {
				return nil, err
			}
			sets[i] = st
		}
		return value.NewLazyUnion(sets), nil
	}
}

// inRecordSet is r \in [f1 : S1, ..., fn : Sn] decided field by field,
// without building the record set (which hashes, hence enumerates, each Si).
func (s scope) inRecordSet(x *syntax.OpApp, rs *syntax.RecordSet) evalFn {
	m := s.c.m
	val := s.expr(x.Args[0])
	sets := make([]func(*rt) (value.SetValue, error), len(rs.Sets))
	fields := make([]value.Value, len(rs.Fields))
	for i, e := range rs.Sets {
		sets[i] = s.set(e)
		fields[i] = m.strs.String(rs.Fields[i])
	}
	want := x.Op == "\\in"
	pos := x.P
	return func(r *rt) (value.Value, error) {
		v, err := val(r)
		if err != nil {
			return nil, err
		}
		fn, ok := v.(*value.Func)
		if !ok || fn.Len() != len(fields) {
			return value.Bool(!want), nil
		}
		for i, name := range fields {
			fv, err := fn.Apply(name)
			if err != nil {
				return value.Bool(!want), nil // not a field of v
			}
			st, err := sets[i](r)
			if err != nil {
				return nil, err
			}
			in, err := st.Contains(fv)
			if err != nil {
				return nil, wrap(pos, err)
			}
			if !in {
				return value.Bool(!want), nil
			}
		}
		return value.Bool(want), nil
	}
}
