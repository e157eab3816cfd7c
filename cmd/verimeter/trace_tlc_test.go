//go:build !device

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/tlctest"
)

// traceModels are small models whose counterexamples `verimeter check`
// must print as TLC prints them: safety (also in an initial state),
// deadlock, liveness (a cycle and a stuttering end), one variable and several, an ALIAS (field order,
// primed variables, TLCGet("level"), _format, a one-field record), and
// actions named as TLC names them (arguments, bulleted and infix
// disjuncts, LET, \E, definitions spanning lines).
var traceModels = []struct {
	name, spec, cfg string
	simulate        bool // one behaviour in simulation (a model with one)
}{
	{"Two", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = "a"
Next == x' = x + 1 /\ y' = IF y = "a" THEN "b" ELSE "a"
Inv == x < 3
Al == [zz |-> x, next |-> x', aa |-> y, l |-> TLCGet("level")]
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n", false},
	{"TwoAlias", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Al\n", false},
	{"One", `EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x < 2 /\ x' = x + 1
Inv == x < 2
Fmt == [lvl |-> TLCGet("level"), nlvl |-> TLCGet("level")', _format |-> "%s := %s;\n"]
Only == [only |-> <<x, x'>>]
NotRecord == 42
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n", false},
	{"OneFormat", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Fmt\n", false},
	{"OneField", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Only\n", false},
	{"OneNotRecord", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS NotRecord\n", false},
	{"OneDeadlock", "", "INIT Init\nNEXT Next\n", false},
	{"Cycle", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == x' = (x + 1) % 3 /\ y' = y
Spec == Init /\ [][Next]_<<x, y>> /\ WF_<<x, y>>(Next)
Prop == <>(x = 5)
Al == [now |-> x, nxt |-> x', l |-> TLCGet("level")]
`, "SPECIFICATION Spec\nPROPERTY Prop\n", false},
	{"CycleAlias", "", "SPECIFICATION Spec\nPROPERTY Prop\nALIAS Al\n", false},
	{"Stutter", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == x < 2 /\ x' = x + 1 /\ y' = y
Spec == Init /\ [][Next]_<<x, y>> /\ WF_<<x, y>>(Next)
Prop == <>(x = 5)
Al == [now |-> x, nxt |-> x', l |-> TLCGet("level")]
`, "SPECIFICATION Spec\nPROPERTY Prop\nCHECK_DEADLOCK FALSE\n", false},
	{"StutterAlias", "", "SPECIFICATION Spec\nPROPERTY Prop\nALIAS Al\nCHECK_DEADLOCK FALSE\n", false},
	{"Ops", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = "s"
Inc(n) == /\ x = 0 /\ x' = x + n
          /\ y' = y
Two(a, b) == x = 3 /\ x' = x + a /\ y' = b
Dec == x > 9 /\ x' = x - 1 /\ UNCHANGED y
Next == \/ \E n \in {1} : \E m \in {n} : Inc(m)
        \/ Dec
        \/ x = 1 /\
           x' = 2 /\ UNCHANGED y
        \/ LET q == 3 IN x = 2 /\ x' = q /\ y' = y
        \/ Two(1, <<"t", {x}>>)
        \/ \E r \in {[a |-> 1]} : x = 4 /\ x' = 5 /\ y' = r
Inv == x < 5
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n", false},
	{"Long", `EXTENDS Naturals, FiniteSets
VARIABLES x, y
Init == x = {} /\ y = [i \in 1..3 |-> [j \in {"p", "q"} |-> <<i, "a long enough string">>]]
Next == /\ x' = x \cup {[id |-> Cardinality(x), name |-> "a fairly long name here", ok |-> TRUE]}
        /\ y' = [y EXCEPT ![1] = ("a b" :> x')]
Inv == Cardinality(x) < 3
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n", false},
	{name: "Sim", spec: `EXTENDS Naturals
VARIABLES x, y
Init == /\ x = 0
        /\ y = 0
Next == \E i \in {1} : x' = x + i /\ y' = y
Inv == x < 2
Spec == Init /\ [][Next]_<<x, y>>
`, cfg: "INIT Init\nNEXT Next\nINVARIANT Inv\n", simulate: true},
	{name: "SimSpec", cfg: "SPECIFICATION Spec\nINVARIANT Inv\n", simulate: true},
	{"InitViolated", `EXTENDS Naturals
VARIABLES x, y
Init == x \in {0, 1} /\ y = 0
Next == x' = x /\ y' = y
Inv == x < 1
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n", false},
	{"Fields", `EXTENDS Naturals, Sequences
VARIABLES net, clock
Msg(c) == [type |-> "req", clock |-> c, acc |-> "ack"]
Init == clock = 1 /\ net = <<>>
Next == clock' = clock + 1 /\ net' = Append(net, Msg(clock))
Inv == Len(net) < 2
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n", false},
	{"OpsLive", `EXTENDS Naturals
VARIABLE x
Init == x = 0
Step(d) == x' = (x + d) % 4
Next == \E d \in {1} : Step(d)
Spec == Init /\ [][Next]_x /\ WF_x(Next)
Prop == []<>(x = 7)
`, "SPECIFICATION Spec\nPROPERTY Prop\n", false},
}

// countLine is the line of counts after a trace.
var countLine = regexp.MustCompile(`^[0-9,]+ states generated`)

// counterexample is a checker's output from its first error line to the
// end of the trace.
func counterexample(out string) string {
	var b strings.Builder
	started := false
	for _, line := range strings.Split(out, "\n") {
		if !started && !strings.HasPrefix(line, "Error: ") {
			continue
		}
		if strings.HasPrefix(line, "Finished checking temporal") || strings.HasPrefix(line, "Finished in") ||
			strings.HasPrefix(line, "The number of states generated") || countLine.MatchString(line) {
			break
		}
		started = true
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestTraceTextMatchesTLC: the counterexamples `verimeter check` prints
// are TLC's, line for line, action labels (arguments, source spans)
// included, on models TLC is run on here (in simulation, models with one
// behaviour).
func TestTraceTextMatchesTLC(t *testing.T) {
	tlctest.Path(t) // TLC found, or the test stops here, before any work
	dir := t.TempDir()
	spec := ""
	for _, m := range traceModels {
		if m.spec != "" {
			spec = m.spec
		}
		// every configuration has its own copy of its module
		src := "---- MODULE " + m.name + " ----\n" + strings.Replace(spec, "EXTENDS Naturals", "EXTENDS Naturals, TLC", 1) + "====\n"
		if err := os.WriteFile(filepath.Join(dir, m.name+".tla"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m.name+".cfg"), []byte(m.cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range traceModels {
		t.Run(m.name, func(t *testing.T) {
			args := []string{"-workers", "1", "-config", m.name + ".cfg", m.name + ".tla"}
			ourArgs := []string{"check", "-workers", "1", "-progress", "0", filepath.Join(dir, m.name+".tla")}
			if m.simulate {
				args = append([]string{"-simulate", "num=1"}, args...)
				ourArgs = append([]string{"check", "-simulate", "-num", "1", "-seed", "1"}, ourArgs[1:]...)
			}
			cmd := tlctest.Command(t, dir, args...)
			theirs, _ := cmd.CombinedOutput()
			want := counterexample(string(theirs))
			if strings.Count(want, "\n") < 2 {
				t.Fatalf("TLC printed no trace:\n%s", theirs)
			}
			_, ours, errb := runCLI(t, ourArgs...)
			if got := counterexample(ours); got != want {
				t.Errorf("ours:\n%s\nTLC's:\n%s\n(stderr: %s)", got, want, errb)
			}
		})
	}
}
