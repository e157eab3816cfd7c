package value

import "unsafe"

// TLC decides x \in S, for a set S it has normalized, by a binary search
// that raises where it compares x with an element it cannot be compared
// with ([a |-> 1] against [a |-> "x"]). We find functions by hash, and a
// hash that misses must still raise where TLC would. The binary search
// that decides it costs a few comparisons per miss, which a model asking
// "was this message sent?" pays on nearly every state; comparableRecord
// is the shortcut that makes the search unnecessary in well-typed models.

// maxKindFields caps the fields of the records comparableRecord decides.
const maxKindFields = 8

// comparableRecord reports whether a record (field names dom, in TLC's
// order, and values vals, or vals[perm[i]] if perm is not nil) can be
// compared with each element of a small set without an error, so that
// every search path answers FALSE without raising: the elements of
// another size are told apart by their sizes; the records of its size and
// other fields by their field names, which are strings; the records of
// its fields must hold, field by field, scalars of the kinds of its
// values. An element of its size that is not
// a record, or a field of a kind that does not match or is not a scalar,
// leaves it to the search (false). The answer for one domain and kinds of
// values is kept in the worker's memo if m is not nil (the sets a model
// asks are mostly new with each state: an index per set would be made for
// a few questions), else in the set's index.
func (s *Set) comparableRecord(dom, vals []Value, perm []int, m *WorkerMemo) bool {
	if len(s.elems) > smallFuncSet || len(dom) == 0 || len(dom) > maxKindFields {
		return false
	}
	var kinds [maxKindFields]uint16
	for i := range dom {
		v := vals[i]
		if perm != nil {
			v = vals[perm[i]]
		}
		k, ok := scalarKind(v)
		if !ok {
			return false
		}
		kinds[i] = k
	}
	if m != nil {
		return m.comparable(s, dom, kinds)
	}
	ix := s.index.Load()
	if ix != nil {
		for i := range ix.miss {
			if m := &ix.miss[i]; m.dom == &dom[0] && m.n == len(dom) && m.kinds == kinds {
				return m.ok
			}
		}
	}
	ok := comparableKinds(s.elems, dom, kinds[:len(dom)])
	// The index is immutable once published: the answer goes into a new
	// one, beside the last answer kept.
	next := &setIndex{}
	next.miss[0] = kindMemo{dom: &dom[0], n: len(dom), kinds: kinds, ok: ok}
	if ix != nil {
		next.miss[1] = ix.miss[0]
	}
	s.index.CompareAndSwap(ix, next)
	return ok
}

// comparableKinds is comparableRecord's scan of elems for a record of
// fields dom whose values have the given kinds.
func comparableKinds(elems []Value, dom []Value, kinds []uint16) bool {
	for _, e := range elems {
		g, ok := e.(*Func)
		if !ok {
			return false
		}
		if len(g.rng) != len(dom) {
			continue
		}
		if g.shape != ShapeRecord {
			return false
		}
		if !sameFields(g.dom, dom) {
			continue
		}
		for i, v := range g.rng {
			if k, ok := scalarKind(v); !ok || k != kinds[i] {
				return false
			}
		}
	}
	return true
}

// scalarKind codes a scalar value's kind, a typed model value's type with
// it: two scalars of one code can be compared. ok is false for sets and
// functions.
func scalarKind(v Value) (k uint16, ok bool) {
	switch x := v.(type) {
	case Str:
		return 1, true
	case Int:
		return 2, true
	case Bool:
		return 3, true
	case Model:
		return 4<<8 | uint16(x.a.typ), true
	}
	return 0, false
}

// sameFields reports whether two record domains are equal: the same slice
// or the same interned names.
func sameFields(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if a[i].(Str).a != b[i].(Str).a {
			return false
		}
	}
	return true
}

// A WorkerMemo keeps memoKinds comparableRecord answers, direct-mapped by
// memoKindBits bits.
const (
	memoKindBits = 6
	memoKinds    = 1 << memoKindBits
)

// memoKind is a comparableRecord answer a WorkerMemo keeps: for the records
// of memo's domain and kinds in set.
type memoKind struct {
	set  *Set
	memo kindMemo
}

// comparable is comparableRecord's answer for set s and records of domain
// dom with values of the given kinds, from the worker's memory or computed
// and remembered (direct-mapped by the set's and the domain's addresses;
// an entry keeps its set alive, so an address names one set while kept).
func (m *WorkerMemo) comparable(s *Set, dom []Value, kinds [maxKindFields]uint16) bool {
	e := &m.kinds[addrSlot(addr(unsafe.Pointer(s))^addr(unsafe.Pointer(&dom[0]))>>4, memoKindBits)]
	if e.set == s && e.memo.dom == &dom[0] && e.memo.n == len(dom) && e.memo.kinds == kinds {
		return e.memo.ok
	}
	ok := comparableKinds(s.elems, dom, kinds[:len(dom)])
	*e = memoKind{set: s, memo: kindMemo{dom: &dom[0], n: len(dom), kinds: kinds, ok: ok}}
	return ok
}
