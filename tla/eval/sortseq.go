package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// sortSeq is the TLC module's SortSeq(s, Op): s ordered by Op(a, b), "a
// comes before b". It is TLC's Java operator, an insertion sort: each
// element moves left past the sorted ones while Op(it, the one before it)
// holds, so an Op that is not a strict order gets TLC's answer too.
func (s scope) sortSeq(x *syntax.Ref, p syntax.RefPart) evalFn {
	if len(p.Args) != 2 {
		return errFn(evalErr(x.P, "SortSeq takes 2 arguments, got %d", len(p.Args)))
	}
	seqFn := s.expr(p.Args[0])
	before, slots, err := s.opArg("SortSeq", p.Args[1], 2)
	if err != nil {
		return errFn(err)
	}
	pos := x.P
	return func(r *rt) (value.Value, error) {
		seq, err := seqOperand(r, seqFn, pos, "SortSeq")
		if err != nil {
			return nil, err
		}
		n := seq.Len()
		if n == 0 {
			return seq, nil
		}
		out := make([]value.Value, n)
		out[0] = seq.RangeAt(0)
		for i := 1; i < n; i++ {
			e, j := seq.RangeAt(i), i
			for j > 0 {
				r.slots[slots[0]], r.slots[slots[1]] = e, out[j-1]
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
