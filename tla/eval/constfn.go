package eval

import (
	"sync"

	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// A function definition f[x \in S] == e at the top level that reads no
// variable (and prints nothing) is a constant: TLC evaluates such a
// definition once, and f[a] is then a look-up. We evaluate f[a] at the
// first application to a and keep the value (Slush's
// HostOf[pid] == CHOOSE n \in Node : ..., applied at every step of every
// process, was a CHOOSE over sets each time). The values are kept per
// argument rather than for the whole function at once, so that an infinite
// or partly undefined domain behaves as it did.

// maxFnMemo bounds the arguments a constant function keeps values for.
const maxFnMemo = 1 << 16

// fnMemo holds the values of a constant function definition by argument.
type fnMemo struct {
	mu sync.RWMutex
	m  map[uint64][]fnEntry
	n  int
}

type fnEntry struct{ arg, val value.Value }

func (f *fnMemo) get(arg value.Value) (value.Value, bool) {
	h := arg.Hash()
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, e := range f.m[h] {
		if eq, err := value.Equal(e.arg, arg); err == nil && eq {
			return e.val, true
		}
	}
	return nil, false
}

func (f *fnMemo) put(arg, val value.Value) {
	h := arg.Hash()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n >= maxFnMemo {
		return
	}
	if f.m == nil {
		f.m = map[uint64][]fnEntry{}
	}
	f.m[h] = append(f.m[h], fnEntry{arg, val})
	f.n++
}

// applyTopFunc compiles f[arg] for the top-level function definition of
// unit ru as callRec does, with the value kept per argument when ru turns
// out constant (decided at run time, when ru's flags are complete even if
// this application is inside ru's own body).
func (s scope) applyTopFunc(pos syntax.Pos, ru *recUnit, argFn evalFn) evalFn {
	s.mergeRec(ru)
	up := s.level + 1 // ru is defined at level -1
	return func(r *rt) (value.Value, error) {
		arg, err := argFn(r)
		if err != nil {
			return nil, err
		}
		constant := !ru.fl.state && !ru.fl.next && !ru.fl.impure
		if constant {
			if v, ok := ru.memo.get(arg); ok {
				return v, nil
			}
		}
		a, err := ru.enter(pos, r, up, make([]value.Value, ru.u.n))
		if err != nil {
			return nil, err
		}
		if err := ru.bindArg(pos, a, arg); err != nil {
			return nil, err
		}
		v, err := ru.body(a)
		if err == nil && constant {
			ru.memo.put(arg, v)
		}
		return v, err
	}
}
