package spec

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verimeter/verimeter/internal/tlctest"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
	"github.com/verimeter/verimeter/tla/msc"
)

// The spec's models are checked with our checker (tla/eval); TLC, the
// reference checker from the shared tools (../shared/tools/tlc, or
// $VERIMETER_TLC), checks what ours cannot yet (temporal properties) and
// runs beside ours on every small model and mutant as a differential test:
// same verdict, same violated property, same distinct states. A missing TLC
// is a failure with a clear message, never a skip.

var (
	update     = flag.Bool("update", false, "rewrite ../proofs/README.md from this run")
	resultsDir = flag.String("results", "", "with -update: read each model's result from DIR/<model>.json, as `verimeter check -json` prints it (make proofs)")
	results    = struct {
		sync.Mutex
		m map[string]outcome
	}{m: map[string]outcome{}}
)

// Checkers, as the tables name them.
const (
	ours = "verimeter"
	tlc  = "TLC"
)

// outcome is what one run of a checker found.
type outcome struct {
	checker   string
	ok        bool
	violated  string // invariant or property name
	distinct  int64
	generated int64
	traceLen  int
	seconds   float64
	output    string // TLC's output, or our error
	res       check.Result
}

var (
	reDistinct = regexp.MustCompile(`(\d[\d,]*) states generated, (\d[\d,]*) distinct states found`)
	reViolated = regexp.MustCompile(`(?:Invariant|Temporal property|Action property) (\S+) (?:is|was) violated`)
	reState    = regexp.MustCompile(`(?m)^State (\d+):`)
)

func atoi(s string) int { n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", "")); return n }

// stage writes a directory for one model: every module of spec/ (and of
// proofs/, which extend them) and the configuration text cfg as module.cfg.
func stage(t *testing.T, dir, module, cfg string) {
	t.Helper()
	files, _ := filepath.Glob("*.tla")
	proofs, _ := filepath.Glob("../proofs/*.tla")
	for _, f := range append(files, proofs...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, module+".cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// coverageModels are the models whose TLC run also reports TLC's
// -coverage numbers (TestCoverageMatchesTLC compares them with ours).
var coverageModels = map[string]bool{"Market.cfg": true, "Collection.cfg": true, "Commands.cfg": true, "Firmware.cfg": true}

// tlcRuns keeps TLC's run of each model for the tests that read it
// (TestDifferentialTLC its verdict, TestCoverageMatchesTLC its coverage):
// a TLC run of a model is seconds to half a minute, so it runs once.
var tlcRuns = struct {
	sync.Mutex
	m map[string]*tlcRun
}{m: map[string]*tlcRun{}}

type tlcRun struct {
	once sync.Once
	r    outcome
}

// runTLCOnce is runTLC of the model named key, run at most once in this
// process; a coverage model's run has -coverage.
func runTLCOnce(t *testing.T, key, module, cfg string) outcome {
	t.Helper()
	tlcRuns.Lock()
	run := tlcRuns.m[key]
	if run == nil {
		run = &tlcRun{}
		tlcRuns.m[key] = run
	}
	tlcRuns.Unlock()
	var extra []string
	if coverageModels[key] {
		extra = []string{"-coverage", "1"}
	}
	run.once.Do(func() { run.r = runTLC(t, module, cfg, extra...) })
	if run.r.checker == "" { // the run that was to fill it failed its test
		t.Fatalf("TLC on %s did not finish (see the test that ran it)", key)
	}
	return run.r
}

// runTLC checks module with the configuration text cfg.
func runTLC(t *testing.T, module, cfg string, extra ...string) outcome {
	t.Helper()
	dir := t.TempDir()
	stage(t, dir, module, cfg)
	start := time.Now()
	// -lncheck final: TLC checks temporal properties once, on the whole
	// state graph, as ours does; by default it also checks them while it
	// explores and stops at a violation after a number of states that
	// depends on its timing.
	args := append([]string{"-workers", "1", "-lncheck", "final"}, extra...)
	cmd := tlctest.Command(t, dir, append(args, "-config", module+".cfg", module+".tla")...)
	out, _ := cmd.CombinedOutput() // TLC exits non-zero on a violation
	r := outcome{checker: tlc, seconds: time.Since(start).Seconds(), output: string(out)}
	if m := reDistinct.FindStringSubmatch(r.output); m != nil {
		r.generated, r.distinct = int64(atoi(m[1])), int64(atoi(m[2]))
	}
	if m := reViolated.FindStringSubmatch(r.output); m != nil {
		r.violated = m[1]
	}
	r.traceLen = len(reState.FindAllString(r.output, -1))
	r.ok = strings.Contains(r.output, "Model checking completed. No error has been found.")
	if !r.ok && r.violated == "" {
		t.Fatalf("TLC on %s did not finish:\n%s", module, r.output)
	}
	return r
}

// runOurs checks module with the configuration text cfg with our checker,
// as `verimeter check -config` does, with the actions' coverage (the
// coverage tests read it from the run TestModelsPass made).
func runOurs(t *testing.T, module, cfg string) outcome {
	t.Helper()
	dir := t.TempDir()
	stage(t, dir, module, cfg)
	res, err := eval.CheckModel(context.Background(), filepath.Join(dir, module+".tla"), filepath.Join(dir, module+".cfg"),
		check.Options{Workers: runtime.NumCPU(), Coverage: true})
	r := outcome{checker: ours, res: res, distinct: res.Distinct, generated: res.Generated,
		traceLen: len(res.Trace), seconds: res.Seconds}
	switch {
	case err != nil:
		t.Fatalf("verimeter check %s: %v", module, err)
	case res.Verdict == check.Success:
		r.ok = true
	case res.Verdict == check.InvariantViolated:
		r.violated = res.Invariant
	case res.Verdict == check.LivenessViolated:
		r.violated = res.Property
	default:
		t.Fatalf("verimeter check %s: %s %s", module, res.Verdict, res.Error)
	}
	return r
}

// checkModel runs our checker on a model (TLC runs beside it in
// TestDifferentialTLC).
func checkModel(t *testing.T, module, cfg string) outcome {
	return runOurs(t, module, cfg)
}

// models lists the small models of the spec (spec/large/ is make spec's).
func models(t *testing.T) []string {
	cfgs, err := filepath.Glob("*.cfg")
	if err != nil || len(cfgs) == 0 {
		t.Fatalf("no models: %v", err)
	}
	sort.Strings(cfgs)
	return cfgs
}

// moduleOf is the module a model checks: the .cfg name up to the first
// capital letter after the first (CollectionLive.cfg checks Collection).
func moduleOf(cfg string) string {
	name := strings.TrimSuffix(filepath.Base(cfg), ".cfg")
	for i := 1; i < len(name); i++ {
		if name[i] >= 'A' && name[i] <= 'Z' {
			if _, err := os.Stat(name[:i] + ".tla"); err == nil {
				return name[:i]
			}
		}
	}
	return name
}

func remember(key string, r outcome) {
	results.Lock()
	results.m[key] = r
	results.Unlock()
}

func TestModelsPass(t *testing.T) {
	for _, cfg := range models(t) {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := checkModel(t, moduleOf(cfg), string(text))
			if !r.ok {
				t.Fatalf("%s violates %s:\n%s", cfg, r.violated, r.output)
			}
			if r.distinct < 100 {
				t.Fatalf("%s explores only %d states: the model is too small to mean anything", cfg, r.distinct)
			}
			remember(cfg, r)
			t.Logf("%s: %d distinct states, %d generated, %.1f s (%s)", cfg, r.distinct, r.generated, r.seconds, r.checker)
		})
	}
}

// mutant is a row of mutants.tsv: its model (a configuration of spec/,
// CollectionLive for a temporal property) selects the module it weakens.
type mutant struct {
	n                              int
	model, module, name, by, about string
}

// key names a mutant uniquely (two modules may weaken the same way).
func (m mutant) key() string { return "mutant " + m.model + "/" + m.name }

func readMutants(t *testing.T) []mutant {
	f, err := os.Open("mutants.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []mutant
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			t.Fatalf("mutants.tsv: %q: want 5 tab-separated fields", line)
		}
		if _, err := os.Stat(c[1] + ".cfg"); err != nil {
			t.Fatalf("mutants.tsv: %q: no model %s.cfg", line, c[1])
		}
		out = append(out, mutant{n: atoi(c[0]), model: c[1], module: moduleOf(c[1] + ".cfg"), name: c[2], by: c[3], about: c[4]})
	}
	return out
}

// mutantConfig is the mutant's model with the mutant selected.
func mutantConfig(t *testing.T, m mutant) string {
	base, err := os.ReadFile(m.model + ".cfg")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(base), `Mutant = "none"`) {
		t.Fatalf("%s.cfg does not set Mutant = \"none\"", m.model)
	}
	return strings.Replace(string(base), `Mutant = "none"`, fmt.Sprintf("Mutant = %q", m.name), 1)
}

// TestMutantsAreCaught applies each weakening (the module's Mutant
// constant) to the module's base model: the named property must fail. A
// mutant that passes means a property is too weak. With
// VERIMETER_MSC_DIR set, each counterexample is written there as a Mermaid
// chart (NN_name.md) with the spec's roles as lifelines.
func TestMutantsAreCaught(t *testing.T) {
	ms := readMutants(t)
	if len(ms) < 32 {
		t.Fatalf("%d mutants, issue 15 asks for at least 32", len(ms))
	}
	chartDir := os.Getenv("VERIMETER_MSC_DIR")
	for _, m := range ms {
		t.Run(fmt.Sprintf("%02d_%s", m.n, m.name), func(t *testing.T) {
			t.Parallel()
			r := checkModel(t, m.module, mutantConfig(t, m))
			if r.ok {
				t.Fatalf("mutant %d (%s) passes %s: %s is too weak", m.n, m.about, m.module, m.by)
			}
			if r.violated != m.by {
				t.Fatalf("mutant %d caught by %s, expected %s", m.n, r.violated, m.by)
			}
			remember(m.key(), r)
			if chartDir != "" && r.checker == ours {
				writeChart(t, filepath.Join(chartDir, fmt.Sprintf("%02d_%s.md", m.n, m.name)), m, r.res)
			}
			t.Logf("mutant %2d %-28s caught by %-34s counterexample of %d states", m.n, m.name, m.by, r.traceLen)
		})
	}
}

// writeChart renders a counterexample as a Mermaid sequence diagram in a
// Markdown file.
func writeChart(t *testing.T, path string, m mutant, res check.Result) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Mutant %d: %s\n\n%s.tla, Mutant = %q, violates `%s`.\n\n```mermaid\n", m.n, m.about, m.module, m.name, res.Invariant)
	src, err := os.ReadFile(m.module + ".tla")
	if err != nil {
		t.Fatal(err)
	}
	if err := msc.Render(&b, msc.ParseRoles(src), res); err != nil {
		t.Fatal(err)
	}
	b.WriteString("```\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDifferentialTLC runs TLC beside our checker on every small model and
// every mutant our checker supports: the same verdict, violated property
// and number of distinct states.
func TestDifferentialTLC(t *testing.T) {
	type job struct{ name, module, cfg string }
	var jobs []job
	for _, cfg := range models(t) {
		text, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job{cfg, moduleOf(cfg), string(text)})
	}
	for _, m := range readMutants(t) {
		jobs = append(jobs, job{m.key(), m.module, mutantConfig(t, m)})
	}
	// Our side of a job is the run TestModelsPass or TestMutantsAreCaught
	// made, when they ran first in this process.
	for _, j := range jobs {
		t.Run(strings.NewReplacer(" ", "_", "/", "_").Replace(j.name), func(t *testing.T) {
			t.Parallel()
			a := cached(t, j.name, func() outcome { return runOurs(t, j.module, j.cfg) })
			b := runTLCOnce(t, j.name, j.module, j.cfg)
			if a.ok != b.ok || a.violated != b.violated || a.distinct != b.distinct {
				t.Fatalf("%s: verimeter ok=%v violated=%q distinct=%d; TLC ok=%v violated=%q distinct=%d",
					j.name, a.ok, a.violated, a.distinct, b.ok, b.violated, b.distinct)
			}
			t.Logf("%s: both %s, %d distinct states (verimeter %.2f s, TLC %.2f s)", j.name, verdict(a), a.distinct, a.seconds, b.seconds)
		})
	}
}

func verdict(r outcome) string {
	if r.ok {
		return "holds"
	}
	return "violate " + r.violated
}

// TestSANYParsesEveryModule parses each module of spec/ and proofs/ with
// TLC's own front end (proofs/ modules extend spec/ modules: SANY finds
// them through its library path).
func TestSANYParsesEveryModule(t *testing.T) {
	jar := filepath.Join(filepath.Dir(tlctest.Path(t)), "tla2tools.jar")
	mods, _ := filepath.Glob("*.tla")
	proofs, _ := filepath.Glob("../proofs/*.tla")
	if len(proofs) == 0 {
		t.Error("no modules in proofs/")
	}
	specDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(mods, proofs...) {
		// Java's temporary directory in the test's: SANY, as TLC, leaves a
		// tlc-NNN directory there
		cmd := exec.Command("java", "-DTLA-Library="+specDir, "-Djava.io.tmpdir="+t.TempDir(), "-cp", jar, "tla2sany.SANY", filepath.Base(m))
		cmd.Dir = filepath.Dir(m)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "*** Errors") || strings.Contains(string(out), "Fatal errors") ||
			strings.Contains(string(out), "Cannot find source file") {
			t.Errorf("SANY rejects %s: %v\n%s", m, err, out)
		}
	}
}
