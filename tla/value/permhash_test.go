package value

import (
	"errors"
	"pgregory.net/rapid"
	"testing"
)

// TestPermHash: PermHash(v, p) is PermHash of Permute(v, p) with no
// permutation, so the least over a group is the same for every value of
// an orbit; equal values hash alike whatever their representation (an
// interval and its enumeration; a set built in another order); unequal
// values of one orbit differ; an infinite set is refused, not guessed.
func TestPermHash(t *testing.T) {
	in := NewInterner()
	a, b, c := in.Model("a"), in.Model("b"), in.Model("c")
	fn := func(pairs ...Value) *Func { return mustPairs(t, pairs...) }
	set := func(es ...Value) *Set { return mustSet(t, es...) }
	rec := func(n Value, k int32) *Func {
		r, err := Record(in, []string{"node", "n"}, []Value{n, Int(k)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	values := []Value{
		a, Int(3), in.String("x"), True,
		set(a, b), set(rec(a, 1), rec(b, 2), rec(c, 1)),
		fn(a, Int(1), b, Int(2), c, Int(3)),
		fn(a, set(b, c), b, set(), c, set(a)),
		fn(Tuple(a, b), True, Tuple(b, a), False),
		Tuple(a, rec(b, 3), set(c)),
		set(Tuple(a, b), Tuple(b, c), Tuple(c, a)),
	}
	perms := []Perm{nil, {a: b, b: a}, {a: b, b: c, c: a}, {a: c, c: a}}
	for _, p := range perms {
		for _, v := range values {
			h, err := PermHash(v, p)
			if err != nil {
				t.Fatal(err)
			}
			img, err := Permute(v, p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := PermHash(img, nil)
			if err != nil {
				t.Fatal(err)
			}
			if h != want {
				t.Fatalf("PermHash(%s, %v) differs from PermHash of its image %s", v, p, img)
			}
			if eq, _ := Equal(img, v); !eq && h == mustPermHash(t, v, nil) {
				t.Fatalf("%s and its image %s hash alike", v, img)
			}
		}
	}
	iv := NewInterval(1, 4)
	if mustPermHash(t, iv, nil) != mustPermHash(t, set(Int(4), Int(2), Int(3), Int(1)), nil) {
		t.Fatal("an interval and its enumeration hash differently")
	}
	if mustPermHash(t, Tuple(Int(7), Int(8)), nil) != mustPermHash(t, fn(Int(2), Int(8), Int(1), Int(7)), nil) {
		t.Fatal("a tuple and the same function built from pairs hash differently")
	}
	if _, err := PermHash(Tuple(a, NatSet), perms[1]); !errors.Is(err, ErrNoPermHash) {
		t.Fatalf("a tuple holding Nat: %v, want ErrNoPermHash", err)
	}
}

func mustPermHash(t *testing.T, v Value, p Perm) uint64 {
	t.Helper()
	h, err := PermHash(v, p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPermSetHashes: one walk gives every image's PermHash (the identity
// first), values met before are looked up, not walked, and a function
// made in an arena, whose memory is reused, is walked every time.
func TestPermSetHashes(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"node", "val"})
	if err != nil {
		t.Fatal(err)
	}
	r1, r2, r3 := tab.Model("r1"), tab.Model("r2"), tab.Model("r3")
	groups := [][]Perm{
		{{r1: r2, r2: r1}},
		{{r1: r2, r2: r1}, {r1: r3, r3: r1}, {r2: r3, r3: r2}, {r1: r2, r2: r3, r3: r1}, {r1: r3, r3: r2, r2: r1}},
	}
	check := func(t interface {
		Helper()
		Fatalf(string, ...any)
	}, ps *PermSet, perms []Perm, v Value) {
		t.Helper()
		out := make([]uint64, ps.Images())
		for range 2 { // the second time from the memo
			if err := ps.Hashes(v, out); err != nil {
				t.Fatalf("Hashes(%s): %v", v, err)
			}
			for k := range out {
				var p Perm
				if k > 0 {
					p = perms[k-1]
				}
				want, err := PermHash(v, p)
				if err != nil {
					t.Fatalf("PermHash(%s): %v", v, err)
				}
				if out[k] != want {
					t.Fatalf("image %d of %s: %x, PermHash %x", k, v, out[k], want)
				}
			}
		}
	}
	sets := []Value{mustSet(t, r1, r2), mustSet(t, r3), mustSet(t, Tuple(r1, Int(1)), Tuple(r2, Int(1))),
		mustPairs(t, r1, Int(1), r2, Int(2)), mustPairs(t, r1, mustSet(t, r2), r3, Empty)}
	for _, perms := range groups {
		ps := NewPermSet(perms)
		for _, s := range sets {
			check(t, ps, perms, s)
			check(t, ps, perms, Tuple(s, s, Int(2)))
		}
		rapid.Check(t, func(rt *rapid.T) {
			v := genEncodable(tab, rm).Draw(rt, "v")
			check(rt, ps, perms, v)
			check(rt, ps, perms, Tuple(v, Tuple(v, r2)))
		})
	}
	// An arena function's memory holds another value later: the memo must
	// not answer for its address.
	perms := groups[1]
	ps := NewPermSet(perms)
	f := &Func{rng: []Value{r1, Int(1)}, shape: ShapeTuple, arena: true}
	check(t, ps, perms, f)
	f.rng[0] = r2
	check(t, ps, perms, f)
}
