package value

import (
	"errors"
	"fmt"
	"testing"
)

// TestIllTypedFuncs: equality and membership of functions raise
// ErrIncomparable where TLC's comparisons meet values of kinds that cannot
// be compared, and answer where an earlier pair decides, whatever the
// hashes say (TLC's outcomes: tla/eval's TestIllTypedComparisonsAsTLC).
func TestIllTypedFuncs(t *testing.T) {
	tab := NewInterner()
	rec := func(kv ...any) *Func {
		var names []string
		var vals []Value
		for i := 0; i < len(kv); i += 2 {
			names = append(names, kv[i].(string))
			switch v := kv[i+1].(type) {
			case int:
				vals = append(vals, Int(v))
			case string:
				vals = append(vals, tab.String(v))
			default:
				vals = append(vals, v.(Value))
			}
		}
		f, err := Record(tab, names, vals)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	check := func(what string, got bool, err error, want int) {
		t.Helper()
		switch {
		case want < 0 && !errors.Is(err, ErrIncomparable):
			t.Fatalf("%s: %v, %v; want ErrIncomparable", what, got, err)
		case want >= 0 && (err != nil || got != (want == 1)):
			t.Fatalf("%s: %v, %v; want %v", what, got, err, want == 1)
		}
	}
	eq, err := Equal(rec("a", 1), rec("a", "x"))
	check(`[a |-> 1] = [a |-> "x"]`, eq, err, -1)
	eq, err = Equal(rec("a", 1, "b", 2), rec("a", "x", "c", 2))
	check(`[a |-> 1, b |-> 2] = [a |-> "x", c |-> 2] (the names decide first)`, eq, err, 0)
	eq, err = Equal(Tuple(Int(1), Int(2)), Tuple(Int(2), tab.String("x")))
	check(`<<1, 2>> = <<2, "x">>`, eq, err, 0)
	eq, err = Equal(Tuple(Int(1)), rec("a", 1))
	check(`<<1>> = [a |-> 1]`, eq, err, -1)

	small := mustSet(t, rec("a", 1, "b", 2), rec("a", 2, "b", 3), rec("c", 1))
	in, err := small.Contains(rec("a", 1, "b", "x"))
	check(`[a |-> 1, b |-> "x"] \in small`, in, err, -1)
	in, err = small.Contains(rec("a", 0, "b", "x"))
	check(`[a |-> 0, b |-> "x"] \in small (decided before b)`, in, err, 0)
	in, err = small.Contains(rec("d", "x"))
	check(`[d |-> "x"] \in small`, in, err, 0)
	in, err = mustSet(t, Tuple(Int(1))).Contains(rec("a", 1))
	check(`[a |-> 1] \in {<<1>>}`, in, err, -1)

	// A large set finds functions through its index once asked often.
	var elems []Value
	for i := range 3 * smallFuncSet {
		elems = append(elems, rec("a", i))
	}
	large := mustSet(t, elems...)
	for range indexAfter + 1 {
		in, err = large.Contains(rec("a", 1000))
		check(`[a |-> 1000] \in large`, in, err, 0)
	}
	in, err = large.Contains(rec("a", "x"))
	check(`[a |-> "x"] \in large`, in, err, -1)

	// A record constructor asks one set about records of its kinds, then
	// of others: the answer kept for the first kinds must not serve.
	rm, err := NewRecordMaker(tab, []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	in, err = rm.In([]Value{Int(1), Int(5)}, small)
	check(`[b |-> 1, a |-> 5] \in small`, in, err, 0)
	in, err = rm.In([]Value{Int(7), Int(5)}, small)
	check(`[b |-> 7, a |-> 5] \in small (asked again)`, in, err, 0)
	in, err = rm.In([]Value{tab.String("x"), Int(1)}, small)
	check(`[b |-> "x", a |-> 1] \in small`, in, err, -1)
	in, err = rm.In([]Value{Int(2), Int(1)}, small)
	check(`[b |-> 2, a |-> 1] \in small`, in, err, 1)

	// The same questions with a worker's arena, which keeps the answers
	// for the sets asked: two sets of records of one domain, one
	// comparable with the records asked and one not (a string where they
	// hold a number), asked in turn, each get their own answer.
	var a Arena
	mixed := mustSet(t, rec("a", "y", "b", 3))
	for round := range 3 {
		in, err = rm.InMemo([]Value{Int(1), Int(5)}, small, a.Memo())
		check(`[b |-> 1, a |-> 5] \in small (arena)`, in, err, 0)
		in, err = rm.InMemo([]Value{Int(1), Int(5)}, mixed, a.Memo())
		check(`[b |-> 1, a |-> 5] \in mixed (arena)`, in, err, -1)
		in, err = rm.InMemo([]Value{tab.String("x"), Int(1)}, small, a.Memo())
		check(`[b |-> "x", a |-> 1] \in small (arena)`, in, err, -1)
		in, err = rm.InMemo([]Value{Int(2), Int(1)}, small, a.Memo())
		check(`[b |-> 2, a |-> 1] \in small (arena)`, in, err, 1)
		in, err = rm.InMemo([]Value{Int(3), tab.String("y")}, mixed, a.Memo())
		check(`[b |-> 3, a |-> "y"] \in mixed (arena)`, in, err, 1)
		if round == 1 {
			a.Begin() // answers outlive the arena's epochs
		}
	}
	// More sets than the arena keeps answers for, so that sets share its
	// slots: each still gets its own answer.
	var sets []*Set
	for i := range 4 * memoKinds {
		if i%2 == 0 {
			sets = append(sets, mustSet(t, rec("a", i, "b", i)))
		} else {
			sets = append(sets, mustSet(t, rec("a", "y", "b", i)))
		}
	}
	for range 2 {
		for i, st := range sets {
			in, err = rm.InMemo([]Value{Int(-1), Int(-1)}, st, a.Memo())
			check(fmt.Sprintf(`[b |-> -1, a |-> -1] \in set %d (arena)`, i), in, err, -(i % 2))
		}
	}
}
