package value

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// InfiniteDiff is S \ T for an infinite S (such as Nat \ {0}): membership
// only, as TLC allows for such sets; enumerating it is an error.
type InfiniteDiff struct{ A, B SetValue }

// DifferenceValue is a \ b, lazy (InfiniteDiff) when a is infinite.
func DifferenceValue(a, b Value) (Value, error) {
	if sa, ok := a.(SetValue); ok {
		if _, inf := a.(infinite); inf {
			sb, err := asSet("\\", b)
			if err != nil {
				return nil, err
			}
			return &InfiniteDiff{sa, sb}, nil
		}
	}
	return Difference(a, b)
}

func (d *InfiniteDiff) infiniteKind() string { return d.String() }

// Kind implements Value.
func (*InfiniteDiff) Kind() Kind { return KindSet }

// Hash implements Value.
func (d *InfiniteDiff) Hash() uint64 { return mix64(hashString(d.String()) ^ seedSet) }

func (d *InfiniteDiff) String() string { return fmt.Sprintf("%s \\ %s", d.A, d.B) }

// Card implements SetValue.
func (d *InfiniteDiff) Card() (int, error) { return 0, fmt.Errorf("%w: %s", ErrInfinite, d) }

// Enumerate implements SetValue.
func (d *InfiniteDiff) Enumerate() (*Set, error) { return nil, fmt.Errorf("%w: %s", ErrInfinite, d) }

// Contains implements SetValue.
func (d *InfiniteDiff) Contains(x Value) (bool, error) {
	in, err := d.A.Contains(x)
	if err != nil || !in {
		return false, err
	}
	out, err := d.B.Contains(x)
	return !out, err
}

// InfiniteUnion is a union one of whose sets is infinite (Int \cup {NULL},
// UNION {[D -> Int]}): membership only, enumerating it is an error.
type InfiniteUnion struct{ Sets []SetValue }

// UnionValue is a \cup b, lazy (InfiniteUnion) when either set is infinite.
func UnionValue(a, b Value) (Value, error) {
	_, ia := a.(infinite)
	_, ib := b.(infinite)
	if ia || ib {
		sa, err := asSet("\\cup", a)
		if err != nil {
			return nil, err
		}
		sb, err := asSet("\\cup", b)
		if err != nil {
			return nil, err
		}
		return &InfiniteUnion{[]SetValue{sa, sb}}, nil
	}
	return Union(a, b)
}

// BigUnionValue is UNION s, lazy (InfiniteUnion) when an element of s
// cannot be enumerated because it is infinite.
func BigUnionValue(s Value) (Value, error) {
	u, err := BigUnion(s)
	if err == nil || !errors.Is(err, ErrInfinite) {
		return u, err
	}
	ss, err2 := asSet("UNION", s)
	if err2 != nil {
		return nil, err2
	}
	outer, err2 := ss.Enumerate()
	if err2 != nil {
		return nil, err
	}
	out := &InfiniteUnion{}
	for _, x := range outer.elems {
		xs, err := asSet("UNION", x)
		if err != nil {
			return nil, err
		}
		out.Sets = append(out.Sets, xs)
	}
	return out, nil
}

func (u *InfiniteUnion) infiniteKind() string { return u.String() }

// Kind implements Value.
func (*InfiniteUnion) Kind() Kind { return KindSet }

// Hash implements Value.
func (u *InfiniteUnion) Hash() uint64 { return mix64(hashString(u.String()) ^ seedSet) }

func (u *InfiniteUnion) String() string {
	parts := make([]string, len(u.Sets))
	for i, s := range u.Sets {
		parts[i] = s.String()
	}
	return "UNION {" + strings.Join(parts, ", ") + "}"
}

// Card implements SetValue.
func (u *InfiniteUnion) Card() (int, error) { return 0, fmt.Errorf("%w: %s", ErrInfinite, u) }

// Enumerate implements SetValue.
func (u *InfiniteUnion) Enumerate() (*Set, error) { return nil, fmt.Errorf("%w: %s", ErrInfinite, u) }

// Contains implements SetValue.
func (u *InfiniteUnion) Contains(x Value) (bool, error) {
	for _, s := range u.Sets {
		in, err := s.Contains(x)
		if err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// LazyUnion is UNION {S1, ..., Sn} of finite sets kept apart, so that
// membership (x \in UNION {[D -> SUBSET R]}) needs no enumeration; it is
// enumerated (and cached) only when asked.
type LazyUnion struct {
	Sets []SetValue
	l    lazy
}

// NewLazyUnion is UNION of sets, lazy; InfiniteUnion if one is infinite.
func NewLazyUnion(sets []SetValue) SetValue {
	for _, s := range sets {
		if _, inf := s.(infinite); inf {
			return &InfiniteUnion{sets}
		}
	}
	return &LazyUnion{Sets: sets}
}

// Kind implements Value.
func (*LazyUnion) Kind() Kind { return KindSet }

// Hash implements Value.
func (u *LazyUnion) Hash() uint64 { return lazyHash(u) }

func (u *LazyUnion) String() string {
	e, err := u.Enumerate()
	if err != nil {
		return (&InfiniteUnion{u.Sets}).String()
	}
	return e.String()
}

// Enumerate implements SetValue.
func (u *LazyUnion) Enumerate() (*Set, error) {
	return u.l.get(func() (*Set, error) {
		var all []Value
		for _, s := range u.Sets {
			e, err := s.Enumerate()
			if err != nil {
				return nil, err
			}
			all = append(all, e.elems...)
		}
		return NewSet(all...)
	})
}

// Card implements SetValue.
func (u *LazyUnion) Card() (int, error) {
	e, err := u.Enumerate()
	if err != nil {
		return 0, err
	}
	return len(e.elems), nil
}

// Contains implements SetValue.
func (u *LazyUnion) Contains(x Value) (bool, error) { return u.containsMemo(x, nil) }

func (u *LazyUnion) containsMemo(x Value, m *WorkerMemo) (bool, error) {
	for _, s := range u.Sets {
		in, err := containsIn(s, x, m)
		if err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// InfiniteFilter is {x \in S : P} for an infinite S (such as
// {n \in Nat : n > 0}): membership only, as TLC allows for such sets;
// enumerating it is an error. Pred must be safe for concurrent use.
type InfiniteFilter struct {
	Base SetValue
	Pred func(Value) (bool, error)
	// Text is how the set prints (and what its hash is taken of).
	Text string
}

func (f *InfiniteFilter) infiniteKind() string { return f.Text }

// Kind implements Value.
func (*InfiniteFilter) Kind() Kind { return KindSet }

// Hash implements Value. Two such sets built from different values print
// alike, so the hash cannot tell them apart: each use is counted
// (FilterHashes) so that a checker can refuse a run whose states may hold
// one rather than merge different states.
func (f *InfiniteFilter) Hash() uint64 {
	filterHashes.Add(1)
	return mix64(hashString(f.Text) ^ seedSet)
}

var filterHashes atomic.Int64

// FilterHashes is how many times an InfiniteFilter was hashed in this
// process.
func FilterHashes() int64 { return filterHashes.Load() }

func (f *InfiniteFilter) String() string { return f.Text }

// Card implements SetValue.
func (f *InfiniteFilter) Card() (int, error) { return 0, fmt.Errorf("%w: %s", ErrInfinite, f) }

// Enumerate implements SetValue.
func (f *InfiniteFilter) Enumerate() (*Set, error) { return nil, fmt.Errorf("%w: %s", ErrInfinite, f) }

// Contains implements SetValue.
func (f *InfiniteFilter) Contains(x Value) (bool, error) {
	in, err := f.Base.Contains(x)
	if err != nil || !in {
		return false, err
	}
	return f.Pred(x)
}
