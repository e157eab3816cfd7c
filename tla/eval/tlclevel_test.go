package eval

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// levelSpec uses TLCGet("level") as trace validation does: in the next
// state relation, primed and not, in an ACTION_CONSTRAINT, in an
// invariant that reads no variable (state-level, as in TLC, not a
// constant), in an ASSUME (0), and in the VIEW, which tells apart the
// levels of the two values of x; its POSTCONDITION reads TLCGet("stats").
const levelSpec = `---- MODULE Level ----
EXTENDS Naturals, TLC
VARIABLE x
Init == x = 0
Next == /\ x' = 1 - x
        /\ TLCGet("level") < 6
        /\ TLCGet("level")' = TLCGet("level") + 1
View == <<x, TLCGet("level")>>
LevelInv == TLCGet("level") \in 1..6
Early == TLCGet("level") < 4
StepCons == TLCGet("level") < 6 /\ TLCGet("level")' = TLCGet("level") + 1
EnabledLevel == ENABLED (x' = x /\ TLCGet("level") < 9)
Stay == x' = x /\ TLCGet("level") < 6
Post == LET st == TLCGet("stats") IN st.diameter = 6 /\ st.distinct = 6 /\ st.generated = 6 /\ st.queue = 0
ASSUME TLCGet("level") = 0
====
`

// TestTLCGetLevel: the level of a state as TLC gives it, and the
// POSTCONDITION. TLC on each configuration (run here): with the VIEW, no
// error, 6 distinct states, depth 6; without it, 2 distinct states and
// "Postcondition Post ... is false" (exit 10, as a false ASSUME); with
// the invariant Early, violated at the fourth state of x = 0, 1, 0, 1;
// with NEXT Stay (x' = x) and the VIEW, 6 distinct states, depth 6.
func TestTLCGetLevel(t *testing.T) {
	cfgs := map[string]string{
		"View.cfg":   "INIT Init\nNEXT Next\nVIEW View\nINVARIANT LevelInv\nACTION_CONSTRAINT StepCons\nPOSTCONDITION Post\nCHECK_DEADLOCK FALSE\n",
		"NoView.cfg": "INIT Init\nNEXT Next\nINVARIANT LevelInv\nACTION_CONSTRAINT StepCons\nPOSTCONDITION Post\nCHECK_DEADLOCK FALSE\n",
		"Early.cfg":  "INIT Init\nNEXT Next\nVIEW View\nINVARIANT Early\nCHECK_DEADLOCK FALSE\n",
		"Stay.cfg":   "INIT Init\nNEXT Stay\nVIEW View\nCHECK_DEADLOCK FALSE\n",
	}
	files := map[string]string{"Level.tla": levelSpec}
	for k, v := range cfgs {
		files[k] = v
	}
	dir := writeSpec(t, files)
	sp := filepath.Join(dir, "Level.tla")
	for _, w := range []int{1, 2} {
		res, err := CheckModel(context.Background(), sp, filepath.Join(dir, "View.cfg"), check.Options{Workers: w})
		if err != nil || res.Verdict != check.Success || res.Distinct != 6 || res.Depth != 6 {
			t.Errorf("%d workers, VIEW with the level: %s, %d distinct, depth %d, %v; TLC: success, 6, 6", w, res.Verdict, res.Distinct, res.Depth, err)
		}
		// x' = x changes no variable, but the VIEW tells the levels apart:
		// a new state at each (a trace validation's stuttering step)
		res, err = CheckModel(context.Background(), sp, filepath.Join(dir, "Stay.cfg"), check.Options{Workers: w})
		if err != nil || res.Verdict != check.Success || res.Distinct != 6 || res.Depth != 6 {
			t.Errorf("%d workers, x' = x under the VIEW: %s, %d distinct, depth %d, %v; TLC: success, 6, 6", w, res.Verdict, res.Distinct, res.Depth, err)
		}
		res, err = CheckModel(context.Background(), sp, filepath.Join(dir, "NoView.cfg"), check.Options{Workers: w})
		if !errors.Is(err, ErrAssumption) || !strings.Contains(err.Error(), "postcondition Post is false") || res.Distinct != 2 {
			t.Errorf("%d workers, no VIEW: %s, %d distinct, %v; TLC: postcondition false, 2", w, res.Verdict, res.Distinct, err)
		}
		res, err = CheckModel(context.Background(), sp, filepath.Join(dir, "Early.cfg"), check.Options{Workers: w})
		if err != nil || res.Verdict != check.InvariantViolated || len(res.Trace) != 4 {
			t.Fatalf("%d workers, Early: %s, %d states in the trace, %v; TLC: violated, 4", w, res.Verdict, len(res.Trace), err)
		}
		// The trace's states are made again at their own levels: at the
		// search's, the VIEW's fingerprints would not be found.
		for i, step := range res.Trace {
			if eq, _ := value.Equal(step.State[0], value.Int(i%2)); !eq {
				t.Errorf("%d workers, Early: state %d of the trace has x = %s, want %d", w, i+1, step.State[0], i%2)
			}
		}
	}
}

// TestTLCGetLevelUnknown: under ENABLED (an action on a state of the next
// level) the level is not the one the checker knows, and a model that asks
// for it there is unsupported, not given a guess.
func TestTLCGetLevelUnknown(t *testing.T) {
	dir := writeSpec(t, map[string]string{"Level.tla": levelSpec,
		"Enabled.cfg": "INIT Init\nNEXT Next\nINVARIANT EnabledLevel\nCHECK_DEADLOCK FALSE\n"})
	if _, err := CheckModel(context.Background(), filepath.Join(dir, "Level.tla"), filepath.Join(dir, "Enabled.cfg"), check.Options{Workers: 1}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("TLCGet(\"level\") under ENABLED in an invariant: %v, want unsupported", err)
	}
}

// TestTLCGetLevelSimulation: in simulation a behaviour's states are at
// levels 1, 2, ... as in TLC's (run here with -simulate: the invariant
// Early violated at the fourth state, x = 0, 1, 0, 1; with deadlock
// checked, Next's TLCGet("level") < 6 ends every behaviour in a deadlock
// at its sixth state).
func TestTLCGetLevelSimulation(t *testing.T) {
	dir := writeSpec(t, map[string]string{"Level.tla": levelSpec,
		"Early.cfg": "INIT Init\nNEXT Next\nINVARIANT Early\nCHECK_DEADLOCK FALSE\n",
		"Dead.cfg":  "INIT Init\nNEXT Next\nINVARIANT LevelInv\n"})
	sim := func(c string) check.SimResult {
		t.Helper()
		m, err := LoadModel(filepath.Join(dir, "Level.tla"), filepath.Join(dir, c))
		if err != nil {
			t.Fatal(err)
		}
		res, err := check.Simulate(context.Background(), m, check.SimOptions{Depth: 20, Behaviours: 3, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		return res
	}
	if res := sim("Early.cfg"); res.Verdict != check.InvariantViolated || res.Invariant != "Early" || len(res.Trace) != 4 {
		t.Errorf("Early: %s %s, %d states; TLC: Early violated at state 4", res.Verdict, res.Invariant, len(res.Trace))
	}
	if res := sim("Dead.cfg"); res.Verdict != check.Deadlocked || len(res.Trace) != 6 {
		t.Errorf("Dead: %s, %d states; TLC: deadlock at state 6", res.Verdict, len(res.Trace))
	}
}
