//go:build !device

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSpec writes a module and its .cfg into a temporary directory and
// returns the module's path.
func writeSpec(t *testing.T, name, tla, cfg string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name+".tla")
	if err := os.WriteFile(p, []byte(tla), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// counter is a bounded counter whose invariant fails at x = 3 when Max > 3.
const counter = `---- MODULE Counter ----
EXTENDS Naturals
CONSTANT Max
ASSUME Max \in Nat
ASSUME Max # 1
\* @type: Int; @role: meter
VARIABLE x
Init == x = 0
\* @role: meter @event: tick
Tick == x < Max /\ x' = x + 1
Next == Tick
Small == x < 3
====
`

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckExitCodes(t *testing.T) {
	cases := []struct {
		name string
		tla  string
		cfg  string
		code int
		want string
	}{
		{"holds", counter, "CONSTANT Max = 2\nINIT Init\nNEXT Next\nINVARIANT Small\nCHECK_DEADLOCK FALSE\n", 0, "No error has been found"},
		{"safety", counter, "CONSTANT Max = 5\nINIT Init\nNEXT Next\nINVARIANT Small\n", 12, "Invariant Small is violated"},
		{"deadlock", counter, "CONSTANT Max = 2\nINIT Init\nNEXT Next\n", 11, "Deadlock reached"},
		{"assumption", counter, "CONSTANT Max = 1\nINIT Init\nNEXT Next\n", 10, "assumption"},
		{"unsupported", counter, "CONSTANT Max = 2\nSPECIFICATION Init\nPROPERTY Small\nVIEW Small\n", 2, "unsupported"},
		{"syntax", "---- MODULE Counter ----\nVARIABLE x\nInit == x = \n====\n", "INIT Init\nNEXT Init\n", 2, "Counter.tla:"},
		{"unknown name", "---- MODULE Counter ----\nVARIABLE x\nInit == x = y\nNext == x' = x\n====\n", "INIT Init\nNEXT Next\n", 2, "y"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSpec(t, "Counter", c.tla, c.cfg)
			code, out, errb := runCLI(t, "check", "-progress", "0", p)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errb)
			}
			if !strings.Contains(out+errb, c.want) {
				t.Fatalf("output does not say %q:\n%s%s", c.want, out, errb)
			}
		})
	}
}

func TestCheckJSONCarriesTheShortestTrace(t *testing.T) {
	p := writeSpec(t, "Counter", counter, "CONSTANT Max = 5\nINIT Init\nNEXT Next\nINVARIANT Small\n")
	code, out, errb := runCLI(t, "check", "-json", "-workers", "2", "-progress", "0", p)
	if code != 12 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if r.Result != "safety failure" || r.Violation == nil || r.Violation.Property != "Small" || r.Workers != 2 {
		t.Fatalf("%+v", r)
	}
	// x = 0, 1, 2, 3: four states, the last violating Small.
	tr := r.Violation.Trace
	if len(tr) != 4 || tr[0].Action != "Initial predicate" || tr[3].State["x"] != "3" || tr[3].Action != "Tick" {
		t.Fatalf("trace %+v", tr)
	}
	// x = 0..3 generated and stored; the run stops at the violation, whose
	// level TLC counts in the depth.
	if r.Distinct != 4 || r.Generated != 4 || r.Depth != 4 {
		t.Fatalf("counts %+v", r)
	}
}

func TestCheckDrawsMessageSequenceChart(t *testing.T) {
	p := writeSpec(t, "Counter", counter, "CONSTANT Max = 5\nINIT Init\nNEXT Next\nINVARIANT Small\n")
	code, out, _ := runCLI(t, "check", "-trace-format", "msc", "-progress", "0", p)
	if code != 12 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"sequenceDiagram", "participant meter", "Note over meter: 4. Tick", "x = 3", "violates Small"} {
		if !strings.Contains(out, want) {
			t.Fatalf("chart lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckWritesITF(t *testing.T) {
	p := writeSpec(t, "Counter", counter, "CONSTANT Max = 5\nINIT Init\nNEXT Next\nINVARIANT Small\n")
	out := filepath.Join(t.TempDir(), "trace.itf.json")
	if code, _, errb := runCLI(t, "check", "-itf", out, "-progress", "0", p); code != 12 {
		t.Fatalf("exit %d %s", code, errb)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vars   []string `json:"vars"`
		States []struct {
			X map[string]string `json:"x"`
		} `json:"states"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vars) != 1 || len(doc.States) != 4 || doc.States[3].X["#bigint"] != "3" {
		t.Fatalf("%s", b)
	}
}

func TestCheckLiveness(t *testing.T) {
	spec := strings.Replace(counter, "Small == x < 3\n", "Small == x < 3\nReach == <>(x = 2)\nSpec == Init /\\ [][Next]_x\nFair == Spec /\\ WF_x(Next)\n", 1)
	// Without fairness the counter may stutter at 0 forever.
	p := writeSpec(t, "Counter", spec, "CONSTANT Max = 2\nSPECIFICATION Spec\nPROPERTY Reach\nCHECK_DEADLOCK FALSE\n")
	code, out, errb := runCLI(t, "check", "-json", "-progress", "0", p)
	if code != 13 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Result != "liveness failure" || r.Violation == nil || r.Violation.Property != "Reach" || r.Violation.BackTo < 1 || r.Violation.BackTo > len(r.Violation.Trace) {
		t.Fatalf("%s", out)
	}
	// With weak fairness of Next it holds.
	p = writeSpec(t, "Counter", spec, "CONSTANT Max = 2\nSPECIFICATION Fair\nPROPERTY Reach\nCHECK_DEADLOCK FALSE\n")
	if code, out, errb := runCLI(t, "check", "-progress", "0", p); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
}

func TestCheckBadUsage(t *testing.T) {
	if code, _, _ := runCLI(t, "check"); code != 2 {
		t.Fatalf("no spec: exit %d", code)
	}
	if code, _, _ := runCLI(t, "check", "-trace-format", "svg", "x.tla"); code != 2 {
		t.Fatalf("bad trace format: exit %d", code)
	}
	if code, _, _ := runCLI(t, "check", "-lncheck", "sometimes", "x.tla"); code != 2 {
		t.Fatalf("bad -lncheck: exit %d", code)
	}
	if code, out, errb := runCLI(t, "check", "-progress", "0", filepath.Join(t.TempDir(), "Missing.tla")); code != 2 {
		t.Fatalf("missing file: exit %d %s %s", code, out, errb)
	}
	// A missing model configuration is named as such, not as a module.
	spec := writeSpec(t, "Counter", counter, "CONSTANT Max = 2\nINIT Init\nNEXT Next\n")
	cfg := filepath.Join(t.TempDir(), "Absent.cfg")
	code, out, errb := runCLI(t, "check", "-progress", "0", "-config", cfg, spec)
	if code != 2 || !strings.Contains(out+errb, "config file "+cfg+": no such file") || strings.Contains(out+errb, "module not found") {
		t.Fatalf("missing config: exit %d\n%s%s", code, out, errb)
	}
	// The .cfg implied by the spec's name, absent too.
	if err := os.Remove(strings.TrimSuffix(spec, ".tla") + ".cfg"); err != nil {
		t.Fatal(err)
	}
	code, out, errb = runCLI(t, "check", "-progress", "0", spec)
	if code != 2 || !strings.Contains(out+errb, "config file "+strings.TrimSuffix(spec, ".tla")+".cfg: no such file") {
		t.Fatalf("implied config missing: exit %d\n%s%s", code, out, errb)
	}
}

// suiteDir is the conformance suite; its absence is a failure that says
// where it was looked for, never a skip.
func suiteDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VERIMETER_CONFORMANCE")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "conformance", "tla-examples")
	}
	if _, err := os.Stat(filepath.Join(dir, "expected.tsv")); err != nil {
		t.Fatalf("conformance suite not found (%v): set VERIMETER_CONFORMANCE to the directory holding expected.tsv", err)
	}
	return dir
}

func TestConformanceCommandOnSmallModels(t *testing.T) {
	dir := suiteDir(t)
	code, out, errb := runCLI(t, "conformance", "-run", `^(DieHard|transaction_commit/TCommit|SpecifyingSystems/HourClock)`, dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	if !strings.HasSuffix(out, "3 passed, 0 failed\n") {
		t.Fatalf("last line:\n%s", out)
	}
}

func TestConformanceCommandReportsMismatch(t *testing.T) {
	dir, err := filepath.Abs(suiteDir(t))
	if err != nil {
		t.Fatal(err)
	}
	// A copy of expected.tsv with one count changed must fail that row.
	tmp := t.TempDir()
	src, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "transaction_commit/TCommit.cfg\t") {
			f := strings.Split(line, "\t")
			f[0], f[1], f[3] = filepath.Join(dir, f[0]), filepath.Join(dir, f[1]), "35"
			rows = append(rows, strings.Join(f, "\t"))
		}
	}
	if len(rows) != 1 {
		t.Fatalf("TCommit row not found in %s", dir)
	}
	if err := os.WriteFile(filepath.Join(tmp, "expected.tsv"), []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "conformance", tmp)
	if code == 0 || !strings.Contains(out, "distinct states differ") || !strings.HasSuffix(out, "0 passed, 1 failed\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, _, errb := runCLI(t, "conformance", t.TempDir()); code != 2 || !strings.Contains(errb, "expected.tsv") {
		t.Fatalf("missing suite: exit %d %s", code, errb)
	}
}
