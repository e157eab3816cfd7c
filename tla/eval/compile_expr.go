package eval

import (
	"errors"
	"unsafe"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// The value-context constructs expr1 dispatches to, one function each, in
// the order of its switch: control (junctions, IF, CASE, LET), sets,
// tuples and records.

// exprJunction compiles a conjunction or disjunction list in value context.
func (s scope) exprJunction(x *syntax.Junction) evalFn {
	items := make([]func(*rt) (bool, error), len(x.Items))
	for i, it := range x.Items {
		items[i] = s.boolean(it)
	}
	if x.Op == "/\\" {
		return func(r *rt) (value.Value, error) {
			for _, it := range items {
				b, err := it(r)
				if err != nil {
					return nil, err
				}
				if !b {
					return value.False, nil
				}
			}
			return value.True, nil
		}
	}
	return func(r *rt) (value.Value, error) {
		for _, it := range items {
			b, err := it(r)
			if err != nil {
				return nil, err
			}
			if b {
				return value.True, nil
			}
		}
		return value.False, nil
	}
}

// exprIf compiles IF/THEN/ELSE in value context.
func (s scope) exprIf(x *syntax.If) evalFn {
	return ifFn(s.boolean(x.Cond), s.expr(x.Then), s.expr(x.Else))
}

// ifFn is IF c THEN t ELSE e of compiled parts.
func ifFn(c func(*rt) (bool, error), t, e evalFn) evalFn {
	return func(r *rt) (value.Value, error) {
		b, err := c(r)
		if err != nil {
			return nil, err
		}
		if b {
			return t(r)
		}
		return e(r)
	}
}

// exprCase compiles CASE in value context: the first arm whose condition
// holds, else OTHER.
func (s scope) exprCase(x *syntax.Case) evalFn {
	conds := make([]func(*rt) (bool, error), len(x.Arms))
	vals := make([]evalFn, len(x.Arms))
	for i, a := range x.Arms {
		conds[i], vals[i] = s.boolean(a.Cond), s.expr(a.Val)
	}
	var other evalFn
	if x.Other != nil {
		other = s.expr(x.Other)
	}
	pos := x.P
	return func(r *rt) (value.Value, error) {
		for i, c := range conds {
			b, err := c(r)
			if err != nil {
				return nil, err
			}
			if b {
				return vals[i](r)
			}
		}
		if other != nil {
			return other(r)
		}
		return nil, evalErr(pos, "no CASE arm applies")
	}
}

// exprLet compiles LET/IN; the LET's slots are reset on each evaluation.
func (s scope) exprLet(x *syntax.Let) evalFn {
	s2, reset := s.let(x)
	body := s2.expr(x.Body)
	return func(r *rt) (value.Value, error) {
		for _, k := range reset {
			r.slots[k] = nil
		}
		return body(r)
	}
}

// exprSetEnum compiles {e1, ..., en}.
func (s scope) exprSetEnum(x *syntax.SetEnum) evalFn {
	elems := s.exprs(x.Elems)
	pos := x.P
	if len(elems) == 1 {
		e := elems[0]
		site := consSite()
		return func(r *rt) (value.Value, error) {
			v, err := e(r)
			if err != nil {
				return nil, err
			}
			args := [1]value.Value{v}
			made, slot := r.memo.Cons(site, args[:])
			if made != nil {
				return made, nil
			}
			st := value.Singleton(v)
			if slot != nil {
				slot.Keep(site, args[:], st)
			}
			return st, nil
		}
	}
	return func(r *rt) (value.Value, error) {
		vs, err := evalAll(r, elems)
		if err != nil {
			return nil, err
		}
		st, err := value.NewSet(vs...)
		return st, wrap(pos, err)
	}
}

// exprSetFilter compiles {x \in S : P}, lazily when S is infinite.
func (s scope) exprSetFilter(x *syntax.SetFilter) evalFn {
	set := s.set(x.Bound.Set)
	s2, slots := s.bindBound(x.Bound)
	pred := s2.boolean(x.Pred)
	pre := s2.pretest([]syntax.Bound{x.Bound}, x.Pred)
	pos := x.P
	tuple := x.Bound.Tuple
	return func(r *rt) (value.Value, error) {
		sv, err := set(r)
		if err != nil {
			return nil, err
		}
		if _, err := sv.Card(); errors.Is(err, value.ErrInfinite) {
			return lazyFilter(r, x, sv, tuple, slots, pred), nil
		}
		var pv preVals
		keep := func(v value.Value) (bool, error) {
			if pre != nil && pre.fails(r, &pv, v) {
				return false, nil
			}
			if err := assignBound(r, pos, tuple, slots, v); err != nil {
				return false, err
			}
			return pred(r)
		}
		if set, ok := sv.(*value.Set); ok {
			if e := pre.positions(r, set); e != nil {
				defer e.Release()
				st, err := value.FilterAt(set, e.Hold(), keep)
				return st, wrap(pos, err)
			}
		}
		st, err := value.Filter(sv, keep)
		return st, wrap(pos, err)
	}
}

// exprSetMap compiles {e : x \in S}.
func (s scope) exprSetMap(x *syntax.SetMap) evalFn {
	b, s2 := s.binder(x.Bounds)
	elem := s2.expr(x.Elem)
	pos := x.P
	return func(r *rt) (value.Value, error) {
		var out []value.Value
		_, err := b.each(r, 0, func(r *rt) (bool, error) {
			v, err := elem(r)
			out = append(out, v)
			return false, err
		})
		if err != nil {
			return nil, err
		}
		st, err := value.NewSet(out...)
		return st, wrap(pos, err)
	}
}

// exprTuple compiles <<e1, ..., en>>.
func (s scope) exprTuple(x *syntax.Tuple) evalFn {
	elems := s.exprs(x.Elems)
	return func(r *rt) (value.Value, error) {
		vs, err := evalAll(r, elems)
		if err != nil {
			return nil, err
		}
		return value.Tuple(vs...), nil
	}
}

// exprFuncSet compiles [S -> T].
func (s scope) exprFuncSet(x *syntax.FuncSet) evalFn {
	d, rg := s.set(x.Dom), s.set(x.Rng)
	return func(r *rt) (value.Value, error) {
		dv, err := d(r)
		if err != nil {
			return nil, err
		}
		rv, err := rg(r)
		if err != nil {
			return nil, err
		}
		return value.NewFuncSet(dv, rv), nil
	}
}

// exprRecord compiles [f1 |-> e1, ...].
func (s scope) exprRecord(x *syntax.Record) evalFn {
	m := s.c.m
	mk, err := value.NewRecordMaker(m.strs, x.Fields)
	if err != nil {
		return errFn(wrap(x.P, err))
	}
	vals := s.exprs(x.Vals)
	site := consSite()
	return func(r *rt) (value.Value, error) {
		var buf [8]value.Value
		vs := buf[:0]
		for _, v := range vals {
			y, err := v(r)
			if err != nil {
				return nil, err
			}
			vs = append(vs, y)
		}
		made, slot := r.memo.Cons(site, vs)
		if made != nil {
			return made, nil
		}
		rec := mk.Make(vs)
		if slot != nil {
			slot.Keep(site, vs, rec)
		}
		return rec, nil
	}
}

// consSite returns an address that stands for one constructor of the
// spec (a {e} or a record), for the worker's memo of what it made
// (value.WorkerMemo.Cons).
func consSite() unsafe.Pointer { return unsafe.Pointer(new(int64)) }

// exprRecordSet compiles [f1 : S1, ...].
func (s scope) exprRecordSet(x *syntax.RecordSet) evalFn {
	m := s.c.m
	sets := make([]func(*rt) (value.SetValue, error), len(x.Sets))
	for i, e := range x.Sets {
		sets[i] = s.set(e)
	}
	fields, pos := x.Fields, x.P
	return func(r *rt) (value.Value, error) {
		ss := make([]value.SetValue, len(sets))
		for i, f := range sets {
			v, err := f(r)
			if err != nil {
				return nil, err
			}
			ss[i] = v
		}
		rs, err := value.NewRecordSet(m.strs, fields, ss)
		return rs, wrap(pos, err)
	}
}

// exprTimes compiles S1 \X ... \X Sn.
func (s scope) exprTimes(x *syntax.Times) evalFn {
	sets := make([]func(*rt) (value.SetValue, error), len(x.Sets))
	for i, e := range x.Sets {
		sets[i] = s.set(e)
	}
	return func(r *rt) (value.Value, error) {
		ss := make([]value.SetValue, len(sets))
		for i, f := range sets {
			v, err := f(r)
			if err != nil {
				return nil, err
			}
			ss[i] = v
		}
		return value.NewProduct(ss...), nil
	}
}

// exprDot compiles r.f, reading a bound variable's slot directly.
func (s scope) exprDot(x *syntax.Dot) evalFn {
	m := s.c.m
	field := m.strs.String(x.Field)
	pos, name := x.P, x.Field
	if slot, ok := s.localSlot(x.Rec); ok {
		// m.f with m bound here (\E m \in msgs : m.type = ...)
		fc := value.NewFieldCache(field)
		return func(r *rt) (value.Value, error) {
			rv := r.slots[slot]
			fn, ok := rv.(*value.Func)
			if !ok {
				return nil, evalErr(pos, "field %s of %s, which is not a record", name, rv)
			}
			if v, ok := fc.Field(fn); ok {
				return v, nil
			}
			v, err := fn.Apply(field)
			return v, wrap(pos, err)
		}
	}
	rec := s.expr(x.Rec)
	return func(r *rt) (value.Value, error) {
		rv, err := rec(r)
		if err != nil {
			return nil, err
		}
		fn, ok := rv.(*value.Func)
		if !ok {
			return nil, evalErr(pos, "field %s of %s, which is not a record", name, rv)
		}
		v, err := fn.Apply(field)
		return v, wrap(pos, err)
	}
}
