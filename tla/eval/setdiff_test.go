package eval

import (
	"os"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// TestRemoveElem: S \ {e} for a constant S (Proc \ {p}, answered from the
// occurrence's memory after the first time) and for a state's sets (s \
// {owner}, (Proc \ s) \ {owner}: other sets with the same e). TLC: 320
// distinct states, 1921 generated, depth 9, no error.
func TestRemoveElem(t *testing.T) {
	spec, err := os.ReadFile("testdata/setdiff/Spec.tla")
	if err != nil {
		t.Fatal(err)
	}
	runFeature(t, featureCase{name: "S \\ {e}", spec: string(spec), cfg: "CONSTANT Proc = {p1, p2, p3, p4}\nINIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 320})
}
