package eval

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// TestForallInAction pins TLC's reading of \A in an action: the conjunction
// of its instances, each branching on the witnesses of an \E inside (the
// instances re-enter one compiled body, whose loops must not be clobbered).
// TLC: 9 states generated, 3 distinct, depth 3.
func TestForallInAction(t *testing.T) {
	dir := t.TempDir()
	mod := `---- MODULE ForallAct ----
EXTENDS Naturals
VARIABLE x
P(r) == \E b \in {0, 1}, c \in {0, 1} : b = 0 /\ \A k \in {1, 2} : c + k + r > 0
Init == x = 0
Next == /\ x < 2
        /\ \A r \in {1, 2} : P(r)
        /\ x' = x + 1
====
`
	checkCounts(t, dir, "ForallAct", mod, 9, 3, 3)
}

// TestForallConditionInAction: an \A whose body is a condition is decided
// as a predicate, and one whose body has a disjunction still branches on
// every true disjunct of every instance (2 * 2 successors a step).
// TLC: 9 states generated, 3 distinct, depth 3.
func TestForallConditionInAction(t *testing.T) {
	mod := `---- MODULE ForallPlain ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == /\ x < 3
        /\ \A r \in {1, 2} : r > 0 /\ r < 3
        /\ \A r \in {1, 2} : r = 1 \/ r = 2 \/ r > 0
        /\ \A r \in {x} : r # 2
        /\ x' = x + 1
====
`
	checkCounts(t, t.TempDir(), "ForallPlain", mod, 9, 3, 3)
}

// checkCounts checks module mod (named name, in dir) with Init and Next,
// without deadlock, with 1 and 2 workers, against TLC's counts.
func checkCounts(t *testing.T, dir, name, mod string, generated, distinct int64, depth int) {
	t.Helper()
	m := machineFromSource(t, dir, name, mod, "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
	for _, w := range []int{1, 2} {
		res, err := check.Run(context.Background(), m, check.Options{Workers: w, NoDeadlock: m.NoDeadlock})
		if err != nil {
			t.Fatal(err)
		}
		if res.Generated != generated || res.Distinct != distinct || res.Depth != depth {
			t.Errorf("%d workers: %d generated, %d distinct, depth %d; TLC: %d, %d, %d", w, res.Generated, res.Distinct, res.Depth, generated, distinct, depth)
		}
	}
}

// TestAllAssignedRestIsCondition pins TLC's reading of an action whose
// next state has all its variables before its last conjuncts: TLC
// (TLCState.allAssigned, between two conjuncts) evaluates the rest as a
// condition, so the state is generated once however many ways the rest
// holds, and \E stops at its first witness: the Init of A2 never meets the
// division by zero of R = {3}, which comes after R = {}. Before the
// assignments, \E and \/ still branch (A2's first two disjuncts). TLC:
// A1 4 states generated, 3 distinct, depth 3; A2 17, 4, 3.
func TestAllAssignedRestIsCondition(t *testing.T) {
	checkCounts(t, t.TempDir(), "A1", `---- MODULE A1 ----
EXTENDS Naturals
VARIABLE x, y
Init == x = 0 /\ y = 0
Next == /\ x' = (x + 1) % 3
        /\ y' = 0
        /\ \E i \in 1..3 : i > x
        /\ (x = 0 \/ x < 5)
====
`, 4, 3, 3)
	checkCounts(t, t.TempDir(), "A2", `---- MODULE A2 ----
EXTENDS Naturals
VARIABLE x
Init == x = 0 /\ \E R \in SUBSET {1, 2, 3} : IF R = {3} THEN 1 \div 0 = 1 ELSE TRUE
Next == \/ \E i \in {1, 2} : x' = (x + i) % 4
        \/ (x' = (x + 1) % 4 /\ (TRUE \/ x > 0)) /\ (x < 10 \/ TRUE)
        \/ x' = x /\ IF x = 0 THEN (TRUE \/ TRUE) ELSE \E j \in 1..5 : j > x
====
`, 17, 4, 3)
}

// TestAllAssignedProbesDoNotNest: a conjunct compiled for a next state
// with all its variables (the probe) compiles no probes of its own, so
// that nested conjunctions compile in time linear in their depth, not
// exponential: here 12 definitions, each a conjunction whose second
// conjunct is the next.
func TestAllAssignedProbesDoNotNest(t *testing.T) {
	const depth = 12
	var b strings.Builder
	b.WriteString("---- MODULE Deep ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\nD0 == TRUE \\/ x > 0\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "D%d == x' = (x + 1) %% 2 /\\ D%d\n", i, i-1)
	}
	fmt.Fprintf(&b, "Next == D%d\n====\n", depth)
	before := probesCompiled.Load()
	checkCounts(t, t.TempDir(), "Deep", b.String(), 3, 2, 2)
	if n := probesCompiled.Load() - before; n > 4*depth {
		t.Fatalf("%d probes compiled for %d nested conjunctions", n, depth)
	}
}
