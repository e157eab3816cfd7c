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
	m := machineFromSource(t, dir, "ForallAct", mod, "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
	for _, w := range []int{1, 2} {
		res, err := check.Run(context.Background(), m, check.Options{Workers: w, NoDeadlock: m.NoDeadlock})
		if err != nil {
			t.Fatal(err)
		}
		if res.Generated != 9 || res.Distinct != 3 || res.Depth != 3 {
			t.Errorf("%d workers: %d generated, %d distinct, depth %d; TLC: 9, 3, 3", w, res.Generated, res.Distinct, res.Depth)
		}
	}
}
