package check

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verimeter/verimeter/tla/value"
)

// propSystem adds properties and fairness to a funcSystem.
type propSystem struct {
	funcSystem
	props []Property
	fair  []Fairness
}

func (p *propSystem) Properties() []Property { return p.props }
func (p *propSystem) Fairness() []Fairness   { return p.fair }

func xIs(n int32) *Temporal {
	return &Temporal{Op: TState, Text: "x = n", State: func(s State) (bool, error) { return s[0].(value.Int) == value.Int(n), nil }}
}

func tnode(op TemporalOp, args ...*Temporal) *Temporal { return &Temporal{Op: op, Args: args} }

// liveCounter: x goes 0 -> 1 -> 2 -> 3 and stops (deadlock unchecked).
func liveCounter(fair bool, live ...*Temporal) *propSystem {
	s := &propSystem{funcSystem: funcSystem{vars: []string{"x"}, init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) {
			if s[0] < 3 {
				emit([]int32{s[0] + 1}, "Inc")
			}
		}}}
	s.props = []Property{{Name: "P", Liveness: live}}
	if fair {
		s.fair = []Fairness{{Name: "WF_x(Inc)",
			Enabled: func(st State) (bool, error) { return st[0].(value.Int) < 3, nil },
			Step:    func(a, b State) (bool, error) { return b[0].(value.Int) == a[0].(value.Int)+1, nil }}}
	}
	return s
}

func TestLivenessForms(t *testing.T) {
	cases := []struct {
		name string
		fair bool
		f    *Temporal
		want Verdict
	}{
		{"<>P unfair", false, tnode(TEventually, xIs(3)), LivenessViolated},
		{"<>P fair", true, tnode(TEventually, xIs(3)), Success},
		{"[]<>P fair", true, tnode(TAlways, tnode(TEventually, xIs(3))), Success},
		{"[]<>P never", true, tnode(TAlways, tnode(TEventually, xIs(1))), LivenessViolated},
		{"<>[]P fair", true, tnode(TEventually, tnode(TAlways, xIs(3))), Success},
		{"~> fair", true, tnode(TLeadsTo, xIs(1), xIs(3)), Success},
		{"~> unfair", false, tnode(TLeadsTo, xIs(1), xIs(3)), LivenessViolated},
		{"[](P => []P)", true, tnode(TAlways, tnode(TImplies, xIs(3), tnode(TAlways, xIs(3)))), Success},
		{"[](P => []P) false", true, tnode(TAlways, tnode(TImplies, xIs(1), tnode(TAlways, xIs(1)))), LivenessViolated},
		{"[]<><<Inc>> fair", true, tnode(TAlways, tnode(TEventually, &Temporal{Op: TAction, Action: func(a, b State) (bool, error) {
			return b[0].(value.Int) == a[0].(value.Int)+1, nil
		}})), LivenessViolated},
	}
	for _, tc := range cases {
		res, err := Run(context.Background(), liveCounter(tc.fair, tc.f), Options{Workers: 2, NoDeadlock: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Verdict != tc.want || res.Distinct != 4 {
			t.Errorf("%s: %s, %d distinct; want %s", tc.name, res.Verdict, res.Distinct, tc.want)
			continue
		}
		if res.Verdict == LivenessViolated {
			if res.Property != "P" || res.CycleStart < 0 || res.CycleStart >= len(res.Trace) || res.Trace[0].Action != InitialAction {
				t.Errorf("%s: bad counterexample %+v", tc.name, res)
			}
		}
	}
	// The unfair counter stops at 2 and stutters, as in TLC's counterexample
	// (states 0, 1, 2, then "Stuttering").
	res, _ := Run(context.Background(), liveCounter(false, tnode(TEventually, xIs(3))), Options{NoDeadlock: true})
	if len(res.Trace) != 4 || res.CycleStart != 2 || res.Trace[3].Action != StutteringAction {
		t.Errorf("unfair counter: trace %+v, cycle at %d", res.Trace, res.CycleStart)
	}
}

func TestLivenessUnsupportedStepPredicate(t *testing.T) {
	step := &Temporal{Op: TAction, Text: "M.tla:3:4", Action: func(a, b State) (bool, error) { return true, nil }}
	// <>A with A a step predicate: its negation []~A is not decided.
	res, err := Run(context.Background(), liveCounter(true, tnode(TEventually, step)), Options{NoDeadlock: true})
	if err == nil || res.Verdict != EvalError || !strings.Contains(err.Error(), "M.tla:3:4") {
		t.Fatalf("got %v, %v", res.Verdict, err)
	}
}

// liveGrid is x, y in 0..n, each step increasing one of them: (n+1)^2 states.
func liveGrid(n int32, live ...*Temporal) *propSystem {
	s := &propSystem{funcSystem: funcSystem{vars: []string{"x", "y"}, init: [][]int32{{0, 0}},
		next: func(s []int32, emit func([]int32, string)) {
			if s[0] < n {
				emit([]int32{s[0] + 1, s[1]}, "IncX")
			}
			if s[1] < n {
				emit([]int32{s[0], s[1] + 1}, "IncY")
			}
		}}}
	s.props = []Property{{Name: "P", Liveness: live}}
	return s
}

// TestLivenessDuringSearch: with checks during the search, a violation
// near the initial states stops the run long before the space is
// explored; checked only afterwards, the same violation costs the whole
// space. Fair cycles the unexplored states would break are not reported:
// a property that holds still holds with a check at every level.
func TestLivenessDuringSearch(t *testing.T) {
	xIsN := &Temporal{Op: TState, Text: "x = 100", State: func(s State) (bool, error) { return s[0].(value.Int) == 100, nil }}
	early, err := Run(context.Background(), liveGrid(100, tnode(TEventually, xIsN)), Options{Workers: 1, NoDeadlock: true, LivenessEvery: time.Nanosecond})
	if err != nil || early.Verdict != LivenessViolated || early.Distinct > 10 || early.Queue == 0 {
		t.Fatalf("during the search: %s after %d states (queue %d), %v", early.Verdict, early.Distinct, early.Queue, err)
	}
	t.Logf("during the search: stopped after %d states, queue %d", early.Distinct, early.Queue)
	if early.Trace[0].Action != InitialAction || early.Trace[len(early.Trace)-1].Action != StutteringAction {
		t.Fatalf("counterexample %+v", early.Trace)
	}
	late, err := Run(context.Background(), liveGrid(100, tnode(TEventually, xIsN)), Options{Workers: 1, NoDeadlock: true, LivenessEvery: -1})
	if err != nil || late.Verdict != LivenessViolated || late.Distinct != 101*101 {
		t.Fatalf("after the search: %s after %d states, %v", late.Verdict, late.Distinct, err)
	}
	// The fair counter: at each level its last explored state has Inc
	// enabled with its successor not explored yet; no check may take that
	// state's stuttering for a fair cycle, with ENABLED decided on the
	// state or on the graph.
	for _, onGraph := range []bool{false, true} {
		sys := liveCounter(true, tnode(TEventually, xIs(3)))
		if onGraph {
			sys.fair[0].Enabled = func(State) (bool, error) { return false, ErrEnabledBySuccessors }
		}
		res, err := Run(context.Background(), sys, Options{Workers: 1, NoDeadlock: true, LivenessEvery: time.Nanosecond})
		if err != nil || res.Verdict != Success || res.Distinct != 4 {
			t.Fatalf("ENABLED on the graph %v: %s, %d distinct, %v", onGraph, res.Verdict, res.Distinct, err)
		}
	}
	// ENABLED of an action Next does not take (x' = 3 from anywhere),
	// decided on the graph: true only once x = 3 is stored. A check before
	// that must not take it for disabled and report the stuttering at 0.
	sys := liveCounter(false, tnode(TEventually, xIs(3)))
	sys.fair = []Fairness{{Name: "WF_x(Jump)",
		Enabled: func(State) (bool, error) { return false, ErrEnabledBySuccessors },
		Step:    func(a, b State) (bool, error) { return a[0].(value.Int) != 3 && b[0].(value.Int) == 3, nil }}}
	res, err := Run(context.Background(), sys, Options{Workers: 1, NoDeadlock: true, LivenessEvery: time.Nanosecond})
	if err != nil || res.Verdict != Success || res.Distinct != 4 {
		t.Fatalf("ENABLED decided on part of the graph: %s, %d distinct, %v", res.Verdict, res.Distinct, err)
	}
}

// TestLivenessChecksShareValues: the checks during the search and the
// last one evaluate a formula's predicate once per state, not once per
// check: what depends on a state alone is kept from one check to the next.
func TestLivenessChecksShareValues(t *testing.T) {
	var calls atomic.Int64
	nonNeg := &Temporal{Op: TState, Text: "x >= 0", State: func(s State) (bool, error) {
		calls.Add(1)
		return s[0].(value.Int) >= 0, nil
	}}
	// []<>(x >= 0) holds: every check (one per level, the explored part
	// growing by more than a tenth) decides it on all the states so far.
	res, err := Run(context.Background(), liveGrid(30, tnode(TAlways, tnode(TEventually, nonNeg))), Options{Workers: 1, NoDeadlock: true, LivenessEvery: time.Nanosecond})
	if err != nil || res.Verdict != Success || res.Distinct != 31*31 {
		t.Fatalf("%s with %d states, %v", res.Verdict, res.Distinct, err)
	}
	if n := calls.Load(); n > res.Distinct {
		t.Fatalf("the predicate was evaluated %d times on %d states", n, res.Distinct)
	}
}

// TestEnabledSearchSubscriptOnce: ENABLED <<A>>_v decided on the graph
// searches every stored state for a step from each state; given the step
// in its parts (AngleStep), v is evaluated once per state, not once per
// pair, and the verdict is the one Step alone gives.
func TestEnabledSearchSubscriptOnce(t *testing.T) {
	const n = 20
	at := func(s State, x, y value.Int) bool { return s[0].(value.Int) == x && s[1].(value.Int) == y }
	var subs atomic.Int64
	jump := &AngleStep{
		Sub: func(s State) (value.Value, error) {
			subs.Add(1)
			return value.Tuple(s[0], s[1]), nil
		},
		Same: value.Equal,
		Act:  func(_, t State) (bool, error) { return at(t, n, n), nil },
	}
	for _, parts := range []bool{false, true} {
		subs.Store(0)
		// <>(x = n /\ y = n) under WF(Jump to (n, n)): Jump is enabled
		// everywhere else, so every fair behaviour gets there.
		top := &Temporal{Op: TState, Text: "x = y = n", State: func(s State) (bool, error) { return at(s, n, n), nil }}
		sys := liveGrid(n, tnode(TEventually, top))
		sys.fair = []Fairness{{Name: "WF_xy(Jump)",
			Enabled: func(State) (bool, error) { return false, ErrEnabledBySuccessors },
			Step:    jump.Step}}
		if parts {
			sys.fair[0].Angle = jump
		}
		res, err := Run(context.Background(), sys, Options{Workers: 1, NoDeadlock: true, LivenessEvery: -1})
		if err != nil || res.Verdict != Success || res.Distinct != (n+1)*(n+1) {
			t.Fatalf("in parts %v: %s, %d distinct, %v", parts, res.Verdict, res.Distinct, err)
		}
		if got := subs.Load(); parts && got > res.Distinct {
			t.Fatalf("v was evaluated %d times on %d states", got, res.Distinct)
		} else if !parts && got <= res.Distinct {
			t.Fatalf("Step alone evaluated v %d times on %d states: the search did not run", got, res.Distinct)
		}
	}
}
