package eval

import (
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// recordFields is a record constructor [f1 |-> e1, ...] compiled for use
// without building the record: its maker and the values of its fields.
type recordFields struct {
	mk   *value.RecordMaker
	vals []evalFn
}

// eval evaluates the fields into buf (in the constructor's order).
func (rf *recordFields) eval(r *rt, buf []value.Value) ([]value.Value, error) {
	vs := buf[:0]
	for _, v := range rf.vals {
		y, err := v(r)
		if err != nil {
			return nil, err
		}
		vs = append(vs, y)
	}
	return vs, nil
}

// recordLit reports whether x is a record constructor, through labels and
// operator parameters (Send(m) == msgs' = msgs \cup {m}, called with a
// record), and compiles its fields to run in s.
func (s scope) recordLit(x syntax.Expr) (*recordFields, bool) {
	for depth := 0; depth < maxInline; depth++ {
		switch y := x.(type) {
		case *syntax.Label:
			x = y.Body
			continue
		case *syntax.Record:
			if len(y.Fields) == 0 || len(y.Fields) > 8 {
				return nil, false
			}
			mk, err := value.NewRecordMaker(s.c.m.strs, y.Fields)
			if err != nil {
				return nil, false
			}
			return &recordFields{mk, s.exprs(y.Vals)}, true
		case *syntax.Ref:
			if len(y.Parts) != 1 || y.Parts[0].Args != nil {
				return nil, false
			}
			e := s.find(y.Parts[0].Name)
			if e == nil || e.kind != eParam {
				return nil, false
			}
			// As param compiles the argument.
			as := *e.argSc
			as.primed = as.primed || s.primed
			as.fl = s.fl
			as.inline = s.inline + 1
			if as.inline > maxInline {
				return nil, false
			}
			rf, ok := as.recordLit(e.arg)
			if ok {
				for i, v := range rf.vals {
					rf.vals[i] = upTo(v, as.level, s.level)
				}
			}
			return rf, ok
		}
		return nil, false
	}
	return nil, false
}

// singleton reports whether x is a set enumeration {e} of one element
// (through labels) and returns e.
func singleton(x syntax.Expr) (syntax.Expr, bool) {
	for {
		switch y := x.(type) {
		case *syntax.Label:
			x = y.Body
			continue
		case *syntax.SetEnum:
			if len(y.Elems) == 1 {
				return y.Elems[0], true
			}
		}
		return nil, false
	}
}

// inRecordLit is [f1 |-> e1, ...] \in S (or \notin) decided without
// building the record when S is an enumerated set of functions (an action
// asking whether a message was sent).
func (s scope) inRecordLit(x *syntax.OpApp, rf *recordFields) evalFn {
	set := s.expr(x.Args[1])
	want := x.Op == "\\in"
	pos := x.P
	return func(r *rt) (value.Value, error) {
		var buf [8]value.Value
		vs, err := rf.eval(r, buf[:])
		if err != nil {
			return nil, err
		}
		sv, err := set(r)
		if err != nil {
			return nil, err
		}
		in, err := rf.mk.InMemo(vs, sv, r.memo)
		return value.Bool(in == want), wrap(pos, err)
	}
}

// insertElem is S \cup {e}: without building {e}, and when e is a record
// constructor, without building the record if S holds it already (an
// action sending a message sent before). inArena: the union as a
// value.Pending made in the evaluation's arena (arenaExpr).
func (s scope) insertElem(x *syntax.OpApp, elem syntax.Expr, inArena bool) evalFn {
	set := s.expr(x.Args[0])
	pos := x.P
	if rf, ok := s.recordLit(elem); ok {
		return func(r *rt) (value.Value, error) {
			sv, err := set(r)
			if err != nil {
				return nil, err
			}
			var buf [8]value.Value
			vs, err := rf.eval(r, buf[:])
			if err != nil {
				return nil, err
			}
			var v value.Value
			if inArena {
				v, err = rf.mk.InsertPending(sv, vs, r.arena)
			} else {
				v, err = rf.mk.Insert(sv, vs)
			}
			return v, wrap(pos, err)
		}
	}
	e := s.expr(elem)
	return func(r *rt) (value.Value, error) {
		sv, ev, err := operands(set, e, r)
		if err != nil {
			return nil, err
		}
		var v value.Value
		if inArena {
			v, err = value.InsertPending(sv, ev, r.arena)
		} else {
			v, err = value.InsertValue(sv, ev)
		}
		return v, wrap(pos, err)
	}
}

// materialized is a copy of the partial next state nxt with its pending
// values built, for an evaluation that reads it later or as the current
// state.
func materialized(nxt []value.Value) []value.Value {
	out := make([]value.Value, len(nxt))
	for i, v := range nxt {
		if v != nil {
			out[i] = value.Materialize(v)
		}
	}
	return out
}
