package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/value"
)

// TestSimulateFindsDieHardSolution: random walks of the jugs puzzle reach
// big = 4; the counterexample is a real behaviour (each step one of Next's
// successors of the state before) ending in the violating state.
func TestSimulateFindsDieHardSolution(t *testing.T) {
	sys := dieHard()
	res, err := Simulate(context.Background(), sys, SimOptions{Depth: 50, Behaviours: 10000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != InvariantViolated || res.Invariant != "NotSolved" {
		t.Fatalf("%+v", res.Result)
	}
	checkBehaviour(t, sys, res.Trace)
	if last := ints(res.Trace[len(res.Trace)-1].State); last[0] != 4 {
		t.Fatalf("last state %v", last)
	}
	if res.Behaviours < 1 || res.Generated < int64(len(res.Trace)) {
		t.Fatalf("counts %+v", res)
	}
}

// checkBehaviour fails unless trace starts in an initial state and each
// step is a successor Next generates under the step's action name.
func checkBehaviour(t *testing.T, sys *funcSystem, trace []TraceStep) {
	t.Helper()
	if len(trace) == 0 || trace[0].Action != InitialAction {
		t.Fatalf("trace %v", trace)
	}
	found := false
	for _, s := range sys.init {
		found = found || fmt.Sprint(s) == fmt.Sprint(ints(trace[0].State))
	}
	if !found {
		t.Fatalf("first state %v is not initial", trace[0].State)
	}
	for i := 1; i < len(trace); i++ {
		ok := false
		sys.next(ints(trace[i-1].State), func(n []int32, a string) {
			ok = ok || a == trace[i].Action && fmt.Sprint(n) == fmt.Sprint(ints(trace[i].State))
		})
		if !ok {
			t.Fatalf("step %d (%s %v) is no successor of %v", i, trace[i].Action, trace[i].State, trace[i-1].State)
		}
	}
}

// TestSimulateSameSeedSameRun: a run is repeatable from its seed, and
// another seed walks elsewhere.
func TestSimulateSameSeedSameRun(t *testing.T) {
	walk := &funcSystem{vars: []string{"x"}, init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) {
			emit([]int32{s[0] + 1}, "Up")
			emit([]int32{s[0] - 1}, "Down")
		}}
	run := func(seed uint64) SimResult {
		res, err := Simulate(context.Background(), walk, SimOptions{Depth: 30, Behaviours: 20, Seed: seed})
		if err != nil || res.Verdict != Success || res.Behaviours != 20 || res.Depth != 30 {
			t.Fatalf("%+v %v", res, err)
		}
		// 30 states a behaviour, 2 successors generated from each but the last.
		if res.Generated != 1+20*29*2 {
			t.Fatalf("generated %d", res.Generated)
		}
		return res
	}
	walk.invs = []Invariant{{Name: "Band", Holds: func(s State) (bool, error) { return s[0].(value.Int) > -30, nil }}}
	a, b := run(5), run(5)
	if a.Seconds <= 0 {
		t.Fatalf("no time measured: %v", a.Seconds)
	}
	a.Seconds, b.Seconds = 0, 0
	if fmt.Sprint(a.Result) != fmt.Sprint(b.Result) {
		t.Fatal("the same seed gave different runs")
	}
	differ := false
	for seed := uint64(6); seed < 10 && !differ; seed++ {
		walk.invs = []Invariant{{Name: "Tiny", Holds: func(s State) (bool, error) { return s[0].(value.Int) > -3 && s[0].(value.Int) < 3, nil }}}
		x, _ := Simulate(context.Background(), walk, SimOptions{Depth: 30, Behaviours: 20, Seed: 5})
		y, _ := Simulate(context.Background(), walk, SimOptions{Depth: 30, Behaviours: 20, Seed: seed})
		differ = fmt.Sprint(x.Trace) != fmt.Sprint(y.Trace)
	}
	if !differ {
		t.Fatal("four other seeds gave the same counterexample")
	}
}

// TestSimulateDeadlockAndConstraints: a behaviour that ends with no
// successor is a deadlock unless NoDeadlock; successors outside the
// constraints are never taken (the walk ends there), yet every generated
// state is checked against the invariants.
func TestSimulateDeadlockAndConstraints(t *testing.T) {
	line := &funcSystem{vars: []string{"x"}, init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) {
			if s[0] < 3 {
				emit([]int32{s[0] + 1}, "Step")
			}
		}}
	res, err := Simulate(context.Background(), line, SimOptions{Behaviours: 3, Seed: 1})
	if err != nil || res.Verdict != Deadlocked || len(res.Trace) != 4 || ints(res.Trace[3].State)[0] != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = Simulate(context.Background(), line, SimOptions{Behaviours: 3, Seed: 1, NoDeadlock: true})
	if err != nil || res.Verdict != Success || res.Behaviours != 3 || res.Depth != 4 || res.Generated != 1+3*3 {
		t.Fatalf("%+v %v", res, err)
	}
	c := counter()
	c.init = [][]int32{{0}}
	res, err = Simulate(context.Background(), c, SimOptions{Behaviours: 200, Seed: 2})
	if err != nil || res.Verdict != Success || res.Depth > 11 {
		t.Fatalf("a walk left the constraint: %+v %v", res, err)
	}
	c.invs = []Invariant{{Name: "Small", Holds: func(s State) (bool, error) { return s[0].(value.Int) < 12, nil }}}
	res, err = Simulate(context.Background(), c, SimOptions{Behaviours: 200, Seed: 2})
	if err != nil || res.Verdict != InvariantViolated || ints(res.Trace[len(res.Trace)-1].State)[0] != 12 {
		t.Fatalf("a state outside the constraint was not checked: %+v %v", res, err)
	}
}

// TestSimulateErrorsAndCancel: an evaluation error stops the run with its
// behaviour; an unbounded run ends normally when its context ends.
func TestSimulateErrorsAndCancel(t *testing.T) {
	sys := counter()
	sys.invs = []Invariant{{Name: "Boom", Holds: func(s State) (bool, error) {
		if s[0].(value.Int) == 4 {
			return false, errBoom
		}
		return true, nil
	}}}
	res, err := Simulate(context.Background(), sys, SimOptions{Behaviours: 100, Seed: 3})
	if !errors.Is(err, errBoom) || res.Verdict != EvalError || ints(res.Trace[len(res.Trace)-1].State)[0] != 4 {
		t.Fatalf("%+v %v", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	walk := &funcSystem{vars: []string{"x"}, init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) { emit(s, "Stay") }}
	n := 0
	walk.invs = []Invariant{{Name: "Stop", Holds: func(State) (bool, error) {
		if n++; n == 500 {
			cancel()
		}
		return true, nil
	}}}
	res, err = Simulate(ctx, walk, SimOptions{Depth: 10, Seed: 4})
	if err != nil || res.Verdict != Success || res.Behaviours < 40 {
		t.Fatalf("%+v %v", res, err)
	}
}

var dotNode = regexp.MustCompile(`^(-?\d+) \[label="((?:[^"\\]|\\.)*)"(,style = filled)?\]$`)
var dotEdge = regexp.MustCompile(`^(-?\d+) -> (-?\d+) \[label="((?:[^"\\]|\\.)*)",color="black",fontcolor="black"\];$`)

// TestDumpIsTheStateGraph parses the DOT back: a node per distinct state
// (the counts of Run), the initial state filled, an edge per distinct step
// with its action, every edge between drawn nodes; a label with quotes
// stays one string.
func TestDumpIsTheStateGraph(t *testing.T) {
	sys := dieHard()
	sys.invs = nil
	var b bytes.Buffer
	if err := Dump(context.Background(), sys, &b, DumpOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), sys, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if lines[0] != "strict digraph DiskGraph {" || lines[len(lines)-1] != "}" {
		t.Fatalf("not a digraph: %q … %q", lines[0], lines[len(lines)-1])
	}
	nodes, filled := map[string]string{}, 0
	edges := map[string]bool{}
	for _, l := range lines[4 : len(lines)-2] {
		if m := dotNode.FindStringSubmatch(l); m != nil {
			nodes[m[1]] = m[2]
			if m[3] != "" {
				filled++
			}
			continue
		}
		m := dotEdge.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q", l)
		}
		edges[m[1]+">"+m[2]+":"+m[3]] = true
		if nodes[m[1]] == "" || nodes[m[2]] == "" {
			t.Fatalf("edge %q before its nodes", l)
		}
	}
	if int64(len(nodes)) != res.Distinct || filled != 1 || nodes[fmt.Sprint(int64(Fingerprint(toState([]int32{0, 0}))))] != `/\\ big = 0\n/\\ small = 0` {
		t.Fatalf("%d nodes (want %d), %d filled: %v", len(nodes), res.Distinct, filled, nodes)
	}
	want := 0
	for _, label := range nodes {
		var big, small int32
		fmt.Sscanf(strings.ReplaceAll(label, `\n`, " "), `/\\ big = %d /\\ small = %d`, &big, &small)
		seen := map[string]bool{}
		sys.next([]int32{big, small}, func(n []int32, a string) {
			k := fmt.Sprint(int64(Fingerprint(toState([]int32{big, small})))) + ">" + fmt.Sprint(int64(Fingerprint(toState(n)))) + ":" + a
			if !seen[k] {
				seen[k] = true
				want++
				if !edges[k] {
					t.Errorf("missing edge %s", k)
				}
			}
		})
	}
	if len(edges) != want {
		t.Fatalf("%d edges, want %d", len(edges), want)
	}
	if got := dotString("a \"b\"\\c\nd"); got != `"a \"b\"\\c\nd"` {
		t.Fatalf("dotString %s", got)
	}
	if err := Dump(context.Background(), sys, &b, DumpOptions{MaxStates: 5}); !errors.Is(err, ErrDumpTooLarge) {
		t.Fatalf("cap: %v", err)
	}
}
