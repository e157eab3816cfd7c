package value

import "fmt"

// Arena holds the values an action builds for successor states that a
// model checker will mostly drop as duplicates: the Pending sets of
// x' = S \cup {e} and the copies an EXCEPT makes of the functions on its
// paths (arena functions). Allocated in slabs and reused once released,
// they cost the garbage collector nothing; a state the checker keeps is
// copied out of the arena first (Materialize).
//
// Lifetimes are counted in epochs: the checker's evaluator starts one per
// state it expands (Begin); when every successor allocated before a given
// epoch has been fingerprinted and dropped or materialized, the checker
// releases the slabs last used before it (Release), which are cleared and
// reused. A value read back from the successor being built is
// materialized by its reader, so no value outside the arena points into
// it. An Arena is for one goroutine.
type Arena struct {
	epoch    uint64
	released uint64  // slabs whose last epoch is below it are free
	slabs    []*slab // in order of first use; the last is being filled
	// memo is the worker's memory of the constant sets it asks (Memo).
	memo WorkerMemo
	// Poison, for tests, never reuses a slab: a released one is cleared and
	// dropped, so that a value still used after its release dereferences
	// nil instead of reading another successor's values.
	Poison bool
}

// Slab sizes: about 16 KiB of functions and values each.
const (
	slabFuncs   = 256
	slabVals    = 1024
	slabPending = 128
)

type slab struct {
	funcs      [slabFuncs]Func
	vals       [slabVals]Value
	pend       [slabPending]Pending
	nf, nv, np int
	last       uint64 // epoch of the last allocation
}

// Begin starts the next epoch (the next state expanded) and returns it.
func (a *Arena) Begin() uint64 {
	a.epoch++
	return a.epoch
}

// Epoch is the current epoch (0 for a nil Arena).
func (a *Arena) Epoch() uint64 {
	if a == nil {
		return 0
	}
	return a.epoch
}

// Release frees the slabs whose values were all allocated before epoch
// upTo: no successor made before it is held anywhere but materialized.
func (a *Arena) Release(upTo uint64) {
	if a == nil {
		return
	}
	a.released = max(a.released, upTo)
	if !a.Poison {
		return
	}
	keep := a.slabs[:0]
	for _, s := range a.slabs {
		if s.last < a.released {
			s.reset()
			continue
		}
		keep = append(keep, s)
	}
	clear(a.slabs[len(keep):])
	a.slabs = keep
}

func (s *slab) reset() {
	clear(s.funcs[:s.nf])
	clear(s.vals[:s.nv])
	clear(s.pend[:s.np])
	s.nf, s.nv, s.np = 0, 0, 0
}

// room returns a slab with room for nf functions, nv values and np
// Pendings, taking the oldest slab if it is free, else a new one.
func (a *Arena) room(nf, nv, np int) *slab {
	if n := len(a.slabs); n > 0 {
		s := a.slabs[n-1]
		// Poison gives each epoch slabs of its own, released exactly.
		if s.nf+nf <= slabFuncs && s.nv+nv <= slabVals && s.np+np <= slabPending && (!a.Poison || s.last == a.epoch) {
			s.last = a.epoch
			return s
		}
	}
	var s *slab
	if len(a.slabs) > 1 && a.slabs[0].last < a.released && !a.Poison {
		s = a.slabs[0]
		copy(a.slabs, a.slabs[1:])
		a.slabs = a.slabs[:len(a.slabs)-1]
		s.reset()
	} else {
		s = new(slab)
		TouchPages(s.funcs[:])
		TouchPages(s.vals[:])
		TouchPages(s.pend[:])
	}
	a.slabs = append(a.slabs, s)
	s.last = a.epoch
	return s
}

// fn returns an arena function with a range of n values.
func (a *Arena) fn(n int) *Func {
	if n > slabVals/4 {
		return &Func{rng: make([]Value, n)}
	}
	s := a.room(1, n, 0)
	f := &s.funcs[s.nf]
	s.nf++
	f.rng = s.vals[s.nv : s.nv+n : s.nv+n]
	s.nv += n
	f.arena = true
	return f
}

// pending returns an arena Pending with room for n values.
func (a *Arena) pending(n int) *Pending {
	if n > slabVals/4 {
		return &Pending{vals: make([]Value, n)}
	}
	s := a.room(0, n, 1)
	p := &s.pend[s.np]
	s.np++
	p.vals = s.vals[s.nv : s.nv+n : s.nv+n]
	s.nv += n
	return p
}

// tuple returns an arena tuple of n values (a.fn with a tuple's shape).
func (a *Arena) tuple(n int) *Func {
	f := a.fn(n)
	f.shape = ShapeTuple
	return f
}

// AppendIn is Append(s, e) made in a: for the value of an EXCEPT's
// update in a successor's assignment, [q EXCEPT ![p] = Append(@, m)].
func AppendIn(a *Arena, s, e Value) (Value, error) {
	f, err := asSeq("Append", s)
	if err != nil {
		return nil, err
	}
	g := a.tuple(f.Len() + 1)
	copy(g.rng, f.rng)
	g.rng[f.Len()] = e
	g.hash = g.computeHash()
	return g, nil
}

// TailIn is Tail(s) of a sequence s, made in a (AppendIn).
func TailIn(a *Arena, s Value) (Value, error) {
	f, err := asSeq("Tail", s)
	if err != nil {
		return nil, err
	}
	switch f.Len() {
	case 0:
		return nil, fmt.Errorf("%w: Tail(<<>>)", ErrDomain)
	case 1:
		return EmptyTuple, nil
	}
	g := a.tuple(f.Len() - 1)
	copy(g.rng, f.rng[1:])
	g.hash = g.computeHash()
	return g, nil
}

// FuncOnSetIn begins, in a, the function on the elements of the nonempty
// enumerated set dom ([v \in dom |-> e]), its values to be given by SetIn
// and its hash by DoneIn: shaped as NewFuncOnSet shapes it (a tuple on
// 1..n, a record on strings), its domain dom's elements.
func FuncOnSetIn(a *Arena, dom *Set) *Func {
	f := a.fn(len(dom.elems))
	f.dom, f.shape = funcShape(dom.elems)
	return f
}

// TupleIn begins, in a, the tuple of n > 0 values [i \in 1..n |-> e]
// (FuncOnSetIn).
func TupleIn(a *Arena, n int) *Func { return a.tuple(n) }

// SetIn gives position i of a function FuncOnSetIn began the value v.
func SetIn(f *Func, i int, v Value) { f.rng[i] = v }

// DoneIn hashes a function FuncOnSetIn or TupleIn began, whose values are
// all given.
func DoneIn(f *Func) *Func {
	f.hash = f.computeHash()
	return f
}
