package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// Successor values made in an arena. For the checker (Machine.
// NextIntoPending), the right side of an assignment x' = e may make its
// value in the worker's value.Arena, where a successor the checker drops
// as a duplicate costs no garbage: the checker copies a new successor out
// of the arena (value.Materialize), and every read of x' inside the action
// gets such a copy. What is made there must be reachable only from the
// successor: so only the outermost constructors of e are (the union, the
// EXCEPT's copies, a function constructor, a sequence an update appends
// to), never a value a name is bound to, and an EXCEPT update only when no
// later update reads @ (which could put the value into one outside).

// arenaExpr compiles x, the right side of an assignment x' = e or the
// value of an EXCEPT update (exceptParts), to make its value in the
// evaluation's arena (rt.arena), when x is one of:
//   - S \cup {e}: a value.Pending where the union adds an element (copying
//     nothing, and making no record for a record constructor e);
//   - [f EXCEPT ...]: its copies (exceptArena);
//   - Append(s, e), Tail(s) of the Sequences module;
//   - [v \in S |-> e] over an enumerated S;
//   - IF c THEN a ELSE b, with a or b one of these;
//   - an operator whose body is one of these, applied to arguments.
//
// nil for any other x.
func (s scope) arenaExpr(x syntax.Expr) evalFn {
	for {
		l, ok := x.(*syntax.Label)
		if !ok {
			break
		}
		x = l.Body
	}
	switch y := x.(type) {
	case *syntax.Except:
		return s.exceptArena(y)
	case *syntax.OpApp:
		if y.Op != "\\cup" || len(y.Args) != 2 {
			return nil
		}
		if elem, ok := singleton(y.Args[1]); ok {
			return s.insertElem(y, elem, true)
		}
	case *syntax.Ref:
		return s.arenaRef(y)
	case *syntax.FuncCons:
		return s.arenaFuncCons(y)
	case *syntax.If:
		t, e := s.arenaExpr(y.Then), s.arenaExpr(y.Else)
		if t == nil && e == nil {
			return nil
		}
		if t == nil {
			t = s.expr(y.Then)
		}
		if e == nil {
			e = s.expr(y.Else)
		}
		return ifFn(s.boolean(y.Cond), t, e)
	}
	return nil
}

// arenaRef is arenaExpr of a name applied to arguments: Append or Tail of
// the Sequences module, or an operator of the module (not recursive, not
// an instance) whose body arenaExpr compiles.
func (s scope) arenaRef(ref *syntax.Ref) evalFn {
	if len(ref.Parts) != 1 {
		return nil
	}
	p := ref.Parts[0]
	m := s.c.m
	if s.find(p.Name) != nil {
		return nil
	}
	if _, ok := m.varIndex[p.Name]; ok {
		return nil
	}
	if _, ok := m.consts[p.Name]; ok {
		return nil
	}
	if d, ok := m.defs[p.Name]; ok {
		if len(d.Params) == 0 || len(p.Args) != len(d.Params) || d.Instance != nil || d.FnBounds != nil || d.Recursive || s.recByValue(d) {
			return nil
		}
		t, enter, err := s.callMemo(ref.P, d, p.Args, nil)
		if err != nil {
			return nil
		}
		body := t.arenaExpr(d.Body)
		if body == nil {
			return nil
		}
		return enter(body)
	}
	pos := ref.P
	switch {
	case p.Name == "Append" && len(p.Args) == 2:
		as := s.exprs(p.Args)
		return func(r *rt) (value.Value, error) {
			q, e, err := operands(as[0], as[1], r)
			if err != nil {
				return nil, err
			}
			v, err := value.AppendIn(r.arena, q, e)
			return v, wrap(pos, err)
		}
	case p.Name == "Tail" && len(p.Args) == 1:
		a := s.expr(p.Args[0])
		return func(r *rt) (value.Value, error) {
			q, err := a(r)
			if err != nil {
				return nil, err
			}
			if _, ok := q.(value.Str); ok {
				return s.tail(q) // a string's tail is a string
			}
			v, err := value.TailIn(r.arena, q)
			return v, wrap(pos, err)
		}
	}
	return nil
}

// arenaFuncCons is arenaExpr of [v \in S |-> e], one name bound: over an
// enumerated S or 1..n the function is made in the arena, with e made there too
// where arenaExpr compiles it; over any other S (a lazy or infinite set)
// as funcCons makes it.
func (s scope) arenaFuncCons(x *syntax.FuncCons) evalFn {
	if len(x.Bounds) != 1 || len(x.Bounds[0].Names) != 1 || x.Bounds[0].Tuple || x.Bounds[0].Set == nil {
		return nil
	}
	heap := s.funcCons(x.P, x.Bounds, x.Body)
	set := s.expr(x.Bounds[0].Set)
	s2, slots := s.bindBound(x.Bounds[0])
	body := s2.arenaExpr(x.Body)
	if body == nil {
		body = s2.expr(x.Body)
	}
	slot := slots[0]
	return func(r *rt) (value.Value, error) {
		sv, err := set(r)
		if err != nil {
			return nil, err
		}
		var f *value.Func
		var elems []value.Value
		switch dom := sv.(type) {
		case *value.Set:
			if dom.Len() == 0 {
				return heap(r)
			}
			f, elems = value.FuncOnSetIn(r.arena, dom), dom.Elems()
		case *value.Interval:
			if dom.Lo != 1 || dom.Hi < 1 {
				return heap(r)
			}
			f = value.TupleIn(r.arena, int(dom.Hi))
		default:
			return heap(r)
		}
		for i := 0; i < f.Len(); i++ {
			if elems != nil {
				r.slots[slot] = elems[i]
			} else {
				r.slots[slot] = value.Int(i + 1)
			}
			v, err := body(r)
			if err != nil {
				return nil, err
			}
			value.SetIn(f, i, v)
		}
		return value.DoneIn(f), nil
	}
}
