package value

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Standard-module operators on values (Naturals, Sequences, FiniteSets, Bags,
// TLC) as Go functions for the evaluator.

func asSet(op string, v Value) (SetValue, error) {
	s, ok := v.(SetValue)
	if !ok {
		return nil, typeErr(op, "a set", v)
	}
	return s, nil
}

func asFunc(op string, v Value) (*Func, error) {
	f, ok := v.(*Func)
	if !ok {
		return nil, typeErr(op, "a function", v)
	}
	return f, nil
}

func asSeq(op string, v Value) (*Func, error) {
	f, ok := v.(*Func)
	if !ok || !f.IsSeq() {
		return nil, typeErr(op, "a sequence", v)
	}
	return f, nil
}

// In decides x \in S.
func In(x, s Value) (bool, error) {
	set, err := asSet("\\in", s)
	if err != nil {
		return false, err
	}
	return set.Contains(x)
}

// Union is a \cup b.
func Union(a, b Value) (*Set, error) {
	if x, ok := a.(*Set); ok {
		if y, ok := b.(*Set); ok {
			return mergeSets(x, y)
		}
	}
	return combine("\\cup", a, b)
}

// mergeSets is the union of two enumerated sets by merging their sorted
// elements (no sort, no allocation when one contains the other).
func mergeSets(x, y *Set) (*Set, error) {
	switch {
	case len(y.elems) == 0:
		return x, nil
	case len(x.elems) == 0:
		return y, nil
	case len(y.elems) == 1:
		return insertOne(x, y)
	case len(x.elems) == 1:
		return insertOne(y, x)
	}
	out := make([]Value, 0, len(x.elems)+len(y.elems))
	i, j := 0, 0
	for i < len(x.elems) && j < len(y.elems) {
		c, err := Compare(x.elems[i], y.elems[j])
		if err != nil {
			// untyped model values are unequal to everything: fall back to the general path
			return combine("\\cup", x, y)
		}
		switch {
		case c < 0:
			out = append(out, x.elems[i])
			i++
		case c > 0:
			out = append(out, y.elems[j])
			j++
		default:
			out = append(out, x.elems[i])
			i++
			j++
		}
	}
	out = append(out, x.elems[i:]...)
	out = append(out, y.elems[j:]...)
	if len(out) == len(x.elems) {
		return x, nil
	}
	if len(out) == len(y.elems) {
		return y, nil
	}
	return newSorted(out), nil
}

// insertOne is x \cup y for a singleton y (an action sending a message):
// a binary search, and x itself when it holds y's element already.
func insertOne(x, y *Set) (*Set, error) {
	return insertElem(x, y.elems[0], y)
}

// InsertValue is x \cup {e}, without building {e} when x is a nonempty
// enumerated set.
func InsertValue(x, e Value) (Value, error) {
	if st, ok := x.(*Set); ok && len(st.elems) > 0 {
		return insertElem(st, e, nil)
	}
	return UnionValue(x, Singleton(e))
}

// insertElem is x \cup {e}; y is {e} if the caller has it (nil: built
// when needed).
func insertElem(x *Set, e Value, y *Set) (*Set, error) {
	lo, found, err := insertPos(x, e)
	switch {
	case err != nil:
		if y == nil {
			y = Singleton(e)
		}
		return combine("\\cup", x, y)
	case found:
		return x, nil
	}
	return insertAt(x, lo, e), nil
}

// RemoveValue is x \ {e}: without building {e}, and in one allocation, when
// x is an enumerated set of integers or of strings and e one of them
// (nothing to compare can fail there); x itself when it lacks e.
func RemoveValue(x, e Value) (Value, error) {
	if st, ok := x.(*Set); ok && len(st.elems) > 0 && sameScalarKind(st, e) {
		at, found, err := insertPos(st, e)
		if err != nil || !found {
			return st, err
		}
		if len(st.elems) == 1 {
			return Empty, nil
		}
		s := allocSet(len(st.elems) - 1)
		copy(s.elems, st.elems[:at])
		copy(s.elems[at:], st.elems[at+1:])
		s.sum = st.sum - elemPart(e.Hash())
		s.hash = setHash(len(s.elems), s.sum)
		return s, nil
	}
	return DifferenceValue(x, Singleton(e))
}

// sameScalarKind reports whether e and every element of s are integers,
// or all strings: values that compare without error.
func sameScalarKind(s *Set, e Value) bool {
	k := e.Kind()
	if k != KindInt && k != KindString {
		return false
	}
	for _, x := range s.elems {
		if x.Kind() != k {
			return false
		}
	}
	return true
}

// insertPos is e's position in x's order (found: x holds e), by binary
// search; an error where e cannot be compared with an element on the way.
func insertPos(x *Set, e Value) (int, bool, error) {
	lo, hi := 0, len(x.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, err := Compare(x.elems[m], e)
		if err != nil {
			return 0, false, err
		}
		switch {
		case c == 0:
			return m, true, nil
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return lo, false, nil
}

// Intersect is a \cap b (b may be infinite: it is only asked for membership).
func Intersect(a, b Value) (*Set, error) {
	sa, err := asSet("\\cap", a)
	if err != nil {
		return nil, err
	}
	sb, err := asSet("\\cap", b)
	if err != nil {
		return nil, err
	}
	if _, inf := sa.(infinite); inf {
		sa, sb = sb, sa
	}
	return Filter(sa, func(x Value) (bool, error) { return sb.Contains(x) })
}

// Difference is a \ b (b may be infinite).
func Difference(a, b Value) (*Set, error) {
	sa, err := asSet("\\", a)
	if err != nil {
		return nil, err
	}
	sb, err := asSet("\\", b)
	if err != nil {
		return nil, err
	}
	return Filter(sa, func(x Value) (bool, error) {
		in, err := sb.Contains(x)
		return !in, err
	})
}

func combine(op string, a, b Value) (*Set, error) {
	sa, err := asSet(op, a)
	if err != nil {
		return nil, err
	}
	sb, err := asSet(op, b)
	if err != nil {
		return nil, err
	}
	ea, err := sa.Enumerate()
	if err != nil {
		return nil, err
	}
	eb, err := sb.Enumerate()
	if err != nil {
		return nil, err
	}
	all := make([]Value, 0, len(ea.elems)+len(eb.elems))
	all = append(all, ea.elems...)
	all = append(all, eb.elems...)
	return NewSet(all...)
}

// BigUnion is UNION S.
func BigUnion(s Value) (*Set, error) {
	ss, err := asSet("UNION", s)
	if err != nil {
		return nil, err
	}
	e, err := ss.Enumerate()
	if err != nil {
		return nil, err
	}
	var all []Value
	for _, x := range e.elems {
		xs, err := asSet("UNION", x)
		if err != nil {
			return nil, err
		}
		ex, err := xs.Enumerate()
		if err != nil {
			return nil, err
		}
		all = append(all, ex.elems...)
	}
	return NewSet(all...)
}

// Filter is {x \in S : p(x)}, keeping TLC's order.
func Filter(s SetValue, p func(Value) (bool, error)) (*Set, error) {
	e, err := s.Enumerate()
	if err != nil {
		return nil, err
	}
	return filterAt(e.elems, nil, p)
}

// FilterAt is Filter of the set s when p is FALSE for every element but
// those at the positions pos, in increasing order: only they are tested.
func FilterAt(s *Set, pos []int32, p func(Value) (bool, error)) (*Set, error) {
	return filterAt(s.elems, pos, p)
}

// filterAt is the set of the elements of elems at the positions pos
// (every element where pos is nil) for which p holds.
func filterAt(elems []Value, pos []int32, p func(Value) (bool, error)) (*Set, error) {
	n := len(elems)
	if pos != nil {
		n = len(pos)
	}
	var out []Value
	for i := range n {
		x := elems[i]
		if pos != nil {
			x = elems[pos[i]]
		}
		ok, err := p(x)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, x)
		}
	}
	return newSorted(out), nil
}

// Map is {f(x) : x \in S}.
func Map(s SetValue, f func(Value) (Value, error)) (*Set, error) {
	e, err := s.Enumerate()
	if err != nil {
		return nil, err
	}
	out := make([]Value, 0, len(e.elems))
	for _, x := range e.elems {
		v, err := f(x)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return NewSet(out...)
}

// Choose is CHOOSE x \in S : p(x): the first element in TLC's order that
// satisfies p; none is an error (TLC: "CHOOSE ... no value satisfies").
func Choose(s SetValue, p func(Value) (bool, error)) (Value, error) {
	e, err := s.Enumerate()
	if err != nil {
		return nil, err
	}
	for _, x := range e.elems {
		ok, err := p(x)
		if err != nil {
			return nil, err
		}
		if ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("%w: CHOOSE x \\in %s: no element satisfies the predicate", ErrDomain, s)
}

// Cardinality is FiniteSets' Cardinality(S).
func Cardinality(s Value) (Value, error) {
	ss, err := asSet("Cardinality", s)
	if err != nil {
		return nil, err
	}
	n, err := ss.Card()
	if err != nil {
		return nil, err
	}
	return Int(int32(n)), nil
}

// IsFiniteSet is FiniteSets' IsFiniteSet(S).
func IsFiniteSet(s Value) (Value, error) {
	ss, err := asSet("IsFiniteSet", s)
	if err != nil {
		return nil, err
	}
	if _, ok := ss.(infinite); ok {
		return False, nil
	}
	return True, nil
}

// Len is Len(s).
func Len(s Value) (Value, error) {
	f, err := asSeq("Len", s)
	if err != nil {
		return nil, err
	}
	return Int(int32(f.Len())), nil
}

// Append is Append(s, e).
func Append(s, e Value) (Value, error) {
	f, err := asSeq("Append", s)
	if err != nil {
		return nil, err
	}
	rng := make([]Value, f.Len()+1)
	copy(rng, f.rng)
	rng[f.Len()] = e
	return Tuple(rng...), nil
}

// Concat is s \o t.
func Concat(s, t Value) (Value, error) {
	f, err := asSeq("\\o", s)
	if err != nil {
		return nil, err
	}
	g, err := asSeq("\\o", t)
	if err != nil {
		return nil, err
	}
	return Tuple(slices.Concat(f.rng, g.rng)...), nil
}

// Head is Head(s); Head(<<>>) is an error.
func Head(s Value) (Value, error) {
	f, err := asSeq("Head", s)
	if err != nil {
		return nil, err
	}
	if f.Len() == 0 {
		return nil, fmt.Errorf("%w: Head(<<>>)", ErrDomain)
	}
	return f.rng[0], nil
}

// Tail is Tail(s); Tail(<<>>) is an error.
func Tail(s Value) (Value, error) {
	f, err := asSeq("Tail", s)
	if err != nil {
		return nil, err
	}
	if f.Len() == 0 {
		return nil, fmt.Errorf("%w: Tail(<<>>)", ErrDomain)
	}
	return Tuple(slices.Clone(f.rng[1:])...), nil
}

// SubSeq is SubSeq(s, m, n) = <<s[m], ..., s[n]>> (empty when n < m).
func SubSeq(s, m, n Value) (Value, error) {
	f, err := asSeq("SubSeq", s)
	if err != nil {
		return nil, err
	}
	a, b, err := ints("SubSeq", m, n)
	if err != nil {
		return nil, err
	}
	if b < a {
		return EmptyTuple, nil
	}
	if a < 1 || int(b) > f.Len() {
		return nil, fmt.Errorf("%w: SubSeq(%s, %d, %d)", ErrDomain, s, a, b)
	}
	return Tuple(slices.Clone(f.rng[a-1 : b])...), nil
}

// SelectSeq is SelectSeq(s, Test).
func SelectSeq(s Value, test func(Value) (bool, error)) (Value, error) {
	f, err := asSeq("SelectSeq", s)
	if err != nil {
		return nil, err
	}
	var out []Value
	for _, v := range f.rng {
		ok, err := test(v)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return Tuple(out...), nil
}

// SortSeq is TLC's SortSeq(s, Op) with less(a, b) standing for Op(a, b).
func SortSeq(s Value, less func(a, b Value) (bool, error)) (Value, error) {
	f, err := asSeq("SortSeq", s)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(f.rng)
	var ferr error
	slices.SortStableFunc(out, func(a, b Value) int {
		if ferr != nil {
			return 0
		}
		lt, err := less(a, b)
		if err != nil {
			ferr = err
			return 0
		}
		if lt {
			return -1
		}
		if gt, err := less(b, a); err == nil && gt {
			return 1
		}
		return 0
	})
	if ferr != nil {
		return nil, ferr
	}
	return Tuple(out...), nil
}

// ColonGreater is TLC's d :> e, the function with domain {d}.
func ColonGreater(d, e Value) Value {
	return newFuncSorted([]Value{d}, []Value{e})
}

// AtAt is TLC's f @@ g: f, extended by g outside DOMAIN f.
func AtAt(f, g Value) (Value, error) {
	ff, err := asFunc("@@", f)
	if err != nil {
		return nil, err
	}
	gg, err := asFunc("@@", g)
	if err != nil {
		return nil, err
	}
	dom := make([]Value, 0, ff.Len()+gg.Len())
	rng := make([]Value, 0, ff.Len()+gg.Len())
	for i := 0; i < ff.Len(); i++ {
		dom = append(dom, ff.DomainAt(i))
		rng = append(rng, ff.rng[i])
	}
	for i := 0; i < gg.Len(); i++ {
		j, err := ff.index(gg.DomainAt(i))
		if err != nil {
			return nil, err
		}
		if j < 0 {
			dom = append(dom, gg.DomainAt(i))
			rng = append(rng, gg.rng[i])
		}
	}
	return NewFunc(dom, rng)
}

// Permutations is TLC's Permutations(S): the set of bijections S -> S.
func Permutations(s Value) (*Set, error) {
	ss, err := asSet("Permutations", s)
	if err != nil {
		return nil, err
	}
	e, err := ss.Enumerate()
	if err != nil {
		return nil, err
	}
	n := len(e.elems)
	if n > 10 {
		return nil, fmt.Errorf("%w: Permutations of %d elements", ErrTooLarge, n)
	}
	var out []Value
	perm := slices.Clone(e.elems)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			out = append(out, newFuncSorted(e.elems, slices.Clone(perm)))
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return NewSet(out...)
}

// RandomElement is TLC's RandomElement(S) with an injected, seeded source so
// runs are reproducible.
func RandomElement(s Value, r *rand.Rand) (Value, error) {
	ss, err := asSet("RandomElement", s)
	if err != nil {
		return nil, err
	}
	e, err := ss.Enumerate()
	if err != nil {
		return nil, err
	}
	if len(e.elems) == 0 {
		return nil, fmt.Errorf("%w: RandomElement({})", ErrDomain)
	}
	return e.elems[r.IntN(len(e.elems))], nil
}

// ToString is TLC's ToString(v): the value in TLC's print format, as a string.
func ToString(t *Interner, v Value) Value { return t.String(v.String()) }

// Bags (multisets as functions from elements to positive counts).

// SetToBag is SetToBag(S).
func SetToBag(s Value) (Value, error) {
	ss, err := asSet("SetToBag", s)
	if err != nil {
		return nil, err
	}
	e, err := ss.Enumerate()
	if err != nil {
		return nil, err
	}
	rng := make([]Value, len(e.elems))
	for i := range rng {
		rng[i] = Int(1)
	}
	return newFuncSorted(slices.Clone(e.elems), rng), nil
}

// BagToSet is BagToSet(B) = DOMAIN B.
func BagToSet(b Value) (Value, error) {
	f, err := asFunc("BagToSet", b)
	if err != nil {
		return nil, err
	}
	return f.Domain(), nil
}

// BagIn is BagIn(e, B).
func BagIn(e, b Value) (bool, error) {
	f, err := asFunc("BagIn", b)
	if err != nil {
		return false, err
	}
	i, err := f.index(e)
	return i >= 0, err
}

// CopiesIn is CopiesIn(e, B).
func CopiesIn(e, b Value) (Value, error) {
	f, err := asFunc("CopiesIn", b)
	if err != nil {
		return nil, err
	}
	i, err := f.index(e)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		return Int(0), nil
	}
	return f.rng[i], nil
}

// BagCup is B1 (+) B2.
func BagCup(a, b Value) (Value, error) { return bagMerge("(+)", a, b, 1) }

// BagDiff is B1 (-) B2 (elements whose count drops to 0 leave the domain).
func BagDiff(a, b Value) (Value, error) { return bagMerge("(-)", a, b, -1) }

func bagMerge(op string, a, b Value, sign int64) (Value, error) {
	fa, err := asFunc(op, a)
	if err != nil {
		return nil, err
	}
	fb, err := asFunc(op, b)
	if err != nil {
		return nil, err
	}
	var dom, rng []Value
	add := func(d Value, n int64) error {
		for i := range dom {
			eq, err := Equal(dom[i], d)
			if err != nil {
				return err
			}
			if eq {
				rng[i] = Int(int32(int64(rng[i].(Int)) + n))
				return nil
			}
		}
		dom = append(dom, d)
		rng = append(rng, Int(int32(n)))
		return nil
	}
	for i := 0; i < fa.Len(); i++ {
		n, err := asInt(op, fa.rng[i])
		if err != nil {
			return nil, err
		}
		if err := add(fa.DomainAt(i), int64(n)); err != nil {
			return nil, err
		}
	}
	for i := 0; i < fb.Len(); i++ {
		n, err := asInt(op, fb.rng[i])
		if err != nil {
			return nil, err
		}
		if sign < 0 {
			if j, err := fa.index(fb.DomainAt(i)); err != nil || j < 0 {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		if err := add(fb.DomainAt(i), sign*int64(n)); err != nil {
			return nil, err
		}
	}
	var d2, r2 []Value
	for i := range dom {
		if rng[i].(Int) > 0 {
			d2 = append(d2, dom[i])
			r2 = append(r2, rng[i])
		}
	}
	return NewFunc(d2, r2)
}

// BagCardinality is BagCardinality(B): the sum of the counts.
func BagCardinality(b Value) (Value, error) {
	f, err := asFunc("BagCardinality", b)
	if err != nil {
		return nil, err
	}
	var sum int64
	for _, v := range f.rng {
		n, err := asInt("BagCardinality", v)
		if err != nil {
			return nil, err
		}
		sum += int64(n)
	}
	return fit("BagCardinality", 0, 0, sum)
}

// SubBag is B1 \sqsubseteq B2.
func SubBag(a, b Value) (bool, error) {
	fa, err := asFunc("\\sqsubseteq", a)
	if err != nil {
		return false, err
	}
	for i := 0; i < fa.Len(); i++ {
		c, err := CopiesIn(fa.DomainAt(i), b)
		if err != nil {
			return false, err
		}
		if fa.rng[i].(Int) > c.(Int) {
			return false, nil
		}
	}
	return true, nil
}
