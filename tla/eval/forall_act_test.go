package eval

import (
	"context"
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
