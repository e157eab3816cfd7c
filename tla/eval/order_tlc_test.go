package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/tlctest"
	"github.com/verimeter/verimeter/tla/check"
)

// TestViolationOrderAgainstTLC: where a model stops at its first
// violation, the states found so far depend on the order successors are
// generated in. Two orders of TLC's are checked against TLC itself, one
// worker each: an action's \E over several names varies the first name
// fastest (TLC's ContextEnumerator), and records compare field by field in
// the order the parser first sees the field names (TLC's UniqueString
// table), here ver before by although the model reads r.by first. Each
// target state of each model is a separate run.
func TestViolationOrderAgainstTLC(t *testing.T) {
	tlctest.Path(t) // TLC found, or the test stops here, before any work
	const quant = `---- MODULE Quant ----
EXTENDS Naturals
VARIABLES x, n
Init == x = <<0, 0>> /\ n = 0
Next == n < 1 /\ \E a \in 1..2, b \in 1..3 : x' = <<a, b>> /\ n' = n + 1
Inv == x # TARGET
====
`
	const fields = `---- MODULE Fields ----
EXTENDS Naturals
VARIABLES x, n
Signed(r) == r.by = "key"
Lists == [ver : 1..3, by : {"key", "other"}]
Init == x = [ver |-> 0, by |-> "none"] /\ n = 0
Next == n < 1 /\ \E l \in Lists : x' = l /\ n' = n + 1
Inv == x # TARGET
====
`
	cases := []struct{ module, text, p string }{
		{"Quant", quant, "<<1, 2>>"}, {"Quant", quant, "<<2, 1>>"}, {"Quant", quant, "<<1, 3>>"},
		{"Fields", fields, `[ver |-> 2, by |-> "key"]`}, {"Fields", fields, `[ver |-> 1, by |-> "other"]`}, {"Fields", fields, `[ver |-> 3, by |-> "key"]`},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s_%d", c.module, i), func(t *testing.T) {
			dir := t.TempDir()
			md := model{cfg: c.module + ".cfg", spec: c.module + ".tla"}
			if err := os.WriteFile(filepath.Join(dir, md.spec), []byte(strings.Replace(c.text, "TARGET", c.p, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, md.cfg), []byte("INIT Init\nNEXT Next\nINVARIANT Inv\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			want := runTLC(t, dir, md)
			res, err := CheckModel(context.Background(), filepath.Join(dir, md.spec), filepath.Join(dir, md.cfg), check.Options{Workers: 1})
			if err != nil || res.Verdict != check.InvariantViolated || want.verdict != "safety failure" {
				t.Fatalf("ours %s (%v), TLC %q:\n%s", res.Verdict, err, want.verdict, want.out)
			}
			if res.Distinct != want.distinct || res.Generated != want.generated {
				t.Fatalf("stopped at %s: ours %d distinct, %d generated; TLC %d distinct, %d generated", c.p, res.Distinct, res.Generated, want.distinct, want.generated)
			}
		})
	}
}
