package value

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestSubsetOrderAndChoose(t *testing.T) {
	s := NewSubset(NewInterval(1, 3))
	e, err := s.Enumerate()
	if err != nil {
		t.Fatal(err)
	}
	want := "{{}, {1}, {2}, {3}, {1, 2}, {1, 3}, {2, 3}, {1, 2, 3}}"
	if e.String() != want {
		t.Fatalf("got %s", e)
	}
	// Enumeration is already sorted: normalizing again must not change it.
	again, _ := NewSet(append([]Value(nil), e.Elems()...)...)
	if again.String() != want {
		t.Fatalf("not in TLC order: %s", again)
	}
	// CHOOSE x \in SUBSET 1..3 : Cardinality(x) = 2  is {1, 2}.
	v, err := Choose(s, func(x Value) (bool, error) { n, _ := x.(SetValue).Card(); return n == 2, nil })
	if err != nil || v.String() != "{1, 2}" {
		t.Fatalf("choose %v %v", v, err)
	}
	in, err := s.Contains(mustSet(t, Int(1), Int(3)))
	if err != nil || !in {
		t.Fatal("{1,3} \\in SUBSET 1..3")
	}
	in, _ = s.Contains(mustSet(t, Int(4)))
	if in {
		t.Fatal("{4} \\in SUBSET 1..3")
	}
	if n, _ := s.Card(); n != 8 {
		t.Fatal(n)
	}
}

func TestFuncSetOrderAndMembership(t *testing.T) {
	fs := NewFuncSet(NewInterval(1, 2), mustSet(t, False, True))
	e, err := fs.Enumerate()
	if err != nil {
		t.Fatal(err)
	}
	want := "{<<FALSE, FALSE>>, <<FALSE, TRUE>>, <<TRUE, FALSE>>, <<TRUE, TRUE>>}"
	if e.String() != want {
		t.Fatalf("got %s", e)
	}
	again, _ := NewSet(append([]Value(nil), e.Elems()...)...)
	if again.String() != want {
		t.Fatalf("not in TLC order: %s", again)
	}
	v, _ := Choose(fs, func(x Value) (bool, error) { y, _ := x.(*Func).Apply(Int(2)); return y == Value(True), nil })
	if v.String() != "<<FALSE, TRUE>>" {
		t.Fatalf("choose %s", v)
	}
	in, err := fs.Contains(Tuple(True, False))
	if err != nil || !in {
		t.Fatal("<<TRUE, FALSE>> \\in [1..2 -> BOOLEAN]")
	}
	in, _ = fs.Contains(Tuple(True))
	if in {
		t.Fatal("<<TRUE>> \\in [1..2 -> BOOLEAN]")
	}
	// Membership in [Nat -> Nat] style sets needs no enumeration of the range.
	inf := NewFuncSet(NewInterval(1, 1), NatSet)
	if in, err := inf.Contains(Tuple(Int(7))); err != nil || !in {
		t.Fatalf("<<7>> \\in [1..1 -> Nat]: %v", err)
	}
	if _, err := inf.Enumerate(); !errors.Is(err, ErrInfinite) {
		t.Fatalf("enumerate [1..1 -> Nat]: %v", err)
	}
}

func TestRecordSetAndProduct(t *testing.T) {
	tab := NewInterner()
	rs, err := NewRecordSet(tab, []string{"a", "b"}, []SetValue{NewInterval(1, 2), BooleanSet})
	if err != nil {
		t.Fatal(err)
	}
	e, err := rs.Enumerate()
	if err != nil || e.Len() != 4 || e.At(0).String() != "[a |-> 1, b |-> FALSE]" {
		t.Fatalf("%v %v", e, err)
	}
	r, _ := Record(tab, []string{"b", "a"}, []Value{True, Int(2)})
	if in, err := rs.Contains(r); err != nil || !in {
		t.Fatalf("%s \\in %s: %v", r, rs, err)
	}
	p := NewProduct(NewInterval(1, 2), mustSet(t, tab.String("x")))
	pe, _ := p.Enumerate()
	if pe.String() != `{<<1, "x">>, <<2, "x">>}` {
		t.Fatalf("got %s", pe)
	}
	if in, _ := p.Contains(Tuple(Int(2), tab.String("x"))); !in {
		t.Fatal("product membership")
	}
	seq := NewSeqSet(NewInterval(1, 2))
	if in, _ := seq.Contains(Tuple(Int(1), Int(2), Int(1))); !in {
		t.Fatal("Seq membership")
	}
	if in, _ := seq.Contains(Tuple(Int(3))); in {
		t.Fatal("<<3>> \\in Seq(1..2)")
	}
}

func TestSequenceOperators(t *testing.T) {
	s := Tuple(Int(3), Int(1), Int(2))
	check := func(v Value, err error, want string) {
		t.Helper()
		if err != nil || v.String() != want {
			t.Fatalf("got %v %v, want %s", v, err, want)
		}
	}
	v, err := Append(s, Int(9))
	check(v, err, "<<3, 1, 2, 9>>")
	v, err = Tail(s)
	check(v, err, "<<1, 2>>")
	v, err = Head(s)
	check(v, err, "3")
	v, err = SubSeq(s, Int(2), Int(3))
	check(v, err, "<<1, 2>>")
	v, err = Concat(s, Tuple(Int(0)))
	check(v, err, "<<3, 1, 2, 0>>")
	v, err = SortSeq(s, func(a, b Value) (bool, error) { return Less(a, b) })
	check(v, err, "<<1, 2, 3>>")
	v, err = SelectSeq(s, func(x Value) (bool, error) { return x.(Int) > 1, nil })
	check(v, err, "<<3, 2>>")
	if _, err := Head(EmptyTuple); !errors.Is(err, ErrDomain) {
		t.Fatalf("Head(<<>>): %v", err)
	}
	v, err = AtAt(ColonGreater(Int(1), S("a")), ColonGreater(Int(2), S("b")))
	check(v, err, `<<"a", "b">>`)
	tab := NewInterner()
	v, err = AtAt(ColonGreater(tab.Model("m"), Int(1)), ColonGreater(tab.Model("m"), Int(2)))
	check(v, err, "(m :> 1)")
	perms, err := Permutations(NewInterval(1, 3))
	if err != nil || perms.Len() != 6 {
		t.Fatalf("%v %v", perms, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	a, _ := RandomElement(NewInterval(1, 100), r)
	r = rand.New(rand.NewPCG(1, 2))
	b, _ := RandomElement(NewInterval(1, 100), r)
	if a != b {
		t.Fatal("RandomElement is not reproducible with the same seed")
	}
	if ToString(tab, Tuple(Int(1))).(Str).Go() != "<<1>>" {
		t.Fatal("ToString")
	}
}

func TestBags(t *testing.T) {
	tab := NewInterner()
	a, b := tab.String("a"), tab.String("b")
	b1, _ := SetToBag(mustSet(t, a, b))
	b2, _ := SetToBag(mustSet(t, a))
	sum, err := BagCup(b1, b2)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := CopiesIn(a, sum); c != Value(Int(2)) {
		t.Fatalf("CopiesIn a = %v in %s", c, sum)
	}
	if n, _ := BagCardinality(sum); n != Value(Int(3)) {
		t.Fatalf("BagCardinality %v", n)
	}
	diff, _ := BagDiff(sum, b1)
	if diff.String() != `[a |-> 1]` { // TLC prints string-domain functions as records
		t.Fatalf("diff %s", diff)
	}
	if ok, _ := SubBag(b2, sum); !ok {
		t.Fatal("SubBag")
	}
	if ok, _ := SubBag(sum, b2); ok {
		t.Fatal("SubBag reversed")
	}
}

func TestSetOperators(t *testing.T) {
	u, err := Union(NewInterval(1, 3), mustSet(t, Int(5), Int(2)))
	if err != nil || u.String() != "{1, 2, 3, 5}" {
		t.Fatalf("%v %v", u, err)
	}
	i, err := Intersect(NatSet, mustSet(t, Int(-1), Int(2)))
	if err != nil || i.String() != "{2}" {
		t.Fatalf("%v %v", i, err)
	}
	d, err := Difference(NewInterval(-1, 2), NatSet)
	if err != nil || d.String() != "{-1}" {
		t.Fatalf("%v %v", d, err)
	}
	bu, err := BigUnion(mustSet(t, mustSet(t, Int(1)), mustSet(t, Int(2), Int(1))))
	if err != nil || bu.String() != "{1, 2}" {
		t.Fatalf("%v %v", bu, err)
	}
	if f, _ := IsFiniteSet(NatSet); f != Value(False) {
		t.Fatal("IsFiniteSet(Nat)")
	}
	if eq, err := Equal(NatSet, NatSet); err != nil || !eq {
		t.Fatal("Nat = Nat")
	}
	if eq, err := Equal(NatSet, NewInterval(1, 2)); err != nil || eq {
		t.Fatal("Nat = 1..2")
	}
}

// TestFuncSetMembershipRemembered: past memoAfter functions found, [S -> T]
// remembers them by address; members and non-members keep their answers.
func TestFuncSetMembershipRemembered(t *testing.T) {
	tab := NewInterner()
	p, q := tab.Model("p"), tab.Model("q")
	fs := NewFuncSet(mustSet(t, p, q), NewInterval(0, 3))
	var in, out []*Func
	for a := int32(0); a < 6; a++ {
		for b := int32(0); b < 6; b++ {
			f, err := NewFunc([]Value{p, q}, []Value{Int(a), Int(b)})
			if err != nil {
				t.Fatal(err)
			}
			if a <= 3 && b <= 3 {
				in = append(in, f)
			} else {
				out = append(out, f)
			}
		}
	}
	for round := 0; round < 3; round++ {
		for _, f := range in {
			if ok, err := fs.Contains(f); err != nil || !ok {
				t.Fatalf("round %d: %s not in %s (%v)", round, f, fs, err)
			}
		}
		for _, f := range out {
			if ok, err := fs.Contains(f); err != nil || ok {
				t.Fatalf("round %d: %s in %s (%v)", round, f, fs, err)
			}
		}
	}
	if fs.members.Load() == nil {
		t.Fatalf("no memo after %d functions found", 3*len(in))
	}
}
