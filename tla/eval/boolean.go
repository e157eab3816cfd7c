package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// booleanOp compiles the connectives and comparisons of a condition
// straight to a boolean (no value boxed and unboxed, one closure less
// per operator), or returns nil for boolean to compile x as a value.
func (s scope) booleanOp(x syntax.Expr) func(*rt) (bool, error) {
	switch y := x.(type) {
	case *syntax.Junction:
		items := make([]func(*rt) (bool, error), len(y.Items))
		for i, it := range y.Items {
			items[i] = s.boolean(it)
		}
		want := y.Op == "\\/" // the value that decides
		return func(r *rt) (bool, error) {
			for _, it := range items {
				b, err := it(r)
				if err != nil {
					return false, err
				}
				if b == want {
					return want, nil
				}
			}
			return !want, nil
		}
	case *syntax.OpApp:
		if s.find(y.Op) != nil {
			return nil // a user-defined operator
		}
		if _, ok := s.c.m.defs[y.Op]; ok {
			return nil
		}
		switch y.Op {
		case "~":
			if len(y.Args) != 1 {
				return nil
			}
			a := s.boolean(y.Args[0])
			return func(r *rt) (bool, error) {
				b, err := a(r)
				return !b, err
			}
		case "=", "/=":
			if len(y.Args) != 2 {
				return nil
			}
			a, b := s.expr(y.Args[0]), s.expr(y.Args[1])
			want := y.Op == "="
			pos := y.P
			return func(r *rt) (bool, error) {
				u, v, err := operands(a, b, r)
				if err != nil {
					return false, err
				}
				eq, err := value.Equal(u, v)
				if err != nil {
					return false, wrap(pos, err)
				}
				return eq == want, nil
			}
		case "<", "<=", ">", ">=":
			if len(y.Args) != 2 {
				return nil
			}
			a, b := s.expr(y.Args[0]), s.expr(y.Args[1])
			op, pos := y.Op, y.P
			return func(r *rt) (bool, error) {
				u, v, err := operands(a, b, r)
				if err != nil {
					return false, err
				}
				i, ok1 := u.(value.Int)
				j, ok2 := v.(value.Int)
				if !ok1 || !ok2 {
					return false, evalErr(pos, "%s of %s and %s, which are not both integers", op, u, v)
				}
				switch op {
				case "<":
					return i < j, nil
				case "<=":
					return i <= j, nil
				case ">":
					return i > j, nil
				}
				return i >= j, nil
			}
		}
	}
	return nil
}

// localSlot reports whether x names an identifier bound in a slot of the
// activation s runs in, and which.
func (s scope) localSlot(x syntax.Expr) (int, bool) {
	ref, ok := x.(*syntax.Ref)
	if !ok || len(ref.Parts) != 1 || ref.Parts[0].Args != nil {
		return 0, false
	}
	e := s.find(ref.Parts[0].Name)
	if e == nil || e.kind != eSlot || e.level != s.level {
		return 0, false
	}
	s.fl.readSlot(e.level, e.slot)
	return e.slot, true
}

// operands evaluates the two operands of a binary condition, left first.
func operands(a, b evalFn, r *rt) (value.Value, value.Value, error) {
	u, err := a(r)
	if err != nil {
		return nil, nil, err
	}
	v, err := b(r)
	if err != nil {
		return nil, nil, err
	}
	return u, v, nil
}
