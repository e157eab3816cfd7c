package eval

import (
	"testing"

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
