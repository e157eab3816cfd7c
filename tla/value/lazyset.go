package value

import (
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Lazy sets: membership is decided from the definition; enumeration (for
// \A, CHOOSE, printing, hashing) happens on demand, once, in TLC's normalized
// order, so CHOOSE x \in SUBSET S and CHOOSE f \in [S -> T] pick the first
// element of that order.

func enumCapped(s SetValue) ([]Value, error) {
	e, err := s.Enumerate()
	if err != nil {
		return nil, err
	}
	return e.elems, nil
}

// Subset is SUBSET S.
type Subset struct {
	Base SetValue
	l    lazy
}

// NewSubset returns SUBSET s.
func NewSubset(s SetValue) *Subset { return &Subset{Base: s} }

// Kind implements Value.
func (*Subset) Kind() Kind { return KindSet }

// Hash implements Value.
func (s *Subset) Hash() uint64 { return lazyHash(s) }

func (s *Subset) String() string { return "SUBSET " + s.Base.String() }

// Contains implements SetValue: x \subseteq S.
func (s *Subset) Contains(x Value) (bool, error) { return s.containsMemo(x, nil) }

func (s *Subset) containsMemo(x Value, m *WorkerMemo) (bool, error) {
	xs, ok := x.(SetValue)
	if !ok {
		return false, typeErr("\\in SUBSET", "a set", x)
	}
	return IsSubsetMemo(xs, s.Base, m)
}

// Card implements SetValue.
func (s *Subset) Card() (int, error) {
	n, err := s.Base.Card()
	if err != nil {
		return 0, err
	}
	if n > 26 {
		return 0, fmt.Errorf("%w: SUBSET of %d elements", ErrTooLarge, n)
	}
	return 1 << n, nil
}

// Enumerate implements SetValue: subsets by size, each size in lexicographic
// order of the base's elements (which is TLC's set order).
func (s *Subset) Enumerate() (*Set, error) {
	return s.l.get(func() (*Set, error) {
		if _, err := s.Card(); err != nil {
			return nil, err
		}
		base, err := enumCapped(s.Base)
		if err != nil {
			return nil, err
		}
		n := len(base)
		out := make([]Value, 0, 1<<n)
		idx := make([]int, n)
		for k := 0; k <= n; k++ {
			for i := 0; i < k; i++ {
				idx[i] = i
			}
			for {
				elems := make([]Value, k)
				for i := 0; i < k; i++ {
					elems[i] = base[idx[i]]
				}
				out = append(out, newSorted(elems))
				// Next combination in lexicographic order.
				i := k - 1
				for i >= 0 && idx[i] == n-k+i {
					i--
				}
				if i < 0 {
					break
				}
				idx[i]++
				for j := i + 1; j < k; j++ {
					idx[j] = idx[j-1] + 1
				}
			}
		}
		return newSorted(out), nil
	})
}

// IsSubset decides a \subseteq b without enumerating b.
func IsSubset(a, b SetValue) (bool, error) { return IsSubsetMemo(a, b, nil) }

// FuncSet is [S -> T].
type FuncSet struct {
	Dom, Rng SetValue
	l        lazy
	// members, once it has found memoAfter functions, remembers them
	// (a type invariant's [Proc -> States], asked of every state).
	members atomic.Pointer[memo]
	found   atomic.Int32
}

const memoAfter = 8

// NewFuncSet returns [dom -> rng].
func NewFuncSet(dom, rng SetValue) *FuncSet { return &FuncSet{Dom: dom, Rng: rng} }

// Kind implements Value.
func (*FuncSet) Kind() Kind { return KindSet }

// Hash implements Value.
func (s *FuncSet) Hash() uint64 { return lazyHash(s) }

func (s *FuncSet) String() string { return "[" + s.Dom.String() + " -> " + s.Rng.String() + "]" }

// Contains implements SetValue: DOMAIN f = S and f[x] \in T for all x.
func (s *FuncSet) Contains(x Value) (bool, error) { return s.containsMemo(x, nil) }

// containsMemo is Contains for a worker with memo wm (nil: none), which
// remembers the functions found instead of s.
func (s *FuncSet) containsMemo(x Value, wm *WorkerMemo) (bool, error) {
	f, ok := x.(*Func)
	if !ok {
		return false, typeErr("\\in [S -> T]", "a function", x)
	}
	if wm != nil && wm.has(unsafe.Pointer(s), f) {
		return true, nil
	}
	var m *memo
	if wm == nil {
		if m = s.members.Load(); m != nil && m.has(f) {
			return true, nil
		}
	}
	if !domainIs(f, s.Dom) {
		eq, err := Equal(f.Domain(), s.Dom)
		if err != nil || !eq {
			return false, err
		}
	}
	for _, v := range f.rng {
		in, err := containsIn(s.Rng, v, wm)
		if err != nil || !in {
			return false, err
		}
	}
	if wm != nil {
		wm.add(unsafe.Pointer(s), f)
		return true, nil
	}
	if m == nil && s.found.Add(1) >= memoAfter {
		s.members.CompareAndSwap(nil, new(memo))
		m = s.members.Load()
	}
	if m != nil {
		m.add(f)
	}
	return true, nil
}

// Card implements SetValue.
func (s *FuncSet) Card() (int, error) {
	d, err := s.Dom.Card()
	if err != nil {
		return 0, err
	}
	r, err := s.Rng.Card()
	if err != nil {
		return 0, err
	}
	n := 1
	for i := 0; i < d; i++ {
		n *= r
		if n > MaxEnumerate {
			return 0, fmt.Errorf("%w: %s", ErrTooLarge, s)
		}
	}
	return n, nil
}

// Enumerate implements SetValue: functions on the same domain compare by
// their values in domain order, so the odometer with the first domain
// element most significant yields TLC's order directly.
func (s *FuncSet) Enumerate() (*Set, error) {
	return s.l.get(func() (*Set, error) {
		n, err := s.Card()
		if err != nil {
			return nil, err
		}
		dom, err := enumCapped(s.Dom)
		if err != nil {
			return nil, err
		}
		rng, err := enumCapped(s.Rng)
		if err != nil {
			return nil, err
		}
		out := make([]Value, 0, n)
		if n == 0 {
			return Empty, nil
		}
		idx := make([]int, len(dom))
		for {
			vals := make([]Value, len(dom))
			for i, j := range idx {
				vals[i] = rng[j]
			}
			out = append(out, newFuncSorted(dom, vals))
			i := len(idx) - 1
			for i >= 0 && idx[i] == len(rng)-1 {
				idx[i] = 0
				i--
			}
			if i < 0 {
				break
			}
			idx[i]++
		}
		return newSorted(out), nil
	})
}

// RecordSet is [a: S, b: T]: the set of records with exactly those fields.
type RecordSet struct {
	names []Str
	sets  []SetValue
	l     lazy
}

// NewRecordSet returns [names[i]: sets[i]] with names interned in t.
func NewRecordSet(t *Interner, names []string, sets []SetValue) (*RecordSet, error) {
	if len(names) != len(sets) {
		return nil, fmt.Errorf("%w: record set with %d names and %d sets", ErrType, len(names), len(sets))
	}
	ns := make([]Value, len(names))
	for i, n := range names {
		ns[i] = t.String(n)
	}
	vs := make([]Value, len(sets))
	for i := range sets {
		vs[i] = sets[i]
	}
	f, err := NewFunc(ns, vs) // sorts the fields in TLC's order
	if err != nil {
		return nil, err
	}
	r := &RecordSet{}
	for i := 0; i < f.Len(); i++ {
		r.names = append(r.names, f.DomainAt(i).(Str))
		r.sets = append(r.sets, f.RangeAt(i).(SetValue))
	}
	return r, nil
}

// Kind implements Value.
func (*RecordSet) Kind() Kind { return KindSet }

// Hash implements Value.
func (r *RecordSet) Hash() uint64 { return lazyHash(r) }

func (r *RecordSet) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range r.names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.names[i].Go() + ": " + r.sets[i].String())
	}
	b.WriteByte(']')
	return b.String()
}

// Contains implements SetValue.
func (r *RecordSet) Contains(x Value) (bool, error) { return r.containsMemo(x, nil) }

func (r *RecordSet) containsMemo(x Value, m *WorkerMemo) (bool, error) {
	f, ok := x.(*Func)
	if !ok {
		return false, typeErr("\\in record set", "a record", x)
	}
	if f.Len() != len(r.names) {
		return false, nil
	}
	for i, n := range r.names {
		d, ok := f.DomainAt(i).(Str)
		if !ok || d.a != n.a {
			return false, nil
		}
		in, err := containsIn(r.sets[i], f.rng[i], m)
		if err != nil || !in {
			return false, err
		}
	}
	return true, nil
}

// Card implements SetValue.
func (r *RecordSet) Card() (int, error) {
	n := 1
	for _, s := range r.sets {
		c, err := s.Card()
		if err != nil {
			return 0, err
		}
		n *= c
		if n > MaxEnumerate {
			return 0, fmt.Errorf("%w: %s", ErrTooLarge, r)
		}
	}
	return n, nil
}

// Enumerate implements SetValue (records on the same fields order by values).
func (r *RecordSet) Enumerate() (*Set, error) {
	return r.l.get(func() (*Set, error) {
		if _, err := r.Card(); err != nil {
			return nil, err
		}
		dom := make([]Value, len(r.names))
		for i, n := range r.names {
			dom[i] = n
		}
		out, err := product(r.sets, func(vals []Value) Value {
			f := newFuncSorted(dom, vals)
			if f.shape == ShapeFunc {
				f.shape = ShapeRecord
			}
			return f
		})
		if err != nil {
			return nil, err
		}
		return newSorted(out), nil
	})
}

// product enumerates the cartesian product, first component most significant.
func product(sets []SetValue, mk func([]Value) Value) ([]Value, error) {
	elems := make([][]Value, len(sets))
	for i, s := range sets {
		e, err := enumCapped(s)
		if err != nil {
			return nil, err
		}
		if len(e) == 0 {
			return nil, nil
		}
		elems[i] = e
	}
	var out []Value
	idx := make([]int, len(sets))
	for {
		vals := make([]Value, len(sets))
		for i, j := range idx {
			vals[i] = elems[i][j]
		}
		out = append(out, mk(vals))
		if len(out) > MaxEnumerate {
			return nil, ErrTooLarge
		}
		i := len(idx) - 1
		for i >= 0 && idx[i] == len(elems[i])-1 {
			idx[i] = 0
			i--
		}
		if i < 0 {
			return out, nil
		}
		idx[i]++
	}
}

// Product is S1 \X S2 \X ...: a set of tuples.
type Product struct {
	Sets []SetValue
	l    lazy
}

// NewProduct returns sets[0] \X sets[1] \X ...
func NewProduct(sets ...SetValue) *Product { return &Product{Sets: sets} }

// Kind implements Value.
func (*Product) Kind() Kind { return KindSet }

// Hash implements Value.
func (p *Product) Hash() uint64 { return lazyHash(p) }

func (p *Product) String() string {
	parts := make([]string, len(p.Sets))
	for i, s := range p.Sets {
		parts[i] = s.String()
	}
	return strings.Join(parts, " \\X ")
}

// Contains implements SetValue.
func (p *Product) Contains(x Value) (bool, error) { return p.containsMemo(x, nil) }

func (p *Product) containsMemo(x Value, m *WorkerMemo) (bool, error) {
	f, ok := x.(*Func)
	if !ok {
		return false, typeErr("\\in \\X", "a tuple", x)
	}
	if !f.IsSeq() || f.Len() != len(p.Sets) {
		return false, nil
	}
	for i, s := range p.Sets {
		in, err := containsIn(s, f.rng[i], m)
		if err != nil || !in {
			return false, err
		}
	}
	return true, nil
}

// Card implements SetValue.
func (p *Product) Card() (int, error) {
	n := 1
	for _, s := range p.Sets {
		c, err := s.Card()
		if err != nil {
			return 0, err
		}
		n *= c
		if n > MaxEnumerate {
			return 0, fmt.Errorf("%w: %s", ErrTooLarge, p)
		}
	}
	return n, nil
}

// Enumerate implements SetValue (tuples order by components).
func (p *Product) Enumerate() (*Set, error) {
	return p.l.get(func() (*Set, error) {
		if _, err := p.Card(); err != nil {
			return nil, err
		}
		out, err := product(p.Sets, func(vals []Value) Value { return Tuple(vals...) })
		if err != nil {
			return nil, err
		}
		return newSorted(out), nil
	})
}

// SeqSet is Seq(S), infinite unless S is empty.
type SeqSet struct{ Elem SetValue }

// NewSeqSet returns Seq(s).
func NewSeqSet(s SetValue) *SeqSet { return &SeqSet{Elem: s} }

// Kind implements Value.
func (*SeqSet) Kind() Kind { return KindSet }

// Hash implements Value.
func (s *SeqSet) Hash() uint64 { return mix64(hashString("Seq") ^ s.Elem.Hash()) }

func (s *SeqSet) String() string { return "Seq(" + s.Elem.String() + ")" }

func (s *SeqSet) infiniteKind() string { return s.String() }

// Contains implements SetValue.
func (s *SeqSet) Contains(x Value) (bool, error) { return s.containsMemo(x, nil) }

func (s *SeqSet) containsMemo(x Value, m *WorkerMemo) (bool, error) {
	f, ok := x.(*Func)
	if !ok {
		return false, typeErr("\\in Seq(S)", "a sequence", x)
	}
	if !f.IsSeq() {
		return false, nil
	}
	for _, v := range f.rng {
		in, err := containsIn(s.Elem, v, m)
		if err != nil || !in {
			return false, err
		}
	}
	return true, nil
}

// Card implements SetValue.
func (s *SeqSet) Card() (int, error) { return 0, fmt.Errorf("%w: %s", ErrInfinite, s) }

// Enumerate implements SetValue.
func (s *SeqSet) Enumerate() (*Set, error) { return nil, fmt.Errorf("%w: %s", ErrInfinite, s) }

// domainIs reports, without building DOMAIN f, that it equals d in the
// common cases of a type invariant (a tuple's 1..n, a domain sharing d's
// elements); false means "not shown", and the caller compares in full.
func domainIs(f *Func, d SetValue) bool {
	switch d := d.(type) {
	case *Interval:
		return f.dom == nil && len(f.rng) > 0 && d.Lo == 1 && int(d.Hi) == len(f.rng)
	case *Set:
		if len(d.elems) != len(f.rng) || len(d.elems) == 0 {
			return false
		}
		if f.dom == nil {
			for i, e := range d.elems {
				if x, ok := e.(Int); !ok || int(x) != i+1 {
					return false
				}
			}
			return true
		}
		if &f.dom[0] == &d.elems[0] {
			return true
		}
		for i, e := range d.elems {
			if eq, err := Equal(f.dom[i], e); err != nil || !eq {
				return false
			}
		}
		return true
	}
	return false
}
