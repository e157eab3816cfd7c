//go:build !device

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/pgtest"
)

// TestMain lets the corpus runner start this test binary as the checker:
// with VERIMETER_TEST_MAIN=1 it is the verimeter command.
func TestMain(m *testing.M) {
	if os.Getenv("VERIMETER_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// The PostgreSQL tests share one server, a database each.
	pgtest.Main(m)
}

const corpusCounter = `---- MODULE Counter ----
EXTENDS Naturals
CONSTANT N
VARIABLE x
Init == x = 0
Next == x < N /\ x' = x + 1
Inv == x # 2
====
`

// writeFakeCorpus makes a corpus directory the shape of tlaplus/Examples:
// one example whose manifest lists models in several modes and with
// several recorded results.
func writeFakeCorpus(t *testing.T, distinct int) string {
	t.Helper()
	dir := t.TempDir()
	ex := filepath.Join(dir, "specifications", "Counter")
	if err := os.MkdirAll(ex, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"Counter.tla":     corpusCounter,
		"Counter.cfg":     "CONSTANT N = 5\nINIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n",
		"CounterInv.cfg":  "CONSTANT N = 5\nINIT Init\nNEXT Next\nINVARIANT Inv\n",
		"CounterDead.cfg": "CONSTANT N = 1\nINIT Init\nNEXT Next\n",
		"CounterBig.cfg":  "CONSTANT N = 100000000\nINIT Init\nNEXT Next\n",
		"CSVUser.tla":     "---- MODULE CSVUser ----\nEXTENDS CSV\nVARIABLE x\nInit == x = 0\nNext == x' = x\n====\n",
		"CSVUser.cfg":     "INIT Init\nNEXT Next\n",
		// A trace validation reads its log by a path relative to the
		// corpus's root, where the corpus's CI runs TLC.
		"Reader.tla": "---- MODULE Reader ----\nEXTENDS Json\nLog == ndJsonDeserialize(\"specifications/Counter/log.ndjson\")\nVARIABLE x\nInit == x \\in {Log[1].a, Log[2].a}\nNext == x' = x\n====\n",
		"Reader.cfg": "INIT Init\nNEXT Next\n",
		"log.ndjson": "{\"a\": 1}\n{\"a\": 2}\n",
		"manifest.json": `{"modules": [
  {"path": "specifications/Counter/Counter.tla", "models": [
    {"path": "specifications/Counter/Counter.cfg", "runtime": "00:00:01", "mode": "exhaustive search", "result": "success", "distinctStates": ` + itoa(distinct) + `},
    {"path": "specifications/Counter/CounterInv.cfg", "runtime": "00:00:01", "mode": "exhaustive search", "result": "safety failure"},
    {"path": "specifications/Counter/CounterDead.cfg", "runtime": "00:00:01", "mode": "exhaustive search", "result": "deadlock failure"},
    {"path": "specifications/Counter/CounterBig.cfg", "runtime": "00:00:10", "mode": "exhaustive search", "result": "success"},
    {"path": "specifications/Counter/CounterSim.cfg", "runtime": "00:00:01", "mode": {"simulate": {"traceCount": 100}}, "result": "success"},
    {"path": "specifications/Counter/CounterLong.cfg", "runtime": "01:00:00", "mode": "exhaustive search", "result": "success"}
  ]},
  {"path": "specifications/Counter/CSVUser.tla", "models": [
    {"path": "specifications/Counter/CSVUser.cfg", "runtime": "00:00:01", "mode": "exhaustive search", "result": "success", "distinctStates": 1}
  ]},
  {"path": "specifications/Counter/Reader.tla", "models": [
    {"path": "specifications/Counter/Reader.cfg", "runtime": "00:00:01", "mode": "exhaustive search", "result": "success", "distinctStates": 2}
  ]}
]}`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(ex, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type corpusReport struct {
	Rows   []corpusRow    `json:"rows"`
	Totals map[string]int `json:"totals"`
	Causes map[string]int `json:"unsupported_causes"`
}

func runCorpusJSON(t *testing.T, args ...string) (corpusReport, int, string) {
	t.Helper()
	t.Setenv("VERIMETER_TEST_MAIN", "1")
	var out, errb bytes.Buffer
	code := runCorpus(append([]string{"-json"}, args...), &out, &errb)
	var rep corpusReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("corpus -json: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	return rep, code, errb.String()
}

func TestCorpusVerdicts(t *testing.T) {
	dir := writeFakeCorpus(t, 6) // TLC: x = 0..5, 6 distinct states
	rep, code, stderr := runCorpusJSON(t, "-timeout", "3s", "-max-runtime", "10m", dir)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", code, stderr)
	}
	want := map[string]string{
		"specifications/Counter/Counter.cfg":     verdictAgree,
		"specifications/Counter/CounterInv.cfg":  verdictAgree,
		"specifications/Counter/CounterDead.cfg": verdictAgree,
		"specifications/Counter/CounterBig.cfg":  verdictTimeout,
		"specifications/Counter/CSVUser.cfg":     verdictUnsupported,
		"specifications/Counter/Reader.cfg":      verdictAgree,
	}
	if len(rep.Rows) != len(want) {
		t.Fatalf("%d rows, want %d (simulation and over -max-runtime left out): %+v", len(rep.Rows), len(want), rep.Rows)
	}
	for _, r := range rep.Rows {
		if want[r.Model] != r.Verdict {
			t.Errorf("%s: verdict %q (%s), want %q", r.Model, r.Verdict, r.Detail, want[r.Model])
		}
	}
	if rep.Totals[verdictAgree] != 4 || rep.Totals[verdictTimeout] != 1 || rep.Totals[verdictUnsupported] != 1 {
		t.Errorf("totals %v", rep.Totals)
	}
	if rep.Causes["module CSV of TLC's library is not built in"] != 1 {
		t.Errorf("unsupported causes %v", rep.Causes)
	}
}

func TestCorpusDisagree(t *testing.T) {
	dir := writeFakeCorpus(t, 7) // a wrong count in the manifest
	var out, errb bytes.Buffer
	t.Setenv("VERIMETER_TEST_MAIN", "1")
	code := runCorpus([]string{"-run", `Counter(Inv)?\.cfg`, "-min-runtime", "0s", dir}, &out, &errb)
	if code == exitOK {
		t.Fatalf("exit 0 on a disagreement:\n%s", out.String())
	}
	text := out.String()
	for _, s := range []string{"DISAGREE", "1 agree, 0 unsupported, 0 timeout, 1 disagree of 2 exhaustive-search models", "1 passed, 1 failed"} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q:\n%s", s, text)
		}
	}
}

// TestMemoryCapped: a checker killed by the address-space cap (btree in
// the corpus: "fatal error: runtime: cannot allocate memory") is a run
// stopped at the cap, not a disagreement.
func TestMemoryCapped(t *testing.T) {
	for _, c := range []struct {
		stderr string
		want   bool
	}{
		{"fatal error: runtime: out of memory\n", true},
		{"fatal error: runtime: cannot allocate memory\n\ngoroutine 1 [running]:", true},
		{"panic: runtime error: index out of range [3] with length 3", false},
		{"", false},
	} {
		if got := memoryCapped(c.stderr); got != c.want {
			t.Errorf("memoryCapped(%q) = %v, want %v", c.stderr, got, c.want)
		}
	}
}

func TestCorpusMissingDir(t *testing.T) {
	var out, errb bytes.Buffer
	missing := filepath.Join(t.TempDir(), "nope")
	if code := runCorpus([]string{missing}, &out, &errb); code != exitBadInput {
		t.Fatalf("exit %d, want %d", code, exitBadInput)
	}
	if !strings.Contains(errb.String(), missing+" not found") || !strings.Contains(errb.String(), "VERIMETER_CORPUS") {
		t.Errorf("message %q", errb.String())
	}
}

func TestParseRuntime(t *testing.T) {
	for in, want := range map[string]string{"00:00:30": "30s", "01:02:03": "1h2m3s", "unknown": "-1ns"} {
		d, err := parseRuntime(in)
		if err != nil || d.String() != want {
			t.Errorf("parseRuntime(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	if _, err := parseRuntime("1:2"); err == nil {
		t.Error("parseRuntime(1:2) = nil error")
	}
}
