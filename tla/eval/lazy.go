package eval

import (
	"fmt"
	"strings"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// lazyFilter is {x \in S : P} for an infinite S as TLC keeps it: a set
// that answers membership (x \in S and P) and refuses enumeration. The
// predicate runs later, maybe on another worker, so it reads a copy of
// the activation it was built in, copied again for each test.
func lazyFilter(r *rt, x *syntax.SetFilter, base value.SetValue, tuple bool, slots []int, pred func(*rt) (bool, error)) value.Value {
	snap := &rt{slots: append([]value.Value(nil), r.slots...), up: r.up, depth: r.depth, noLevel: true}
	if r.cur != nil {
		snap.cur = append([]value.Value(nil), r.cur...)
	}
	if r.nxt != nil {
		snap.nxt = materialized(r.nxt)
	}
	pos := x.P
	text := fmt.Sprintf("{%s \\in %s : <predicate at %s>}", strings.Join(x.Bound.Names, ", "), base, pos)
	return &value.InfiniteFilter{Base: base, Text: text, Pred: func(v value.Value) (bool, error) {
		a := *snap
		a.slots = append([]value.Value(nil), snap.slots...)
		if err := assignBound(&a, pos, tuple, slots, v); err != nil {
			return false, err
		}
		return pred(&a)
	}}
}
