package value

import (
	"fmt"
	"slices"
)

// Perm is a permutation of model values (one element of a SYMMETRY set),
// kept as a map from each moved model value to its image. It exists so that
// the checker can compute the symmetric images of a state as TLC does.
type Perm map[Model]Model

// PermFromFunc turns a function of Permutations(S) (model values to model
// values) into a Perm; fixed points are left out.
func PermFromFunc(v Value) (Perm, error) {
	f, ok := v.(*Func)
	if !ok {
		return nil, fmt.Errorf("%w: a symmetry permutation must be a function, got %s", ErrType, v)
	}
	p := Perm{}
	for i := 0; i < f.Len(); i++ {
		a, ok1 := f.DomainAt(i).(Model)
		b, ok2 := f.rng[i].(Model)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: a symmetry permutation must map model values to model values, got %s", ErrType, v)
		}
		if a != b {
			p[a] = b
		}
	}
	return p, nil
}

// Compose returns p after q (x -> p(q(x))).
func (p Perm) Compose(q Perm) Perm {
	out := Perm{}
	for a, b := range q {
		c := b
		if d, ok := p[b]; ok {
			c = d
		}
		if c != a {
			out[a] = c
		}
	}
	for a, b := range p {
		if _, ok := q[a]; !ok && a != b {
			out[a] = b
		}
	}
	return out
}

// Key is a canonical string of p, to deduplicate permutations.
func (p Perm) Key() string {
	ks := make([]Model, 0, len(p))
	for a := range p {
		ks = append(ks, a)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j].a.id < ks[j-1].a.id; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	s := ""
	for _, a := range ks {
		s += fmt.Sprintf("%d>%d,", a.a.id, p[a].a.id)
	}
	return s
}

// Permute applies p to every model value inside v (TLC's Value.permute).
// Values holding no model value are returned as they are.
func Permute(v Value, p Perm) (Value, error) {
	switch x := v.(type) {
	case Model:
		if y, ok := p[x]; ok {
			return y, nil
		}
		return x, nil
	case *Set:
		// The copy is made at the first element that moves: most values of
		// a state hold no model value, and their image is the value itself.
		var elems []Value
		for i, e := range x.elems {
			y, err := Permute(e, p)
			if err != nil {
				return nil, err
			}
			if elems == nil && y != e {
				elems = make([]Value, len(x.elems))
				copy(elems, x.elems[:i])
			}
			if elems != nil {
				elems[i] = y
			}
		}
		if elems == nil {
			return x, nil
		}
		return NewSet(elems...)
	case *Func:
		return permuteFunc(x, p)
	case SetValue:
		if _, inf := v.(infinite); inf {
			return v, nil
		}
		if _, ok := v.(*Interval); ok {
			return v, nil
		}
		e, err := x.Enumerate()
		if err != nil {
			return nil, err
		}
		return Permute(e, p)
	}
	return v, nil
}

// permuteFunc is Permute of a function. When p maps the domain onto itself
// (a function on the permuted model values, [Node -> ...]), the image keeps
// x's sorted domain and only its range moves: no sort, no new domain.
func permuteFunc(x *Func, p Perm) (Value, error) {
	var rng []Value
	for i, e := range x.rng {
		y, err := Permute(e, p)
		if err != nil {
			return nil, err
		}
		if rng == nil && y != e {
			rng = make([]Value, len(x.rng))
			copy(rng, x.rng[:i])
		}
		if rng != nil {
			rng[i] = y
		}
	}
	if x.dom == nil {
		if rng == nil {
			return x, nil
		}
		return Tuple(rng...), nil
	}
	var dom []Value
	for i, e := range x.dom {
		y, err := Permute(e, p)
		if err != nil {
			return nil, err
		}
		if dom == nil && y != e {
			dom = make([]Value, len(x.dom))
			copy(dom, x.dom[:i])
		}
		if dom != nil {
			dom[i] = y
		}
	}
	if rng == nil {
		if dom == nil {
			return x, nil
		}
		rng = x.rng
	}
	if dom == nil {
		g := allocFunc(len(rng))
		copy(g.rng, rng)
		g.dom, g.shape = x.dom, x.shape
		g.hash = g.computeHash()
		return g, nil
	}
	if g := permutedOnto(x, dom, rng); g != nil {
		return g, nil
	}
	f, err := NewFunc(dom, slices.Clone(rng))
	if err != nil {
		return nil, err
	}
	if x.shape == ShapeRecord && f.shape == ShapeFunc {
		f.shape = ShapeRecord
	}
	return f, nil
}

// permutedOnto builds the function dom[i] |-> rng[i] on x's own domain when
// dom (the images of x's domain, in x's order) is a rearrangement of it,
// else nil (and NewFunc decides, with its errors).
func permutedOnto(x *Func, dom, rng []Value) *Func {
	g := allocFunc(len(rng))
	for i, d := range dom {
		j, err := x.index(d)
		if err != nil || j < 0 || g.rng[j] != nil {
			return nil
		}
		g.rng[j] = rng[i]
	}
	g.dom, g.shape = x.dom, x.shape
	g.hash = g.computeHash()
	return g
}
