package eval

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// featureCase is a tiny specification with TLC's outcome on it (TLC run on
// the same files; the numbers are TLC's): the verdict, or the error class,
// and the distinct-state count.
type featureCase struct {
	name     string
	spec     string // module Spec
	cfg      string
	verdict  check.Verdict
	distinct int64
	err      error // wanted error class instead of a verdict
}

func runFeature(t *testing.T, tc featureCase) {
	t.Helper()
	runFiles(t, tc.name, map[string]string{"Spec.tla": tc.spec, "Spec.cfg": tc.cfg}, "Spec.cfg", tc.verdict, tc.distinct, tc.err)
}

const constantModule = `---- MODULE Spec ----
EXTENDS Naturals
CONSTANT N
ASSUME N * 2 = 6
ASSUME \A i \in 1..N : i <= N
====
`

// TestConstantOnlyModel: a configuration with CONSTANTS only, on a module
// without variables. TLC evaluates the ASSUMEs and reports success with 0
// states (N = 3), or the false assumption (N = 4).
func TestConstantOnlyModel(t *testing.T) {
	runFeature(t, featureCase{name: "assumptions hold", spec: constantModule, cfg: "CONSTANT N = 3\n", verdict: check.Success, distinct: 0})
	runFeature(t, featureCase{name: "assumption false", spec: constantModule, cfg: "CONSTANT N = 4\n", err: ErrAssumption})
	// With a variable, no INIT/NEXT is still something we do not guess.
	runFeature(t, featureCase{name: "variables without INIT", spec: "---- MODULE Spec ----\nVARIABLE x\n====\n", cfg: "\n", err: ErrUnsupported})
}

const higherOrderModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets
VARIABLE x
Twice(F(_), a) == F(F(a))
Apply2(G(_, _), a, b) == G(a, b)
Inc(n) == n + 1
Pass(F(_), a) == Twice(F, a)
Count(P(_), S) == Cardinality({s \in S : P(s)})
Init == x = 0
Next == \/ x' = Twice(Inc, x) % 7
        \/ x' = Apply2(LAMBDA p, q : (p * q) % 7, x, 3)
        \/ x' = LET Dec(n) == (n + 6) % 7 IN Pass(Dec, x)
        \/ \E k \in 1..2 : x' = Twice(LAMBDA n : (n + k) % 7, x)
        \/ x' = Apply2(+, x, 1) % 7
Inv == Count(LAMBDA n : n < x, 0..6) = x
Inv2 == Twice(LAMBDA n : n * 2, x) # 12
====
`

// TestHigherOrderParameters: operators passed as arguments, by name (a
// definition, a LET definition, a parameter passed on, a built-in
// symbol) and as LAMBDA (capturing a bound identifier). TLC: 43 states
// generated, 7 distinct, success; with Inv2, the invariant is violated
// after 13 generated and 7 distinct.
func TestHigherOrderParameters(t *testing.T) {
	runFeature(t, featureCase{name: "higher-order", spec: higherOrderModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 7})
	runFeature(t, featureCase{name: "higher-order violated", spec: higherOrderModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\n", verdict: check.InvariantViolated, distinct: 7})
}

const severalArgsModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets
VARIABLE x
binom[n \in 0..6, k \in 0..6] == IF k = 0 \/ k = n THEN 1 ELSE IF k > n THEN 0 ELSE binom[n-1, k-1] + binom[n-1, k]
g[a, b \in 0..4] == IF a = 0 THEN b ELSE g[a-1, b] + 1
Init == x = binom[6, 3]
Next == \/ x' = (x + g[3, 2]) % 23
        \/ x' = (x * binom[5, 2]) % 23
        \/ \E k \in 0..4 : x' = (x + g[k, 4 - k]) % 23
Inv == /\ x # 100
       /\ Cardinality(DOMAIN g) = 25
Inv2 == x # 17
====
`

// TestRecursiveFunctionSeveralArguments: f[x \in S, y \in T] and
// f[a, b \in S], applied and taken whole (DOMAIN). TLC: 162 generated, 23
// distinct, success; with Inv2, violated at 72 generated, 20 distinct.
func TestRecursiveFunctionSeveralArguments(t *testing.T) {
	runFeature(t, featureCase{name: "several arguments", spec: severalArgsModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 23})
	runFeature(t, featureCase{name: "several arguments violated", spec: severalArgsModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\n", verdict: check.InvariantViolated, distinct: 20})
}

const communityModule = `---- MODULE Spec ----
EXTENDS Naturals, Sequences, FiniteSets, Functions, SequencesExt, FiniteSetsExt
VARIABLE x
Init == x = <<>>
Next == /\ Len(x) < 3
        /\ \E v \in 1..2 : x' = Append(x, v)
Inv == /\ Range(x) = ToSet(x)
       /\ Len(x) > 0 => Last(x) \in 1..2
       /\ IsInjective(x) => Cardinality(ToSet(x)) = Len(x)
       /\ Restrict([i \in 1..3 |-> i], {1}) = <<1>>
       /\ FoldSeq(LAMBDA a, b : a + b, 0, x) <= 6
       /\ FoldFunction(LAMBDA a, b : a + b, 0, [i \in 1..2 |-> i]) = 3
       /\ MapThenFoldSet(LAMBDA a, b : a + b, 0, LAMBDA e : 2 * e, LAMBDA s : CHOOSE e \in s : TRUE, {1, 2}) = 6
Inv2 == SumSet(ToSet(x)) < 3
====
`

// TestCommunityModules: Functions, SequencesExt, FiniteSetsExt and Folds
// from their TLA+ definitions (lib/), folds included (recursive LET
// functions applying operator parameters). TLC: success with 15 distinct
// states; with Inv2 (SumSet) violated at 5 distinct.
func TestCommunityModules(t *testing.T) {
	cfg := "INIT Init\nNEXT Next\nINVARIANT Inv\nCHECK_DEADLOCK FALSE\n"
	runFeature(t, featureCase{name: "community modules", spec: communityModule, cfg: cfg, verdict: check.Success, distinct: 15})
	runFeature(t, featureCase{name: "SumSet violated", spec: communityModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\nCHECK_DEADLOCK FALSE\n", verdict: check.InvariantViolated, distinct: 5})
}

const lazyFilterModule = `---- MODULE Spec ----
EXTENDS Integers
CONSTANT C
Cap == [a |-> C, b |-> 5]
ASSUME Cap \in [{"a", "b"} -> {n \in Nat : n > 0}]
Pos == {n \in Nat : n > 0}
VARIABLE x
Init == x = 0
Next == \E k \in 1..2 : x' = (x + k) % 5
Evens(m) == {n \in Nat : n % 2 = m}
Inv == /\ x + 1 \in Pos
       /\ (x \in Evens(0)) = (x % 2 = 0)
       /\ \A k \in 0..1 : x \in {n \in Nat : n >= k} \/ x < k
       /\ [i \in 1..2 |-> x + 1] \in [1..2 -> Pos]
Inv2 == x \in {n \in Int : n < 4}
====
`

// TestLazyFilterOfInfiniteSet: {n \in Nat : P} answers membership without
// being built, also as the range of a function set and with a predicate
// reading bound identifiers and parameters. TLC: success with 5 distinct
// states; Inv2 violated at 5 distinct; with C = 0 the assumption is false.
func TestLazyFilterOfInfiniteSet(t *testing.T) {
	runFeature(t, featureCase{name: "lazy filter", spec: lazyFilterModule, cfg: "CONSTANT C = 3\nINIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 5})
	runFeature(t, featureCase{name: "lazy filter violated", spec: lazyFilterModule, cfg: "CONSTANT C = 3\nINIT Init\nNEXT Next\nINVARIANT Inv2\n", verdict: check.InvariantViolated, distinct: 5})
	runFeature(t, featureCase{name: "lazy filter assumption", spec: lazyFilterModule, cfg: "CONSTANT C = 0\nINIT Init\nNEXT Next\nINVARIANT Inv\n", err: ErrAssumption})
	// In a state it cannot be fingerprinted: TLC stops ("Attempted to
	// enumerate { x \in S : p(x) }"); we say unsupported, never merge states.
	inState := "---- MODULE Spec ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = {n \\in Nat : n > 0}\nNext == \\E k \\in 0..1 : x' = {n \\in Nat : n > k}\n====\n"
	runFeature(t, featureCase{name: "lazy filter in a state", spec: inState, cfg: "INIT Init\nNEXT Next\n", err: ErrUnsupported})
}

const proofLibraryModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets, FiniteSetTheorems, NaturalsInduction, TLAPS
VARIABLE S
Init == S = {}
Next == \E n \in 1..3 : n \notin S /\ S' = S \cup {n}
TypeOK == S \subseteq 1..3 /\ IsFiniteSet(S)
Spec == Init /\ [][Next]_S
THEOREM Spec => []TypeOK
<1>1. Init => TypeOK
  BY Zenon DEF Init, TypeOK
<1>2. TypeOK /\ [Next]_S => TypeOK'
  BY SMT DEF TypeOK, Next
<1>. QED  BY <1>1, <1>2, PTL
Inv == Cardinality(S) < 3
====
`

// TestProofLibraryModules: a model of a spec that extends TLAPS and the
// proof system's theorem libraries for its proofs loads them from lib/.
// TLC, with the same lib/ modules beside the spec: success with 8
// distinct states; Inv violated at 8 distinct.
func TestProofLibraryModules(t *testing.T) {
	runFeature(t, featureCase{name: "proof libraries", spec: proofLibraryModule, cfg: "INIT Init\nNEXT Next\nINVARIANT TypeOK\nCHECK_DEADLOCK FALSE\n", verdict: check.Success, distinct: 8})
	runFeature(t, featureCase{name: "proof libraries violated", spec: proofLibraryModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\nCHECK_DEADLOCK FALSE\n", verdict: check.InvariantViolated, distinct: 8})
}

const tupleBoundModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets
VARIABLE x
sc[<<a, b>> \in (0..3) \X (0..3)] == IF a = b THEN 0 ELSE a + b
mix[<<a, b>> \in (0..2) \X (0..2), c \in 0..2] == IF c = 0 THEN a * b ELSE mix[<<a, b>>, c - 1] + c
Init == x = sc[<<1, 2>>]
Next == \E p \in (0..3) \X (0..3) : x' = (x + sc[p] + mix[<<p[1] % 3, p[2] % 3>>, 2]) % 11
Inv == /\ Cardinality(DOMAIN sc) = 16
       /\ sc[<<2, 1>>] = 3
       /\ x # 20
Inv2 == x # 7
====
`

// TestFunctionTupleBound: f[<<a, b>> \in S] == e (GameOfLife's sc) and
// a tuple bound beside a plain one, recursive. TLC: success with 177
// generated, 11 distinct; Inv2 violated at 3 distinct.
func TestFunctionTupleBound(t *testing.T) {
	runFeature(t, featureCase{name: "tuple bound", spec: tupleBoundModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 11})
	runFeature(t, featureCase{name: "tuple bound violated", spec: tupleBoundModule, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv2\n", verdict: check.InvariantViolated, distinct: 3})
}

const argumentOnceModule = `---- MODULE Spec ----
EXTENDS Naturals, FiniteSets, TLC, UndirectedGraphs
Twice(a) == a + a
D(a) == (a + a) % 7
Nodes == 1..5
Edges == {{e[1], e[2]} : e \in {e \in Nodes \X Nodes : e[1] # e[2]}}
VARIABLE x
Init == x = Twice(Print("once", 1))
Next == x' = (D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(D(x)))))))))))))))))))))))))))))) + 1) % 5
Connected == Cardinality({N \in SUBSET Edges : IsStronglyConnected([node |-> Nodes, edge |-> N])})
====
`

// TestOperatorArgumentOnce: an operator's argument is evaluated at most
// once per call, as TLC's lazy arguments are. TLC prints "once" a single
// time and finds 5 states; evaluated at each use, D nested 30 deep costs
// 2^30 evaluations, and UndirectedGraphs' ConnectedComponents (a fold whose
// step uses its accumulator four times) is exponential in the number of
// edges: 728 of the 1024 graphs on 5 nodes are connected.
func TestOperatorArgumentOnce(t *testing.T) {
	var out bytes.Buffer
	old := printOut
	printOut = &out
	defer func() { printOut = old }()
	runFeature(t, featureCase{name: "argument once", spec: argumentOnceModule, cfg: "INIT Init\nNEXT Next\n", verdict: check.Success, distinct: 5})
	if got := strings.Count(out.String(), `"once"`); got != 1 {
		t.Fatalf("Print in an argument used twice printed %d times, TLC once:\n%s", got, out.String())
	}
	spec := strings.Replace(argumentOnceModule, "\n====", "\nASSUME Connected = 728\n====", 1)
	runFeature(t, featureCase{name: "connected graphs", spec: spec, cfg: "INIT Init\nNEXT Next\n", verdict: check.Success, distinct: 5})
}

const ifPropertyModule = `---- MODULE Spec ----
EXTENDS Naturals, Bitwise
ASSUME (12 & 10) = 8 /\ (12 | 10) = 14 /\ (12 ^^ 10) = 6 /\ shiftR(12, 2) = 3
VARIABLE x
Init == x \in {0, 1}
Next == \/ x < 3 /\ x' = x + 1
        \/ x = 3 /\ UNCHANGED x
Spec == Init /\ [][Next]_x /\ WF_x(Next)
Good == IF x = 0 THEN <>(x = 3) ELSE <>[](x = 3)
Bad == IF x = 0 THEN <>(x = 3) ELSE [](x # 3)
====
`

// TestIfBetweenTemporalFormulas: IF c THEN A ELSE B with temporal A and B
// in a PROPERTY (CoffeeCan's TerminationHypothesis). TLC: Good holds and
// Bad is violated, 4 distinct states each (the module also checks Bitwise's
// operators, which TLC computes in Java, in an ASSUME).
func TestIfBetweenTemporalFormulas(t *testing.T) {
	runFeature(t, featureCase{name: "IF holds", spec: ifPropertyModule, cfg: "SPECIFICATION Spec\nPROPERTY Good\n", verdict: check.Success, distinct: 4})
	runFeature(t, featureCase{name: "IF violated", spec: ifPropertyModule, cfg: "SPECIFICATION Spec\nPROPERTY Bad\n", verdict: check.LivenessViolated, distinct: 4})
}

const cdotModule = `---- MODULE Spec ----
EXTENDS Naturals, TLC
ASSUME TLCGet("-Dtlc2.tool.impl.Tool.cdot") = "true"
VARIABLE x
Init == x = 0
Inc == x < 3 /\ x' = x + 1
Next == Inc \/ (Inc \cdot (x = 3 /\ x' = 7)) \/ (Inc \cdot (Inc \cdot (x = 3 /\ x' = 9)))
====
`

const specConjunctModule = `---- MODULE Spec ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Inc == x < 6 /\ x' = x + 1
Halve == x' = x \div 2
Next == Inc \/ (Inc \cdot Inc) \/ (Inc \cdot Halve) \/ (x = 6 /\ x' = 0)
Spec == Init /\ [][Next]_x /\ WF_x(Next)
Settles == Spec /\ <>[][x' = 0]_x
Live == <>[](x = 0)
====
`

// TestActionComposition: A \cdot B (TLC with -Dtlc2.tool.impl.Tool.cdot=true,
// which TLCGet reports; FiniteMonotonic's models) and a temporal conjunct of
// the SPECIFICATION other than fairness, which every liveness property
// assumes. TLC: 6 distinct states (0..3, 7, 9); Live is
// violated under Spec and holds under Settles, 7 states each.
func TestActionComposition(t *testing.T) {
	runFeature(t, featureCase{name: "cdot", spec: cdotModule, cfg: "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n", verdict: check.Success, distinct: 6})
	runFeature(t, featureCase{name: "fair only", spec: specConjunctModule, cfg: "SPECIFICATION Spec\nPROPERTY Live\n", verdict: check.LivenessViolated, distinct: 7})
	runFeature(t, featureCase{name: "<>[][A]_v assumed", spec: specConjunctModule, cfg: "SPECIFICATION Settles\nPROPERTY Live\n", verdict: check.Success, distinct: 7})
}

// TestModuleScopedValue: a .cfg line NoVal = [Inner]Stop gives a
// definition of an instanced module a model value (NanoBlockchain's
// NoHash = [Nano]NoHashVal), and an operator constant of the instanced
// module is substituted implicitly by the root's operator of that name
// (TwoPhase). TLC: no error, 5 distinct states; without the line, NoVal is
// a CHOOSE over all values, which TLC cannot evaluate.
func TestModuleScopedValue(t *testing.T) {
	inner := `---- MODULE Inner ----
EXTENDS Naturals
CONSTANT F(_)
VARIABLE x
NoVal == CHOOSE v : v \notin Nat
Init == x = 0
Next == x' = IF F(x) > 3 THEN NoVal ELSE F(x)
====
`
	spec := `---- MODULE Spec ----
EXTENDS Naturals
CONSTANT Stop
VARIABLE x
F(a) == a + 1
I == INSTANCE Inner
Init == I!Init
Next == x /= Stop /\ I!Next
Inv == x = Stop => I!NoVal = Stop
====
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Inner.tla"), []byte(inner), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, cp := filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg")
	if err := os.WriteFile(sp, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte("CONSTANTS\n  Stop = Stop\n  NoVal = [Inner]Stop\nINIT Init\nNEXT Next\nINVARIANT Inv\nCHECK_DEADLOCK FALSE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := CheckModel(context.Background(), sp, cp, check.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != check.Success || res.Distinct != 5 {
		t.Fatalf("%s with %d distinct states, TLC: success with 5", res.Verdict, res.Distinct)
	}
}

// TestModulesFollowingInTheFile: a file may hold several modules one after
// another, the first extending one that follows (braf's
// BufferedRandomAccessFile.tla with its Common); TLC on the same file: 7
// distinct states, no error. A module defined twice is refused.
func TestModulesFollowingInTheFile(t *testing.T) {
	spec := `Text before the first module is not TLA+.
---- MODULE Spec ----
EXTENDS Naturals, Later
VARIABLE x
Init == x = Zero
Next == x' = Bump(x)
Inv == x \in Range
====
Text between the modules is not TLA+ either: x == y ====
---- MODULE Later ----
EXTENDS Naturals
Zero == 0
Bump(n) == (n + 3) % 7
Range == 0..6
====
Trailing text.
`
	runFeature(t, featureCase{name: "following", spec: spec, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", verdict: check.Success, distinct: 7})
	twice := strings.Replace(spec, "Trailing text.", "---- MODULE Later ----\n====\n", 1)
	runFeature(t, featureCase{name: "twice", spec: twice, cfg: "INIT Init\nNEXT Next\n", err: ErrDuplicate})
}
