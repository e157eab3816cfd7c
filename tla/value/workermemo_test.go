package value

import (
	"testing"
	"unsafe"

	"pgregory.net/rapid"
)

// TestWorkerMemoAsShared: membership asked with a worker's memo, again and
// again as an invariant asks it, answers as membership without one, for
// the sets that remember what they found (a large set of records, a
// function set, a record set, sequences, SUBSET, a product, a union) and
// for members and non-members alike.
func TestWorkerMemoAsShared(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(i int32) Value { return rm.Make([]Value{tab.String("m"), Int(i)}) }
	rapid.Check(t, func(t *rapid.T) {
		var elems []Value
		for i := range int32(200) {
			if rapid.Bool().Draw(t, "in") {
				elems = append(elems, msg(i))
			}
		}
		msgs := mustSet(t, elems...)
		ints := mustSet(t, Int(0), Int(1), Int(2))
		bals, err := NewRecordSet(tab, []string{"type", "bal"}, []SetValue{mustSet(t, tab.String("m")), &Interval{Lo: 0, Hi: 99}})
		if err != nil {
			t.Fatal(err)
		}
		sets := []SetValue{
			msgs,
			NewFuncSet(mustSet(t, Int(1), Int(2)), ints),
			bals,
			NewSeqSet(msgs),
			&Subset{Base: msgs},
			&Product{Sets: []SetValue{ints, msgs}},
			&LazyUnion{Sets: []SetValue{bals, msgs}},
		}
		// The values asked: messages in and out of msgs, pairs of numbers
		// (a tuple is the function on 1..2), sequences and sets of messages.
		var asked []Value
		for range rapid.IntRange(1, 12).Draw(t, "n") {
			m := msg(rapid.Int32Range(0, 220).Draw(t, "bal"))
			m2 := msg(rapid.Int32Range(0, 220).Draw(t, "bal2"))
			a, b := Int(rapid.Int32Range(0, 3).Draw(t, "a")), Int(rapid.Int32Range(0, 3).Draw(t, "b"))
			asked = append(asked, m, Tuple(a, b), Tuple(m, m2), Tuple(a, m), mustSet(t, m, m2))
		}
		var memo WorkerMemo
		for round := range 2 * indexAfter {
			for _, s := range sets {
				for _, x := range asked {
					want, werr := s.Contains(x)
					got, gerr := containsIn(s, x, &memo)
					if got != want || (gerr == nil) != (werr == nil) {
						t.Fatalf("round %d: %s \\in %s with a memo = %v, %v; without = %v, %v", round, x, s, got, gerr, want, werr)
					}
				}
			}
		}
	})
}

// TestWorkerMemoBySet: a function a memo found in one set is not taken to
// be in another set the memo is asked about.
func TestWorkerMemoBySet(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	var small, large []Value
	for i := range int32(4 * smallFuncSet) {
		m := rm.Make([]Value{tab.String("m"), Int(i)})
		large = append(large, m)
		if i%2 == 0 {
			small = append(small, m)
		}
	}
	s2 := mustSet(t, large...)
	odd := large[1].(*Func)
	tup := Tuple(odd)
	f2 := NewFuncSet(mustSet(t, Int(1)), s2)
	var memo WorkerMemo
	// The other sets are made until one shares the memo's slot with s2
	// (f2) for the function asked, so that only the set tells them apart.
	var s1 *Set
	var f1 *FuncSet
	for range 1 << 16 {
		if s1 == nil {
			if s := newSorted(small); memo.member(unsafe.Pointer(s), odd) == memo.member(unsafe.Pointer(s2), odd) {
				s1 = s
			}
		}
		if f1 == nil {
			if f := NewFuncSet(mustSet(t, Int(1)), newSorted(small)); memo.member(unsafe.Pointer(f), tup) == memo.member(unsafe.Pointer(f2), tup) {
				f1 = f
			}
		}
	}
	if s1 == nil || f1 == nil {
		t.Fatal("no set found in the memo's slot of the large one")
	}
	for round := range 2 * indexAfter {
		if in, err := InMemo(odd, s2, &memo); err != nil || !in {
			t.Fatalf("round %d: %s \\in the large set = %v, %v", round, odd, in, err)
		}
		if in, err := InMemo(odd, s1, &memo); err != nil || in {
			t.Fatalf("round %d: %s \\in the even set = %v, %v", round, odd, in, err)
		}
		if in, err := InMemo(tup, f2, &memo); err != nil || !in {
			t.Fatalf("round %d: %s \\in [{1} -> large] = %v, %v", round, tup, in, err)
		}
		if in, err := InMemo(tup, f1, &memo); err != nil || in {
			t.Fatalf("round %d: %s \\in [{1} -> even] = %v, %v", round, tup, in, err)
		}
	}
}

// TestWorkerMemoForgetsArenaFuncs: a function made in an arena, whose
// memory the arena reuses for another function, is not remembered as
// found: asked again with other values, it is judged by them.
func TestWorkerMemoForgetsArenaFuncs(t *testing.T) {
	var a Arena
	ints := mustSet(t, Int(0), Int(1))
	s := NewFuncSet(mustSet(t, Int(1), Int(2)), ints)
	f := TupleIn(&a, 2)
	SetIn(f, 0, Int(0))
	SetIn(f, 1, Int(1))
	DoneIn(f)
	if in, err := InMemo(f, s, a.Memo()); err != nil || !in {
		t.Fatalf("%s \\in %s = %v, %v", f, s, in, err)
	}
	// The arena's slot, reused for the next successor's tuple.
	SetIn(f, 1, Int(7))
	DoneIn(f)
	if in, err := InMemo(f, s, a.Memo()); err != nil || in {
		t.Fatalf("%s \\in %s after its slot was reused = %v, %v", f, s, in, err)
	}
}

// TestCons checks the worker's memory of values made from atoms: a value
// kept is handed out again for the same site and atoms only, and nothing
// is remembered for other arguments.
func TestCons(t *testing.T) {
	var m WorkerMemo
	a, b := unsafe.Pointer(new(int64)), unsafe.Pointer(new(int64))
	str := NewInterner()
	args := []Value{Int(3), str.String("req")}
	if v, e := m.Cons(a, args); v != nil || e == nil {
		t.Fatalf("first lookup: %v, entry %v", v, e)
	} else {
		e.Keep(a, args, Singleton(Int(3)))
	}
	first, _ := m.Cons(a, []Value{Int(3), str.String("req")})
	if first == nil {
		t.Fatal("the value kept is not found again")
	}
	if again, _ := m.Cons(a, []Value{Int(3), str.String("req")}); again != first {
		t.Errorf("found %p, then %p", first, again)
	}
	for _, tc := range []struct {
		site unsafe.Pointer
		args []Value
	}{
		{b, []Value{Int(3), str.String("req")}}, // another constructor
		{a, []Value{Int(4), str.String("req")}}, // another integer
		{a, []Value{Int(3), str.String("ack")}}, // another string
		{a, []Value{Int(3)}},                    // fewer atoms
		{a, []Value{Int(3), str.Model("req")}},  // a model value, not the string
		{a, []Value{Int(3), str.String("req"), Bool(true)}},
	} {
		if v, e := m.Cons(tc.site, tc.args); v != nil || e == nil {
			t.Errorf("Cons(%v): %v, entry %v; want a miss", tc.args, v, e)
		}
	}
	for _, args := range [][]Value{
		{Singleton(Int(1))}, // not an atom
		{Int(1), Int(2), Int(3), Int(4), Int(5), Int(6), Int(7)},
	} {
		if v, e := m.Cons(a, args); v != nil || e != nil {
			t.Errorf("Cons(%v): %v, entry %v; want nothing remembered", args, v, e)
		}
	}
	// another constructor whose value would take the same slot
	want, _ := consSlot(a, args)
	for range 1 << 16 {
		if i, _ := consSlot(b, args); i == want {
			break
		}
		b = unsafe.Pointer(new(int64))
	}
	if i, _ := consSlot(b, args); i != want {
		t.Fatal("no site found whose value takes the same slot")
	}
	if v, e := m.Cons(b, args); v != nil || e == nil {
		t.Errorf("another site in the same slot: %v, entry %v; want a miss", v, e)
	}
	var none *WorkerMemo
	if v, e := none.Cons(a, args); v != nil || e != nil {
		t.Errorf("nil memo: %v, %v", v, e)
	}
}
