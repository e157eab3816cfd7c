package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// sortSeq is the TLC module's SortSeq(s, Op): s ordered by Op(a, b), "a
// comes before b" (a definition of two arguments, LET, module or instance
// level, or a LAMBDA). It is TLC's Java operator, an insertion sort: each
// element moves left past the sorted ones while Op(it, the one before it)
// holds, so an Op that is not a strict order gets TLC's answer too. The
// two elements are bound to hidden slots and Op applied to them as to any
// arguments.
func (s scope) sortSeq(x *syntax.Ref, p syntax.RefPart) evalFn {
	if len(p.Args) != 2 {
		return errFn(evalErr(x.P, "SortSeq takes 2 arguments, got %d", len(p.Args)))
	}
	seqFn := s.expr(p.Args[0])
	var before func(*rt) (bool, error)
	var sa, sb int
	switch t := p.Args[1].(type) {
	case *syntax.Lambda:
		if len(t.Params) != 2 {
			return errFn(evalErr(t.P, "SortSeq's order takes two arguments"))
		}
		s2, a := s.bindSlot(t.Params[0])
		s2, b := s2.bindSlot(t.Params[1])
		sa, sb = a, b
		before = s2.boolean(t.Body)
	case *syntax.Ref:
		if len(t.Parts) != 1 || t.Parts[0].Args != nil {
			return errFn(unsupported(t.P, "SortSeq order that is not an operator of two arguments"))
		}
		const hiddenA, hiddenB = "\x00sortA", "\x00sortB"
		s2, a := s.bindSlot(hiddenA)
		s2, b := s2.bindSlot(hiddenB)
		sa, sb = a, b
		ref := func(name string) syntax.Expr {
			return &syntax.Ref{Node: syntax.Node{P: t.P}, Parts: []syntax.RefPart{{Name: name}}}
		}
		call := &syntax.Ref{Node: syntax.Node{P: t.P}, Parts: []syntax.RefPart{{Name: t.Parts[0].Name, Args: []syntax.Expr{ref(hiddenA), ref(hiddenB)}}}}
		before = s2.boolean(call)
	default:
		return errFn(unsupported(p.Args[1].At(), "SortSeq order that is not an operator of two arguments"))
	}
	pos := x.P
	return func(r *rt) (value.Value, error) {
		sv, err := seqFn(r)
		if err != nil {
			return nil, err
		}
		seq, ok := sv.(*value.Func)
		if !ok || !seq.IsSeq() {
			return nil, evalErr(pos, "SortSeq of %s, which is not a sequence", sv)
		}
		n := seq.Len()
		if n == 0 {
			return sv, nil
		}
		out := make([]value.Value, n)
		out[0] = seq.RangeAt(0)
		for i := 1; i < n; i++ {
			e, j := seq.RangeAt(i), i
			for j > 0 {
				r.slots[sa], r.slots[sb] = e, out[j-1]
				ok, err := before(r)
				if err != nil {
					return nil, err
				}
				if !ok {
					break
				}
				out[j] = out[j-1]
				j--
			}
			out[j] = e
		}
		return value.Tuple(out...), nil
	}
}
