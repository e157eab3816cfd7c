package eval

import (
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// removeElem is S \ {e}, as in \E q \in Proc \ {p} : ..., which an action
// evaluates for every p of every state it expands: when S is the same
// enumerated set or interval as before (a constant) and e equals an e of
// before, the set computed then is the answer, without building {e} or
// S \ {e} again.
// A few of them are kept per occurrence in the spec, by e's hash. When S
// is no constant (Maximum's T \ {n}, T a new set at every call), there is
// nothing to find again: no cache, and no entry written for the other
// workers to read from this one's core.
func (s scope) removeElem(x *syntax.OpApp, elem syntax.Expr) evalFn {
	mark, level := s.unit().n, s.level
	probe := s // compiles S with flags of its own
	probe.fl = newFlags()
	set := probe.expr(x.Args[0])
	s.fl.merge(probe.fl)
	e := s.expr(elem)
	pos := x.P
	if !probe.fl.constant(level, mark) {
		return func(r *rt) (value.Value, error) {
			sv, ev, err := operands(set, e, r)
			if err != nil {
				return nil, err
			}
			out, err := value.RemoveValue(sv, ev)
			return out, wrap(pos, err)
		}
	}
	var cache [8]atomic.Pointer[diffEntry]
	return func(r *rt) (value.Value, error) {
		sv, ev, err := operands(set, e, r)
		if err != nil {
			return nil, err
		}
		// enumerated sets and intervals (Proc == 1..N) are pointers: the
		// same pointer is the same set
		isSet := false
		switch sv.(type) {
		case *value.Set, *value.Interval:
			isSet = true
		}
		slot := &cache[ev.Hash()&uint64(len(cache)-1)]
		if isSet {
			if c := slot.Load(); c != nil && c.set == sv {
				if eq, err := value.Equal(c.elem, ev); err == nil && eq {
					return c.out, nil
				}
			}
		}
		out, err := value.RemoveValue(sv, ev)
		if err != nil {
			return nil, wrap(pos, err)
		}
		if isSet {
			slot.Store(&diffEntry{set: sv, elem: ev, out: out})
		}
		return out, nil
	}
}

// diffEntry is S \ {e} computed once.
type diffEntry struct {
	set  value.Value // a *value.Set or *value.Interval
	elem value.Value
	out  value.Value
}
