package gen

import (
	"fmt"
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
)

// BoundHolds evaluates a dropped model bound (an Action's Bounds) on
// integers, with lookup giving variables and constants. Differential tests
// use it to tell a step the generated code allows because it dropped a
// bound from a real disagreement with the spec. It covers the integer and
// Boolean operators bounds are written with.
func BoundHolds(g *Guard, lookup func(name string) (int64, bool)) (bool, error) {
	v, err := evalBound(g.Expr, lookup)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: bound is not Boolean", g.Text)
	}
	return b, nil
}

func evalBound(x syntax.Expr, lookup func(string) (int64, bool)) (any, error) {
	bad := func() (any, error) { return nil, fmt.Errorf("%s: %s is outside the bound evaluator", x.At(), show(x)) }
	switch y := x.(type) {
	case *boolLit:
		return y.V, nil
	case *syntax.Num:
		n, err := strconv.ParseInt(y.Text, 10, 64)
		if err != nil {
			return bad()
		}
		return n, nil
	case *syntax.Ref:
		if len(y.Parts) != 1 || len(y.Parts[0].Args) != 0 {
			return bad()
		}
		if v, ok := lookup(y.Parts[0].Name); ok {
			return v, nil
		}
		return nil, fmt.Errorf("%s: no integer value for %s", y.P, y.Parts[0].Name)
	case *syntax.Junction:
		and := y.Op == "/\\"
		for _, it := range y.Items {
			v, err := evalBound(it, lookup)
			if err != nil {
				return nil, err
			}
			b, ok := v.(bool)
			if !ok {
				return bad()
			}
			if b != and {
				return b, nil
			}
		}
		return and, nil
	case *syntax.OpApp:
		var args []any
		for _, a := range y.Args {
			v, err := evalBound(a, lookup)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		if len(args) == 1 {
			if b, ok := args[0].(bool); ok && y.Op == "~" {
				return !b, nil
			}
			if n, ok := args[0].(int64); ok && y.Op == "-." {
				return -n, nil
			}
			return bad()
		}
		a, ok1 := args[0].(int64)
		b, ok2 := args[1].(int64)
		if len(args) != 2 || !ok1 || !ok2 {
			return bad()
		}
		switch y.Op {
		case "+":
			return a + b, nil
		case "-":
			return a - b, nil
		case "*":
			return a * b, nil
		case "<":
			return a < b, nil
		case "<=":
			return a <= b, nil
		case ">":
			return a > b, nil
		case ">=":
			return a >= b, nil
		case "=":
			return a == b, nil
		case "/=":
			return a != b, nil
		}
	}
	return bad()
}

// RangeValues lists the values of a parameter drawn from Lo..Hi, with
// lookup giving variables and constants (differential tests try each).
func RangeValues(p *Param, lookup func(name string) (int64, bool)) ([]int64, error) {
	if p.Lo == nil {
		return nil, fmt.Errorf("parameter %s is not drawn from a range", p.Name)
	}
	lo, err := evalBound(p.Lo, lookup)
	if err != nil {
		return nil, err
	}
	hi, err := evalBound(p.Hi, lookup)
	if err != nil {
		return nil, err
	}
	a, ok1 := lo.(int64)
	b, ok2 := hi.(int64)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("parameter %s: range bounds are not integers", p.Name)
	}
	var out []int64
	for v := a; v <= b; v++ {
		out = append(out, v)
	}
	return out, nil
}
