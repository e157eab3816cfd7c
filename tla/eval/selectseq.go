package eval

import (
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// opArg compiles the operator argument arg of the builtin name (SelectSeq's
// test, SortSeq's order): a definition of arity arguments (LET, module or
// instance level) or a LAMBDA, applied to values the caller puts in the
// returned slots, as to any arguments. The predicate is nil when the
// argument is not such an operator, and err says why.
func (s scope) opArg(name string, arg syntax.Expr, arity int) (pred func(*rt) (bool, error), slots []int, err error) {
	s2, body, slots, err := s.opArgBody(name, arg, arity)
	if err != nil {
		return nil, nil, err
	}
	return s2.boolean(body), slots, nil
}

// opValueArg is opArg for an operator argument whose applications are
// values, not truth values (VectorClocks' clock, node and domain).
func (s scope) opValueArg(name string, arg syntax.Expr, arity int) (fn evalFn, slots []int, err error) {
	s2, body, slots, err := s.opArgBody(name, arg, arity)
	if err != nil {
		return nil, nil, err
	}
	return s2.expr(body), slots, nil
}

// opArgBody is the application of the operator argument arg to arity
// fresh slots: the scope binding them, the expression to compile in it,
// and the slots.
func (s scope) opArgBody(name string, arg syntax.Expr, arity int) (scope, syntax.Expr, []int, error) {
	var slots []int
	switch t := arg.(type) {
	case *syntax.Lambda:
		if len(t.Params) != arity {
			return s, nil, nil, evalErr(t.P, "%s's LAMBDA has %d parameters; it takes %d", name, len(t.Params), arity)
		}
		s2 := s
		for _, p := range t.Params {
			var k int
			s2, k = s2.bindSlot(p)
			slots = append(slots, k)
		}
		return s2, t.Body, slots, nil
	case *syntax.Ref:
		if len(t.Parts) != 1 || t.Parts[0].Args != nil {
			break
		}
		s2 := s
		args := make([]syntax.Expr, arity)
		for i := range args {
			hidden := "\x00arg" + strconv.Itoa(i)
			var k int
			s2, k = s2.bindSlot(hidden)
			slots = append(slots, k)
			args[i] = &syntax.Ref{Node: syntax.Node{P: t.P}, Parts: []syntax.RefPart{{Name: hidden}}}
		}
		call := &syntax.Ref{Node: syntax.Node{P: t.P}, Parts: []syntax.RefPart{{Name: t.Parts[0].Name, Args: args}}}
		return s2, call, slots, nil
	}
	return s, nil, nil, unsupported(arg.At(), name+"'s operator argument that is neither a LAMBDA nor an operator's name")
}

// seqOperand evaluates the sequence a builtin (name) takes.
func seqOperand(r *rt, f evalFn, pos syntax.Pos, name string) (*value.Func, error) {
	sv, err := f(r)
	if err != nil {
		return nil, err
	}
	seq, ok := sv.(*value.Func)
	if !ok || !seq.IsSeq() {
		return nil, evalErr(pos, "%s of %s, which is not a sequence", name, sv)
	}
	return seq, nil
}

// selectSeq is SelectSeq(s, Test): the subsequence of s whose elements
// satisfy the operator Test, the one higher-order operator of the standard
// modules.
func (s scope) selectSeq(x *syntax.Ref, p syntax.RefPart) evalFn {
	if len(p.Args) != 2 {
		return errFn(evalErr(x.P, "SelectSeq takes 2 arguments, got %d", len(p.Args)))
	}
	seqFn := s.expr(p.Args[0])
	test, slots, err := s.opArg("SelectSeq", p.Args[1], 1)
	if err != nil {
		return errFn(err)
	}
	pos := x.P
	return func(r *rt) (value.Value, error) {
		seq, err := seqOperand(r, seqFn, pos, "SelectSeq")
		if err != nil {
			return nil, err
		}
		var out []value.Value
		for i := 0; i < seq.Len(); i++ {
			r.slots[slots[0]] = seq.RangeAt(i)
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
