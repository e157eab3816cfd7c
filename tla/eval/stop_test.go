package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// TestStopAmongSuccessors: the invariant fails at the third of five
// successors of the initial state; the checker, which claims a state's
// successors together, stops there as TLC does, as if the two after it had
// not been generated. TLC (1 and 2 workers): Inv violated, 4 states
// generated, 4 distinct, 2 left on the queue, a trace of 2 states.
func TestStopAmongSuccessors(t *testing.T) {
	dir := t.TempDir()
	spec := "---- MODULE Spec ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\n" +
		"Next == \\E i \\in 1..5 : x' = (x + i) % 7\nInv == x # 3\n====\n"
	for f, src := range map[string]string{"Spec.tla": spec, "Spec.cfg": "INIT Init\nNEXT Next\nINVARIANT Inv\n"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []int{1, 2} {
		res, err := CheckModel(context.Background(), filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg"), check.Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != check.InvariantViolated || res.Generated != 4 || res.Distinct != 4 || res.Queue != 2 || len(res.Trace) != 2 {
			t.Errorf("%d workers: %s, %d generated, %d distinct, %d queued, trace of %d; TLC: Inv violated, 4, 4, 2, 2",
				w, res.Verdict, res.Generated, res.Distinct, res.Queue, len(res.Trace))
		}
	}
}
