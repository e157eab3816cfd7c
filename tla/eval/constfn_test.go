package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

const constFnModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets
VARIABLE x, y
Host[p \in 1..6] == CHOOSE S \in SUBSET (1..8) : Cardinality(S) = p /\ \A i \in S : i <= p + 2
Shift[i \in 0..5] == (x + i) % 6
Init == x = 0 /\ y = 0
Next == /\ x' = (x + 1) % 6
        /\ y' = Cardinality(Host[x + 1]) + Shift[y % 6]
Inv == y <= 12
====
`

// TestConstantFunctionDefinition: a top-level function definition that
// reads no variable (Host) keeps its value per argument, as TLC evaluates
// a constant definition once; one that reads a variable (Shift) is
// evaluated at each application. TLC: no error, 7 distinct states.
func TestConstantFunctionDefinition(t *testing.T) {
	dir := t.TempDir()
	sp, cp := filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg")
	if err := os.WriteFile(sp, []byte(constFnModule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte("INIT Init\nNEXT Next\nINVARIANT Inv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(sp, cp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Run(context.Background(), m, check.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != check.Success || res.Distinct != 7 {
		t.Fatalf("%s with %d distinct states, TLC: success with 7", res.Verdict, res.Distinct)
	}
	kept := map[string]int{}
	for key, ru := range m.prog.c.recs {
		kept[key.d.Name] += ru.memo.n
	}
	if kept["Host"] != 6 || kept["Shift"] != 0 {
		t.Fatalf("values kept: Host %d (want its 6 arguments), Shift %d (reads x: want 0)", kept["Host"], kept["Shift"])
	}
}
