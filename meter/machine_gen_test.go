package meter

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/tla/check"
)

var writeGen = flag.Bool("write", false, "rewrite machine_gen.go when it is stale")

// TestMachineGenUpToDate regenerates the meter's machines in memory and
// fails when the committed file differs (go/types' generate_test.go style);
// -write updates it.
func TestMachineGenUpToDate(t *testing.T) {
	files, _, err := gen.Generate(specDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := gen.Stale("..", files, *writeGen)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 && !*writeGen {
		t.Fatalf("stale generated files %v: run `go generate ./meter` or `go test ./meter -run MachineGen -write`", stale)
	}
}

// diffWalkLen and diffChecks make the random walks: every step checks every
// event of the role against the spec, then takes a random action of the
// whole model.
const (
	diffWalkLen = 100
	diffChecks  = 100
)

// TestDiffMachineRandom drives each generated meter machine and the TLA+
// evaluator on the same random walks of the module's model (any role's
// actions, rapid choosing) and checks, after every step, the full state of
// the role, the messages and the enabledness of every event.
func TestDiffMachineRandom(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.module, func(t *testing.T) {
			h := newHarness(t, ad, ad.wide)
			init := h.initState(t)
			if err := h.compare(ad.init(), init); err != nil {
				t.Fatalf("Init: %v", err)
			}
			rapid.Check(t, func(rt *rapid.T) {
				es, gs := init, ad.init()
				for i := 0; i < diffWalkLen; i++ {
					var ok bool
					var err error
					es, gs, ok, err = h.walk(rt, es, gs, func(n int) int {
						return rapid.IntRange(0, n-1).Draw(rt, "move")
					})
					if err != nil {
						rt.Fatalf("step %d: %v", i, err)
					}
					if !ok {
						return
					}
				}
			})
			t.Logf("%s: %d steps, %d Step calls (%d refused by a guard, %d only by a dropped model bound); foreign writes to the meter's state: %v",
				ad.module, h.steps, h.stepCalls, h.refused, h.boundOnly, h.foreign)
			if os.Getenv("VERIMETER_MUTANT_CHILD") == "" && !testing.Short() && h.steps < 10000 {
				t.Errorf("only %d differential steps, want >= 10000", h.steps)
			}
		})
	}
}

// TestDiffMachineExhaustive checks, for every reachable state of the small
// model and every event of the role, that Step gives the evaluator's
// successor (or refuses exactly when the action is not enabled).
func TestDiffMachineExhaustive(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.module, func(t *testing.T) {
			h := newHarness(t, ad, nil)
			init := h.initState(t)
			key := func(s check.State) string {
				var b strings.Builder
				for _, v := range s {
					b.WriteString(canonVal(v))
					b.WriteByte(';')
				}
				return b.String()
			}
			seen := map[string]bool{key(init): true}
			queue := []check.State{init}
			for len(queue) > 0 {
				es := queue[0]
				queue = queue[1:]
				succs := h.successors(t, es)
				if _, err := h.checkState(es, h.project(es), succs); err != nil {
					t.Fatalf("state %s: %v", key(es), err)
				}
				for _, s := range succs {
					if k := key(s.state); !seen[k] {
						seen[k] = true
						queue = append(queue, s.state)
					}
				}
			}
			t.Logf("%s: %d reachable states, %d Step calls checked", ad.module, len(seen), h.stepCalls)
		})
	}
}

// TestDiffCatchesMutants is the test of the tests: a generated machine with
// one guard flipped, or one assignment changed, must make the differential
// tests fail. It rebuilds this package with the mutated file in place
// (go test -overlay) and runs them in a child process.
func TestDiffCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package once per mutant")
	}
	if os.Getenv("VERIMETER_MUTANT_CHILD") != "" {
		t.Skip("in a mutant child")
	}
	for _, mut := range []gen.Mutation{
		{Action: "Seal", Guard: 1},         // Channel: next < reserved flipped
		{Action: "Reserve", Guard: 1},      // Channel: next = reserved flipped
		{Action: "Take", Assign: "taken"},  // Collection: taken' = taken + 1 + 1
		{Action: "Seal", Assign: "next"},   // Channel: next' = next + 1 + 1
		{Action: "Crash", Assign: "next"},  // Channel: next' = reserved + 1
		{Action: "Execute", Guard: 1},      // Commands: m.by = "headend" flipped
		{Action: "Execute", Guard: 2},      // Commands: m.id > last flipped
		{Action: "Execute", Assign: "ran"}, // Commands: ran' = <<>>
	} {
		t.Run(fmt.Sprintf("%s-%d-%s", mut.Action, mut.Guard, mut.Assign), func(t *testing.T) {
			t.Parallel()
			files, _, err := gen.Generate(specDir, &mut)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			mutated := filepath.Join(dir, "machine_gen.go")
			if err := os.WriteFile(mutated, files[0].Src, 0o644); err != nil {
				t.Fatal(err)
			}
			abs, err := filepath.Abs("machine_gen.go")
			if err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: mutated}})
			ov := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(ov, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", "test", "-overlay", ov, "-count=1", "-run", "TestDiffMachine", ".", "-rapid.nofailfile")
			cmd.Env = append(os.Environ(), "VERIMETER_MUTANT_CHILD=1")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("mutant %+v: the differential tests pass on it\n%s", mut, out)
				return
			}
			if !strings.Contains(string(out), "--- FAIL: TestDiffMachine") {
				t.Errorf("mutant %+v: the child failed for another reason:\n%s", mut, out)
				return
			}
			t.Logf("mutant %+v caught", mut)
		})
	}
}
