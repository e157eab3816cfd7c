package eval

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// guardsMod has disjuncts that begin with the same condition: A, B and R
// through their operators (R's parameters named the other way round, its
// guard read through them the same), and the last two, written inline;
// and three that do not join them: C, whose first conjunct reads the
// other channel, A(p, 1), with another argument, and G, whose guard is no
// plain condition (an \E).
const guardsMod = `---- MODULE Guards ----
EXTENDS Naturals, Sequences
VARIABLES ch, got, n
Proc == 1 .. 3
Recv(p, q, t) == /\ Head(ch[q][p]) = t
                 /\ ch' = [ch EXCEPT ![q][p] = Tail(@)]
                 /\ got' = got \cup {<<p, q, t>>}
                 /\ UNCHANGED n
A(p, q) == /\ ch[q][p] # << >>
           /\ Recv(p, q, "a")
B(p, q) == /\ ch[q][p] # << >>
           /\ Recv(p, q, "b")
R(q, p) == /\ ch[p][q] # << >>
           /\ Recv(q, p, "c")
C(p, q) == /\ ch[p][q] # << >>
           /\ ch[q][p] # << >>
           /\ Recv(p, q, "c")
G(p, q) == /\ \E k \in {1} : ch[q][p] # << >>
           /\ Recv(p, q, "b")
Send(p, q) == /\ n < 3
              /\ ch' = [ch EXCEPT ![p][q] = Append(@, IF n % 3 = 0 THEN "a" ELSE IF n % 3 = 1 THEN "b" ELSE "c")]
              /\ n' = n + 1
              /\ UNCHANGED got
Init == /\ ch = [p \in Proc |-> [q \in Proc |-> << >>]]
        /\ got = {}
        /\ n = 0
Next == \E p \in Proc : \E q \in Proc \ {p} :
          \/ Send(p, q)
          \/ A(p, q)
          \/ B(p, q)
          \/ R(p, q)
          \/ C(p, q)
          \/ A(p, 1)
          \/ G(p, q)
          \/ ch[q][p] # << >> /\ Recv(p, q, "c")
          \/ ch[q][p] # << >> /\ Recv(p, q, "b")
====
`

// TestSharedGuards checks that disjuncts beginning with the same condition
// test it once (guardShared: A, B and R; the two inline ones)
// and that every reachable state has the very successors, in the same
// order and with the same actions, as with each disjunct compiled alone.
// TLC: 5,985 states generated, 1,675 distinct, depth 7.
func TestSharedGuards(t *testing.T) {
	dir := t.TempDir()
	successors := func(factor bool) []string {
		t.Helper()
		factorGuards = factor
		defer func() { factorGuards = true }()
		before := guardShared.Load()
		m := machineFromSource(t, dir, "Guards", guardsMod, "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
		var out []string
		var queue []check.State
		seen := map[string]bool{}
		if err := m.Init(func(s check.State) error {
			queue = append(queue, append(check.State(nil), s...))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			key := fmt.Sprint(s)
			if seen[key] {
				continue
			}
			seen[key] = true
			var line strings.Builder
			if err := m.NextInto(s, func(n check.State, action int) error {
				fmt.Fprintf(&line, "%s -> %v; ", m.ActionNames()[action], n)
				queue = append(queue, append(check.State(nil), n...))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			out = append(out, key+": "+line.String())
		}
		shared := guardShared.Load() - before
		if factor && shared != 5 || !factor && shared != 0 {
			t.Errorf("factoring %v: %d disjuncts share a guard, want %d", factor, shared, map[bool]int{true: 5, false: 0}[factor])
		}
		return out
	}
	want, got := successors(false), successors(true)
	if len(want) != 1675 {
		t.Errorf("%d states reached, TLC finds 1,675", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("%d states with the guards shared, %d without", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("state %d:\nshared: %s\nalone:  %s", i, got[i], want[i])
		}
	}
	checkCounts(t, dir, "Guards", guardsMod, 5985, 1675, 7)
}
