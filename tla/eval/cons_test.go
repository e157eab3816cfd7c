package eval

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// TestConstructorsShared checks that {p} and a record of atoms, made again
// in another expansion by the same worker, are the values made first
// (value.WorkerMemo.Cons), equal to what is made without a worker's memo.
// The memo is direct-mapped by the constructors' addresses, so two of the
// four values may share a slot in a build of the machine (about one in 40)
// and the later evict the earlier: sharing is asked of one of three builds,
// each placed anew.
func TestConstructorsShared(t *testing.T) {
	var unshared []string
	for range 3 {
		if unshared = constructorsShared(t); len(unshared) == 0 {
			return
		}
	}
	t.Error(strings.Join(unshared, "\n"))
}

// consModule makes {p} and a record of atoms in each expansion.
const consModule = `---- MODULE Cons ----
EXTENDS Naturals
VARIABLES x, y
Msg(c) == [type |-> "req", clock |-> c]
Init == x = {} /\ y = <<>>
Next == \E p \in 1 .. 2 : /\ x' = {p}
                          /\ y' = <<Msg(p + 1), {x}>>
====
`

// constructorsShared builds the machine and returns the values made twice;
// other failures end the test.
func constructorsShared(t *testing.T) (unshared []string) {
	t.Helper()
	m := machineFromSource(t, t.TempDir(), "Cons", consModule, "INIT Init\nNEXT Next\n")
	var init check.State
	if err := m.Init(func(s check.State) error { init = append(check.State(nil), s...); return nil }); err != nil {
		t.Fatal(err)
	}
	a := &value.Arena{}
	expand := func() []check.State {
		var out []check.State
		if err := m.NextIntoPending(init, func(s check.State, _ int) error {
			c := append(check.State(nil), s...)
			for i := range c {
				c[i] = value.Materialize(value.Resolve(c[i]))
			}
			out = append(out, c)
			return nil
		}, a); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first, second := expand(), expand()
	var plain []check.State
	if err := m.NextInto(init, func(s check.State, _ int) error { plain = append(plain, append(check.State(nil), s...)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || len(second) != 2 || len(plain) != 2 {
		t.Fatalf("%d, %d and %d successors, want 2", len(first), len(second), len(plain))
	}
	for i := range first {
		if first[i][0] != second[i][0] {
			unshared = append(unshared, fmt.Sprintf("successor %d: {p} made twice (%p, %p)", i, first[i][0], second[i][0]))
		}
		r1 := first[i][1].(*value.Func).RangeAt(0)
		r2 := second[i][1].(*value.Func).RangeAt(0)
		if r1 != r2 {
			unshared = append(unshared, fmt.Sprintf("successor %d: the record made twice (%p, %p)", i, r1, r2))
		}
		if s := first[i][1].(*value.Func).RangeAt(1); s == second[i][1].(*value.Func).RangeAt(1) {
			t.Errorf("successor %d: {x}, a set of a set, shared: not an atom", i)
		}
		for j := range plain[i] {
			if eq, err := value.Equal(first[i][j], plain[i][j]); err != nil || !eq || first[i][j].Hash() != plain[i][j].Hash() {
				t.Errorf("successor %d, variable %d: %s with the memo, %s without", i, j, first[i][j], plain[i][j])
			}
		}
	}
	return unshared
}
