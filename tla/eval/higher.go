package eval

import (
	"strconv"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// Higher-order operator parameters (Op(F(_), x) == F(x)): a definition's
// body is expanded in place, so a parameter of arity n is bound, as any
// parameter, to its argument and its caller's scope; an application F(a)
// in the body then expands the argument applied to a, where the argument
// is a LAMBDA, the name of an operator (a definition, a LET definition,
// another such parameter, an operator of an instance, a built-in) or a
// built-in operator symbol such as +. The arguments a stay in the scope of
// the application. Recursive operators with such parameters are compiled
// once and are not supported.

// applyParam compiles e's argument applied to args, which are written in s.
func (s scope) applyParam(pos syntax.Pos, e *bind, args []syntax.Expr) evalFn {
	// The argument's names are the caller's, but the code runs in the
	// application's activation (deeper when the application is in a
	// recursive unit): compile at s's level with the caller's bindings,
	// which are read outwards from there.
	t := s
	t.env = e.argSc.env
	t.primed = e.argSc.primed || s.primed
	t.inline = s.inline + 1
	if t.inline > maxInline {
		return errFn(evalErr(pos, "definitions nested deeper than %d", maxInline))
	}
	caller := s
	// bindArgs binds names in t to args, read in the application's scope.
	var reset []int
	bindArgs := func(names []string) {
		for i, n := range names {
			t.env = &bind{name: n, kind: eParam, arg: args[i], argSc: &caller, next: t.env}
			if k := caller.memoArg(t.env); k >= 0 {
				reset = append(reset, k)
			}
		}
	}
	fresh := func() ([]string, []syntax.Expr) {
		names := make([]string, len(args))
		refs := make([]syntax.Expr, len(args))
		for i := range args {
			// Not an identifier of TLA+: no name of the spec can clash.
			names[i] = "$arg" + strconv.Itoa(t.inline) + "_" + strconv.Itoa(i)
			refs[i] = &syntax.Ref{Node: syntax.Node{P: pos}, Parts: []syntax.RefPart{{Name: names[i]}}}
		}
		return names, refs
	}
	var body syntax.Expr
	switch a := e.arg.(type) {
	case *syntax.Lambda:
		if len(a.Params) != len(args) {
			return errFn(evalErr(pos, "LAMBDA of %d parameters applied to %d arguments", len(a.Params), len(args)))
		}
		bindArgs(a.Params)
		body = a.Body
	case *syntax.Ref:
		last := a.Parts[len(a.Parts)-1]
		if last.Args != nil {
			return errFn(unsupported(pos, "operator argument that is not a name or a LAMBDA"))
		}
		names, refs := fresh()
		bindArgs(names)
		r := &syntax.Ref{Node: a.Node, Parts: append([]syntax.RefPart{}, a.Parts...)}
		r.Parts[len(r.Parts)-1] = syntax.RefPart{Name: last.Name, Args: refs}
		body = r
	case *syntax.OpArg:
		names, refs := fresh()
		bindArgs(names)
		body = &syntax.OpApp{Node: a.Node, Op: a.Op, Args: refs}
	default:
		return errFn(unsupported(pos, "operator argument that is not a name or a LAMBDA"))
	}
	return resetting(reset)(t.expr(body))
}

// compileRecSeveral compiles f[x \in S, y, z \in T] == e, a function of
// several arguments, whose domain is S \X T \X T and whose argument is a
// tuple whose components the body reads as x, y, z, and f[<<a, b>> \in S]
// == e, whose argument, an element of S, is a tuple read as a and b (both
// kinds may mix: f[<<a, b>> \in S, c \in T] takes <<<<a, b>>, c>>).
func (s scope) compileRecSeveral(ru *recUnit, t scope) {
	d := ru.def
	type component struct {
		set   evalFn
		tuple bool
		slots []int
	}
	var comps []*component
	for _, b := range d.FnBounds {
		set := t.expr(b.Set)
		if b.Tuple {
			comps = append(comps, &component{set: set, tuple: true})
			continue
		}
		for range b.Names {
			comps = append(comps, &component{set: set})
		}
	}
	pos := d.Pos
	ru.dom = func(r *rt) (value.Value, error) {
		ss := make([]value.SetValue, len(comps))
		for i, c := range comps {
			v, err := c.set(r)
			if err != nil {
				return nil, err
			}
			sv, ok := v.(value.SetValue)
			if !ok {
				return nil, evalErr(pos, "domain of %s is not a set", d.Name)
			}
			ss[i] = sv
		}
		if len(ss) == 1 {
			return ss[0], nil
		}
		return value.NewProduct(ss...), nil
	}
	t2 := t
	i := 0
	for _, b := range d.FnBounds {
		if b.Tuple {
			c := comps[i]
			for _, n := range b.Names {
				var k int
				t2, k = t2.bindSlot(n)
				c.slots = append(c.slots, k)
			}
			i++
			continue
		}
		for _, n := range b.Names {
			var k int
			t2, k = t2.bindSlot(n)
			comps[i].slots = []int{k}
			i++
		}
	}
	// The argument itself, under a name no identifier can have.
	t2, ru.argSlot = t2.bindSlot("$" + d.Name)
	body := t2.expr(d.Body)
	argSlot := ru.argSlot
	ru.body = func(a *rt) (value.Value, error) {
		arg := a.slots[argSlot]
		if len(comps) == 1 {
			if err := assignBound(a, pos, comps[0].tuple, comps[0].slots, arg); err != nil {
				return nil, err
			}
			return body(a)
		}
		tup, ok := arg.(*value.Func)
		if !ok || tup.Len() != len(comps) {
			return nil, evalErr(pos, "%s: argument is not a tuple of %d", d.Name, len(comps))
		}
		for i, c := range comps {
			if err := assignBound(a, pos, c.tuple, c.slots, tup.RangeAt(i)); err != nil {
				return nil, err
			}
		}
		return body(a)
	}
}
