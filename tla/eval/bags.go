package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// bagBuiltin compiles the operators of the standard module Bags that
// value implements (multisets as functions from elements to positive
// counts, as TLC's Bags): SetToBag, BagToSet, BagIn, CopiesIn,
// BagCardinality and EmptyBag. It returns nil for any other name.
func (s scope) bagBuiltin(x *syntax.Ref, p syntax.RefPart) evalFn {
	pos := x.P
	args := func(n int) ([]evalFn, error) {
		if len(p.Args) != n {
			return nil, evalErr(pos, "%s expects %d arguments, got %d", p.Name, n, len(p.Args))
		}
		return s.exprs(p.Args), nil
	}
	call := func(n int, op func(vs []value.Value) (value.Value, error)) evalFn {
		as, err := args(n)
		if err != nil {
			return errFn(err)
		}
		return func(r *rt) (value.Value, error) {
			vs, err := evalAll(r, as)
			if err != nil {
				return nil, err
			}
			v, err := op(vs)
			return v, wrap(pos, err)
		}
	}
	switch p.Name {
	case "EmptyBag":
		if len(p.Args) != 0 {
			return errFn(evalErr(pos, "EmptyBag takes no arguments"))
		}
		// SetToBag({}): a function whose domain is the empty set (not
		// <<>>, whose domain 1..0 refuses to hold a record)
		empty, err := value.NewSet()
		if err != nil {
			return errFn(err)
		}
		b, err := value.SetToBag(empty)
		if err != nil {
			return errFn(err)
		}
		return constFn(b)
	case "SetToBag":
		return call(1, func(vs []value.Value) (value.Value, error) { return value.SetToBag(vs[0]) })
	case "BagToSet":
		return call(1, func(vs []value.Value) (value.Value, error) { return value.BagToSet(vs[0]) })
	case "BagCardinality":
		return call(1, func(vs []value.Value) (value.Value, error) { return value.BagCardinality(vs[0]) })
	case "CopiesIn":
		return call(2, func(vs []value.Value) (value.Value, error) { return value.CopiesIn(vs[0], vs[1]) })
	case "BagIn":
		return call(2, func(vs []value.Value) (value.Value, error) {
			b, err := value.BagIn(vs[0], vs[1])
			return value.Bool(b), err
		})
	}
	return nil
}

// bagInfix compiles B1 (+) B2, B1 (-) B2 and B1 \sqsubseteq B2; nil for
// any other operator.
func bagInfix(op string, bin func(func(x, y value.Value) (value.Value, error)) evalFn) evalFn {
	switch op {
	case "\\oplus":
		return bin(value.BagCup)
	case "\\ominus":
		return bin(value.BagDiff)
	case "\\sqsubseteq":
		return bin(func(x, y value.Value) (value.Value, error) {
			b, err := value.SubBag(x, y)
			return value.Bool(b), err
		})
	}
	return nil
}
