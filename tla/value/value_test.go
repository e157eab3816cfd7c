package value

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

func mustSet(t fataler, vs ...Value) *Set {
	s, err := NewSet(vs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustPairs is the function d1 |-> r1, d2 |-> r2, ... (pairs alternate
// domain element and value).
func mustPairs(t fataler, pairs ...Value) *Func {
	var dom, rng []Value
	for i := 0; i < len(pairs); i += 2 {
		dom, rng = append(dom, pairs[i]), append(rng, pairs[i+1])
	}
	f, err := NewFunc(dom, rng)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSetNormalizesInTLCOrder(t *testing.T) {
	tab := NewInterner()
	b, a := tab.String("b"), tab.String("a") // "b" seen first: it sorts first
	s := mustSet(t, a, b, a)
	if got := s.String(); got != `{"b", "a"}` {
		t.Fatalf("got %s", got)
	}
	m := tab.Model("m")
	s2 := mustSet(t, Int(3), m, Int(1), Int(3))
	if got := s2.String(); got != "{m, 1, 3}" {
		t.Fatalf("got %s", got)
	}
	// Sets order by size, then element by element.
	ss := mustSet(t, mustSet(t, Int(1), Int(2)), mustSet(t, Int(3)), Empty, mustSet(t, Int(1), Int(3)))
	if got := ss.String(); got != "{{}, {3}, {1, 2}, {1, 3}}" {
		t.Fatalf("got %s", got)
	}
}

func TestIncomparable(t *testing.T) {
	if _, err := Equal(Int(1), S("a")); !errors.Is(err, ErrIncomparable) {
		t.Fatalf("1 = \"a\": %v", err)
	}
	if _, err := NewSet(Int(1), S("a")); !errors.Is(err, ErrIncomparable) {
		t.Fatalf("{1, \"a\"}: %v", err)
	}
	tab := NewInterner()
	eq, err := Equal(tab.Model("m"), Int(1))
	if err != nil || eq {
		t.Fatalf("untyped model value: %v %v", eq, err)
	}
	if _, err := Equal(tab.Model("A_x"), Int(1)); !errors.Is(err, ErrIncomparable) {
		t.Fatalf("typed model value: %v", err)
	}
}

func TestRecordEqualsFunction(t *testing.T) {
	tab := NewInterner()
	r, err := Record(tab, []string{"b", "a"}, []Value{Int(2), Int(1)})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFunc([]Value{tab.String("a"), tab.String("b")}, []Value{Int(1), Int(2)})
	if err != nil {
		t.Fatal(err)
	}
	if eq, err := Equal(r, f); err != nil || !eq || r.Hash() != f.Hash() {
		t.Fatalf("record %s vs function %s: %v %v", r, f, eq, err)
	}
	if got := r.String(); got != "[b |-> 2, a |-> 1]" {
		t.Fatalf("got %s", got)
	}
	tup := Tuple(S("x"), S("y"))
	g, _ := NewFunc([]Value{Int(2), Int(1)}, []Value{S("y"), S("x")})
	if eq, _ := Equal(tup, g); !eq || tup.Hash() != g.Hash() || g.String() != `<<"x", "y">>` {
		t.Fatalf("tuple %s vs %s", tup, g)
	}
	if v, err := tup.Apply(Int(2)); err != nil || v != Value(S("y")) {
		t.Fatalf("apply: %v %v", v, err)
	}
	if _, err := tup.Apply(Int(3)); !errors.Is(err, ErrDomain) {
		t.Fatalf("apply outside: %v", err)
	}
}

func TestIntervalEqualsEnumerated(t *testing.T) {
	r := NewInterval(1, 3)
	s := mustSet(t, Int(3), Int(2), Int(1))
	if eq, err := Equal(r, s); err != nil || !eq || r.Hash() != s.Hash() {
		t.Fatalf("1..3 vs %s: %v %v", s, eq, err)
	}
	if in, _ := r.Contains(Int(4)); in {
		t.Fatal("4 \\in 1..3")
	}
	if in, _ := NatSet.Contains(Int(-1)); in {
		t.Fatal("-1 \\in Nat")
	}
}

func TestArithmetic(t *testing.T) {
	cases := []struct {
		op   func(a, b Value) (Value, error)
		a, b int32
		want int32
	}{
		{Div, 7, 2, 3}, {Div, -7, 2, -4}, {Div, 7, -2, -4}, {Mod, -7, 2, 1}, {Mod, 7, 3, 1},
		{Pow, 2, 10, 1024}, {Pow, 0, 0, 1}, {Add, 2147483646, 1, 2147483647},
	}
	for _, c := range cases {
		v, err := c.op(Int(c.a), Int(c.b))
		if err != nil || v != Value(Int(c.want)) {
			t.Errorf("%d op %d = %v %v, want %d", c.a, c.b, v, err, c.want)
		}
	}
	if _, err := Add(Int(2147483647), Int(1)); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	if _, err := Mul(Int(65536), Int(65536)); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	if _, err := Pow(Int(2), Int(31)); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	if _, err := Div(Int(1), Int(0)); !errors.Is(err, ErrDomain) {
		t.Errorf("div 0: %v", err)
	}
	if _, err := Mod(Int(1), Int(-1)); !errors.Is(err, ErrDomain) {
		t.Errorf("mod -1: %v", err)
	}
}

// genValue draws small nested values of one comparable family.
func genValue(depth int) *rapid.Generator[Value] {
	return rapid.Custom(func(t *rapid.T) Value {
		k := rapid.IntRange(0, 3).Draw(t, "kind")
		if depth == 0 {
			k = 0
		}
		switch k {
		case 0:
			return Int(rapid.Int32Range(-3, 3).Draw(t, "i"))
		case 1:
			n := rapid.IntRange(0, 3).Draw(t, "n")
			es := make([]Value, n)
			for i := range es {
				es[i] = Int(rapid.Int32Range(-3, 3).Draw(t, "e"))
			}
			s, _ := NewSet(es...)
			return s
		case 2:
			n := rapid.IntRange(0, 3).Draw(t, "n")
			es := make([]Value, n)
			for i := range es {
				es[i] = Int(rapid.Int32Range(0, 2).Draw(t, "e"))
			}
			return Tuple(es...)
		default:
			lo := rapid.Int32Range(-2, 2).Draw(t, "lo")
			return NewInterval(lo, lo+rapid.Int32Range(-1, 3).Draw(t, "w"))
		}
	})
}

func TestPropertyHashAndOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genValue(1).Draw(t, "a")
		b := genValue(1).Draw(t, "b")
		eq, err := Equal(a, b)
		if a.Kind() != b.Kind() {
			if err == nil {
				t.Fatalf("%s = %s: no error", a, b)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if eq && a.Hash() != b.Hash() {
			t.Fatalf("equal %s, %s with different hashes", a, b)
		}
		c1, err1 := Compare(a, b)
		c2, err2 := Compare(b, a)
		if err1 != nil || err2 != nil || c1 != -c2 || (c1 == 0) != eq {
			t.Fatalf("compare %s %s: %d %d %v", a, b, c1, c2, eq)
		}
	})
}

// TestPrintingAsTLC holds outputs printed by TLC 2.19 (PrintT) for the same expressions.
func TestPrintingAsTLC(t *testing.T) {
	tab := NewInterner()
	zzq, aaq, mmq := tab.String("zzq"), tab.String("aaq"), tab.String("mmq")
	// Z == "zzq" precedes PrintT({"aaq", "zzq", "mmq"}) in the module.
	if s := mustSet(t, aaq, zzq, mmq).String(); s != `{"zzq", "aaq", "mmq"}` {
		t.Fatalf("got %s", s)
	}
	f := func(dom []Value, rng ...Value) Value {
		v, err := NewFunc(dom, rng)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// PrintT({[x \in {1,2} |-> 0], [x \in {1} |-> 5], <<3, 1>>, <<1, 4>>, [x \in {2,3} |-> 0], [x \in {1,3} |-> 0]})
	s := mustSet(t,
		f([]Value{Int(1), Int(2)}, Int(0), Int(0)), f([]Value{Int(1)}, Int(5)), Tuple(Int(3), Int(1)), Tuple(Int(1), Int(4)),
		f([]Value{Int(2), Int(3)}, Int(0), Int(0)), f([]Value{Int(1), Int(3)}, Int(0), Int(0)))
	if got := s.String(); got != "{<<5>>, <<0, 0>>, <<1, 4>>, <<3, 1>>, (1 :> 0 @@ 3 :> 0), (2 :> 0 @@ 3 :> 0)}" {
		t.Fatalf("got %s", got)
	}
	a, b := tab.String("a"), tab.String("b")
	if got := f([]Value{b, a}, Int(1), Int(1)).String(); got != "[a |-> 1, b |-> 1]" {
		t.Fatalf("got %s", got)
	}
	r1, _ := Record(tab, []string{"a", "b"}, []Value{Int(2), Int(1)})
	r2, _ := Record(tab, []string{"a", "b"}, []Value{Int(1), Int(2)})
	if got := mustSet(t, r1, r2).String(); got != "{[a |-> 1, b |-> 2], [a |-> 2, b |-> 1]}" {
		t.Fatalf("got %s", got)
	}
	if got := ToString(tab, Tuple(a, mustSet(t, Int(1)))).String(); got != `"<<\"a\", {1}>>"` {
		t.Fatalf("got %s", got)
	}
	// PrintT({<<>>, {}}) is an error in TLC: a set compared with a function.
	if _, err := NewSet(EmptyTuple, Empty); !errors.Is(err, ErrIncomparable) {
		t.Fatalf("{<<>>, {}}: %v", err)
	}
	// (1 :> 2) @@ ("x" :> 1) is an error in TLC.
	if _, err := AtAt(ColonGreater(Int(1), Int(2)), ColonGreater(tab.String("x"), Int(1))); !errors.Is(err, ErrIncomparable) {
		t.Fatalf("@@ of mixed domains: %v", err)
	}
}

// TestLargeFuncSetMembership: membership in a large set of records, asked
// often enough to be answered through the set's hash index, agrees with a
// linear scan for members and non-members alike.
func TestLargeFuncSetMembership(t *testing.T) {
	tab := NewInterner()
	rm, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	var in, out []Value
	for i := 0; i < 300; i++ {
		r := rm.Make([]Value{tab.String("m"), Int(int32(i))})
		if i%3 == 0 {
			out = append(out, r)
		} else {
			in = append(in, r)
		}
	}
	s := mustSet(t, append([]Value(nil), in...)...)
	for round := 0; round < 2*indexAfter; round++ {
		for _, x := range in {
			if ok, err := s.Contains(x); err != nil || !ok {
				t.Fatalf("round %d: %s not found (%v)", round, x, err)
			}
		}
		for _, x := range out {
			if ok, err := s.Contains(x); err != nil || ok {
				t.Fatalf("round %d: %s found (%v)", round, x, err)
			}
		}
	}
	if ix := s.index.Load(); ix == nil || ix.slots == nil {
		t.Fatalf("no index built after %d rounds", 2*indexAfter)
	}
}

// TestUnionWithSingleton: x \cup {e} (the insertion path) equals the set
// built from all the elements, and is x itself when e is in x.
func TestUnionWithSingleton(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		xs := rapid.SliceOfN(rapid.Int32Range(-20, 20), 1, 12).Draw(t, "x")
		e := Int(rapid.Int32Range(-22, 22).Draw(t, "e"))
		var vals []Value
		for _, v := range xs {
			vals = append(vals, Int(v))
		}
		x := mustSet(t, vals...)
		y := mustSet(t, e)
		for _, u := range [][2]*Set{{x, y}, {y, x}} {
			got, err := Union(u[0], u[1])
			if err != nil {
				t.Fatal(err)
			}
			want := mustSet(t, append(append([]Value(nil), vals...), e)...)
			if eq, _ := Equal(got, want); !eq || got.Hash() != want.Hash() || got.String() != want.String() {
				t.Fatalf("%s \\cup %s = %s, want %s", u[0], u[1], got, want)
			}
			if in, _ := x.Contains(e); in && got != u[0] && got != u[1] {
				t.Fatalf("%s \\cup %s built a new set", u[0], u[1])
			}
		}
	})
}

type fataler interface{ Fatal(args ...any) }

// TestFuncSetMembershipByDomain: f \in [S -> T] with S an interval or an
// enumerated set, the domain right or wrong, as TLC decides it.
func TestFuncSetMembershipByDomain(t *testing.T) {
	tab := NewInterner()
	p, q := tab.Model("p"), tab.Model("q")
	procs := mustSet(t, p, q)
	onProcs, err := NewFunc([]Value{p, q}, []Value{Int(1), Int(2)})
	if err != nil {
		t.Fatal(err)
	}
	onP, err := NewFunc([]Value{p}, []Value{Int(1)})
	if err != nil {
		t.Fatal(err)
	}
	nat := NewInterval(0, 5)
	for _, c := range []struct {
		f    Value
		dom  SetValue
		want bool
	}{
		{Tuple(Int(1), Int(2)), NewInterval(1, 2), true},
		{Tuple(Int(1), Int(2)), NewInterval(1, 3), false},
		{Tuple(Int(1), Int(2)), NewInterval(0, 1), false},
		{Tuple(Int(1), Int(9)), NewInterval(1, 2), false}, // 9 outside 0..5
		{Tuple(Int(1), Int(2)), mustSet(t, Int(1), Int(2)), true},
		{Tuple(Int(1), Int(2)), mustSet(t, Int(1), Int(3)), false},
		{EmptyTuple, Empty, true},
		{onProcs, procs, true},
		{onP, procs, false},
		{onProcs, mustSet(t, p), false},
	} {
		got, err := NewFuncSet(c.dom, nat).Contains(c.f)
		if err != nil || got != c.want {
			t.Errorf("%s \\in [%s -> 0..5] = %v (%v), want %v", c.f, c.dom, got, err, c.want)
		}
	}
}

// TestRecordInAndInsert: RecordMaker.In and Insert, which do not build the
// record when the set holds functions, agree with \in and \cup {r} on the
// built record, for sets small and large (indexed), holding records that
// share the maker's domain, records built otherwise, and a model value.
func TestRecordInAndInsert(t *testing.T) {
	tab := NewInterner()
	mk, err := NewRecordMaker(tab, []string{"type", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	types := []Value{tab.String("a"), tab.String("b")}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 150).Draw(t, "n")
		var elems []Value
		for i := 0; i < n; i++ {
			ty := types[rapid.IntRange(0, 1).Draw(t, "type")]
			bal := Int(rapid.Int32Range(0, 200).Draw(t, "bal"))
			switch rapid.IntRange(0, 3).Draw(t, "how") {
			case 0: // the same fields, another domain slice
				f, err := NewFunc([]Value{tab.String("bal"), tab.String("type")}, []Value{bal, ty})
				if err != nil {
					t.Fatal(err)
				}
				elems = append(elems, f)
			case 1: // other fields
				f, err := Record(tab, []string{"type"}, []Value{ty})
				if err != nil {
					t.Fatal(err)
				}
				elems = append(elems, f)
			default:
				elems = append(elems, mk.Make([]Value{ty, bal}))
			}
		}
		if rapid.Bool().Draw(t, "model") { // an untyped model value sorts first
			elems = append(elems, tab.Model("m"))
		}
		s := mustSet(t, elems...)
		for q := 0; q < 3*indexAfter; q++ {
			vals := []Value{types[rapid.IntRange(0, 1).Draw(t, "qtype")], Int(rapid.Int32Range(0, 200).Draw(t, "qbal"))}
			if q%2 == 0 && len(s.elems) > 0 {
				// often an element of s
				if f, ok := s.elems[rapid.IntRange(0, len(s.elems)-1).Draw(t, "pick")].(*Func); ok && f.Len() == 2 && f.dom != nil {
					if ty, err := f.Apply(tab.String("type")); err == nil {
						b, _ := f.Apply(tab.String("bal"))
						vals = []Value{ty, b}
					}
				}
			}
			r := mk.Make(append([]Value(nil), vals...))
			want, werr := s.Contains(r)
			got, gerr := mk.In(vals, s)
			if got != want || (werr == nil) != (gerr == nil) {
				t.Fatalf("%s \\in %s: got %v (%v), want %v (%v)", r, s, got, gerr, want, werr)
			}
			u, err := mk.Insert(s, vals)
			if err != nil {
				t.Fatal(err)
			}
			wu, err := Union(s, mustSet(t, r))
			if err != nil {
				t.Fatal(err)
			}
			if eq, _ := Equal(u, wu); !eq || u.Hash() != wu.Hash() || u.String() != wu.String() {
				t.Fatalf("%s \\cup {%s} = %s, want %s", s, r, u, wu)
			}
			if want && u != Value(s) {
				t.Fatalf("%s \\cup {%s} built a new set", s, r)
			}
			iv, err := InsertValue(s, r)
			if err != nil {
				t.Fatal(err)
			}
			if eq, _ := Equal(iv, wu); !eq || iv.String() != wu.String() {
				t.Fatalf("InsertValue(%s, %s) = %s, want %s", s, r, iv, wu)
			}
		}
	})
}

// TestUpdaterSharesUnchanged: an update to the very value a function
// already maps its key to gives the function itself; other updates copy
// once and hash the copies, deepest first.
func TestUpdaterSharesUnchanged(t *testing.T) {
	tab := NewInterner()
	mk, err := NewRecordMaker(tab, []string{"mbal", "bal"})
	if err != nil {
		t.Fatal(err)
	}
	rec := mk.Make([]Value{Int(1), Int(0)})
	p, q := tab.Model("p"), tab.Model("q")
	inner, err := NewFunc([]Value{p, q}, []Value{rec, rec})
	if err != nil {
		t.Fatal(err)
	}
	update := func(u *Updater, f *Func, v Value) *Func {
		i, old, err := f.Find(p)
		if err != nil || i < 0 {
			t.Fatal(err)
		}
		j, _, err := old.(*Func).Find(tab.String("mbal"))
		if err != nil || j < 0 {
			t.Fatal(err)
		}
		return u.Set(f, i, u.Set(old.(*Func), j, v, 1), 0)
	}
	var u Updater
	if g := update(&u, inner, Int(1)); g != inner {
		t.Fatalf("setting mbal to its value copied %s", g)
	}
	u.Done()
	g := update(&u, inner, Int(2))
	g = update(&u, g, Int(3))
	u.Done()
	want, err := NewFunc([]Value{p, q}, []Value{mk.Make([]Value{Int(3), Int(0)}), rec})
	if err != nil {
		t.Fatal(err)
	}
	if eq, _ := Equal(g, want); !eq || g.Hash() != want.Hash() || g == inner {
		t.Fatalf("got %s (hash %x), want %s (hash %x)", g, g.Hash(), want, want.Hash())
	}
	if e, err := inner.Except(p, rec); err != nil || e != inner {
		t.Fatalf("Except to the same value: %v, %v", e, err)
	}
}

// TestNewFuncOnSet: a function built on an enumerated set's elements in
// their order ([x \in S |-> e]) is the function NewFunc builds from the
// same pairs: equal, same hash, same print, same shape (a tuple for
// 1..n, a record for strings).
func TestNewFuncOnSet(t *testing.T) {
	in := NewInterner()
	rapid.Check(t, func(t *rapid.T) {
		var dom []Value
		switch rapid.IntRange(0, 2).Draw(t, "domain") {
		case 0:
			for range rapid.IntRange(0, 6).Draw(t, "n") {
				dom = append(dom, genValue(2).Draw(t, "d"))
			}
		case 1:
			for i := range rapid.IntRange(0, 5).Draw(t, "n") {
				dom = append(dom, Int(int32(i+1))) // 1..n
			}
		default:
			for _, s := range rapid.SliceOfDistinct(rapid.SampledFrom([]string{"a", "b", "type", "bal"}), rapid.ID[string]).Draw(t, "fields") {
				dom = append(dom, in.String(s))
			}
		}
		set, err := NewSet(dom...)
		if err != nil {
			t.Skip("incomparable")
		}
		elems := set.Elems()
		rng := make([]Value, len(elems))
		for i := range rng {
			rng[i] = genValue(1).Draw(t, "r")
		}
		want, err := NewFunc(append([]Value(nil), elems...), append([]Value(nil), rng...))
		if err != nil {
			t.Fatal(err)
		}
		got := NewFuncOnSet(append([]Value(nil), elems...), rng)
		if eq, err := Equal(got, want); err != nil || !eq || got.Hash() != want.Hash() || got.String() != want.String() || got.Shape() != want.Shape() {
			t.Fatalf("NewFuncOnSet %s (%d), NewFunc %s (%d)", got, got.Shape(), want, want.Shape())
		}
	})
}

// TestFuncHashSeparates: functions hash as sets of entries (computeHash),
// so that an entry's domain element and value stay tied: every function
// from {1, 2, 3} (a tuple) and from {"a", "b", "c"} (a record) to 0..7,
// 1,024 values, has a hash of its own; swapping two values, or moving a
// value to another key, changes it.
func TestFuncHashSeparates(t *testing.T) {
	tab := NewInterner()
	seen := map[uint64]string{}
	for _, dom := range [][]Value{{Int(1), Int(2), Int(3)}, {tab.String("a"), tab.String("b"), tab.String("c")}} {
		for code := 0; code < 512; code++ {
			rng := []Value{Int(code & 7), Int(code >> 3 & 7), Int(code >> 6)}
			f, err := NewFunc(append([]Value(nil), dom...), rng)
			if err != nil {
				t.Fatal(err)
			}
			if other, dup := seen[f.Hash()]; dup {
				t.Fatalf("%s and %s hash alike (%x)", other, f, f.Hash())
			}
			seen[f.Hash()] = f.String()
		}
	}
}

// TestSingleton: Singleton(v) is NewSet(v), hash included, in one
// allocation.
func TestSingleton(t *testing.T) {
	tab := NewInterner()
	for _, v := range []Value{Int(3), tab.String("a"), Tuple(Int(1), Int(2)), Empty} {
		want, err := NewSet(v)
		if err != nil {
			t.Fatal(err)
		}
		got := Singleton(v)
		if eq, err := Equal(got, want); err != nil || !eq || got.Hash() != want.Hash() || got.Len() != 1 {
			t.Errorf("Singleton(%s) = %s (hash %x), want %s (hash %x)", v, got, got.Hash(), want, want.Hash())
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Singleton(Int(3)) }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}

// TestInsertAllocatesOnce: S \cup {e} for a set of up to 8 elements is one
// allocation, the set with its elements, and the set NewSet makes.
func TestInsertAllocatesOnce(t *testing.T) {
	x, err := NewSet(Int(1), Int(3), Int(5))
	if err != nil {
		t.Fatal(err)
	}
	got, err := InsertValue(x, Int(4))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewSet(Int(1), Int(3), Int(4), Int(5))
	if eq, err := Equal(got, want); err != nil || !eq || got.Hash() != want.Hash() {
		t.Fatalf("%s \\cup {4} = %s (hash %x), want %s (hash %x)", x, got, got.Hash(), want, want.Hash())
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = InsertValue(x, Int(4)) }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}

// TestRemoveValue: S \ {e} as Difference computes it, hash included, for
// sets of integers and of strings (the fast path, one allocation), the
// last element removed ({}), an element S lacks (S itself), and a set of
// another kind (Difference itself).
func TestRemoveValue(t *testing.T) {
	tab := NewInterner()
	a, b, c := tab.String("a"), tab.String("b"), tab.String("c")
	ints, _ := NewSet(Int(1), Int(2), Int(3))
	strs, _ := NewSet(a, b, c)
	one, _ := NewSet(Int(7))
	tuples, _ := NewSet(Tuple(Int(1)), Tuple(Int(2)))
	for _, tc := range []struct{ s, e Value }{
		{ints, Int(2)}, {ints, Int(1)}, {ints, Int(3)}, {ints, Int(9)},
		{strs, b}, {strs, tab.String("z")}, {one, Int(7)}, {tuples, Tuple(Int(2))},
	} {
		got, err := RemoveValue(tc.s, tc.e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Difference(tc.s, Singleton(tc.e))
		if err != nil {
			t.Fatal(err)
		}
		if eq, err := Equal(got, want); err != nil || !eq || got.Hash() != want.Hash() {
			t.Errorf("%s \\ {%s} = %s (hash %x), want %s (hash %x)", tc.s, tc.e, got, got.Hash(), want, want.Hash())
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = RemoveValue(ints, Int(2)) }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
	// a string asked of a set of integers is an error, as Difference's
	if _, err := RemoveValue(ints, a); err == nil {
		t.Errorf("{1, 2, 3} \\ {\"a\"}: no error")
	}
}
