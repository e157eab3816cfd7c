package value

// Pending is S \cup {e} computed for a successor state but not yet built:
// the position of e in S's order is found and the hash of the union is
// exact, so that a model checker can fingerprint the successor and drop
// it as a duplicate (most successors are) without allocating or copying
// the union's elements, and, for a record constructor e, without building
// the record. Materialize builds the set; it is the value Pending stands
// for, and equal to what InsertValue would have returned.
//
// A Pending is meant for the checker's successor buffer only: every other
// consumer must see Materialize()'s result (the evaluator materializes a
// pending value wherever it reads it back). It is not safe for concurrent
// use before Materialize has been called once.
type Pending struct {
	base  *Set
	mk    *RecordMaker // nil: vals[0] is e itself
	vals  []Value      // e's field values in mk's order, or e (in the arena with the Pending)
	at    int          // e's position in the union
	ehash uint64       // e's hash
	hash  uint64
	built *Set
}

// Kind implements Value: a Pending is a set.
func (*Pending) Kind() Kind { return KindSet }

// Hash implements Value: the hash of the materialized set.
func (p *Pending) Hash() uint64 { return p.hash }

// String implements Value.
func (p *Pending) String() string { return p.Materialize().String() }

// Materialize builds the set p stands for (once; later calls return it).
func (p *Pending) Materialize() *Set {
	if p.built != nil {
		return p.built
	}
	e := p.vals[0]
	if p.mk != nil {
		e = p.mk.make(p.vals, p.ehash)
	}
	p.vals = nil
	p.built = insertAt(p.base, p.at, e)
	return p.built
}

// Resolve returns v with every Pending in it built: a Pending's set for a
// Pending, v itself otherwise, the arena functions in v having their
// Pendings replaced in place by their sets (the same values). The rest of
// v stays in the arena: the checker judges and encodes a new successor
// without copying it out (Materialize) when it keeps neither.
func Resolve(v Value) Value {
	switch x := v.(type) {
	case *Pending:
		return x.Materialize()
	case *Func:
		if x.arena {
			for i, e := range x.rng {
				switch y := e.(type) {
				case *Pending:
					x.rng[i] = y.Materialize()
				case *Func:
					Resolve(y)
				}
			}
		}
	}
	return v
}

// Materialize returns v itself, or, for a value made in an Arena, the
// value it stands for outside it: a Pending's set, an arena function's
// copy (with the arena values in its range materialized in turn).
func Materialize(v Value) Value {
	switch x := v.(type) {
	case *Pending:
		return x.Materialize()
	case *Func:
		if x.arena {
			g := allocFunc(len(x.rng))
			for i, e := range x.rng {
				g.rng[i] = Materialize(e)
			}
			g.dom, g.shape, g.hash = x.dom, x.shape, x.hash
			return g
		}
	}
	return v
}

// pending is the Pending for x \cup {e} with e at position at, e's hash
// eh, and room for n values (e's fields, or e).
func pending(x *Set, at int, eh uint64, n int, a *Arena) *Pending {
	var p *Pending
	if a != nil {
		p = a.pending(n)
	} else {
		p = &Pending{vals: make([]Value, n)}
	}
	p.base, p.at, p.ehash, p.hash = x, at, eh, setHash(len(x.elems)+1, x.sum+elemPart(eh))
	return p
}

// InsertPending is InsertValue(x, e) for a successor state (the Pending in
// a, if not nil): x itself when
// it holds e, a Pending when x is a nonempty enumerated set that does not,
// and InsertValue's result otherwise (e incomparable with an element: the
// union is built as InsertValue builds it).
func InsertPending(x, e Value, a *Arena) (Value, error) {
	st, ok := x.(*Set)
	if !ok || len(st.elems) == 0 {
		return InsertValue(x, e)
	}
	lo, found, err := insertPos(st, e)
	switch {
	case err != nil:
		return InsertValue(x, e)
	case found:
		return st, nil
	}
	p := pending(st, lo, e.Hash(), 1, a)
	p.vals[0] = e
	return p, nil
}

// InsertPending is Insert for a successor state (the Pending in a, if not
// nil): x itself when it holds
// the record, else a Pending that makes the record only if materialized
// (Insert's result where the record is incomparable with an element of
// x, or x is not a nonempty set of functions).
func (r *RecordMaker) InsertPending(x Value, vals []Value, a *Arena) (Value, error) {
	st, ok := x.(*Set)
	if !ok || len(r.dom) == 0 || !st.funcElems() {
		return r.Insert(x, vals)
	}
	h, found, err := r.hashFind(vals, st)
	if err != nil {
		return nil, err
	}
	if found {
		return st, nil
	}
	lo, hi := 0, len(st.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, err := r.compare(vals, st.elems[m].(*Func))
		if err != nil {
			return InsertValue(x, r.make(vals, h))
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	p := pending(st, lo, h, len(r.dom), a)
	p.mk = r
	copy(p.vals, vals)
	return p, nil
}
