package value

import "fmt"

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
		elems := make([]Value, len(x.elems))
		changed := false
		for i, e := range x.elems {
			y, err := Permute(e, p)
			if err != nil {
				return nil, err
			}
			elems[i] = y
			changed = changed || y != e
		}
		if !changed {
			return x, nil
		}
		return NewSet(elems...)
	case *Func:
		rng := make([]Value, len(x.rng))
		changed := false
		for i, e := range x.rng {
			y, err := Permute(e, p)
			if err != nil {
				return nil, err
			}
			rng[i] = y
			changed = changed || y != e
		}
		if x.dom == nil {
			if !changed {
				return x, nil
			}
			return Tuple(rng...), nil
		}
		if x.shape == ShapeRecord {
			// a record's fields are strings, which no permutation moves:
			// the domain stays as it is, sorted
			if !changed {
				return x, nil
			}
			f := &Func{dom: x.dom, rng: rng, shape: ShapeRecord}
			f.hash = f.computeHash()
			return f, nil
		}
		dom := make([]Value, len(x.dom))
		for i, e := range x.dom {
			y, err := Permute(e, p)
			if err != nil {
				return nil, err
			}
			dom[i] = y
			changed = changed || y != e
		}
		if !changed {
			return x, nil
		}
		f, err := NewFunc(dom, rng)
		if err != nil {
			return nil, err
		}
		if x.shape == ShapeRecord && f.shape == ShapeFunc {
			f.shape = ShapeRecord
		}
		return f, nil
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
