package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

const recursiveModule = `---- MODULE Spec ----
EXTENDS Naturals
RECURSIVE Sum(_)
Sum(n) == IF n = 0 THEN 0 ELSE n + Sum(n - 1)
Count(n) == LET RECURSIVE L(_)
                L(k) == IF k = 0 THEN 0 ELSE 1 + L(k - 1)
            IN L(n)
K == 7
INSTANCE Inner
J == INSTANCE Inner WITH K <- 8
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % 4
ASSUME Sum(500) = 125250
ASSUME Count(500) = 500
ASSUME Down(500) = 7 /\ J!Down(500) = 8
Inv == Sum(x + 497) > 0 /\ Count(x + 497) = x + 497 /\ Down(x + 497) + J!Down(x + 497) = 15
====
`

const recursiveInner = `---- MODULE Inner ----
EXTENDS Naturals
CONSTANT K
RECURSIVE Down(_)
Down(n) == IF n = 0 THEN K ELSE Down(n - 1)
====
`

// TestRecursiveOperatorActivation: a RECURSIVE operator runs in an
// activation of its own, whether defined at the top, in a LET or in an
// instanced module (unnamed, with an implicit substitution, and named), so
// that a recursion deeper than the in-place expansion's limit evaluates.
// TLC (with -Xss256m; its default stack overflows) finds no error and 4
// distinct states. Expanded in place, as all recursive operators were,
// compiling dag-consensus' Linearize (which calls the recursive SubDag and
// OrderSet) took minutes and a gigabyte before TLCSailfish1 checked a state.
func TestRecursiveOperatorActivation(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Spec.tla":  recursiveModule,
		"Inner.tla": recursiveInner,
		"Spec.cfg":  "INIT Init\nNEXT Next\nINVARIANT Inv\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := CheckModel(context.Background(), filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg"), check.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != check.Success || res.Distinct != 4 {
		t.Fatalf("%s with %d distinct states, TLC: success with 4", res.Verdict, res.Distinct)
	}
}
