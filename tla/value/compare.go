package value

import "fmt"

// Equal decides a = b with TLC's semantics: by value across representations,
// an untyped model value is unequal to anything else, and values of
// incomparable kinds (1 = "a", a typed model value against another type) are
// an error wrapping ErrIncomparable.
func Equal(a, b Value) (bool, error) {
	// The common cases first, without asking for kinds.
	switch x := a.(type) {
	case Str:
		if y, ok := b.(Str); ok {
			return x.a == y.a, nil
		}
	case Int:
		if y, ok := b.(Int); ok {
			return x == y, nil
		}
	case *Func:
		if y, ok := b.(*Func); ok {
			return equalFunc(x, y)
		}
	}
	ka, kb := a.Kind(), b.Kind()
	if ka == KindModel || kb == KindModel {
		return equalModel(a, b)
	}
	if ka != kb {
		return false, incomparable(a, b)
	}
	switch x := a.(type) {
	case Bool:
		return x == b.(Bool), nil
	case Int:
		return x == b.(Int), nil
	case Str:
		return x.a == b.(Str).a, nil
	case *Func:
		return equalFunc(x, b.(*Func))
	}
	sa, aok := a.(SetValue)
	sb, bok := b.(SetValue)
	if !aok || !bok {
		return false, incomparable(a, b)
	}
	return equalSet(sa, sb)
}

func equalModel(a, b Value) (bool, error) {
	ma, aok := a.(Model)
	mb, bok := b.(Model)
	if aok && bok {
		if ma.a == mb.a {
			return true, nil
		}
		if ma.a.typ != 0 && mb.a.typ != 0 && ma.a.typ != mb.a.typ {
			return false, incomparable(a, b)
		}
		return false, nil
	}
	if (aok && ma.a.typ != 0) || (bok && mb.a.typ != 0) {
		return false, incomparable(a, b)
	}
	return false, nil
}

// equalFunc is TLC's equality of functions (records, tuples): of different
// sizes they are unequal; else the domains are compared, then the values,
// each in order, and the first unequal pair decides. A pair that cannot be
// compared raises ([a |-> 1] = [a |-> "x"], <<1>> = [a |-> 1]) unless an
// earlier pair decided, so the hashes, which would decide at once, are not
// asked.
func equalFunc(f, g *Func) (bool, error) {
	if f == g {
		return true, nil
	}
	if f.Len() != g.Len() {
		return false, nil
	}
	for i := 0; i < f.Len() && !sharedDomain(f, g); i++ {
		eq, err := Equal(f.DomainAt(i), g.DomainAt(i))
		if err != nil || !eq {
			return false, err
		}
	}
	for i := range f.rng {
		eq, err := Equal(f.rng[i], g.rng[i])
		if err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// sharedDomain reports whether f and g, of the same size, are known to
// have the same domain: both tuples, or domains on one slice (records made
// by one RecordMaker or decoded alike).
func sharedDomain(f, g *Func) bool {
	return f.dom == nil && g.dom == nil || len(f.dom) > 0 && len(g.dom) > 0 && &f.dom[0] == &g.dom[0]
}

func equalSet(a, b SetValue) (bool, error) {
	if a == b {
		return true, nil
	}
	if ia, ok := a.(infinite); ok {
		ib, ok := b.(infinite)
		if ok {
			return ia.infiniteKind() == ib.infiniteKind(), nil
		}
		if _, err := b.Card(); err == nil {
			return false, nil
		}
		return false, fmt.Errorf("%w: cannot decide %s = %s", ErrInfinite, a, b)
	}
	if _, ok := b.(infinite); ok {
		return equalSet(b, a)
	}
	ea, err := a.Enumerate()
	if err != nil {
		return false, err
	}
	eb, err := b.Enumerate()
	if err != nil {
		return false, err
	}
	if len(ea.elems) != len(eb.elems) {
		return false, nil
	}
	for i := range ea.elems {
		eq, err := Equal(ea.elems[i], eb.elems[i])
		if err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// Compare is TLC's total order on comparable values, used for set
// normalization, CHOOSE, printing and SortSeq: model values below everything
// else (among themselves by first sighting), FALSE < TRUE, integers
// numerically, strings by first sighting (interning order), sets by size then
// element by element, functions by domain size, then domain elements, then
// range elements. Incomparable kinds are an error wrapping ErrIncomparable.
func Compare(a, b Value) (int, error) {
	// The common cases first, without asking for kinds.
	switch x := a.(type) {
	case Str:
		if y, ok := b.(Str); ok {
			return cmpU32(x.a.id, y.a.id), nil
		}
	case Int:
		if y, ok := b.(Int); ok {
			return cmpInt(int(x), int(y)), nil
		}
	case Model:
		if y, ok := b.(Model); ok && (x.a == y.a || x.a.typ == 0 || y.a.typ == 0 || x.a.typ == y.a.typ) {
			return cmpU32(x.a.id, y.a.id), nil
		}
	}
	ka, kb := a.Kind(), b.Kind()
	if ka == KindModel || kb == KindModel {
		if ka != kb {
			if ka == KindModel {
				return -1, nil
			}
			return 1, nil
		}
		ma, mb := a.(Model), b.(Model)
		if ma.a.typ != 0 && mb.a.typ != 0 && ma.a.typ != mb.a.typ {
			return 0, incomparable(a, b)
		}
		return cmpU32(ma.a.id, mb.a.id), nil
	}
	if ka != kb {
		return 0, incomparable(a, b)
	}
	switch x := a.(type) {
	case Bool:
		y := b.(Bool)
		switch {
		case x == y:
			return 0, nil
		case !bool(x):
			return -1, nil
		}
		return 1, nil
	case Int:
		y := b.(Int)
		switch {
		case x < y:
			return -1, nil
		case x > y:
			return 1, nil
		}
		return 0, nil
	case Str:
		return cmpU32(x.a.id, b.(Str).a.id), nil
	case *Func:
		return compareFunc(x, b.(*Func))
	}
	xa, aok := a.(SetValue)
	xb, bok := b.(SetValue)
	if !aok || !bok {
		return 0, incomparable(a, b)
	}
	sa, err := xa.Enumerate()
	if err != nil {
		return 0, err
	}
	sb, err := xb.Enumerate()
	if err != nil {
		return 0, err
	}
	if len(sa.elems) != len(sb.elems) {
		return cmpInt(len(sa.elems), len(sb.elems)), nil
	}
	for i := range sa.elems {
		c, err := Compare(sa.elems[i], sb.elems[i])
		if err != nil || c != 0 {
			return c, err
		}
	}
	return 0, nil
}

func compareFunc(f, g *Func) (int, error) {
	if f == g {
		return 0, nil
	}
	if f.Len() != g.Len() {
		return cmpInt(f.Len(), g.Len()), nil
	}
	sameDom := sharedDomain(f, g)
	for i := 0; i < f.Len() && !sameDom; i++ {
		c, err := Compare(f.DomainAt(i), g.DomainAt(i))
		if err != nil || c != 0 {
			return c, err
		}
	}
	for i := range f.rng {
		c, err := Compare(f.rng[i], g.rng[i])
		if err != nil || c != 0 {
			return c, err
		}
	}
	return 0, nil
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
