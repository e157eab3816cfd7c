package eval

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// TestActionSuccessors: an action taken with given arguments is enabled,
// and leads where it should, for exactly the arguments its guard allows;
// unassigned variables keep their values; a bad name or arity is an error.
func TestActionSuccessors(t *testing.T) {
	dir := t.TempDir()
	mod := `---- MODULE ArgAct ----
EXTENDS Naturals
VARIABLES x, y
Kinds == {"disconnect", "other"}
Issue(a, b, k) == /\ k = "disconnect" => a # b
                  /\ x' = x + a + b
Pick(n) == \E d \in 1..n : y' = y + d
Init == x = 0 /\ y = 0
Next == \/ \E a, b \in 1..2, k \in Kinds : Issue(a, b, k) /\ UNCHANGED y
        \/ Pick(2) /\ UNCHANGED x
====
`
	m := machineFromSource(t, dir, "ArgAct", mod, "INIT Init\nNEXT Next\n")
	s := check.State{value.Int(5), value.Int(7)}
	succ := func(name string, args ...value.Value) []check.State {
		t.Helper()
		var out []check.State
		if err := m.ActionSuccessors(name, args, s, func(n check.State) error {
			out = append(out, append(check.State(nil), n...))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		a, b int64
		k    string
		want int64 // x after, or -1 for not enabled
	}{
		{1, 2, "disconnect", 8}, {1, 1, "disconnect", -1}, {2, 2, "disconnect", -1},
		{1, 1, "other", 7}, {2, 1, "other", 8},
	} {
		got := succ("Issue", value.Int(tc.a), value.Int(tc.b), m.Str(tc.k))
		switch {
		case tc.want < 0 && len(got) != 0:
			t.Errorf("Issue(%d, %d, %q) enabled: %v", tc.a, tc.b, tc.k, got)
		case tc.want >= 0 && (len(got) != 1 || got[0][0] != value.Int(tc.want) || got[0][1] != value.Int(7)):
			t.Errorf("Issue(%d, %d, %q) = %v, want x = %d and y unchanged", tc.a, tc.b, tc.k, got, tc.want)
		}
	}
	if got := succ("Pick", value.Int(3)); len(got) != 3 {
		t.Errorf("Pick(3): %d successors, want 3", len(got))
	}
	if err := m.ActionSuccessors("Nope", nil, s, func(check.State) error { return nil }); !errors.Is(err, ErrEval) {
		t.Errorf("unknown action: %v", err)
	}
	if err := m.ActionSuccessors("Pick", nil, s, func(check.State) error { return nil }); !errors.Is(err, ErrEval) {
		t.Errorf("wrong arity: %v", err)
	}
}

// machineFromSource writes module name's source into dir and builds its
// machine with the given .cfg text.
func machineFromSource(t *testing.T, dir, name, src, cfgText string) *Machine {
	t.Helper()
	path := filepath.Join(dir, name+".tla")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Resolve(); err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Parse(name+".cfg", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(spec, c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
