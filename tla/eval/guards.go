package eval

import (
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/syntax"
)

// Disjuncts that begin with the same condition (MCLamportMutex's three
// receive actions each begin with network[q][p] # << >> for the same p
// and q) test it once: G /\ A, G /\ B, G /\ C run as G /\ (A \/ B \/ C).
// The successors, their order and their actions are those of the
// disjuncts one after another: G is a plain condition (plainPredicate),
// which assigns nothing and holds in at most one way, evaluated in the
// same partial state at the start of each disjunct, so it has the same
// value (or error) there each time; each rest is compiled as the
// conjunction compiles it after its first conjunct (conj from 1, with
// the probes between the later conjuncts), under its own action name.
// Where G is FALSE, as for most channels of most states, two
// evaluations of three are saved.

// factorGuards turns the factoring on (tests turn it off to compare).
var factorGuards = true

// guardShared counts the disjuncts compiled to share a guard with others
// (for tests).
var guardShared atomic.Int64

// guarded is a disjunct of an action seen through the operators it
// calls: a conjunction whose first conjunct is a plain condition, with
// the scope its items are compiled in and the action name they run under.
type guarded struct {
	sc    scope
	name  string
	items []syntax.Expr // items[0] is the guard
}

// disjuncts compiles the disjuncts of an action, one guard tested once for
// each run of consecutive disjuncts that begin with the same one.
func (s scope) disjuncts(xs []syntax.Expr, name string, naming bool, k *kont) []runFn {
	var out []runFn
	for i := 0; i < len(xs); {
		g, ok := s.guardOf(xs[i], name, naming)
		group := []guarded{g}
		j := i + 1
		for ok && factorGuards && j < len(xs) {
			h, ok := s.guardOf(xs[j], name, naming)
			if !ok || !sameExpr(g.items[0], g.sc, h.items[0], h.sc, 0) {
				break
			}
			group = append(group, h)
			j++
		}
		if len(group) < 2 {
			out = append(out, s.act(xs[i], name, naming, k))
			i++
			continue
		}
		out = append(out, guardedRun(group, k))
		i = j
	}
	return out
}

// guardedRun tests the group's guard once, then runs each disjunct's
// rest.
func guardedRun(group []guarded, k *kont) runFn {
	guardShared.Add(int64(len(group)))
	g := group[0]
	cond := g.sc.boolean(g.items[0])
	rests := make([]runFn, len(group))
	for i, h := range group {
		rests[i] = h.sc.conj(h.items, 1, h.name, k)
	}
	return func(r *rt) error {
		ok, err := cond(r)
		if err != nil || !ok {
			return err
		}
		for _, rest := range rests {
			if err := rest(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// guardOf looks through labels and calls of a module's operators with
// parameters (inlined as actRef inlines them) for a conjunction of at
// least two items whose first is a plain condition.
func (s scope) guardOf(x syntax.Expr, name string, naming bool) (guarded, bool) {
	m := s.c.m
	for depth := 0; depth <= maxInline; depth++ {
		switch y := x.(type) {
		case *syntax.Label:
			x = y.Body
		case *syntax.Junction:
			if y.Op != "/\\" || len(y.Items) < 2 || !s.plainPredicate(y.Items[0]) {
				return guarded{}, false
			}
			return guarded{sc: s, name: name, items: y.Items}, true
		case *syntax.Ref:
			if len(y.Parts) != 1 || s.find(y.Parts[0].Name) != nil {
				return guarded{}, false
			}
			p := y.Parts[0]
			if _, isVar := m.varIndex[p.Name]; isVar {
				return guarded{}, false
			}
			if _, isConst := m.consts[p.Name]; isConst {
				return guarded{}, false
			}
			d, ok := m.defs[p.Name]
			if !ok || !inlinedAction(d, len(p.Args)) || len(d.Params) == 0 {
				return guarded{}, false
			}
			for _, prm := range d.Params {
				if prm.Arity > 0 {
					return guarded{}, false
				}
			}
			t, err := s.callee(y.P, d, p.Args, nil)
			if err != nil {
				return guarded{}, false
			}
			if naming {
				name = p.Name
			}
			s, x = t, d.Body
		default:
			return guarded{}, false
		}
	}
	return guarded{}, false
}

// pureOps are the built-in operators a shared guard may apply: each gives
// one value for its operands, reads nothing else and prints nothing.
var pureOps = map[string]bool{
	"=": true, "#": true, "/=": true, "\\in": true, "\\notin": true,
	"<": true, "<=": true, "=<": true, "\\leq": true, ">": true, ">=": true, "\\geq": true,
	"~": true, "\\lnot": true, "\\neg": true, "/\\": true, "\\land": true, "\\/": true, "\\lor": true,
	"+": true, "-": true, "*": true, "-.": true, "..": true,
	"\\cup": true, "\\union": true, "\\cap": true, "\\intersect": true, "\\": true, "\\subseteq": true,
	"DOMAIN": true,
}

// sameExpr reports whether a (compiled in sa) and b (in sb) have the same
// value in every state: the same text, up to operator parameters, which
// stand for their arguments in the caller, with every name meaning the
// same thing on both sides: one bound identifier (the same binding), one
// state variable, constant or constant definition. Anything else (an
// operator call, a binder, a primed or unknown name) is not compared:
// false, and the disjuncts are compiled one by one.
func sameExpr(a syntax.Expr, sa scope, b syntax.Expr, sb scope, depth int) bool {
	if depth > maxInline || sa.primed || sb.primed || sa.init != sb.init {
		return false
	}
	a, sa = derefParam(a, sa)
	b, sb = derefParam(b, sb)
	if sa.primed || sb.primed {
		return false
	}
	switch x := a.(type) {
	case *syntax.Ref:
		y, ok := b.(*syntax.Ref)
		if !ok || len(x.Parts) != 1 || len(y.Parts) != 1 || x.Parts[0].Args != nil || y.Parts[0].Args != nil {
			return false
		}
		return sameName(x.Parts[0].Name, sa, y.Parts[0].Name, sb)
	case *syntax.Apply:
		y, ok := b.(*syntax.Apply)
		return ok && sameExpr(x.Fn, sa, y.Fn, sb, depth+1) && sameExprs(x.Args, sa, y.Args, sb, depth+1)
	case *syntax.OpApp:
		y, ok := b.(*syntax.OpApp)
		if !ok || x.Op != y.Op || !pureOps[x.Op] || len(x.Args) != len(y.Args) ||
			sa.find(x.Op) != nil || sb.find(y.Op) != nil {
			return false
		}
		if _, ok := sa.c.m.defs[x.Op]; ok {
			return false
		}
		return sameExprs(x.Args, sa, y.Args, sb, depth+1)
	case *syntax.Tuple:
		y, ok := b.(*syntax.Tuple)
		return ok && sameExprs(x.Elems, sa, y.Elems, sb, depth+1)
	case *syntax.Dot:
		y, ok := b.(*syntax.Dot)
		return ok && x.Field == y.Field && sameExpr(x.Rec, sa, y.Rec, sb, depth+1)
	case *syntax.Num:
		y, ok := b.(*syntax.Num)
		return ok && x.Text == y.Text
	case *syntax.Str:
		y, ok := b.(*syntax.Str)
		return ok && x.Val == y.Val
	}
	return false
}

// sameExprs is sameExpr for two lists, item by item.
func sameExprs(as []syntax.Expr, sa scope, bs []syntax.Expr, sb scope, depth int) bool {
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		if !sameExpr(as[i], sa, bs[i], sb, depth) {
			return false
		}
	}
	return true
}

// derefParam replaces a reference to an operator parameter of arity 0 by
// the argument, in the caller's scope, as many times as it takes.
func derefParam(x syntax.Expr, s scope) (syntax.Expr, scope) {
	for depth := 0; depth <= maxInline; depth++ {
		r, ok := x.(*syntax.Ref)
		if !ok || len(r.Parts) != 1 || r.Parts[0].Args != nil {
			return x, s
		}
		e := s.find(r.Parts[0].Name)
		if e == nil || e.kind != eParam {
			return x, s
		}
		primed := s.primed
		x, s = e.arg, *e.argSc
		s.primed = s.primed || primed
	}
	return x, s
}

// sameName reports whether name n in sa and m in sb mean the same value:
// one binding of a bound identifier, or one state variable, constant or
// constant definition of the module.
func sameName(n string, sa scope, m string, sb scope) bool {
	ea, eb := sa.find(n), sb.find(m)
	if ea != nil || eb != nil {
		return ea == eb && ea.kind == eSlot
	}
	if n != m {
		return false
	}
	mod := sa.c.m
	if _, ok := mod.varIndex[n]; ok {
		return true
	}
	if _, ok := mod.consts[n]; ok {
		return true
	}
	d, ok := mod.defs[n]
	return ok && len(d.Params) == 0 && d.FnBounds == nil && d.Instance == nil && !d.Recursive && sa.constDef(d).isConst
}
