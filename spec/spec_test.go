package spec

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The spec's tests run TLC, the reference TLA+ checker, from the shared
// tools (../shared/tools/tlc, or $VERIMETER_TLC): it is the ground truth our
// own checker must match. A missing TLC is a failure with a clear message,
// never a skip.

var (
	update  = flag.Bool("update", false, "rewrite ../proofs/README.md from this run")
	results = struct {
		sync.Mutex
		m map[string]tlcResult
	}{m: map[string]tlcResult{}}
)

func tlcPath(t *testing.T) string {
	if p := os.Getenv("VERIMETER_TLC"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../shared/tools/tlc/tlc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("TLC not found at %s (set VERIMETER_TLC): the spec cannot be checked", p)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not installed: run make deps (installs openjdk-17-jre-headless)")
	}
	return p
}

// tlcResult is what one TLC run found.
type tlcResult struct {
	ok        bool
	violated  string // invariant or property name
	distinct  int
	generated int
	traceLen  int
	seconds   float64
	output    string
}

var (
	reDistinct = regexp.MustCompile(`(\d[\d,]*) states generated, (\d[\d,]*) distinct states found`)
	reViolated = regexp.MustCompile(`(?:Invariant|Temporal property|Action property) (\S+) (?:is|was) violated`)
	reState    = regexp.MustCompile(`(?m)^State (\d+):`)
)

func atoi(s string) int { n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", "")); return n }

// runTLC checks module with the configuration text cfg.
func runTLC(t *testing.T, module, cfg string) tlcResult {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(module + ".tla")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, module+".tla"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, module+".cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(tlcPath(t), "-workers", "1", "-config", module+".cfg", module+".tla")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput() // TLC exits non-zero on a violation
	r := tlcResult{seconds: time.Since(start).Seconds(), output: string(out)}
	if m := reDistinct.FindStringSubmatch(r.output); m != nil {
		r.generated, r.distinct = atoi(m[1]), atoi(m[2])
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

// models lists every .cfg of the spec: each must pass.
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
	name := strings.TrimSuffix(cfg, ".cfg")
	for i := 1; i < len(name); i++ {
		if name[i] >= 'A' && name[i] <= 'Z' {
			if _, err := os.Stat(name[:i] + ".tla"); err == nil {
				return name[:i]
			}
		}
	}
	return name
}

func TestModelsPass(t *testing.T) {
	for _, cfg := range models(t) {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := runTLC(t, moduleOf(cfg), string(text))
			if !r.ok {
				t.Fatalf("%s violates %s:\n%s", cfg, r.violated, r.output)
			}
			if r.distinct < 100 {
				t.Fatalf("%s explores only %d states: the model is too small to mean anything", cfg, r.distinct)
			}
			results.Lock()
			results.m[cfg] = r
			results.Unlock()
			t.Logf("%s: %d distinct states, %d generated, %.1f s", cfg, r.distinct, r.generated, r.seconds)
		})
	}
}

type mutant struct {
	n                       int
	module, name, by, about string
}

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
		out = append(out, mutant{n: atoi(c[0]), module: c[1], name: c[2], by: c[3], about: c[4]})
	}
	return out
}

// TestMutantsAreCaught applies each weakening (the module's Mutant
// constant) to the module's base model: the named property must fail. A
// mutant that passes means a property is too weak.
func TestMutantsAreCaught(t *testing.T) {
	ms := readMutants(t)
	if len(ms) < 16 {
		t.Fatalf("%d mutants, the issue lists 16", len(ms))
	}
	for _, m := range ms {
		t.Run(fmt.Sprintf("%02d_%s", m.n, m.name), func(t *testing.T) {
			t.Parallel()
			base, err := os.ReadFile(m.module + ".cfg")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(base), `Mutant = "none"`) {
				t.Fatalf("%s.cfg does not set Mutant = \"none\"", m.module)
			}
			cfg := strings.Replace(string(base), `Mutant = "none"`, fmt.Sprintf("Mutant = %q", m.name), 1)
			r := runTLC(t, m.module, cfg)
			if r.ok {
				t.Fatalf("mutant %d (%s) passes %s: %s is too weak", m.n, m.about, m.module, m.by)
			}
			if r.violated != m.by {
				t.Fatalf("mutant %d caught by %s, expected %s", m.n, r.violated, m.by)
			}
			results.Lock()
			results.m["mutant "+m.name] = r
			results.Unlock()
			t.Logf("mutant %2d %-28s caught by %-34s counterexample of %d states", m.n, m.name, m.by, r.traceLen)
		})
	}
}

// TestSANYParsesEveryModule parses each module with TLC's own front end.
func TestSANYParsesEveryModule(t *testing.T) {
	jar := filepath.Join(filepath.Dir(tlcPath(t)), "tla2tools.jar")
	mods, _ := filepath.Glob("*.tla")
	for _, m := range mods {
		out, err := exec.Command("java", "-cp", jar, "tla2sany.SANY", m).CombinedOutput()
		if err != nil || strings.Contains(string(out), "*** Errors") || strings.Contains(string(out), "Fatal errors") {
			t.Errorf("SANY rejects %s: %v\n%s", m, err, out)
		}
	}
}
