//go:build !device

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// traceModels are small models whose counterexamples `verimeter check`
// must print as TLC prints them: safety, deadlock, liveness (a cycle and
// a stuttering end), one variable and several, and an ALIAS (field order,
// primed variables, TLCGet("level"), _format, a one-field record).
var traceModels = []struct {
	name, spec, cfg string
}{
	{"Two", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = "a"
Next == x' = x + 1 /\ y' = IF y = "a" THEN "b" ELSE "a"
Inv == x < 3
Al == [zz |-> x, next |-> x', aa |-> y, l |-> TLCGet("level")]
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n"},
	{"TwoAlias", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Al\n"},
	{"One", `EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x < 2 /\ x' = x + 1
Inv == x < 2
Fmt == [lvl |-> TLCGet("level"), nlvl |-> TLCGet("level")', _format |-> "%s := %s;\n"]
Only == [only |-> <<x, x'>>]
NotRecord == 42
`, "INIT Init\nNEXT Next\nINVARIANT Inv\n"},
	{"OneFormat", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Fmt\n"},
	{"OneField", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS Only\n"},
	{"OneNotRecord", "", "INIT Init\nNEXT Next\nINVARIANT Inv\nALIAS NotRecord\n"},
	{"OneDeadlock", "", "INIT Init\nNEXT Next\n"},
	{"Cycle", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == x' = (x + 1) % 3 /\ y' = y
Spec == Init /\ [][Next]_<<x, y>> /\ WF_<<x, y>>(Next)
Prop == <>(x = 5)
Al == [now |-> x, nxt |-> x', l |-> TLCGet("level")]
`, "SPECIFICATION Spec\nPROPERTY Prop\n"},
	{"CycleAlias", "", "SPECIFICATION Spec\nPROPERTY Prop\nALIAS Al\n"},
	{"Stutter", `EXTENDS Naturals
VARIABLES x, y
Init == x = 0 /\ y = 0
Next == x < 2 /\ x' = x + 1 /\ y' = y
Spec == Init /\ [][Next]_<<x, y>> /\ WF_<<x, y>>(Next)
Prop == <>(x = 5)
Al == [now |-> x, nxt |-> x', l |-> TLCGet("level")]
`, "SPECIFICATION Spec\nPROPERTY Prop\nCHECK_DEADLOCK FALSE\n"},
	{"StutterAlias", "", "SPECIFICATION Spec\nPROPERTY Prop\nALIAS Al\nCHECK_DEADLOCK FALSE\n"},
}

// tlcAction is the text TLC adds to an action's name: where it is defined.
var (
	tlcAction = regexp.MustCompile(` line \d+, col \d+ to line \d+, col \d+ of module \w+>`)
	countLine = regexp.MustCompile(`^[0-9,]+ states generated`)
)

// counterexample is a checker's output from its first error line to the
// end of the trace, TLC's action locations removed.
func counterexample(out string) string {
	var b strings.Builder
	started := false
	for _, line := range strings.Split(out, "\n") {
		if !started && !strings.HasPrefix(line, "Error: ") {
			continue
		}
		if strings.HasPrefix(line, "Finished checking temporal") || countLine.MatchString(line) {
			break
		}
		started = true
		b.WriteString(tlcAction.ReplaceAllString(line, ">"))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestTraceTextMatchesTLC: the counterexamples `verimeter check` prints
// are TLC's, line for line (but for the source location TLC adds to an
// action's name), on models TLC is run on here.
func TestTraceTextMatchesTLC(t *testing.T) {
	tlc := tlcScript(t)
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
			cmd := exec.Command(tlc, "-workers", "1", "-config", m.name+".cfg", m.name+".tla")
			cmd.Dir = dir
			theirs, _ := cmd.CombinedOutput()
			want := counterexample(string(theirs))
			if !strings.Contains(want, "State 1:") {
				t.Fatalf("TLC printed no trace:\n%s", theirs)
			}
			_, ours, errb := runCLI(t, "check", "-workers", "1", "-progress", "0", filepath.Join(dir, m.name+".tla"))
			if got := counterexample(ours); got != want {
				t.Errorf("ours:\n%s\nTLC's:\n%s\n(stderr: %s)", got, want, errb)
			}
		})
	}
}

// tlcScript is TLC, the reference checker ($VERIMETER_TLC or the shared
// tools); its absence, or Java's, fails the test with how to get it.
func tlcScript(t *testing.T) string {
	t.Helper()
	p := os.Getenv("VERIMETER_TLC")
	if p == "" {
		p = filepath.Join("..", "..", "..", "shared", "tools", "tlc", "tlc")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("TLC not found at %s (set VERIMETER_TLC): %v", abs, err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not found (make deps installs openjdk-17-jre-headless): %v", err)
	}
	return abs
}
