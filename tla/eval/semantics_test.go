package eval

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/tlctest"
	"github.com/verimeter/verimeter/tla/check"
)

// semantics are expressions with the value TLC prints for them. Each is
// evaluated by our evaluator (as the initial value of a variable) and, in
// one batch, by TLC itself (PrintT in an ASSUME), so the expected text is
// TLC's and not our belief about it.
var semantics = []struct{ name, expr, want string }{
	// Sets: normalised and ordered as TLC orders them.
	{"set order", `{3, 1, 2}`, `{1, 2, 3}`},
	{"union", `{1, 2} \cup {2, 3}`, `{1, 2, 3}`},
	{"difference", `(1..5) \ {2, 4}`, `{1, 3, 5}`},
	{"subset", `SUBSET {1, 2}`, `{{}, {1}, {2}, {1, 2}}`},
	{"filter", `{x \in 1..6 : x % 2 = 0}`, `{2, 4, 6}`},
	{"map", `{x * x : x \in -2..2}`, `{0, 1, 4}`},
	{"big union", `UNION {{1}, {2, 3}, {}}`, `{1, 2, 3}`},
	{"cardinality of function set", `Cardinality([1..3 -> {"a", "b"}])`, `8`},
	{"strings in first-seen order", `{"zeta", "alpha"}`, `{"zeta", "alpha"}`},
	{"sets of sets by size", `{{1, 2}, {3}, {}}`, `{{}, {3}, {1, 2}}`},
	{"membership in Nat without enumeration", `<<-1 \in Nat, 7 \in Nat, <<1, 2>> \in Seq(Nat)>>`, `<<FALSE, TRUE, TRUE>>`},
	// Functions, records, tuples.
	{"function over 1..n is a tuple", `[x \in 1..3 |-> 2 * x]`, `<<2, 4, 6>>`},
	{"function over strings is a record", `[x \in {"a", "b"} |-> 0]`, `[a |-> 0, b |-> 0]`},
	{"domain", `DOMAIN [a |-> 1, b |-> 2]`, `{"a", "b"}`},
	{"application", `[x \in 1..3 |-> x + 10][2]`, `12`},
	{":> and @@", `(1 :> "a") @@ (2 :> "b") @@ (1 :> "c")`, `<<"a", "b">>`},
	// EXCEPT with @ and paths.
	{"except with @", `[[x \in 1..3 |-> x] EXCEPT ![2] = @ * 10]`, `<<1, 20, 3>>`},
	{"except nested path", `[[a |-> <<1, 2>>, b |-> 0] EXCEPT !.a[2] = 7, !.b = @ + 1]`, `[a |-> <<1, 7>>, b |-> 1]`},
	// EXCEPT without @: the updates share the copies they make.
	{"except shared path", `[[a |-> [x |-> 1, y |-> 2], b |-> 0] EXCEPT !.a.x = 5, !.a.y = 6, !.b = 7]`, `[a |-> [x |-> 5, y |-> 6], b |-> 7]`},
	{"except same key twice", `[<<1, 2>> EXCEPT ![1] = 5, ![1] = 6]`, `<<6, 2>>`},
	{"except through a new value", `[[a |-> <<1, 2>>] EXCEPT !.a = <<3, 4>>, !.a[2] = 9]`, `[a |-> <<3, 9>>]`},
	{"except outside the domain", `[<<1, 2>> EXCEPT ![5] = 0, ![1] = 9]`, `<<9, 2>>`},
	{"except copies hashed", `<<[[a |-> <<1, 2>>, b |-> 0] EXCEPT !.b = 1, !.a[1] = 5] = [a |-> <<5, 2>>, b |-> 1], [[a |-> <<1, 2>>] EXCEPT !.a[1] = 0, !.a[2] = 8] \in {[a |-> <<0, 8>>], [a |-> <<0, 9>>]}>>`, `<<TRUE, TRUE>>`},
	{"except leaves the original", `LET f == [a |-> <<1, 2>>, b |-> <<3>>] IN <<[f EXCEPT !.a[1] = 0, !.b[1] = 5, !.a[2] = 8], f>>`, `<<[a |-> <<0, 8>>, b |-> <<5>>], [a |-> <<1, 2>>, b |-> <<3>>]>>`},
	// CHOOSE is deterministic: the first element in TLC's order.
	{"choose in interval", `CHOOSE x \in 1..10 : x > 3`, `4`},
	{"choose over SUBSET", `CHOOSE s \in SUBSET {1, 2, 3} : Cardinality(s) = 2`, `{1, 2}`},
	{"choose over function set", `CHOOSE f \in [{1, 2} -> {"p", "q"}] : f[1] # f[2]`, `<<"p", "q">>`},
	// Recursion: operators and functions.
	{"recursive operator", `Fact(5)`, `120`},
	{"recursive function", `fib[10]`, `55`},
	// Sequences.
	{"sequence ops", `<<Append(<<1>>, 2), Tail(<<1, 2, 3>>), SubSeq(<<1, 2, 3, 4>>, 2, 3), <<1>> \o <<2>>, Len(<<>>)>>`, `<<<<1, 2>>, <<2, 3>>, <<2, 3>>, <<1, 2>>, 0>>`},
	// Integers: TLC's \div and % round towards minus infinity; unary minus
	// binds looser than \div.
	{"div and mod", `<<(-7) \div 2, (-7) % 2, 7 \div (-2), -7 \div 2>>`, `<<-4, 1, -4, -3>>`},
	// LET and quantifiers over tuples of bound variables.
	{"let and tuple quantifier", `LET S == 1..3 IN \E <<a, b>> \in S \X S : a + b = 6`, `TRUE`},
	{"CASE OTHER", `CASE 1 > 2 -> "no" [] OTHER -> "other"`, `"other"`},
}

const semanticsHeader = `---- MODULE Sem ----
EXTENDS Naturals, Integers, Sequences, FiniteSets, TLC
RECURSIVE Fact(_)
Fact(n) == IF n = 0 THEN 1 ELSE n * Fact(n - 1)
fib[n \in 0..20] == IF n < 2 THEN n ELSE fib[n - 1] + fib[n - 2]
`

func TestEvaluationSemantics(t *testing.T) {
	dir := t.TempDir()
	// Ours: one module per expression, the expression as the initial value.
	for i, c := range semantics {
		sub := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		src := semanticsHeader + "VARIABLE v\nInit == v = " + c.expr + "\nNext == UNCHANGED v\n====\n"
		if err := os.WriteFile(filepath.Join(sub, "Sem.tla"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "Sem.cfg"), []byte("INIT Init\nNEXT Next\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := LoadModel(filepath.Join(sub, "Sem.tla"), "")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		err = m.Init(func(s check.State) error { got = append(got, s[0].String()); return nil })
		if err != nil || len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: %s = %v (%v), want %s", c.name, c.expr, got, err, c.want)
		}
	}
	// TLC: the same expressions printed in one run.
	tlctest.Path(t) // TLC found, or the test stops here, before any work
	var b strings.Builder
	b.WriteString(semanticsHeader)
	for i, c := range semantics {
		fmt.Fprintf(&b, "ASSUME PrintT(<<\"sem%d\", %s>>)\n", i, c.expr)
	}
	b.WriteString("VARIABLE v\nInit == v = 0\nNext == UNCHANGED v\n====\n")
	tdir := filepath.Join(dir, "tlc")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "Sem.tla"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "Sem.cfg"), []byte("INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := tlctest.Command(t, tdir, "-workers", "1", "-config", "Sem.cfg", "Sem.tla")
	out, _ := cmd.CombinedOutput()
	printed := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, `<<"sem`) {
			continue
		}
		rest := strings.TrimPrefix(line, `<<"sem`)
		k := strings.Index(rest, `", `)
		if k < 0 || !strings.HasSuffix(rest, ">>") {
			continue
		}
		printed[rest[:k]] = rest[k+3 : len(rest)-2]
	}
	for i, c := range semantics {
		got, ok := printed[fmt.Sprint(i)]
		if !ok {
			t.Errorf("%s: TLC printed nothing for it:\n%s", c.name, out)
			continue
		}
		if got != c.want {
			t.Errorf("%s: TLC prints %s, the test expects %s", c.name, got, c.want)
		}
	}
}

// TestEvaluationErrorsAsTLC: what TLC refuses to evaluate is an error here
// too, never a silent FALSE or a wrapped integer.
func TestEvaluationErrorsAsTLC(t *testing.T) {
	for _, expr := range []string{`1 = "a"`, `2147483647 + 1`, `<<1, 2>>[3]`, `CHOOSE x \in {} : TRUE`, `Head(<<>>)`} {
		dir := t.TempDir()
		src := semanticsHeader + "VARIABLE v\nInit == v = (" + expr + ")\nNext == UNCHANGED v\n====\n"
		if err := os.WriteFile(filepath.Join(dir, "Sem.tla"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Sem.cfg"), []byte("INIT Init\nNEXT Next\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := LoadModel(filepath.Join(dir, "Sem.tla"), "")
		if err == nil {
			err = m.Init(func(check.State) error { return nil })
		}
		if err == nil {
			t.Errorf("%s evaluated without error", expr)
		}
	}
}
