package value

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Shape only decides how a function prints (TLC prints tuples as <<...>>,
// records as [a |-> ...], other functions as (k :> v @@ ...)); equality and
// hashing ignore it.
type Shape uint8

// The shapes.
const (
	ShapeFunc Shape = iota
	ShapeTuple
	ShapeRecord
)

// Func is a function with a finite domain: records, tuples and sequences are
// functions too (a record equals the function on the same strings, a tuple the
// function on 1..n). The domain is sorted in TLC's order; a tuple stores no
// domain (it is 1..n implicitly).
type Func struct {
	dom   []Value // nil for tuples
	rng   []Value
	shape Shape
	arena bool // made in an Arena: Materialize copies it out
	hash  uint64
}

// EmptyTuple is <<>>, the empty function.
var EmptyTuple = Tuple()

// Tuple builds <<elems...>>; it takes ownership of elems.
func Tuple(elems ...Value) *Func {
	f := &Func{rng: elems, shape: ShapeTuple}
	f.hash = f.computeHash()
	return f
}

// Record builds [names[i] |-> vals[i]] with fields interned in t.
func Record(t *Interner, names []string, vals []Value) (*Func, error) {
	if len(names) != len(vals) {
		return nil, fmt.Errorf("%w: record with %d names and %d values", ErrType, len(names), len(vals))
	}
	dom := make([]Value, len(names))
	for i, n := range names {
		dom[i] = t.String(n)
	}
	f, err := NewFunc(dom, slices.Clone(vals))
	if err != nil {
		return nil, err
	}
	if f.shape == ShapeFunc {
		f.shape = ShapeRecord
	}
	return f, nil
}

// NewFunc builds the function dom[i] |-> rng[i], taking ownership of both
// slices. A duplicate domain element is an error (ErrDomain).
func NewFunc(dom, rng []Value) (*Func, error) {
	if len(dom) != len(rng) {
		return nil, fmt.Errorf("%w: domain and range lengths differ", ErrType)
	}
	var err error
	idx := make([]int, len(dom))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		c, e := Compare(dom[a], dom[b])
		if e != nil && err == nil {
			err = e
		}
		return c
	})
	if err != nil {
		return nil, err
	}
	d := make([]Value, len(dom))
	r := make([]Value, len(dom))
	for i, j := range idx {
		d[i], r[i] = dom[j], rng[j]
		if i > 0 {
			if eq, _ := Equal(d[i-1], d[i]); eq {
				return nil, fmt.Errorf("%w: duplicate domain element %s", ErrDomain, d[i])
			}
		}
	}
	return newFuncSorted(d, r), nil
}

// NewFuncOnSet builds the function dom[i] |-> rng[i] whose domain dom is
// the elements of an enumerated set in its order (sorted in TLC's order,
// distinct), as [x \in S |-> e] produces them: NewFunc without sorting
// and checking the domain again. It takes ownership of both slices.
func NewFuncOnSet(dom, rng []Value) *Func { return newFuncSorted(dom, rng) }

// newFuncSorted wraps a sorted distinct domain; a domain 1..n becomes a tuple.
func newFuncSorted(dom, rng []Value) *Func {
	dom, shape := funcShape(dom)
	if shape == ShapeTuple {
		return Tuple(rng...)
	}
	f := &Func{dom: dom, rng: rng, shape: shape}
	f.hash = f.computeHash()
	return f
}

// funcShape is how a function on the sorted distinct domain dom is kept:
// a tuple (no domain) on 1..n; else on dom, printed as a record when dom
// holds strings only.
func funcShape(dom []Value) ([]Value, Shape) {
	isTuple := true
	for i, d := range dom {
		if x, ok := d.(Int); !ok || int(x) != i+1 {
			isTuple = false
			break
		}
	}
	if isTuple {
		return nil, ShapeTuple
	}
	// TLC prints every function whose domain is a nonempty set of strings
	// as a record: [x \in {"a"} |-> 1] prints [a |-> 1].
	for _, d := range dom {
		if d.Kind() != KindString {
			return dom, ShapeFunc
		}
	}
	return dom, ShapeRecord
}

// computeHash hashes f as the set of its entries: each entry's hash mixed
// on its own, the mixes summed. The entries' mixes do not wait for one
// another, as a chain of mixes in order would (one multiply after the
// other, entry after entry): a record of five fields hashes in about a
// third of the time, and the records a message-passing model looks up and
// sends by the million are hashed before any is built (hashOf).
func (f *Func) computeHash() uint64 {
	var sum uint64
	if f.dom == nil {
		for i := range f.rng {
			if i < len(tupleDomHash) {
				sum += mix64(entryHash(tupleDomHash[i], f.rng[i].Hash()))
			} else {
				sum += mix64(entryHash(hashInt(int32(i+1)), f.rng[i].Hash()))
			}
		}
		return funcHash(len(f.rng), sum)
	}
	for i := range f.rng {
		sum += mix64(entryHash(f.dom[i].Hash(), f.rng[i].Hash()))
	}
	return funcHash(len(f.rng), sum)
}

// funcHash is the hash of a function of n entries whose mixed entry
// hashes sum to sum.
func funcHash(n int, sum uint64) uint64 {
	return mix64(uint64(seedFunc) + uint64(n)*0x9e3779b97f4a7c15 + sum)
}

// entryHash combines the hashes of a domain element and its value into the
// entry's part of the function's hash, which mixes it (computeHash). For
// functions on the same domain it is a bijection of the value's hash, so
// it merges no two of them.
func entryHash(d, r uint64) uint64 { return d*0x9e3779b97f4a7c15 + r }

// tupleDomHash holds the hashes of 1, 2, ... (a tuple's domain), computed once.
var tupleDomHash = func() (t [32]uint64) {
	for i := range t {
		t[i] = hashInt(int32(i + 1))
	}
	return t
}()

// Kind implements Value.
func (*Func) Kind() Kind { return KindFunc }

// Hash implements Value.
func (f *Func) Hash() uint64 { return f.hash }

// Shape tells how the function prints.
func (f *Func) Shape() Shape { return f.shape }

// Len is the size of the domain (Len(s) for a sequence).
func (f *Func) Len() int { return len(f.rng) }

// IsSeq reports whether the domain is 1..n (a tuple or sequence).
func (f *Func) IsSeq() bool { return f.dom == nil }

// DomainAt is the i-th domain element in TLC's order.
func (f *Func) DomainAt(i int) Value {
	if f.dom == nil {
		return Int(i + 1)
	}
	return f.dom[i]
}

// RangeAt is the value at the i-th domain element.
func (f *Func) RangeAt(i int) Value { return f.rng[i] }

// Domain is DOMAIN f.
func (f *Func) Domain() SetValue {
	if f.dom == nil {
		return NewInterval(1, int32(len(f.rng)))
	}
	return newSorted(f.dom)
}

// index finds x in the domain, -1 if absent.
func (f *Func) index(x Value) (int, error) {
	if f.dom == nil {
		i, ok := x.(Int)
		if !ok {
			if len(f.rng) == 0 {
				return -1, nil
			}
			if _, err := Equal(x, Int(1)); err != nil {
				return -1, err
			}
			return -1, nil
		}
		if i < 1 || int(i) > len(f.rng) {
			return -1, nil
		}
		return int(i) - 1, nil
	}
	if s, ok := x.(Str); ok && f.shape == ShapeRecord {
		for i, d := range f.dom {
			if d.(Str).a == s.a {
				return i, nil
			}
		}
		return -1, nil
	}
	// A model value in a small domain (processes, resource managers) is
	// found by its atom; when absent, the search below decides, with its
	// errors.
	if m, ok := x.(Model); ok && len(f.dom) <= 16 {
		for i, d := range f.dom {
			if dm, ok := d.(Model); ok && dm.a == m.a {
				return i, nil
			}
		}
	}
	lo, hi := 0, len(f.dom)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, err := Compare(f.dom[m], x)
		if err != nil {
			return -1, err
		}
		switch {
		case c == 0:
			return m, nil
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1, nil
}

// Apply is f[x]; x outside DOMAIN f is an error wrapping ErrDomain.
func (f *Func) Apply(x Value) (Value, error) {
	i, err := f.index(x)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		return nil, fmt.Errorf("%w: %s is not in the domain of %s", ErrDomain, x, f)
	}
	return f.rng[i], nil
}

// Except is [f EXCEPT ![x] = v]; x must be in the domain (TLC's rule).
func (f *Func) Except(x, v Value) (*Func, error) {
	i, err := f.index(x)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		return nil, fmt.Errorf("%w: EXCEPT at %s outside the domain of %s", ErrDomain, x, f)
	}
	if f.rng[i] == v {
		return f, nil // the same value: f is the result
	}
	g := allocFunc(len(f.rng))
	copy(g.rng, f.rng)
	g.rng[i] = v
	g.dom, g.shape = f.dom, f.shape
	g.hash = g.computeHash()
	return g, nil
}

func (f *Func) String() string {
	var b strings.Builder
	switch f.shape {
	case ShapeTuple:
		b.WriteString("<<")
		for i, v := range f.rng {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteString(">>")
	case ShapeRecord:
		if !f.namedFields() {
			f.writePairs(&b)
			break
		}
		b.WriteByte('[')
		for i, v := range f.rng {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.dom[i].(Str).Go())
			b.WriteString(" |-> ")
			b.WriteString(v.String())
		}
		b.WriteByte(']')
	default:
		f.writePairs(&b)
	}
	return b.String()
}

// writePairs writes f as TLC writes a function that is neither a tuple nor
// a record: (d1 :> v1 @@ d2 :> v2).
func (f *Func) writePairs(b *strings.Builder) {
	b.WriteByte('(')
	for i, v := range f.rng {
		if i > 0 {
			b.WriteString(" @@ ")
		}
		b.WriteString(f.DomainAt(i).String())
		b.WriteString(" :> ")
		b.WriteString(v.String())
	}
	b.WriteByte(')')
}

// namedFields reports whether every field of the record f is a name TLC
// prints a record with (FcnRcdValue.isName: letters, digits and _, at
// least one letter, not WF_ or SF_ followed by more): a function on other
// strings ("a b") prints as (d :> v @@ ...).
func (f *Func) namedFields() bool {
	for _, d := range f.dom {
		s, ok := d.(Str)
		if !ok || !tlcName(s.Go()) {
			return false
		}
	}
	return true
}

// tlcName is TLC's FcnRcdValue.isName.
func tlcName(name string) bool {
	letter := false
	n := 0
	for _, c := range name {
		n += utf16.RuneLen(c)
		if c == '_' {
			continue
		}
		if !javaLetterOrDigit(c) {
			return false
		}
		letter = letter || unicode.IsLetter(c)
	}
	return letter && (n < 4 || !strings.HasPrefix(name, "WF_") && !strings.HasPrefix(name, "SF_"))
}

// RecordMaker builds records on one fixed list of field names without
// interning and sorting the names again for every record: the evaluator
// compiles one per record constructor [a |-> e1, b |-> e2].
type RecordMaker struct {
	dom  []Value
	perm []int    // perm[i]: index in the constructor's order of the i-th field in TLC's order
	dk   []uint64 // dk[i]: the i-th field's part of entryHash
}

// NewRecordMaker prepares records with the given fields (interned in t); a
// repeated field is an error wrapping ErrDomain.
func NewRecordMaker(t *Interner, names []string) (*RecordMaker, error) {
	dom := make([]Value, len(names))
	idx := make([]Value, len(names))
	for i, n := range names {
		dom[i] = t.String(n)
		idx[i] = Int(i)
	}
	f, err := NewFunc(dom, idx)
	if err != nil {
		return nil, err
	}
	r := &RecordMaker{dom: make([]Value, f.Len()), perm: make([]int, f.Len())}
	key := ""
	for i := 0; i < f.Len(); i++ {
		r.dom[i] = f.DomainAt(i)
		r.perm[i] = int(f.RangeAt(i).(Int))
		key += r.dom[i].(Str).a.s + "\x00"
	}
	// Records on the same fields share one domain slice, which lets Compare
	// skip comparing their domains.
	t.mu.Lock()
	if t.doms == nil {
		t.doms = map[string][]Value{}
	}
	if d, ok := t.doms[key]; ok {
		r.dom = d
	} else {
		t.doms[key] = r.dom
	}
	t.mu.Unlock()
	r.dk = make([]uint64, len(r.dom))
	for i, d := range r.dom {
		r.dk[i] = entryHash(d.Hash(), 0)
	}
	return r, nil
}

// Make returns the record with vals (in the constructor's field order); vals
// is not retained.
func (r *RecordMaker) Make(vals []Value) *Func {
	if len(r.dom) == 0 {
		return EmptyTuple
	}
	return r.make(vals, r.hashOf(vals))
}

// make is Make for len(r.dom) > 0, given the record's hash h (hashOf(vals),
// which a lookup may have computed already).
func (r *RecordMaker) make(vals []Value, h uint64) *Func {
	f := allocFunc(len(r.dom))
	for i, j := range r.perm {
		f.rng[i] = vals[j]
	}
	f.dom, f.shape, f.hash = r.dom, ShapeRecord, h
	return f
}

// allocFunc returns a Func with a range of n values allocated with it: one
// allocation instead of two for the small functions (records, messages,
// a function of three processes) that actions build by the million, of
// exactly the size the runtime rounds it to (64 bytes and 16 per value:
// 80, 96, ..., 192 are all size classes), so no slot is allocated unused.
func allocFunc(n int) *Func {
	switch n {
	case 1:
		x := new(funcWith[[1]Value])
		return x.with(x.a[:])
	case 2:
		x := new(funcWith[[2]Value])
		return x.with(x.a[:])
	case 3:
		x := new(funcWith[[3]Value])
		return x.with(x.a[:])
	case 4:
		x := new(funcWith[[4]Value])
		return x.with(x.a[:])
	case 5:
		x := new(funcWith[[5]Value])
		return x.with(x.a[:])
	case 6:
		x := new(funcWith[[6]Value])
		return x.with(x.a[:])
	case 7:
		x := new(funcWith[[7]Value])
		return x.with(x.a[:])
	case 8:
		x := new(funcWith[[8]Value])
		return x.with(x.a[:])
	}
	return &Func{rng: make([]Value, n)}
}

// funcWith is a Func and the array of its range, allocated together.
type funcWith[A any] struct {
	f Func
	a A
}

// with returns the Func, its range rng (x.a, sliced).
func (x *funcWith[A]) with(rng []Value) *Func {
	x.f.rng = rng
	return &x.f
}

// hashOf is the hash of the record Make(vals) would return, computed
// without building it.
func (r *RecordMaker) hashOf(vals []Value) uint64 {
	var sum uint64
	for i, j := range r.perm {
		sum += mix64(r.dk[i] + vals[j].Hash()) // entryHash(r.dom[i].Hash(), vals[j].Hash())
	}
	return funcHash(len(r.dom), sum)
}

// equalTo decides Make(vals) = g for a function g with the same hash, as
// equalFunc would.
func (r *RecordMaker) equalTo(vals []Value, g *Func) (bool, error) {
	if len(g.rng) != len(r.dom) {
		return false, nil
	}
	sameDom := len(g.dom) == len(r.dom) && &g.dom[0] == &r.dom[0]
	for i, j := range r.perm {
		if !sameDom {
			eq, err := Equal(r.dom[i], g.DomainAt(i))
			if err != nil || !eq {
				return false, err
			}
		}
		eq, err := Equal(vals[j], g.rng[i])
		if err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// funcElems reports whether s's elements are functions (as Contains
// decides it: by its first and last elements, the order keeping kinds
// together).
func (s *Set) funcElems() bool {
	n := len(s.elems)
	return n > 0 && s.elems[0].Kind() == KindFunc && s.elems[n-1].Kind() == KindFunc
}

// findRecord looks for Make(vals), whose hash is h, among the elements of
// a set of functions s, as Contains would look for it.
func (r *RecordMaker) findRecord(vals []Value, h uint64, s *Set) (bool, error) {
	if len(s.elems) > smallFuncSet {
		if ix := s.funcIndex(); ix != nil {
			for i := mix64(h) & ix.mask; ; i = (i + 1) & ix.mask {
				p := ix.slots[i]
				if p == 0 {
					return false, nil
				}
				if g := s.elems[p-1].(*Func); g.hash == h {
					if eq, err := r.equalTo(vals, g); err != nil || eq {
						return eq, err
					}
				}
			}
		}
	}
	for _, e := range s.elems {
		if g := e.(*Func); g.hash == h {
			if eq, err := r.equalTo(vals, g); err != nil || eq {
				return eq, err
			}
		}
	}
	return false, nil
}

// In decides Make(vals) \in s without building the record when s is an
// enumerated set of functions (a set of messages asked whether it holds
// [type |-> "2b", bal |-> b, ...]); vals is not retained.
func (r *RecordMaker) In(vals []Value, s Value) (bool, error) {
	return r.InMemo(vals, s, nil)
}

// InMemo is In for a worker with memo m (nil: none), which keeps what In
// learns of s that outlives the question.
func (r *RecordMaker) InMemo(vals []Value, s Value, m *WorkerMemo) (bool, error) {
	if st, ok := s.(*Set); ok && len(r.dom) > 0 && st.funcElems() {
		if found, err := r.findRecord(vals, r.hashOf(vals), st); err != nil || found {
			return found, err
		}
		if st.comparableRecord(r.dom, vals, r.perm, m) {
			return false, nil
		}
		return false, r.search(vals, st)
	}
	return InMemo(r.Make(vals), s, m)
}

// search is Set.search for Make(vals), not found by its hash: TLC's binary
// search, for the error it raises on an element it cannot compare with the
// record.
func (r *RecordMaker) search(vals []Value, s *Set) error {
	lo, hi := 0, len(s.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, err := r.compare(vals, s.elems[m].(*Func))
		switch {
		case err != nil:
			return err
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil
}

// compare is Compare(g, Make(vals)), as compareFunc decides it.
func (r *RecordMaker) compare(vals []Value, g *Func) (int, error) {
	if len(g.rng) != len(r.dom) {
		return cmpInt(len(g.rng), len(r.dom)), nil
	}
	if len(g.dom) == 0 || &g.dom[0] != &r.dom[0] {
		for i, d := range r.dom {
			if c, err := Compare(g.DomainAt(i), d); err != nil || c != 0 {
				return c, err
			}
		}
	}
	for i, j := range r.perm {
		// Equal strings and model values are one atom: the fields a
		// message shares with the record asked for pass without a call.
		switch a := g.rng[i].(type) {
		case Str:
			if b, ok := vals[j].(Str); ok && a.a == b.a {
				continue
			}
		case Model:
			if b, ok := vals[j].(Model); ok && a.a == b.a {
				continue
			}
		}
		if c, err := Compare(g.rng[i], vals[j]); err != nil || c != 0 {
			return c, err
		}
	}
	return 0, nil
}

// hashFind is Make(vals)'s hash, and whether the set of functions s holds
// it (findRecord).
func (r *RecordMaker) hashFind(vals []Value, s *Set) (uint64, bool, error) {
	h := r.hashOf(vals)
	found, err := r.findRecord(vals, h, s)
	return h, found, err
}

// Insert is x \cup {Make(vals)}: x itself, without building the record,
// when x is a set of functions that holds it already (an action sending a
// message that was sent before); vals is not retained.
func (r *RecordMaker) Insert(x Value, vals []Value) (Value, error) {
	if st, ok := x.(*Set); ok && len(r.dom) > 0 && st.funcElems() {
		h, found, err := r.hashFind(vals, st)
		if err != nil {
			return nil, err
		}
		if found {
			return st, nil
		}
		return InsertValue(x, r.make(vals, h))
	}
	return InsertValue(x, r.Make(vals))
}

// Updater applies the updates of one EXCEPT, [f EXCEPT !p1 = v1, !p2 = v2],
// copying each function on a path once: a function it has copied is not
// yet shared, so later updates through it change it in place, and hashes
// are computed once, by Done. The caller must not let a copy be seen
// before Done (an update whose value reads @ would).
type Updater struct {
	fresh [8]fresh // the first copies (no self-reference: an Updater can live on the stack)
	n     int
	more  []fresh
	// Arena, if set, holds the copies (a successor's EXCEPT, for a checker
	// that materializes the successors it keeps).
	Arena *Arena
}

type fresh struct {
	f     *Func
	depth int
}

// Find returns the position of x in f's domain and f[x]; -1 (with no
// value) when x is outside it.
func (f *Func) Find(x Value) (int, Value, error) {
	i, err := f.index(x)
	if err != nil || i < 0 {
		return -1, nil, err
	}
	return i, f.rng[i], nil
}

// Set is f with position i (from Find) mapped to v, f being at depth
// depth of the paths: f itself if u made it or if v is the very value f
// maps i to, else a copy.
func (u *Updater) Set(f *Func, i int, v Value, depth int) *Func {
	if f.rng[i] == v {
		return f // the same value (an acceptor voting again as it voted): f is the result
	}
	for _, c := range u.fresh[:u.n] {
		if c.f == f {
			f.rng[i] = v
			return f
		}
	}
	for _, c := range u.more {
		if c.f == f {
			f.rng[i] = v
			return f
		}
	}
	var g *Func
	if u.Arena != nil {
		g = u.Arena.fn(len(f.rng))
	} else {
		g = allocFunc(len(f.rng))
	}
	copy(g.rng, f.rng)
	g.rng[i] = v
	g.dom, g.shape = f.dom, f.shape
	if u.n < len(u.fresh) {
		u.fresh[u.n] = fresh{g, depth}
		u.n++
	} else {
		u.more = append(u.more, fresh{g, depth})
	}
	return g
}

// Done hashes the functions u made, deepest first, and forgets them.
func (u *Updater) Done() {
	maxDepth := -1
	for _, c := range u.fresh[:u.n] {
		maxDepth = max(maxDepth, c.depth)
	}
	for _, c := range u.more {
		maxDepth = max(maxDepth, c.depth)
	}
	for d := maxDepth; d >= 0; d-- {
		for _, c := range u.fresh[:u.n] {
			if c.depth == d {
				c.f.hash = c.f.computeHash()
			}
		}
		for _, c := range u.more {
			if c.depth == d {
				c.f.hash = c.f.computeHash()
			}
		}
	}
	clear(u.fresh[:u.n])
	u.n = 0
	u.more = nil
}
