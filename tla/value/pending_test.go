package value

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// sameResult fails unless got (from a pending or arena operation) stands
// for want: the hash got has is the hash of what it materializes to,
// which equals want, prints as want and is built outside any arena.
func sameResult(t *rapid.T, got, want Value) {
	t.Helper()
	m := Materialize(got)
	if got.Hash() != m.Hash() {
		t.Fatalf("hash %x before materializing, %x after", got.Hash(), m.Hash())
	}
	if eq, err := Equal(m, want); err != nil || !eq {
		t.Fatalf("materialized %s, want %s (%v)", m, want, err)
	}
	if m.Hash() != want.Hash() || m.String() != want.String() {
		t.Fatalf("materialized %s hash %x, want %s hash %x", m, m.Hash(), want, want.Hash())
	}
	if inArena(m) {
		t.Fatalf("materialized %s still holds arena values", m)
	}
}

// inArena reports whether v is, or holds, a value made in an arena.
func inArena(v Value) bool {
	switch x := v.(type) {
	case *Pending:
		return true
	case *Func:
		if x.arena {
			return true
		}
		for _, e := range x.rng {
			if inArena(e) {
				return true
			}
		}
	case *Set:
		for _, e := range x.elems {
			if inArena(e) {
				return true
			}
		}
	}
	return false
}

// TestInsertPendingAsInsertValue: InsertPending(x, e) stands for
// InsertValue(x, e), in an arena or not, and is x itself when x holds e;
// where InsertValue fails, it fails alike.
func TestInsertPendingAsInsertValue(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	gen := genEncodable(tab, rm)
	pendings := 0
	rapid.Check(t, func(t *rapid.T) {
		e := gen.Draw(t, "e")
		// a set of values of e's kind, mostly
		x := gen.Draw(t, "x")
		switch rapid.IntRange(0, 3).Draw(t, "set") {
		case 0:
		case 1:
			e = Int(rapid.IntRange(0, 9).Draw(t, "i"))
			var elems []Value
			for _, i := range rapid.SliceOfN(rapid.IntRange(0, 9), 1, 6).Draw(t, "ints") {
				elems = append(elems, Int(i))
			}
			x, _ = NewSet(elems...)
		default:
			var elems []Value
			for _, y := range rapid.SliceOfN(gen, 0, 6).Draw(t, "elems") {
				if y.Kind() == e.Kind() && y.Kind() != KindModel {
					elems = append(elems, y)
				}
			}
			if s, err := NewSet(elems...); err == nil {
				x = s
			}
		}
		if s, ok := x.(*Set); ok && s.Len() > 0 && rapid.Bool().Draw(t, "member") {
			e = s.At(rapid.IntRange(0, s.Len()-1).Draw(t, "at"))
		}
		want, werr := InsertValue(x, e)
		var a *Arena
		if rapid.Bool().Draw(t, "arena") {
			a = &Arena{}
			a.Begin()
		}
		got, gerr := InsertPending(x, e, a)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("InsertValue: %v, InsertPending: %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		sameResult(t, got, want)
		if want == x && got != x {
			t.Fatalf("%s holds %s: want x itself, got %T", x, e, got)
		}
		if _, ok := got.(*Pending); ok {
			pendings++
		}
	})
	if pendings == 0 {
		t.Error("no case made a Pending")
	}
}

// TestRecordInsertPendingAsInsert: RecordMaker.InsertPending stands for
// Insert (the record built only when materialized), over sets of records
// of the same fields and of others, whose values may be incomparable.
func TestRecordInsertPendingAsInsert(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal", "acc"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	field := rapid.OneOf(
		rapid.Map(rapid.IntRange(-1, 3), func(i int) Value { return Int(i) }),
		rapid.Map(rapid.SampledFrom([]string{"1a", "1b", "2a"}), func(s string) Value { return tab.String(s) }),
		rapid.Map(rapid.SampledFrom([]string{"a1", "a2"}), func(s string) Value { return tab.Model(s) }),
	)
	rec := rapid.Custom(func(t *rapid.T) Value {
		if rapid.IntRange(0, 4).Draw(t, "shape") == 0 {
			return other.Make([]Value{field.Draw(t, "t"), field.Draw(t, "b")})
		}
		return rm.Make([]Value{field.Draw(t, "t"), field.Draw(t, "b"), field.Draw(t, "a")})
	})
	pendings := 0
	rapid.Check(t, func(t *rapid.T) {
		elems := rapid.SliceOfN(rec, 0, 12).Draw(t, "elems")
		x, err := NewSet(elems...)
		if err != nil {
			t.Skip("incomparable elements")
		}
		vals := []Value{field.Draw(t, "t"), field.Draw(t, "b"), field.Draw(t, "a")}
		if x.Len() > 0 && rapid.Bool().Draw(t, "member") {
			if g := x.At(rapid.IntRange(0, x.Len()-1).Draw(t, "at")).(*Func); g.Len() == 3 {
				// vals are in the maker's order: type, bal, acc
				vals[0], _ = g.Apply(tab.String("type"))
				vals[1], _ = g.Apply(tab.String("bal"))
				vals[2], _ = g.Apply(tab.String("acc"))
			}
		}
		want, werr := rm.Insert(x, vals)
		a := &Arena{}
		a.Begin()
		got, gerr := rm.InsertPending(x, vals, a)
		if (werr != nil) != (gerr != nil) || werr != nil && !errors.Is(gerr, ErrIncomparable) {
			t.Fatalf("Insert: %v, InsertPending: %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		sameResult(t, got, want)
		if _, ok := got.(*Pending); ok {
			pendings++
		}
	})
	if pendings == 0 {
		t.Error("no case made a Pending")
	}
}

// TestUpdaterArenaAsHeap: the copies an Updater makes in an arena stand
// for the ones it makes on the heap, through nested paths and several
// updates sharing their copies, and Materialize copies them out.
func TestUpdaterArenaAsHeap(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"mbal", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	procs := []Value{tab.Model("p1"), tab.Model("p2"), tab.Model("p3")}
	leaf := rapid.Map(rapid.IntRange(-1, 2), func(i int) Value { return Int(i) })
	inner := rapid.Custom(func(t *rapid.T) Value {
		return rm.Make([]Value{leaf.Draw(t, "m"), leaf.Draw(t, "b")})
	})
	rapid.Check(t, func(t *rapid.T) {
		var rows []Value
		for range procs {
			row, err := NewFunc(procs, rapid.SliceOfN(inner, 3, 3).Draw(t, "row"))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		}
		f, err := NewFunc(procs, rows)
		if err != nil {
			t.Fatal(err)
		}
		type upd struct{ i, j, k int }
		ups := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) upd {
			return upd{rapid.IntRange(0, 2).Draw(t, "i"), rapid.IntRange(0, 2).Draw(t, "j"), rapid.IntRange(0, 1).Draw(t, "k")}
		}), 1, 4).Draw(t, "updates")
		vals := rapid.SliceOfN(leaf, len(ups), len(ups)).Draw(t, "vals")
		apply := func(u *Updater) Value {
			g := f
			for n, p := range ups {
				_, row, _ := g.Find(procs[p.i])
				_, cell, _ := row.(*Func).Find(procs[p.j])
				c2 := u.Set(cell.(*Func), p.k, vals[n], 2)
				r2 := u.Set(row.(*Func), p.j, c2, 1)
				g = u.Set(g, p.i, r2, 0)
			}
			u.Done()
			return g
		}
		want := apply(&Updater{})
		a := &Arena{}
		a.Begin()
		got := apply(&Updater{Arena: a})
		sameResult(t, got, want)
	})
}

// TestArenaReusesReleasedSlabs: epochs released are reused, so that an
// arena stays as large as what one epoch holds; with Poison a released
// value is cleared, never reused.
func TestArenaReusesReleasedSlabs(t *testing.T) {
	var a Arena
	for range 1000 {
		a.Begin()
		for range 100 {
			a.fn(3)
			a.pending(5)
		}
		a.Release(a.Epoch() + 1)
	}
	if len(a.slabs) > 3 {
		t.Errorf("%d slabs after 1000 released epochs of 100 functions and 100 pendings each, want at most 3", len(a.slabs))
	}
	p := Arena{Poison: true}
	p.Begin()
	f := p.fn(2)
	f.rng[0], f.rng[1] = Int(1), Int(2)
	q := p.pending(1)
	q.vals[0] = Int(3)
	p.Begin()
	g := p.fn(1)
	p.Release(p.Epoch()) // the first epoch only
	if f.rng != nil || q.vals != nil {
		t.Errorf("released values not cleared: %v, %v", f.rng, q.vals)
	}
	if g.rng == nil {
		t.Errorf("a value of the current epoch was cleared")
	}
}

// TestAppendTailInArena: AppendIn and TailIn stand for Append and Tail,
// errors included, and what they make is copied out by Materialize.
func TestAppendTailInArena(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "clock"})
	if err != nil {
		t.Fatal(err)
	}
	gen := genEncodable(tab, rm)
	rapid.Check(t, func(t *rapid.T) {
		s := gen.Draw(t, "s")
		if rapid.Bool().Draw(t, "seq") {
			s = Tuple(rapid.SliceOfN(gen, 0, 4).Draw(t, "elems")...)
		}
		e := gen.Draw(t, "e")
		a := &Arena{}
		a.Begin()
		want, werr := Append(s, e)
		got, gerr := AppendIn(a, s, e)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("Append: %v, AppendIn: %v", werr, gerr)
		}
		if werr == nil {
			sameResult(t, got, want)
		}
		want, werr = Tail(s)
		got, gerr = TailIn(a, s)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("Tail: %v, TailIn: %v", werr, gerr)
		}
		if werr == nil {
			sameResult(t, got, want)
		}
	})
}

// TestFuncOnSetInArena: a function begun by FuncOnSetIn (or TupleIn) and
// given its values stands for NewFuncOnSet on the same domain: shaped as
// a tuple, a record or a function alike, with the same hash.
func TestFuncOnSetInArena(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "clock"})
	if err != nil {
		t.Fatal(err)
	}
	gen := genEncodable(tab, rm)
	doms := []func(n int) []Value{
		func(n int) []Value { // 1..n, or 2..n+1
			var d []Value
			for i := range n {
				d = append(d, Int(i+1))
			}
			return d
		},
		func(n int) []Value {
			var d []Value
			for i := range n {
				d = append(d, Int(i+2))
			}
			return d
		},
		func(n int) []Value {
			var d []Value
			for i := range n {
				d = append(d, tab.String(string(rune('a'+i))))
			}
			return d
		},
		func(n int) []Value {
			var d []Value
			for i := range n {
				d = append(d, tab.Model(string(rune('p'+i))))
			}
			return d
		},
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "n")
		elems := doms[rapid.IntRange(0, len(doms)-1).Draw(t, "dom")](n)
		dom, err := NewSet(slices.Clone(elems)...)
		if err != nil {
			t.Fatal(err)
		}
		rng := rapid.SliceOfN(gen, n, n).Draw(t, "rng")
		want := NewFuncOnSet(slices.Clone(dom.Elems()), slices.Clone(rng))
		a := &Arena{}
		a.Begin()
		var f *Func
		if _, isInt := dom.At(0).(Int); isInt && dom.At(0) == Int(1) && rapid.Bool().Draw(t, "tuple") {
			f = TupleIn(a, n)
		} else {
			f = FuncOnSetIn(a, dom)
		}
		for i, v := range rng {
			SetIn(f, i, v)
		}
		sameResult(t, DoneIn(f), want)
		if got, w := DoneIn(f).String(), want.String(); got != w {
			t.Fatalf("prints %s, want %s", got, w)
		}
	})
}
