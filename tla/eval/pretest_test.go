package eval

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

const pretestModule = `---- MODULE Spec ----
EXTENDS Naturals
VARIABLE x
Msgs == {[type |-> "a", n |-> 1], [type |-> "a", n |-> 2],
         [type |-> "b", n |-> 3], [type |-> "c", n |-> 1]}
T == "a"
ASSUME \E m \in Msgs : m.type = "b" /\ m.n = 3
ASSUME ~\E m \in Msgs : m.type = "b" /\ m.n = 1
ASSUME ~\A m \in Msgs : m.type = "a"
ASSUME \A m \in Msgs : /\ m.type \in {"a", "b", "c"}
ASSUME \A m \in {y \in Msgs : y.type = T} : m.type = "a" /\ m.n \in 1..2
ASSUME {m \in Msgs : m.type = "a" /\ m.n = 2} = {[type |-> "a", n |-> 2]}
ASSUME {m \in Msgs : 1 = m.n} = {[type |-> "a", n |-> 1], [type |-> "c", n |-> 1]}
ASSUME (CHOOSE m \in Msgs : m.type = "c").n = 1
ASSUME LET t == "b" IN \E m \in Msgs : m.type = t
ASSUME \A k \in {"a", "b", "c"} : \E m \in Msgs : m.type = k /\ m.n > 0
ASSUME \A m \in Msgs : m.type = "a" \/ m.n # 2
Init == x = 0
Next == \E m \in Msgs : m.type = "a" /\ x' = m.n
====
`

// TestFieldPretest: quantifiers, set filters and CHOOSE whose body begins
// with m.f = e skip, by the pretest, the elements whose field differs
// (\A stops at the first), and give what the body gives, errors
// included: a missing field, a field of another kind and a function that
// is no record are the body's errors, as TLC reports them. TLC: the
// assumptions hold and Next reaches 3 distinct states; each error module
// is TLC's "Attempted to select nonexistent field", "Attempted to check
// equality of integer 1 with non-integer" and "Attempted to apply
// function with integer domain to the non-integer argument".
func TestFieldPretest(t *testing.T) {
	runFeature(t, featureCase{name: "scans", spec: pretestModule, cfg: "INIT Init\nNEXT Next\n", verdict: check.Success, distinct: 3})
	for _, tc := range []struct {
		name, assume string
		err          error
	}{
		{"missing field", `\E m \in {[kind |-> "d"]} : m.type = "a"`, value.ErrDomain},
		{"other kind", `\E m \in {[type |-> 1]} : m.type = "a"`, value.ErrIncomparable},
		{"no record", `\E m \in {<<1>>} : m.type = "a"`, value.ErrIncomparable},
		{"\\A, missing field", `\A m \in {[kind |-> "d"]} : m.type = "a"`, value.ErrDomain},
		{"filter, other kind", `{m \in {[type |-> 1]} : m.type = "a"} = {}`, value.ErrIncomparable},
		{"CHOOSE, missing field", `(CHOOSE m \in {[kind |-> "d"]} : m.type = "a") = 1`, value.ErrDomain},
	} {
		spec := "---- MODULE Spec ----\nEXTENDS Naturals\nASSUME " + tc.assume + "\n====\n"
		runFeature(t, featureCase{name: tc.name, spec: spec, cfg: "\n", err: tc.err})
	}
}

// TestPretestPrepare: a pretest evaluates each test's e once per scan (at
// its first element), not once per element, and decides an element by
// every leading test in turn, each against its own e; a test whose e
// fails decides nothing, nor do the tests after it.
func TestPretestPrepare(t *testing.T) {
	in := value.NewInterner()
	calls := 0
	n := value.Value(value.Int(2))
	var nErr error
	p := pretest{
		{field: value.NewFieldCache(in.String("type")), lit: in.String("a")},
		{field: value.NewFieldCache(in.String("n")), val: func(*rt) (value.Value, error) {
			calls++
			return n, nErr
		}},
	}
	rec := func(typ string, n int32) value.Value {
		r, err := value.Record(in, []string{"type", "n"}, []value.Value{in.String(typ), value.Int(n)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := &rt{}
	var pv preVals
	for _, c := range []struct {
		x    value.Value
		fail bool
	}{
		{rec("a", 1), true},   // the second test rejects it
		{rec("b", 2), true},   // the first does
		{rec("a", 2), false},  // both hold: the body decides
		{value.Int(7), false}, // no record: the body decides
	} {
		if got := p.fails(r, &pv, c.x); got != c.fail {
			t.Errorf("fails(%s) = %v, want %v", c.x, got, c.fail)
		}
	}
	if calls != 1 {
		t.Errorf("e evaluated %d times in a scan of 4 elements, want once", calls)
	}
	nErr = value.ErrIncomparable
	pv = preVals{}
	if p.fails(r, &pv, rec("a", 1)) {
		t.Error("a test whose e failed rejected an element")
	}
	if !p.fails(r, &pv, rec("b", 1)) {
		t.Error("the test before the one whose e failed did not reject")
	}
}

// TestScanPositions: a worker remembers, for a scan whose first test's e
// is a literal, the positions of the set's elements that test does not
// reject (records of another type are left out; an element the test
// cannot decide, a record without the field, is kept for
// the body), finds them again for the same scan of the same set, not for
// another set or another scan, and scans the whole set while the entry is
// held by a scan going on; without a memo, or for a small set, it scans.
func TestScanPositions(t *testing.T) {
	in := value.NewInterner()
	p := pretest{{field: value.NewFieldCache(in.String("type")), lit: in.String("a")}}
	other := pretest{{field: value.NewFieldCache(in.String("type")), lit: in.String("b")}}
	var elems []value.Value
	for i := range 10 {
		typ := []string{"a", "b"}[i%2]
		r, err := value.Record(in, []string{"type", "n"}, []value.Value{in.String(typ), value.Int(int32(i))})
		if err != nil {
			t.Fatal(err)
		}
		elems = append(elems, r)
	}
	for _, k := range []string{"a", "z"} {
		noType, err := value.Record(in, []string{"kind"}, []value.Value{in.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		elems = append(elems, noType)
	}
	set, err := value.NewSet(elems...)
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	field := value.NewFieldCache(in.String("type"))
	for j := 0; j < set.Len(); j++ {
		x := set.At(j)
		f, isRec := x.(*value.Func)
		if !isRec {
			want = append(want, int32(j))
			continue
		}
		typ, ok := field.Field(f)
		if !ok || typ == value.Value(in.String("a")) {
			want = append(want, int32(j))
		}
	}
	if len(want) != 7 {
		t.Fatalf("%d elements kept of %s, want 7 (5 of type a, 2 undecided)", len(want), set)
	}
	r := &rt{memo: new(value.WorkerMemo)}
	e := p.positions(r, set)
	if e == nil {
		t.Fatal("no positions for a set of 12 with a memo")
	}
	if got := e.Hold(); !slices.Equal(got, want) {
		t.Errorf("positions %v, want %v", got, want)
	}
	if p.positions(r, set) != nil {
		t.Error("positions handed out while held by a scan going on")
	}
	e.Release()
	if again, hit := r.memo.Scan(unsafe.Pointer(&p[0]), set); again != e || !hit {
		t.Error("the positions of the same scan of the same set were not found again")
	}
	if _, hit := r.memo.Scan(unsafe.Pointer(&other[0]), set); hit {
		t.Error("another scan's positions taken for this one's")
	}
	if ob := other.positions(r, set); ob == nil || len(ob.Hold()) != 7 {
		t.Error("another literal: not its own positions")
	} else {
		ob.Release()
	}
	small, _ := value.NewSet(elems[:3]...)
	if p.positions(r, small) != nil || p.positions(&rt{}, set) != nil {
		t.Error("positions for a set of 3 or without a memo")
	}
}

const scanIndexMod = `---- MODULE ScanIdx ----
EXTENDS Naturals, FiniteSets
VARIABLES msgs, x
Init == /\ msgs = {[type |-> "a", n |-> i] : i \in 1..4} \cup {[type |-> "b", n |-> i] : i \in 1..4}
        /\ x = 0
Next == \/ \E m \in msgs : m.type = "a" /\ m.n > x /\ x' = m.n /\ UNCHANGED msgs
        \/ \E m \in msgs : /\ m.type = "b"
                           /\ \E k \in msgs : k.type = "b" /\ k.n > m.n /\ x < k.n
                           /\ Cardinality(msgs) < 12
                           /\ msgs' = msgs \cup {[type |-> "a", n |-> m.n + Cardinality(msgs)]}
                           /\ UNCHANGED x
        \/ LET big == {m \in msgs : m.type = "a" /\ m.n > 4} IN
             /\ big # {}
             /\ x' = Cardinality(big) + 10
             /\ UNCHANGED msgs
====
`

// TestScanPositionsInNext: the checker's workers scan the messages of one
// type by the positions they remember (an action's \E, a nested \E over
// the same set, a set filter); the model's counts are those of the scans
// of whole sets (NextInto, without a worker's memo), and TLC's (with
// -deadlock: 294 distinct, 1,691 generated, depth 6), for 1 and 2 workers.
func TestScanPositionsInNext(t *testing.T) {
	m := machineFromSource(t, t.TempDir(), "ScanIdx", scanIndexMod, "INIT Init\nNEXT Next\n")
	for _, w := range []int{1, 2} {
		plain, arena := checkPlainAndArena(t, m, w)
		for _, r := range []check.Result{plain, arena} {
			if r.Distinct != 294 || r.Generated != 1691 || r.Depth != 6 {
				t.Errorf("%d workers: remembered scans %d distinct, %d generated, depth %d; whole scans %d, %d, %d; TLC 294, 1691, 6",
					w, arena.Distinct, arena.Generated, arena.Depth, plain.Distinct, plain.Generated, plain.Depth)
				break
			}
		}
	}
}
