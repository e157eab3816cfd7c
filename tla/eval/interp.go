package eval

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// ErrEval is wrapped by every evaluation error raised here (as opposed to
// the value package's own classes, which are wrapped as they come).
var ErrEval = errors.New("evaluation error")

// binding is one name in a local scope: a value (bound identifier), a
// thunk (operator argument, evaluated where it was written), or a local
// definition (LET).
type binding struct {
	name string
	val  value.Value
	expr syntax.Expr
	env  *env
	def  *syntax.Def
	// scope, when set, makes this node stand for every name of a module
	// instance (see modScope).
	scope *modScope
}

// env is a persistent linked scope.
type env struct {
	b    binding
	next *env
}

func (e *env) with(b binding) *env { return &env{b, e} }

func (e *env) find(name string) (*binding, bool) {
	for s := e; s != nil; s = s.next {
		if s.b.scope != nil {
			if b, ok := s.b.scope.names[name]; ok {
				return b, true
			}
			continue
		}
		if s.b.name == name {
			return &s.b, true
		}
	}
	return nil, false
}

// frame is the state an expression is evaluated in: the current state, the
// next state as assigned so far (nil entries unassigned), and whether
// unprimed variables are read from next (Init).
type frame struct {
	cur, nxt []value.Value
	init     bool
	primed   bool
	at       value.Value // @ in EXCEPT
}

func evalErr(pos syntax.Pos, format string, a ...any) error {
	return &PosError{pos, fmt.Sprintf(format, a...), ErrEval}
}

func unsupported(pos syntax.Pos, what string) error {
	return &PosError{pos, "unsupported: " + what, ErrUnsupported}
}

func wrap(pos syntax.Pos, err error) error {
	if err == nil {
		return nil
	}
	var pe *PosError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", pos, err)
}

func (m *Machine) eval(x syntax.Expr, e *env, f *frame) (value.Value, error) {
	switch x := x.(type) {
	case *syntax.Num:
		n, err := strconv.ParseInt(x.Text, 10, 32)
		if err != nil {
			return nil, unsupported(x.P, "number "+x.Text+" (32-bit decimal integers only)")
		}
		return value.Int(n), nil
	case *syntax.Str:
		return m.strs.String(x.Val), nil
	case *syntax.AtSign:
		if f.at == nil {
			return nil, evalErr(x.P, "@ outside EXCEPT")
		}
		return f.at, nil
	case *syntax.Ref:
		return m.ref(x, e, f)
	case *syntax.OpApp:
		return m.opApp(x, e, f)
	case *syntax.Label:
		return m.eval(x.Body, e, f)
	case *syntax.Junction:
		for _, it := range x.Items {
			b, err := m.evalBool(it, e, f)
			if err != nil {
				return nil, err
			}
			if x.Op == "/\\" && !b {
				return value.False, nil
			}
			if x.Op == "\\/" && b {
				return value.True, nil
			}
		}
		return value.Bool(x.Op == "/\\"), nil
	case *syntax.If:
		c, err := m.evalBool(x.Cond, e, f)
		if err != nil {
			return nil, err
		}
		if c {
			return m.eval(x.Then, e, f)
		}
		return m.eval(x.Else, e, f)
	case *syntax.Case:
		for _, a := range x.Arms {
			c, err := m.evalBool(a.Cond, e, f)
			if err != nil {
				return nil, err
			}
			if c {
				return m.eval(a.Val, e, f)
			}
		}
		if x.Other != nil {
			return m.eval(x.Other, e, f)
		}
		return nil, evalErr(x.P, "no CASE arm applies")
	case *syntax.Let:
		return m.eval(x.Body, m.letEnv(x, e), f)
	case *syntax.Quant:
		return m.quant(x, e, f)
	case *syntax.SetEnum:
		vs := make([]value.Value, len(x.Elems))
		for i, el := range x.Elems {
			v, err := m.eval(el, e, f)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		s, err := value.NewSet(vs...)
		return s, wrap(x.P, err)
	case *syntax.SetFilter:
		set, err := m.evalSet(x.Bound.Set, e, f)
		if err != nil {
			return nil, err
		}
		s, err := value.Filter(set, func(v value.Value) (bool, error) {
			e2, err := bindBound(x.P, x.Bound, v, e)
			if err != nil {
				return false, err
			}
			return m.evalBool(x.Pred, e2, f)
		})
		return s, wrap(x.P, err)
	case *syntax.SetMap:
		var out []value.Value
		err := m.forBounds(x.Bounds, 0, e, f, func(e2 *env) error {
			v, err := m.eval(x.Elem, e2, f)
			out = append(out, v)
			return err
		})
		if err != nil {
			return nil, err
		}
		s, err := value.NewSet(out...)
		return s, wrap(x.P, err)
	case *syntax.Tuple:
		vs := make([]value.Value, len(x.Elems))
		for i, el := range x.Elems {
			v, err := m.eval(el, e, f)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		return value.Tuple(vs...), nil
	case *syntax.FuncCons:
		var dom, rng []value.Value
		err := m.forBounds(x.Bounds, 0, e, f, func(e2 *env) error {
			v, err := m.eval(x.Body, e2, f)
			if err != nil {
				return err
			}
			var key value.Value
			if len(x.Bounds) == 1 && len(x.Bounds[0].Names) == 1 {
				key = e2.b.val
			} else {
				key = boundTuple(x.Bounds, e2)
			}
			dom, rng = append(dom, key), append(rng, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		fn, err := value.NewFunc(dom, rng)
		return fn, wrap(x.P, err)
	case *syntax.FuncSet:
		d, err := m.evalSet(x.Dom, e, f)
		if err != nil {
			return nil, err
		}
		r, err := m.evalSet(x.Rng, e, f)
		if err != nil {
			return nil, err
		}
		return value.NewFuncSet(d, r), nil
	case *syntax.Record:
		vs := make([]value.Value, len(x.Vals))
		for i, el := range x.Vals {
			v, err := m.eval(el, e, f)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		r, err := value.Record(m.strs, x.Fields, vs)
		return r, wrap(x.P, err)
	case *syntax.RecordSet:
		ss := make([]value.SetValue, len(x.Sets))
		for i, el := range x.Sets {
			s, err := m.evalSet(el, e, f)
			if err != nil {
				return nil, err
			}
			ss[i] = s
		}
		r, err := value.NewRecordSet(m.strs, x.Fields, ss)
		return r, wrap(x.P, err)
	case *syntax.Times:
		ss := make([]value.SetValue, len(x.Sets))
		for i, el := range x.Sets {
			s, err := m.evalSet(el, e, f)
			if err != nil {
				return nil, err
			}
			ss[i] = s
		}
		return value.NewProduct(ss...), nil
	case *syntax.Except:
		fv, err := m.eval(x.Fn, e, f)
		if err != nil {
			return nil, err
		}
		for _, u := range x.Updates {
			fv, err = m.except(x.P, fv, u.Path, u.Val, e, f)
			if err != nil {
				return nil, err
			}
		}
		return fv, nil
	case *syntax.Apply:
		if r, ok := x.Fn.(*syntax.Ref); ok && len(r.Parts) == 1 && r.Parts[0].Args == nil {
			if b, ok := e.find(r.Parts[0].Name); ok && b.def != nil && b.def.FnBounds != nil {
				return m.applyRecFn(x, b, e, f)
			}
			if d, ok := m.defs[r.Parts[0].Name]; ok && d.FnBounds != nil {
				if _, bound := e.find(r.Parts[0].Name); !bound {
					return m.applyRecFn(x, &binding{name: d.Name, def: d}, e, f)
				}
			}
		}
		fv, err := m.eval(x.Fn, e, f)
		if err != nil {
			return nil, err
		}
		arg, err := m.argValue(x.Args, e, f)
		if err != nil {
			return nil, err
		}
		fn, ok := fv.(*value.Func)
		if !ok {
			return nil, evalErr(x.P, "applying %s, which is not a function, to %s", fv, arg)
		}
		v, err := fn.Apply(arg)
		return v, wrap(x.P, err)
	case *syntax.Dot:
		rv, err := m.eval(x.Rec, e, f)
		if err != nil {
			return nil, err
		}
		fn, ok := rv.(*value.Func)
		if !ok {
			return nil, evalErr(x.P, "field %s of %s, which is not a record", x.Field, rv)
		}
		v, err := fn.Apply(m.strs.String(x.Field))
		return v, wrap(x.P, err)
	}
	return nil, unsupported(x.At(), fmt.Sprintf("expression %T", x))
}

func (m *Machine) argValue(args []syntax.Expr, e *env, f *frame) (value.Value, error) {
	if len(args) == 1 {
		return m.eval(args[0], e, f)
	}
	vs := make([]value.Value, len(args))
	for i, a := range args {
		v, err := m.eval(a, e, f)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return value.Tuple(vs...), nil
}

// applyRecFn evaluates f[x] for f[x \in S] == body without building f,
// which is how a recursive function definition can refer to itself.
func (m *Machine) applyRecFn(x *syntax.Apply, b *binding, e *env, f *frame) (value.Value, error) {
	d := b.def
	arg, err := m.argValue(x.Args, e, f)
	if err != nil {
		return nil, err
	}
	denv := b.env
	if len(d.FnBounds) != 1 || len(d.FnBounds[0].Names) != 1 || d.FnBounds[0].Tuple {
		return nil, unsupported(x.P, "recursive function of several arguments")
	}
	set, err := m.evalSet(d.FnBounds[0].Set, denv, f)
	if err != nil {
		return nil, err
	}
	in, err := set.Contains(arg)
	if err != nil {
		return nil, wrap(x.P, err)
	}
	if !in {
		return nil, evalErr(x.P, "%s[%s]: argument outside the domain", d.Name, arg)
	}
	return m.eval(d.Body, denv.with(binding{name: d.FnBounds[0].Names[0], val: arg}), f)
}

func (m *Machine) except(pos syntax.Pos, fv value.Value, path []syntax.ExceptKey, val syntax.Expr, e *env, f *frame) (value.Value, error) {
	fn, ok := fv.(*value.Func)
	if !ok {
		return nil, evalErr(pos, "EXCEPT on %s, which is not a function", fv)
	}
	var key value.Value
	if path[0].Field != "" {
		key = m.strs.String(path[0].Field)
	} else {
		k, err := m.argValue(path[0].Index, e, f)
		if err != nil {
			return nil, err
		}
		key = k
	}
	old, err := fn.Apply(key)
	if err != nil {
		// TLC leaves f unchanged when the key is outside the domain.
		return fn, nil
	}
	var nv value.Value
	if len(path) == 1 {
		f2 := *f
		f2.at = old
		nv, err = m.eval(val, e, &f2)
	} else {
		nv, err = m.except(pos, old, path[1:], val, e, f)
	}
	if err != nil {
		return nil, err
	}
	out, err := fn.Except(key, nv)
	return out, wrap(pos, err)
}

func boundTuple(bs []syntax.Bound, e *env) value.Value {
	var names []string
	for _, b := range bs {
		names = append(names, b.Names...)
	}
	vs := make([]value.Value, len(names))
	for i, n := range names {
		b, _ := e.find(n)
		vs[i] = b.val
	}
	return value.Tuple(vs...)
}

func bindBound(pos syntax.Pos, b syntax.Bound, v value.Value, e *env) (*env, error) {
	if !b.Tuple {
		return e.with(binding{name: b.Names[0], val: v}), nil
	}
	fn, ok := v.(*value.Func)
	if !ok || fn.Len() != len(b.Names) {
		return nil, evalErr(pos, "%s does not match <<%d names>>", v, len(b.Names))
	}
	for i, n := range b.Names {
		x, err := fn.Apply(value.Int(i + 1))
		if err != nil {
			return nil, wrap(pos, err)
		}
		e = e.with(binding{name: n, val: x})
	}
	return e, nil
}

// forBounds calls fn with every combination of the bounds' values, in TLC's
// order (the first bound varies slowest).
func (m *Machine) forBounds(bs []syntax.Bound, i int, e *env, f *frame, fn func(*env) error) error {
	if i == len(bs) {
		return fn(e)
	}
	b := bs[i]
	if b.Set == nil {
		return unsupported(syntax.Pos{}, "unbounded quantifier")
	}
	set, err := m.evalSet(b.Set, e, f)
	if err != nil {
		return err
	}
	elems, err := set.Enumerate()
	if err != nil {
		return wrap(b.Set.At(), err)
	}
	return m.forNames(b, 0, elems, e, f, func(e2 *env) error { return m.forBounds(bs, i+1, e2, f, fn) })
}

func (m *Machine) forNames(b syntax.Bound, k int, elems *value.Set, e *env, f *frame, fn func(*env) error) error {
	if b.Tuple {
		for j := 0; j < elems.Len(); j++ {
			e2, err := bindBound(b.Set.At(), b, elems.At(j), e)
			if err != nil {
				return err
			}
			if err := fn(e2); err != nil {
				return err
			}
		}
		return nil
	}
	if k == len(b.Names) {
		return fn(e)
	}
	for j := 0; j < elems.Len(); j++ {
		if err := m.forNames(b, k+1, elems, e.with(binding{name: b.Names[k], val: elems.At(j)}), f, fn); err != nil {
			return err
		}
	}
	return nil
}

var errStop = errors.New("stop")

func (m *Machine) quant(x *syntax.Quant, e *env, f *frame) (value.Value, error) {
	switch x.Kind {
	case "\\A", "\\E":
		want := x.Kind == "\\E"
		found := false
		err := m.forBounds(x.Bounds, 0, e, f, func(e2 *env) error {
			b, err := m.evalBool(x.Body, e2, f)
			if err != nil {
				return err
			}
			if b == want {
				found = true
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			return nil, err
		}
		if want {
			return value.Bool(found), nil
		}
		return value.Bool(!found), nil
	case "CHOOSE":
		if len(x.Bounds) != 1 || x.Bounds[0].Set == nil {
			return nil, unsupported(x.P, "CHOOSE without exactly one bounded variable")
		}
		b := x.Bounds[0]
		set, err := m.evalSet(b.Set, e, f)
		if err != nil {
			return nil, err
		}
		v, err := value.Choose(set, func(v value.Value) (bool, error) {
			e2, err := bindBound(x.P, b, v, e)
			if err != nil {
				return false, err
			}
			return m.evalBool(x.Body, e2, f)
		})
		return v, wrap(x.P, err)
	}
	return nil, unsupported(x.P, x.Kind)
}

func (m *Machine) evalBool(x syntax.Expr, e *env, f *frame) (bool, error) {
	v, err := m.eval(x, e, f)
	if err != nil {
		return false, err
	}
	b, ok := v.(value.Bool)
	if !ok {
		return false, evalErr(x.At(), "expected a boolean, got %s", v)
	}
	return bool(b), nil
}

func (m *Machine) evalSet(x syntax.Expr, e *env, f *frame) (value.SetValue, error) {
	v, err := m.eval(x, e, f)
	if err != nil {
		return nil, err
	}
	s, ok := v.(value.SetValue)
	if !ok {
		return nil, evalErr(x.At(), "expected a set, got %s", v)
	}
	return s, nil
}

func (m *Machine) letEnv(x *syntax.Let, e *env) *env {
	for _, d := range x.Defs {
		b := binding{name: d.Name, def: d}
		e = e.with(b)
		e.b.env = e // a definition sees itself (RECURSIVE, recursive functions) and earlier ones
	}
	return e
}

// ref evaluates a name: a bound identifier, an operator argument, a LET
// definition, a variable, a constant, a definition, or a built-in.
func (m *Machine) ref(x *syntax.Ref, e *env, f *frame) (value.Value, error) {
	if len(x.Parts) != 1 {
		t, err := m.resolvePath(x, e)
		if err != nil {
			return nil, err
		}
		if t.def == nil {
			return m.eval(t.expr, t.xenv, f)
		}
		return m.call(x.P, t.def, t.args, t.denv, e, f)
	}
	p := x.Parts[0]
	if b, ok := e.find(p.Name); ok {
		switch {
		case b.def != nil:
			return m.call(x.P, b.def, p.Args, b.env, e, f)
		case b.expr != nil:
			if p.Args != nil {
				return nil, unsupported(x.P, "operator arguments")
			}
			return m.eval(b.expr, b.env, f)
		default:
			return b.val, nil
		}
	}
	if i, ok := m.varIndex[p.Name]; ok {
		src := f.cur
		if f.primed || f.init {
			src = f.nxt
		}
		if src == nil || src[i] == nil {
			return nil, &PosError{x.P, fmt.Sprintf("variable %s has no value here", p.Name), ErrUnassigned}
		}
		return src[i], nil
	}
	if v, ok := m.consts[p.Name]; ok {
		return v, nil
	}
	if d, ok := m.defs[p.Name]; ok {
		if len(d.Params) == 0 && d.FnBounds == nil {
			if v, ok := m.constDefs[p.Name]; ok {
				return v, nil
			}
		}
		return m.call(x.P, d, p.Args, nil, e, f)
	}
	return m.builtin(x, p, e, f)
}

// call applies a definition to arguments, passed by name (a thunk
// evaluated in the caller's scope), as TLA+ substitutes them.
func (m *Machine) call(pos syntax.Pos, d *syntax.Def, args []syntax.Expr, denv, e *env, f *frame) (value.Value, error) {
	if d.Instance != nil {
		return nil, unsupported(pos, "instance "+d.Name)
	}
	if len(args) != len(d.Params) {
		return nil, evalErr(pos, "%s takes %d arguments, got %d", d.Name, len(d.Params), len(args))
	}
	m.depth++
	defer func() { m.depth-- }()
	if m.depth > MaxCallDepth {
		return nil, evalErr(pos, "calls nested deeper than %d (unbounded recursion in %s?)", MaxCallDepth, d.Name)
	}
	ne := denv
	for i, prm := range d.Params {
		if prm.Arity > 0 {
			return nil, unsupported(pos, "higher-order parameter "+prm.Name)
		}
		ne = ne.with(binding{name: prm.Name, expr: args[i], env: e})
	}
	if d.FnBounds != nil {
		// the function value itself
		fc := &syntax.FuncCons{Node: syntax.Node{P: d.Pos}, Bounds: d.FnBounds, Body: d.Body}
		return m.eval(fc, ne.with(binding{name: d.Name, def: d, env: ne}), f)
	}
	return m.eval(d.Body, ne, f)
}

// MaxCallDepth caps operator call nesting (recursion).
const MaxCallDepth = 2000
