package eval

import (
	"strings"
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

const extendedSubstInner = `---- MODULE Inner ----
LOCAL INSTANCE Naturals
Seqs(S) == UNION {[1..n -> S] : n \in Nat}
====
`

const extendedSubstModule = `---- MODULE Spec ----
EXTENDS Naturals, Inner
ASSUME 2 \in Nat /\ 3 \notin Nat
Lim == 0..2
VARIABLE x
Init == x \in Seqs({0, 1})
Next == UNCHANGED x
====
`

// TestSubstInExtendedModule: Nat <-[Inner] Lim where the root extends Inner
// (LeastCircularSubstring's Nat <-[ZSequences] ZSeqNat). TLC substitutes
// the Nat that Inner sees, which is the root's Nat too: 7 distinct states
// (the sequences of length 0 to 2 over {0, 1}), the root's ASSUME sees
// Nat = 0..2, and ASSUME 5 \in Nat is false.
func TestSubstInExtendedModule(t *testing.T) {
	cfg := "CONSTANT Nat <- [Inner]Lim\nINIT Init\nNEXT Next\n"
	runFeatureWith(t, featureCase{name: "substituted", spec: extendedSubstModule, cfg: cfg, verdict: check.Success, distinct: 7}, "Inner", extendedSubstInner)
	spec := strings.Replace(extendedSubstModule, `ASSUME 2 \in Nat /\ 3 \notin Nat`, `ASSUME 5 \in Nat`, 1)
	runFeatureWith(t, featureCase{name: "root's Nat", spec: spec, cfg: cfg, err: ErrAssumption}, "Inner", extendedSubstInner)
}

// runFeatureWith is runFeature with one more module beside Spec.tla.
func runFeatureWith(t *testing.T, tc featureCase, name, text string) {
	t.Helper()
	files := map[string]string{"Spec.tla": tc.spec, "Spec.cfg": tc.cfg, name + ".tla": text}
	runFiles(t, tc.name, files, "Spec.cfg", tc.verdict, tc.distinct, tc.err)
}

// TestConstantFilterBuiltOnce: membership in a constant {x \in S : P} over
// an enumerated S (MCBinarySearch's seq \in SortedSeqs, S a UNION of 488,280
// sequences) filters S once in the run, not at each of the 21 states'
// tests; one that reads the state is filtered at each. TLC: 21 distinct
// states, no error.
func TestConstantFilterBuiltOnce(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals
VARIABLE x
Evens == {n \in UNION {{1, 2, k} : k \in 3..40} : n % 2 = 0}
Below == {n \in UNION {{1, 2, k} : k \in 3..40} : n <= x}
Init == x = 0
Next == x' = (x + 1) % 21
Inv == /\ (x \in Evens) = (x % 2 = 0 /\ x > 0)
       /\ x \notin Below \/ x > 0
====
`
	before := eagerFilters.Load()
	runFeature(t, featureCase{name: "constant filter", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 21})
	// Evens once; Below at every state where x \notin Below is evaluated.
	if n := eagerFilters.Load() - before; n != 1+21 {
		t.Fatalf("%d filters built, want 1 for Evens and 21 for Below", n)
	}
}
