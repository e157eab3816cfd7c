package eval

import (
	"slices"
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// eagerFilters counts the filters memberOf built whole (for tests: a
// constant one is built once per run, not at each test).
var eagerFilters atomic.Int64

// maxFilterChain bounds how many definitions inFilter looks through.
const maxFilterChain = 16

// inFilter compiles v \in X and v \notin X where X is {x \in S : P},
// directly or as the body of (a chain of) top-level definitions, as TLC
// decides membership in such a set: unless S is an enumerated set or an
// interval (which TLC filters at once), v \in S and then P with x = v,
// without building the set (TLC's SetPredValue.member). {DP \in SUBSET SUBSET D : P}
// has 2^(2^|D|) candidates to filter, of which a membership test needs one.
// It returns nil when X is no such set.
func (s scope) inFilter(x *syntax.OpApp) evalFn {
	if !s.reachesFilter(x.Args[1], nil, 0) {
		return nil
	}
	val := s.expr(x.Args[0])
	in := s.memberOf(x.Args[1])
	want := x.Op == "\\in"
	return func(r *rt) (value.Value, error) {
		v, err := val(r)
		if err != nil {
			return nil, err
		}
		ok, err := in(r, v)
		if err != nil {
			return nil, err
		}
		return value.Bool(ok == want), nil
	}
}

// reachesFilter reports whether x is a set filter or a reference to a
// top-level definition (not shadowed by a bound name or by one of params,
// the parameters of the definition x is the body of) whose body reaches one.
func (s scope) reachesFilter(x syntax.Expr, params []syntax.Param, depth int) bool {
	switch x := x.(type) {
	case *syntax.SetFilter:
		return true
	case *syntax.Ref:
		d := s.filterDef(x, params)
		return d != nil && depth < maxFilterChain && s.reachesFilter(d.Body, d.Params, depth+1)
	}
	return false
}

// filterDef is the top-level definition x calls, if inFilter may look
// through it: not recursive, not a function definition or instance, called
// with as many arguments as it has parameters.
func (s scope) filterDef(x *syntax.Ref, params []syntax.Param) *syntax.Def {
	if len(x.Parts) != 1 {
		return nil
	}
	p := x.Parts[0]
	if slices.ContainsFunc(params, func(q syntax.Param) bool { return q.Name == p.Name }) {
		return nil
	}
	m := s.c.m
	if params == nil && s.find(p.Name) != nil {
		return nil
	}
	if _, ok := m.varIndex[p.Name]; ok {
		return nil
	}
	if _, ok := m.consts[p.Name]; ok {
		return nil
	}
	d, ok := m.defs[p.Name]
	if !ok || d.Instance != nil || d.Recursive || d.FnBounds != nil || len(p.Args) != len(d.Params) {
		return nil
	}
	return d
}

// memberOf compiles a membership test in x, for which reachesFilter holds.
// A definition's body is compiled inline as call does, in the same
// activation, its cached arguments cleared at each test.
func (s scope) memberOf(x syntax.Expr) func(r *rt, v value.Value) (bool, error) {
	if ref, ok := x.(*syntax.Ref); ok {
		d := s.c.m.defs[ref.Parts[0].Name]
		t, enter, err := s.callMemo(ref.P, d, ref.Parts[0].Args, nil)
		if err != nil {
			return func(*rt, value.Value) (bool, error) { return false, err }
		}
		body := t.memberOf(d.Body)
		reset := enter(func(*rt) (value.Value, error) { return nil, nil })
		return func(r *rt, v value.Value) (bool, error) {
			if _, err := reset(r); err != nil {
				return false, err
			}
			return body(r, v)
		}
	}
	f := x.(*syntax.SetFilter)
	// A filter that reads no state and no name bound outside it is the
	// same set at every test: filtered once, as TLC evaluates a constant
	// definition once, not at every test.
	mark, level := s.unit().n, s.level
	probe := s // compiles the filter with flags of its own
	probe.fl = newFlags()
	set := probe.set(f.Bound.Set)
	s2, slots := probe.bindBound(f.Bound)
	pred := s2.boolean(f.Pred)
	pf := probe.fl
	s.fl.merge(pf)
	constant := pf.constant(level, mark)
	var filtered atomic.Pointer[constVal]
	pos, tuple := f.P, f.Bound.Tuple
	return func(r *rt, v value.Value) (bool, error) {
		sv, err := set(r)
		if err != nil {
			return false, err
		}
		switch sv.(type) {
		case *value.Set, *value.Interval:
			// TLC filters an enumerated set or an interval at once (its
			// Reducible values), and so meets any error of P on the others.
			var st value.Value
			if c := filtered.Load(); c != nil {
				st, err = c.v, c.err
			} else {
				st, err = value.Filter(sv, func(e value.Value) (bool, error) {
					if err := assignBound(r, pos, tuple, slots, e); err != nil {
						return false, err
					}
					return pred(r)
				})
				eagerFilters.Add(1)
				if constant {
					filtered.Store(&constVal{v: st, err: err})
				}
			}
			if err != nil {
				return false, wrap(pos, err)
			}
			in, err := st.(value.SetValue).Contains(v)
			return in, wrap(pos, err)
		}
		in, err := sv.Contains(v)
		if err != nil || !in {
			return false, wrap(pos, err)
		}
		if err := assignBound(r, pos, tuple, slots, v); err != nil {
			return false, err
		}
		return pred(r)
	}
}
