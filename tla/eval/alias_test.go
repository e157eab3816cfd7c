package eval

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

const aliasSpec = `---- MODULE Al ----
EXTENDS Naturals, TLC
VARIABLES x, y
Init == x = 0 /\ y = "a"
Next == x' = x + 1 /\ y' = y
Inv == x < 3
Div == [zz |-> x, d |-> 10 \div (2 - x), l |-> TLCGet("level"), nl |-> TLCGet("level")']
Fn == [s \in {"q"} |-> x]
Tup == <<x, y>>
====
`

// TestApplyAlias: a counterexample's states through the ALIAS as TLC
// shows them (see also cmd/verimeter's TestTraceTextMatchesTLC, which
// compares the printed traces with TLC's): the record's fields in their
// order, the next state's values primed (the last state's next is itself),
// the levels 1, 2, ... of the trace's states; an evaluation error keeps the
// variables and adds the error as _ALIASEvalError (TLC: x = 2 fails on
// 10 \div 0); a function of strings is a record; another value leaves the
// variables.
func TestApplyAlias(t *testing.T) {
	dir := writeSpec(t, map[string]string{
		"Al.tla":  aliasSpec,
		"Div.cfg": "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Div\n",
		"Fn.cfg":  "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Fn\n",
		"Tup.cfg": "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Tup\n",
		"No.cfg":  "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Missing\n",
	})
	run := func(c string) check.Result {
		t.Helper()
		res, err := CheckModel(context.Background(), filepath.Join(dir, "Al.tla"), filepath.Join(dir, c), check.Options{Workers: 1})
		if err != nil || res.Verdict != check.InvariantViolated || len(res.Trace) != 4 || len(res.Shown) != 4 {
			t.Fatalf("%s: %s, %d states, %d shown, %v", c, res.Verdict, len(res.Trace), len(res.Shown), err)
		}
		return res
	}
	lines := func(s check.ShownState) string {
		var b []string
		for i, n := range s.Names {
			b = append(b, n+"="+s.Values[i].String())
		}
		return strings.Join(b, " ")
	}
	res := run("Div.cfg")
	want := []string{"zz=0 d=5 l=1 nl=2", "zz=1 d=10 l=2 nl=3", `x=2 y="a" _ALIASEvalError=`, "zz=3 d=-10 l=4 nl=4"}
	for i, s := range res.Shown {
		if got := lines(s); !strings.HasPrefix(got, want[i]) {
			t.Errorf("Div, state %d: %s, want %s", i+1, got, want[i])
		}
	}
	if got := lines(res.Shown[2]); !strings.Contains(got, `\\div`) {
		t.Errorf("Div, state 3: the error's text is not shown: %s", got)
	}
	if got := lines(run("Fn.cfg").Shown[3]); got != "q=3" {
		t.Errorf("Fn, state 4: %s, want q=3", got)
	}
	if got := lines(run("Tup.cfg").Shown[3]); got != `x=3 y="a"` {
		t.Errorf("Tup, state 4: %s, want the variables", got)
	}
	_, err := CheckModel(context.Background(), filepath.Join(dir, "Al.tla"), filepath.Join(dir, "No.cfg"), check.Options{Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "ALIAS Missing is not defined") {
		t.Errorf("undefined ALIAS: %v", err)
	}
}

// TestActionLabels: a step's label is TLC's (the action's arguments and
// span; cmd/verimeter's TestTraceTextMatchesTLC compares whole traces with
// TLC's), and once maxLabelChecks actions have been tried on a trace the
// steps left keep their names.
func TestActionLabels(t *testing.T) {
	dir := writeSpec(t, map[string]string{
		"Lb.tla": `---- MODULE Lb ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Step(i) == i = 20 /\ x' = x + 1
Next == \E i \in 1..20 : Step(i)
Inv == x < 3
====
`,
		"Lb.cfg": "INIT Init\nNEXT Next\nINVARIANT Inv\n",
	})
	check1 := func() check.Result {
		t.Helper()
		res, err := CheckModel(context.Background(), filepath.Join(dir, "Lb.tla"), filepath.Join(dir, "Lb.cfg"), check.Options{Workers: 1})
		if err != nil || res.Verdict != check.InvariantViolated || len(res.Labels) != 4 {
			t.Fatalf("%s, %d labels, %v", res.Verdict, len(res.Labels), err)
		}
		return res
	}
	want := "Step(20) line 5, col 12 to line 5, col 31 of module Lb"
	if res := check1(); res.Labels[3] != want {
		t.Errorf("label %q, want %q", res.Labels[3], want)
	}
	defer func(n int) { maxLabelChecks = n }(maxLabelChecks)
	maxLabelChecks = 25 // enough for the first step only
	res := check1()
	if res.Labels[1] != want || res.Labels[2] != "Step" || res.Labels[3] != "Step" {
		t.Errorf("with a budget of 25: %q, want the first step labelled and the others named", res.Labels)
	}
}
