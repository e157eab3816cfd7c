package eval

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
)

// checkCfg runs the module file with the configuration text.
func checkCfg(t *testing.T, file, config string) check.Result {
	t.Helper()
	spec, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Resolve(); err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Parse("T.cfg", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(spec, c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Run(context.Background(), m, check.Options{Workers: 2, NoDeadlock: m.NoDeadlock})
	if err != nil {
		t.Fatalf("%s: %v", config, err)
	}
	return res
}

// The verdicts and counts of these cases are TLC's (2.19) on the same files.
func TestTemporalProperties(t *testing.T) {
	dir := filepath.Join("testdata", "liveness")
	cases := []struct {
		module, config string
		verdict        check.Verdict
		distinct       int64
		property       string
	}{
		// A counter without fairness may stop: <>(x = 3) fails by stuttering.
		{"Counter", "SPECIFICATION Spec\nCHECK_DEADLOCK FALSE\nPROPERTY Reach\n", check.LivenessViolated, 4, "Reach"},
		// With WF_x(Next) every form holds.
		{"Counter", "SPECIFICATION FairSpec\nCHECK_DEADLOCK FALSE\nPROPERTY Reach Stay Inf Lead Inc Pos Start Imp Stable\n", check.Success, 4, ""},
		{"Counter", "SPECIFICATION FairSpec\nCHECK_DEADLOCK FALSE\nPROPERTY Dec\n", check.InvariantViolated, 2, "Dec"},
		{"Counter", "SPECIFICATION FairSpec\nCHECK_DEADLOCK FALSE\nPROPERTY Bad\n", check.InvariantViolated, 4, ""},
		{"Counter", "SPECIFICATION FairSpec\nCHECK_DEADLOCK FALSE\nPROPERTY Never\n", check.LivenessViolated, 4, "Never"},
		// B is enabled only every other state: weak fairness does not force it, strong does.
		{"Toggle", "SPECIFICATION WFSpec\nPROPERTY P\n", check.LivenessViolated, 4, "P"},
		{"Toggle", "SPECIFICATION SFSpec\nPROPERTY P\n", check.Success, 4, ""},
		{"Toggle", "SPECIFICATION SFSpec\nPROPERTY Q\n", check.LivenessViolated, 4, "Q"},
		{"Toggle", "SPECIFICATION SFSpec\nPROPERTY R\n", check.Success, 4, ""},
	}
	for _, tc := range cases {
		res := checkCfg(t, filepath.Join(dir, tc.module+".tla"), tc.config)
		if res.Verdict != tc.verdict || res.Distinct != tc.distinct || tc.property != "" && res.Property != tc.property && res.Invariant != tc.property {
			t.Errorf("%s %q: got %s (%s%s), %d distinct; want %s, %d", tc.module, tc.config, res.Verdict, res.Property, res.Invariant, res.Distinct, tc.verdict, tc.distinct)
			continue
		}
		if res.Verdict == check.LivenessViolated {
			if res.CycleStart < 0 || res.CycleStart >= len(res.Trace) || res.Trace[0].Action != check.InitialAction {
				t.Errorf("%s %q: bad counterexample: cycle start %d of %d", tc.module, tc.config, res.CycleStart, len(res.Trace))
			}
			for i, st := range res.Trace {
				t.Logf("%s %s: %d %s %v", tc.module, tc.property, i, st.Action, st.State)
			}
			t.Logf("back to %d", res.CycleStart)
		}
	}
}

// Refinement through INSTANCE ... WITH (also parameterized): TLC's verdicts
// and counts on the same files. Lazy stops anywhere, so the abstract weak
// fairness fails; B maps y to x itself and takes steps Abs forbids.
func TestRefinementProperties(t *testing.T) {
	file := filepath.Join("testdata", "refine", "Conc.tla")
	cases := []struct {
		spec, prop string
		verdict    check.Verdict
		distinct   int64
	}{
		{"Spec", "ASpec", check.Success, 6},
		{"Lazy", "ASpec", check.LivenessViolated, 6},
		{"Spec", "BSpec", check.InvariantViolated, 4},
		{"Spec", "HSpec", check.Success, 6},
	}
	for _, tc := range cases {
		res := checkCfg(t, file, "SPECIFICATION "+tc.spec+"\nCHECK_DEADLOCK FALSE\nPROPERTY "+tc.prop+"\n")
		if res.Verdict != tc.verdict || res.Distinct != tc.distinct {
			t.Errorf("%s with %s: %s, %d distinct; TLC: %s, %d", tc.spec, tc.prop, res.Verdict, res.Distinct, tc.verdict, tc.distinct)
		}
	}
}

// TestAngleActionSubscriptFirst: <<A>>_v on a step is decided as TLC
// decides it, by the subscript first: on a step that leaves v unchanged it
// is FALSE without evaluating A (here 1 \div 0, which would stop the run
// with an error). TLC: Live violated, 3 distinct states.
func TestAngleActionSubscriptFirst(t *testing.T) {
	runFeature(t, featureCase{name: "<<A>>_v, v unchanged", spec: `---- MODULE Spec ----
EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == x' = (x + 1) % 3 /\ y' = y
A == 1 \div (x - x) = 1
Spec == Init /\ [][Next]_<<x, y>>
Live == []<><<A>>_y
====
`, cfg: "SPECIFICATION Spec\nPROPERTY Live\n", verdict: check.LivenessViolated, distinct: 3})
}
