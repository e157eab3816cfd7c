package eval

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// TestPortedConstructs checks, on one small spec, the constructs ported
// from the tree-walking evaluator to the compiled one: instances in Next
// (named with a substitution as assignment target, parameterized, unnamed),
// assignment through an operator argument, Def!n, SelectSeq with a LAMBDA
// and with an operator, ENABLED of an instance's action, UNION {..} and
// r \in [f : S]. The counts are TLC's (-workers 1) on the same files.
func TestPortedConstructs(t *testing.T) {
	src, err := readFile(filepath.Join("testdata", "compiled", "Mix.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	res := checkCfg(t, filepath.Join("testdata", "compiled", "Mix.tla"), src)
	if res.Verdict != check.Success || res.Distinct != 12 || res.Generated != 22 || res.Depth != 6 {
		t.Fatalf("got %s (%s), %d distinct, %d generated, depth %d; TLC: success, 12, 22, 6",
			res.Verdict, res.Error, res.Distinct, res.Generated, res.Depth)
	}
	// ENABLED C!Inc is false once x = 3.
	bad, err := readFile(filepath.Join("testdata", "compiled", "MixBad.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	res = checkCfg(t, filepath.Join("testdata", "compiled", "Mix.tla"), bad)
	if res.Verdict != check.InvariantViolated || res.Distinct != 7 || res.Generated != 8 || res.Depth != 4 || res.Queue != 2 {
		t.Fatalf("got %s (%s), %d distinct, %d generated, depth %d, queue %d; TLC: AlwaysEnabled violated, 7, 8, 4, 2",
			res.Verdict, res.Error, res.Distinct, res.Generated, res.Depth, res.Queue)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
