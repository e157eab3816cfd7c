package eval

import (
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

const filterMemberModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets
VARIABLE x
Parts(n) == {DP \in SUBSET SUBSET (1..n) :
               /\ UNION DP = 1..n
               /\ \A I, J \in DP : I # J => I \cap J = {}}
Lazy == {f \in [1..2 -> 0..2] : 6 \div f[1] > 2}
Pairs == {<<a, b>> \in (1..3) \X (1..3) : a < b}
Init == x = 0
Next == x < 6 /\ x' = x + 1
Inv == /\ {{1, 2}, {3, 4, 5}, {6}} \in Parts(6)
       /\ {{1, 2}, {2, 3, 4, 5}, {6}} \notin Parts(6)
       /\ <<1, x>> \in Lazy <=> x \in 0..2
       /\ <<1, x>> \in Pairs <=> x \in 2..3
       /\ x \in {y \in Nat : y < 7}
Eager == x + 3 \in {d \in 0..5 : 12 \div d > 1}
====
`

// TestMembershipInFilter: v \in {x \in S : P} tests v \in S and P for v
// alone, as TLC does when S is not an enumerated set or an interval
// (MCQuicksort's UV \in DomainPartitions, a filter of SUBSET SUBSET 1..4):
// Parts(6) filters 2^64 sets, and Lazy's P fails (\div 0) on the functions
// not tested. Over an interval TLC filters at once and meets the \div 0.
// TLC: Inv holds on the 7 states (then a deadlock); Eager is an evaluation
// error ("The second argument of \\div is 0") in the initial state.
func TestMembershipInFilter(t *testing.T) {
	runFeature(t, featureCase{name: "lazy membership", spec: filterMemberModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Deadlocked, distinct: 7})
	runFeature(t, featureCase{name: "eager over an interval", spec: filterMemberModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Eager\n", err: value.ErrDomain})
}
