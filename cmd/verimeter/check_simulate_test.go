//go:build !device

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSimulate: `check -simulate` gives the exit codes and
// counterexamples of a check, repeatable from the printed seed.
func TestCheckSimulate(t *testing.T) {
	bad := writeSpec(t, "Counter", counter, "CONSTANT Max = 5\nINIT Init\nNEXT Next\nINVARIANT Small\n")
	code, out, errb := runCLI(t, "check", "-simulate", "-num", "10", "-seed", "3", "-json", bad)
	if code != 12 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	var r simReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if r.Result != "safety failure" || r.Violation == nil || len(r.Violation.Trace) != 4 || r.Seed != 3 || r.Behaviours != 1 {
		t.Fatalf("%+v", r)
	}
	// Deadlock at x = Max, and none with -deadlock; -depth bounds a behaviour.
	ok := writeSpec(t, "Counter", counter, "CONSTANT Max = 2\nINIT Init\nNEXT Next\nINVARIANT Small\n")
	if code, out, _ := runCLI(t, "check", "-simulate", "-num", "5", ok); code != 11 || !strings.Contains(out, "Deadlock reached") {
		t.Fatalf("exit %d: %s", code, out)
	}
	code, out, _ = runCLI(t, "check", "-simulate", "-num", "5", "-deadlock", "-depth", "2", ok)
	if code != 0 || !strings.Contains(out, "in 5 behaviours, the longest of 2 states") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if code, _, _ := runCLI(t, "check", "-simulate", "-depth", "0", ok); code != exitBadInput {
		t.Fatalf("-depth 0: exit %d", code)
	}
}

// TestCheckDump: `check -dump` writes the state graph beside the check's
// verdict, and refuses a graph over its cap with a message.
func TestCheckDump(t *testing.T) {
	p := writeSpec(t, "Counter", counter, "CONSTANT Max = 2\nINIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
	dot := filepath.Join(t.TempDir(), "g.dot")
	if code, out, errb := runCLI(t, "check", "-progress", "0", "-dump", dot, p); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	b, err := os.ReadFile(dot)
	if err != nil {
		t.Fatal(err)
	}
	g := string(b)
	if !strings.HasPrefix(g, "strict digraph DiskGraph {") || strings.Count(g, "[label=\"x = ") != 3 || strings.Count(g, " -> ") != 2 {
		t.Fatalf("graph:\n%s", g)
	}
	big := writeSpec(t, "Counter", counter, "CONSTANT Max = 20000\nINIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
	if code, _, errb := runCLI(t, "check", "-progress", "0", "-dump", dot+"2", big); code != exitBadInput || !strings.Contains(errb, "too large") {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if _, err := os.Stat(dot + "2"); !os.IsNotExist(err) {
		t.Fatalf("a refused dump left a file: %v", err)
	}
}

// TestCheckProfiles: -cpuprofile and -memprofile write profiles that Go's
// own pprof reads (the allocation profile names the checker's functions),
// and a profile that cannot be written is reported, not lost silently.
func TestCheckProfiles(t *testing.T) {
	p := writeSpec(t, "Counter", counter, "CONSTANT Max = 200\nINIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	if code, out, errb := runCLI(t, "check", "-progress", "0", "-cpuprofile", cpu, "-memprofile", mem, p); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	for _, f := range []string{cpu, mem} {
		out, err := exec.Command("go", "tool", "pprof", "-raw", f).CombinedOutput()
		if err != nil {
			t.Fatalf("go tool pprof %s: %v\n%s", filepath.Base(f), err, out)
		}
		if f == mem && !strings.Contains(string(out), "tla/check.") {
			t.Fatalf("the allocation profile names no function of the checker:\n%.2000s", out)
		}
	}
	_, _, errb := runCLI(t, "check", "-progress", "0", "-memprofile", filepath.Join(dir, "no", "such", "dir", "m.prof"), p)
	if !strings.Contains(errb, "-memprofile") {
		t.Fatalf("an unwritable -memprofile is not reported: %q", errb)
	}
}
