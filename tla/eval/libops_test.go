package eval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

const libraryModule = `---- MODULE Spec ----
EXTENDS Naturals, TLC, TLCExt, Json, IOUtils, Randomization, DyadicRationals
VARIABLE x
Init == x = One
Next == x' = IF x.den < 16 THEN Half(x) ELSE Add(x, x)
Inv == \/ /\ IsDyadicRational(x)
          /\ AssertEq(TLCCache(x.num, {}), 1)
          /\ ~IsDyadicRational([num |-> 1, den |-> 12]) /\ ~IsDyadicRational([num |-> 0, den |-> 0])
          /\ TLCNoOp(atoi("-42")) + 42 = 0
          /\ TLCModelValue("mv") = TLCModelValue("mv")
          /\ atoi(IOEnv.VERIMETER_LIB_TEST) = 7
          /\ RandomElement({x}) = x
          /\ RandomElement(1..3) \in 1..3
          /\ PrettyPrint(x) \in {"1", "1/2", "1/4", "1/8", "1/16"}
       \/ JsonSerialize("out.json", x)
Inv2 == x.den < 16 \/ JsonSerialize("out.json", x)
====
`

// TestLibraryModules: the modules TLCExt, Json, IOUtils, Randomization and
// DyadicRationals of TLC's library (lib/), with the operators TLC computes
// in Java built in (IOEnv, atoi, TLCModelValue, RandomElement, \o of
// strings). TLC (environment VERIMETER_LIB_TEST=7): no error, 5 distinct
// states; the disjunct JsonSerialize is never evaluated (Add(x, x) at
// x = 1/16 reduces 2/16 by GCD, which is built in). Inv2 evaluates
// JsonSerialize at x.den = 16, where TLC would write out.json: ours stops
// as unsupported instead of writing a file.
func TestLibraryModules(t *testing.T) {
	t.Setenv("VERIMETER_LIB_TEST", "7")
	runFeature(t, featureCase{name: "library modules", spec: libraryModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\nCHECK_DEADLOCK FALSE\n", verdict: check.Success, distinct: 5})
	runFeature(t, featureCase{name: "JsonSerialize evaluated", spec: libraryModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\nCHECK_DEADLOCK FALSE\n", err: ErrUnsupported})
}

// TestRandomElement: RandomElement draws an element of the set at each
// evaluation (twenty draws from 1..1000 are not all equal), and a constant
// definition built with it is evaluated once (E is the same set in every
// state: the invariant E = F holds). TLC: no error, 3 distinct states.
func TestRandomElement(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets, TLC
S == SUBSET (1..4)
E == RandomElement(S)
VARIABLE x, F
Init == x = 0 /\ F = E
Next == x' = (x + 1) % 3 /\ F' = F
Inv == /\ E \in S
       /\ E = F
       /\ \E k \in 1..10 : RandomElement(k..10) \in k..10
       /\ Cardinality({RandomElement(1..1000) : i \in 1..20}) > 1
====
`
	runFeature(t, featureCase{name: "RandomElement", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 3})
}

// TestDeclarationOrder: a constant or variable is in scope only after its
// declaration, so a definition before VARIABLE i may bind i (the corpus's
// TLCMC). TLC: no error, 3 distinct states.
func TestDeclarationOrder(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals
Set(s) == {s[i] : i \in 1..2}
VARIABLE i
Init == i = 0
Next == i' = (i + 1) % 3
Inv == Set(<<i, i>>) = {i}
====
`
	runFeature(t, featureCase{name: "bound before declared", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 3})
	// After the declaration, binding the name is still an error.
	bad := strings.Replace(spec, "Inv ==", "Bad == {i : i \\in 1..2}\nInv ==", 1)
	runFeature(t, featureCase{name: "bound after declared", spec: bad, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", err: ErrDuplicate})
}

// TestLetInstance: LET G == INSTANCE Graphs IN ... G!Op (EWD687a's
// TreeWithRoot): the loader reads modules instanced in a LET, and a path
// through such an instance is compiled. TLC: no error, 4 distinct states.
func TestLetInstance(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals
VARIABLE x
Init == x = 1
Next == x' = (x % 4) + 1
Inv == LET G == INSTANCE Graphs
           g == [node |-> 1..x, edge |-> {<<i, i+1>> : i \in 1..x-1}]
       IN /\ G!IsDirectedGraph(g)
          /\ G!Transpose(G!Transpose(g)) = g
          /\ G!AreConnectedIn(1, x, g)
          /\ G!IsTreeWithRoot(G!Transpose(g), 1)
          /\ ~G!IsTreeWithRoot(g, 1) \/ x = 1
====
`
	runFeature(t, featureCase{name: "LET INSTANCE Graphs", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 4})
	// A module with a constant takes its substitution C <- C from the
	// LET's scope (TLC: no error, 4 states).
	dir := t.TempDir()
	files := map[string]string{
		"Cell.tla": "---- MODULE Cell ----\nEXTENDS Naturals\nCONSTANT C\nVal == C + 1\n====\n",
		"Spec.tla": `---- MODULE Spec ----
EXTENDS Naturals
CONSTANT C
VARIABLE x
Init == x = 1
Next == x' = (x % 4) + 1
Inv == LET I == INSTANCE Cell
       IN I!Val = C + 1
====
`,
		"Spec.cfg": "CONSTANT C = 2\nINIT Init\nNEXT Next\nINVARIANT Inv\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := CheckModel(context.Background(), filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg"), check.Options{Workers: 1})
	if err != nil || res.Verdict != check.Success || res.Distinct != 4 {
		t.Fatalf("LET INSTANCE of a module with a constant: %s, %d distinct, %v; TLC: success, 4", res.Verdict, res.Distinct, err)
	}
}

// TestSVG: the module SVG builds records of strings (its TLA+ definitions);
// SVGSerialize, which writes a file in TLC, stops the model as unsupported
// when evaluated. TLC: no error, 3 distinct states, for Inv.
func TestSVG(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Naturals, TLC, SVG
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % 3
R == Rect(x, 1, 2, 3, [fill |-> "red"])
Inv == /\ R.attrs = [x |-> ToString(x), y |-> "1", width |-> "2", height |-> "3", fill |-> "red"]
       /\ Group(<<R>>, <<>>).children = <<R>>
       /\ Text(1, 2, "t", <<>>).innerText = "t"
Inv2 == SVGSerialize(SVGDoc(<<R>>, 0, 0, 10, 10, <<>>), "frame_", x)
====
`
	runFeature(t, featureCase{name: "SVG", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 3})
	runFeature(t, featureCase{name: "SVGSerialize", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\n", err: ErrUnsupported})
	dir := t.TempDir()
	sp, cp := filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg")
	if err := os.WriteFile(sp, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte("INIT Init\nNEXT Next\nINVARIANT Inv2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := CheckModel(context.Background(), sp, cp, check.Options{Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "operator Serialize of module IOUtils (it writes a file)") {
		t.Fatalf("SVGSerialize: %v, want IOUtils' Serialize unsupported", err)
	}
}

const registersModule = `---- MODULE Spec ----
EXTENDS Naturals, TLC
ASSUME /\ TLCGet("config").mode = "bfs"
       /\ TLCGet("config").worker = 1
       /\ TLCGet("config").deadlock = FALSE
ASSUME TLCSet(3, 7)
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % TLCGet(3)
Inv == TLCGet(3) = 7
Inv2 == TLCSet(4, x)
====
`

// TestTLCGetConfigAndRegisters: TLCGet("config") reports the run's mode,
// workers and deadlock checking, and a register set by TLCSet in an ASSUME
// is read during the search (DieHardest). TLC: no error, 7 distinct
// states; with two workers the first assumption is false. A TLCSet during
// the search (Inv2) is unsupported: TLC's registers then depend on its
// order of exploration.
func TestTLCGetConfigAndRegisters(t *testing.T) {
	cfg := "INIT Init\nNEXT Next\nINVARIANT Inv\nCHECK_DEADLOCK FALSE\n"
	runFeature(t, featureCase{name: "registers", spec: registersModule, cfg: cfg, verdict: check.Success, distinct: 7})
	runFeature(t, featureCase{name: "TLCSet in the search", spec: registersModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\nCHECK_DEADLOCK FALSE\n", err: ErrUnsupported})
	dir := t.TempDir()
	sp, cp := filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg")
	if err := os.WriteFile(sp, []byte(registersModule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckModel(context.Background(), sp, cp, check.Options{Workers: 2}); !errors.Is(err, ErrAssumption) {
		t.Fatalf("two workers: %v, want the assumption false", err)
	}
	// Without the run's options (LoadModel), TLCGet("config") is unsupported.
	if _, err := LoadModel(sp, cp); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("LoadModel: %v, want unsupported", err)
	}
}
