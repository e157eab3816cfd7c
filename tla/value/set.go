package value

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// SetValue is any set: enumerated (*Set) or lazy. Membership is decided
// without enumeration; Enumerate yields the elements in TLC's order (or
// ErrInfinite), and is cached by lazy sets.
type SetValue interface {
	Value
	// Contains decides x \in S.
	Contains(x Value) (bool, error)
	// Enumerate returns the normalized (sorted, deduplicated) elements.
	Enumerate() (*Set, error)
	// Card is Cardinality(S), or an error wrapping ErrInfinite.
	Card() (int, error)
}

// Set is a finite set as a sorted, deduplicated slice in TLC's order with a
// cached hash.
type Set struct {
	elems []Value
	hash  uint64
	sum   uint64 // of the elements' mixed hashes (hashSetElems)
	// index, for a large set of functions (records, tuples) that is asked
	// for membership again and again (a constant set of messages in a type
	// invariant), finds elements by hash instead of by binary search.
	index atomic.Pointer[setIndex]
}

// setIndex counts a large set's membership tests and, from the
// indexAfter-th on, holds an open-addressing table of element positions
// keyed by hash.
type setIndex struct {
	probes atomic.Int32
	slots  []int32 // position+1, 0 empty; nil while counting
	mask   uint64
	found  *memo // functions found in the set
	// miss, in the index of a small set, remembers whether the records of
	// a domain and kinds of values can be compared with every element
	// (comparableRecord), for the last two asked: a model asks one set
	// about many such records in a state.
	miss [2]kindMemo
}

// kindMemo is comparableRecord's answer for the records of domain
// dom[:n] with values of the given kinds.
type kindMemo struct {
	dom   *Value
	n     int
	kinds [maxKindFields]uint16
	ok    bool
}

// memo remembers functions found in a set by their address: values are
// immutable, so one found once is in the set for good, and the set's
// members that states share (the messages of a type invariant's SUBSET
// Message) are found again without being hashed and compared.
type memo struct {
	hits [64]atomic.Pointer[Func]
}

func memoSlot(f *Func) uint64 { return addrSlot(addr(unsafe.Pointer(f)), 6) }

// addr is the address p points to, as a number to hash.
func addr(p unsafe.Pointer) uint64 { return uint64(uintptr(p)) }

// addrSlot is the slot of a table of 1<<bits slots, direct-mapped by an
// address (or a mix of addresses) a: the multiplication moves the
// address's varying middle bits to the top.
func addrSlot(a uint64, bits int) uint64 { return a * 0x9e3779b97f4a7c15 >> (64 - bits) }

func (m *memo) has(f *Func) bool { return m.hits[memoSlot(f)].Load() == f }

// add remembers f, unless it is made in an arena, which reuses its memory.
func (m *memo) add(f *Func) {
	if !f.arena {
		m.hits[memoSlot(f)].Store(f)
	}
}

// Membership by hash is for sets of more than smallFuncSet functions asked
// indexAfter times.
const (
	smallFuncSet = 64
	indexAfter   = 8
)

// lookup reports whether the function f is in s by its index: hash, then
// equality of the candidates with f's hash. The functions found are
// remembered in the worker's memo m, or without one in the index.
func (ix *setIndex) lookup(s *Set, f *Func, m *WorkerMemo) (bool, error) {
	if m != nil && m.has(unsafe.Pointer(s), f) || m == nil && ix.found.has(f) {
		return true, nil
	}
	elems := s.elems
	h := f.hash
	for i := mix64(h) & ix.mask; ; i = (i + 1) & ix.mask {
		p := ix.slots[i]
		if p == 0 {
			return false, nil
		}
		if g := elems[p-1].(*Func); g.hash == h {
			if eq, err := equalFunc(f, g); err != nil || eq {
				if eq && m != nil {
					m.add(unsafe.Pointer(s), f)
				} else if eq {
					ix.found.add(f)
				}
				return eq, err
			}
		}
	}
}

func buildIndex(elems []Value) *setIndex {
	size := 1
	for size < 2*len(elems) {
		size <<= 1
	}
	ix := &setIndex{slots: make([]int32, size), mask: uint64(size - 1), found: new(memo)}
	for p, e := range elems {
		for i := mix64(e.Hash()) & ix.mask; ; i = (i + 1) & ix.mask {
			if ix.slots[i] == 0 {
				ix.slots[i] = int32(p + 1)
				break
			}
		}
	}
	return ix
}

// funcIndex returns s's index once s has been asked often enough; s holds
// functions only and more than smallFuncSet of them.
func (s *Set) funcIndex() *setIndex {
	ix := s.index.Load()
	if ix == nil {
		ix = &setIndex{}
		if !s.index.CompareAndSwap(nil, ix) {
			ix = s.index.Load()
		}
	}
	if ix.slots != nil {
		return ix
	}
	if ix.probes.Add(1) < indexAfter {
		return nil
	}
	built := buildIndex(s.elems)
	s.index.CompareAndSwap(ix, built)
	return built
}

// Empty is {}.
var Empty = &Set{hash: hashSetElems(0, nil)}

// NewSet builds {elems...}: it sorts in TLC's order and drops duplicates.
// It takes ownership of elems. Incomparable elements ({1, "a"}) are an error.
func NewSet(elems ...Value) (*Set, error) {
	var err error
	slices.SortFunc(elems, func(a, b Value) int {
		c, e := Compare(a, b)
		if e != nil && err == nil {
			err = e
		}
		return c
	})
	if err != nil {
		return nil, err
	}
	out := elems[:0]
	for i, e := range elems {
		if i > 0 {
			eq, err := Equal(out[len(out)-1], e)
			if err != nil {
				return nil, err
			}
			if eq {
				continue
			}
		}
		out = append(out, e)
	}
	return newSorted(out), nil
}

// newSorted wraps elements already sorted and distinct.
func newSorted(elems []Value) *Set {
	if len(elems) == 0 {
		return Empty
	}
	sum := setSum(len(elems), func(i int) uint64 { return elems[i].Hash() })
	return &Set{elems: elems, hash: setHash(len(elems), sum), sum: sum}
}

// Singleton is {v}, one allocation (a set literal {p}, a message sent).
func Singleton(v Value) *Set {
	s := allocSet(1)
	s.elems[0] = v
	s.sum = elemPart(v.Hash())
	s.hash = setHash(1, s.sum)
	return s
}

// allocSet returns a Set of n elements (to be filled, sorted and distinct,
// and hashed by the caller) allocated with its elements: one allocation
// instead of two for the small sets a decoded state holds and an action
// makes.
func allocSet(n int) *Set {
	switch n {
	case 1:
		x := new(setWith[[1]Value])
		return x.with(x.a[:])
	case 2:
		x := new(setWith[[2]Value])
		return x.with(x.a[:])
	case 3:
		x := new(setWith[[3]Value])
		return x.with(x.a[:])
	case 4:
		x := new(setWith[[4]Value])
		return x.with(x.a[:])
	case 5:
		x := new(setWith[[5]Value])
		return x.with(x.a[:])
	case 6:
		x := new(setWith[[6]Value])
		return x.with(x.a[:])
	case 7:
		x := new(setWith[[7]Value])
		return x.with(x.a[:])
	case 8:
		x := new(setWith[[8]Value])
		return x.with(x.a[:])
	}
	return &Set{elems: make([]Value, n)}
}

// setWith is a Set and the array of its elements, allocated together.
type setWith[A any] struct {
	s Set
	a A
}

// with returns the Set, its elements elems (x.a, sliced).
func (x *setWith[A]) with(elems []Value) *Set {
	x.s.elems = elems
	return &x.s
}

// insertAt is x \cup {e} for an e not in x whose place in x's order is
// at: one allocation for a set of up to 8 elements.
func insertAt(x *Set, at int, e Value) *Set {
	s := allocSet(len(x.elems) + 1)
	copy(s.elems, x.elems[:at])
	s.elems[at] = e
	copy(s.elems[at+1:], x.elems[at:])
	s.sum = x.sum + elemPart(e.Hash())
	s.hash = setHash(len(s.elems), s.sum)
	return s
}

// Kind implements Value.
func (*Set) Kind() Kind { return KindSet }

// Hash implements Value.
func (s *Set) Hash() uint64 { return s.hash }

// Len is the number of elements.
func (s *Set) Len() int { return len(s.elems) }

// At returns the i-th element in TLC's order.
func (s *Set) At(i int) Value { return s.elems[i] }

// Elems returns the elements in TLC's order; callers must not modify it.
func (s *Set) Elems() []Value { return s.elems }

// Contains implements SetValue by binary search, or for a function (record,
// tuple) in a set of functions by comparing cached hashes first: in a small
// set one by one, in a large one through its index. A function the hashes
// do not find is still looked for by the binary search, which is how TLC
// decides membership in a set it has normalized: it raises where it meets
// an element that cannot be compared with x ([a |-> 1] in a set of
// [a |-> "x"]), and answers FALSE otherwise.
func (s *Set) Contains(x Value) (bool, error) { return s.containsMemo(x, nil) }

// containsMemo is Contains for a worker with memo m (nil: none).
func (s *Set) containsMemo(x Value, m *WorkerMemo) (bool, error) {
	if f, ok := x.(*Func); ok && s.funcElems() {
		if found, err := s.containsFunc(f, m); err != nil || found {
			return found, err
		}
		return s.missed(f, m)
	}
	return s.search(x)
}

// containsFunc looks for f by its hash; false means only that no element
// has f's hash and value. A large set remembers the functions found in m,
// or without one in its index.
func (s *Set) containsFunc(f *Func, m *WorkerMemo) (bool, error) {
	if len(s.elems) > smallFuncSet {
		if ix := s.funcIndex(); ix != nil {
			return ix.lookup(s, f, m)
		}
		return false, nil
	}
	h := f.hash
	for _, e := range s.elems {
		if g := e.(*Func); g.hash == h {
			if eq, err := equalFunc(f, g); err != nil || eq {
				return eq, err
			}
		}
	}
	return false, nil
}

// missed decides f \in s for a function f that s's hashes did not find:
// FALSE, or the error TLC's binary search raises on an element it cannot
// compare with f (see comparableRecord).
func (s *Set) missed(f *Func, m *WorkerMemo) (bool, error) {
	if f.shape == ShapeRecord && s.comparableRecord(f.dom, f.rng, nil, m) {
		return false, nil
	}
	return s.search(f)
}

// search is TLC's binary search for x among the elements.
func (s *Set) search(x Value) (bool, error) {
	lo, hi := 0, len(s.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, err := Compare(s.elems[m], x)
		if err != nil {
			// An untyped model value compared with anything is simply unequal.
			if x.Kind() == KindModel || s.elems[m].Kind() == KindModel {
				return linearContains(s.elems, x)
			}
			return false, err
		}
		switch {
		case c == 0:
			return true, nil
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false, nil
}

func linearContains(elems []Value, x Value) (bool, error) {
	for _, e := range elems {
		eq, err := Equal(e, x)
		if err != nil {
			return false, err
		}
		if eq {
			return true, nil
		}
	}
	return false, nil
}

// Enumerate implements SetValue.
func (s *Set) Enumerate() (*Set, error) { return s, nil }

// Card implements SetValue.
func (s *Set) Card() (int, error) { return len(s.elems), nil }

func (s *Set) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range s.elems {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	b.WriteByte('}')
	return b.String()
}

// Interval is a..b, lazily. Its enumeration is made once and kept: a
// constant interval (Proc == 1..N) is the range of a quantifier in every
// state.
type Interval struct {
	Lo, Hi int32
	enum   atomic.Pointer[Set]
}

// NewInterval returns a..b (empty when b < a).
func NewInterval(a, b int32) *Interval { return &Interval{Lo: a, Hi: b} }

// Kind implements Value.
func (*Interval) Kind() Kind { return KindSet }

// Card implements SetValue.
func (r *Interval) Card() (int, error) {
	if r.Hi < r.Lo {
		return 0, nil
	}
	return int(int64(r.Hi) - int64(r.Lo) + 1), nil
}

// Hash implements Value; equal to the hash of the enumerated set.
func (r *Interval) Hash() uint64 {
	n, _ := r.Card()
	return hashSetElems(n, func(i int) uint64 { return hashInt(r.Lo + int32(i)) })
}

// Contains implements SetValue.
func (r *Interval) Contains(x Value) (bool, error) {
	switch i := x.(type) {
	case Int:
		return int32(i) >= r.Lo && int32(i) <= r.Hi, nil
	case Model:
		return equalModel(x, Int(0))
	}
	if r.Lo > r.Hi {
		// TLC: nothing is in an empty interval (as DOMAIN <<>>, also
		// DOMAIN EmptyBag), a record no error
		return false, nil
	}
	return false, incomparable(x, Int(r.Lo))
}

// Enumerate implements SetValue.
func (r *Interval) Enumerate() (*Set, error) {
	if s := r.enum.Load(); s != nil {
		return s, nil
	}
	n, _ := r.Card()
	if n > MaxEnumerate {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, r)
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = Int(r.Lo + int32(i))
	}
	s := newSorted(out)
	r.enum.Store(s)
	return s, nil
}

func (r *Interval) String() string { return fmt.Sprintf("%d..%d", r.Lo, r.Hi) }

// infinite is implemented by the infinite built-in sets.
type infinite interface{ infiniteKind() string }

// Builtin is one of the infinite sets Nat, Int and STRING.
type Builtin struct{ name string }

// The infinite built-in sets.
var (
	NatSet    = &Builtin{"Nat"}
	IntSet    = &Builtin{"Int"}
	StringSet = &Builtin{"STRING"}
)

// BooleanSet is BOOLEAN = {FALSE, TRUE}.
var BooleanSet = newSorted([]Value{False, True})

func (b *Builtin) infiniteKind() string { return b.name }

// Kind implements Value.
func (*Builtin) Kind() Kind { return KindSet }

// Hash implements Value (these sets equal only themselves).
func (b *Builtin) Hash() uint64 { return mix64(hashString(b.name) ^ seedSet) }

func (b *Builtin) String() string { return b.name }

// Card implements SetValue.
func (b *Builtin) Card() (int, error) { return 0, fmt.Errorf("%w: %s", ErrInfinite, b.name) }

// Enumerate implements SetValue.
func (b *Builtin) Enumerate() (*Set, error) { return nil, fmt.Errorf("%w: %s", ErrInfinite, b.name) }

// Contains implements SetValue.
func (b *Builtin) Contains(x Value) (bool, error) {
	switch b.name {
	case "STRING":
		if x.Kind() == KindString {
			return true, nil
		}
	default:
		if i, ok := x.(Int); ok {
			return b.name == "Int" || i >= 0, nil
		}
	}
	if m, ok := x.(Model); ok && !m.Typed() {
		return false, nil
	}
	return false, fmt.Errorf("%w: %s \\in %s", ErrIncomparable, x, b.name)
}

// lazy caches the enumeration of a lazily defined finite set.
type lazy struct {
	once sync.Once
	set  *Set
	err  error
}

func (l *lazy) get(f func() (*Set, error)) (*Set, error) {
	l.once.Do(func() { l.set, l.err = f() })
	return l.set, l.err
}

func lazyHash(s SetValue) uint64 {
	e, err := s.Enumerate()
	if err != nil {
		return mix64(hashString(s.String()) ^ seedSet)
	}
	return e.hash
}
