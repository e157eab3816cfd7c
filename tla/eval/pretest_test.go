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
