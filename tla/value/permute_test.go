package value

import (
	"slices"
	"testing"
)

// permuteRef is Permute as it was before permuteFunc: every function's
// domain and range permuted and the function rebuilt by NewFunc (sorted
// anew). It is the reference permuteFunc must agree with.
func permuteRef(v Value, p Perm) (Value, error) {
	switch x := v.(type) {
	case Model:
		if y, ok := p[x]; ok {
			return y, nil
		}
		return x, nil
	case *Set:
		elems := make([]Value, len(x.elems))
		for i, e := range x.elems {
			y, err := permuteRef(e, p)
			if err != nil {
				return nil, err
			}
			elems[i] = y
		}
		return NewSet(elems...)
	case *Func:
		rng := make([]Value, len(x.rng))
		for i, e := range x.rng {
			y, err := permuteRef(e, p)
			if err != nil {
				return nil, err
			}
			rng[i] = y
		}
		if x.dom == nil {
			return Tuple(rng...), nil
		}
		dom := make([]Value, len(x.dom))
		for i, e := range x.dom {
			y, err := permuteRef(e, p)
			if err != nil {
				return nil, err
			}
			dom[i] = y
		}
		f, err := NewFunc(dom, rng)
		if err != nil {
			return nil, err
		}
		if x.shape == ShapeRecord && f.shape == ShapeFunc {
			f.shape = ShapeRecord
		}
		return f, nil
	}
	return v, nil
}

// TestPermuteFunctions: the image of a function under a permutation, when
// the permutation maps its domain onto itself (kept, only the range moved)
// and when it does not (the domain rebuilt), equals the image computed by
// rebuilding every function, hash and print included; a value with no
// moved model value is returned as it is.
func TestPermuteFunctions(t *testing.T) {
	in := NewInterner()
	a, b, c, d := in.Model("a"), in.Model("b"), in.Model("c"), in.Model("d")
	x, y := in.String("x"), in.String("y")
	fn := func(pairs ...Value) *Func { return mustPairs(t, pairs...) }
	set := func(es ...Value) *Set { return mustSet(t, es...) }
	rec, err := Record(in, []string{"node", "n"}, []Value{a, Int(2)})
	if err != nil {
		t.Fatal(err)
	}
	values := []Value{
		fn(a, Int(1), b, Int(2), c, Int(3)),                          // [Node -> Int], onto
		fn(a, b, b, c, c, a),                                         // models in the range too
		fn(a, set(b, c), b, set(), c, set(a)),                        // sets of models in the range
		fn(Tuple(a, b), True, Tuple(b, a), False, Tuple(a, a), True), // a domain of pairs
		fn(a, Int(1)),            // a domain moved off itself
		fn(a, Int(1), d, Int(4)), // partly fixed
		fn(x, a, y, Int(1)),      // a record's range
		rec,
		Tuple(a, b, rec),
		fn(Int(1), Int(2), Int(3), Int(4)), // no model value
	}
	perms := []Perm{{a: b, b: a}, {a: b, b: c, c: a}, {a: c, c: a}, {d: a, a: d}}
	for _, p := range perms {
		for _, v := range values {
			got, err := Permute(v, p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := permuteRef(v, p)
			if err != nil {
				t.Fatal(err)
			}
			if eq, err := Equal(got, want); err != nil || !eq || got.Hash() != want.Hash() || got.String() != want.String() {
				t.Fatalf("Permute(%s, %v) = %s, want %s", v, p, got, want)
			}
		}
	}
	plain := values[len(values)-1]
	if got, _ := Permute(plain, perms[0]); got != plain {
		t.Fatalf("Permute of a value without model values made a copy")
	}
	img, err := Permute(values[0], perms[1])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(values[0].(*Func).dom, img.(*Func).dom) {
		t.Fatalf("Permute of a function on the permuted values changed its domain")
	}
}
