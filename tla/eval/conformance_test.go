package eval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
)

// Model is one row of the conformance suite's expected.tsv.
type model struct {
	cfg, spec, result string
	distinct          int64 // -1 when not given
	generated         int64 // TLC's total states; -1 when not given
	depth             int   // -1 when not given
}

// depthDiffers lists models whose depth in expected.tsv is not what TLC
// reports with one worker: for EWD840 expected.tsv says 10, but TLC -workers
// 1 reports "The depth of the complete state graph search is 9" (same 302
// distinct states and 2001 generated), the figure TestAgainstTLC checks.
var depthDiffers = map[string]bool{"ewd840/EWD840.cfg": true}

// mismatch compares a run with TLC's figures ("" if they agree).
func (md model) mismatch(got string, res check.Result) string {
	switch {
	case got != md.result:
		return fmt.Sprintf("got %s, want %s", got, md.result)
	case md.distinct >= 0 && res.Distinct != md.distinct:
		return fmt.Sprintf("%d distinct states, TLC finds %d", res.Distinct, md.distinct)
	case md.generated >= 0 && res.Generated != md.generated:
		return fmt.Sprintf("%d states generated, TLC generates %d", res.Generated, md.generated)
	case md.depth >= 0 && res.Depth != md.depth && !depthDiffers[md.cfg]:
		return fmt.Sprintf("depth %d, TLC's is %d", res.Depth, md.depth)
	}
	return ""
}

func readExpected(t *testing.T, dir string) []model {
	t.Helper()
	fh, err := os.Open(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var ms []model
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			t.Fatalf("bad expected.tsv line %q", line)
		}
		d := int64(-1)
		if f[3] != "" {
			d, _ = strconv.ParseInt(f[3], 10, 64)
		}
		g, depth := int64(-1), -1
		if len(f) > 5 && f[5] != "" {
			g, _ = strconv.ParseInt(f[5], 10, 64)
		}
		if len(f) > 6 && f[6] != "" {
			depth, _ = strconv.Atoi(f[6])
		}
		ms = append(ms, model{cfg: f[0], spec: f[1], result: f[2], distinct: d, generated: g, depth: depth})
	}
	return ms
}

// runModel checks one model; it returns the verdict as expected.tsv
// spells it ("unsupported" for models asking for what is not built yet).
func runModel(t *testing.T, dir string, md model, workers int) (string, check.Result) {
	t.Helper()
	spec, err := Load(filepath.Join(dir, md.spec))
	if err != nil {
		t.Fatalf("%s: %v", md.spec, err)
	}
	if err := spec.Resolve(); err != nil {
		t.Fatalf("%s: %v", md.spec, err)
	}
	src, err := os.ReadFile(filepath.Join(dir, md.cfg))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Parse(filepath.Join(dir, md.cfg), src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(spec, c)
	if errors.Is(err, ErrUnsupported) {
		return "unsupported: " + err.Error(), check.Result{}
	}
	if err != nil {
		return "error: " + err.Error(), check.Result{}
	}
	opts := check.Options{Workers: workers, NoDeadlock: m.NoDeadlock}
	if os.Getenv("VERIMETER_PROGRESS") != "" {
		opts.Progress, opts.ProgressEvery = os.Stderr, 5*time.Second
	}
	opts.Exact = os.Getenv("VERIMETER_EXACT") != ""
	res, err := check.Run(context.Background(), m, opts)
	if err != nil {
		return "error: " + err.Error(), res
	}
	switch res.Verdict {
	case check.Success:
		return "success", res
	case check.InvariantViolated:
		return "safety failure", res
	case check.Deadlocked:
		return "deadlock failure", res
	case check.LivenessViolated:
		return "liveness failure", res
	}
	return "error: " + res.Error, res
}

// small are the models of expected.tsv that make test checks (the large
// ones run in make conformance).
var small = map[string]bool{
	"DieHard/DieHard.cfg": true, "MissionariesAndCannibals/MissionariesAndCannibals.cfg": true,
	"SpecifyingSystems/HourClock/HourClock.cfg":                   true,
	"SpecifyingSystems/AsynchronousInterface/AsynchInterface.cfg": true,
	"SpecifyingSystems/AsynchronousInterface/Channel.cfg":         true,
	"transaction_commit/TCommit.cfg":                              true,
	"transaction_commit/TwoPhase.cfg":                             true,
	// PROPERTY (liveness under fairness, refinement through INSTANCE) and SYMMETRY
	"Paxos/MCPaxos.cfg":                                       true,
	"DiningPhilosophers/DiningPhilosophers.cfg":               true,
	"ewd840/EWD840.cfg":                                       true,
	"ewd840/SyncTerminationDetection.cfg":                     true,
	"chang_roberts/MCChangRoberts.cfg":                        true,
	"SpecifyingSystems/TLC/MCAlternatingBit.cfg":              true,
	"allocator/SimpleAllocator.cfg":                           true,
	"allocator/SchedulingAllocator.cfg":                       true,
	"SpecifyingSystems/FIFO/MCInnerFIFO.cfg":                  true,
	"SpecifyingSystems/CachingMemory/MCWriteThroughCache.cfg": true,
	"Disruptor/Disruptor_SPMC.cfg":                            true,
}

func TestConformanceSmall(t *testing.T) {
	dir := conformanceDir(t)
	for _, md := range readExpected(t, dir) {
		if !small[md.cfg] {
			continue
		}
		got, res := runModel(t, dir, md, 2)
		if msg := md.mismatch(got, res); msg != "" {
			t.Errorf("%s: %s", md.cfg, msg)
			continue
		}
		t.Logf("%s: %s, %d distinct, %d generated, depth %d", md.cfg, got, res.Distinct, res.Generated, res.Depth)
	}
}

// TestConformanceAll runs every model of expected.tsv (make conformance
// runs the CLI instead; this is for development): VERIMETER_CONFORMANCE_ALL=1.
func TestConformanceAll(t *testing.T) {
	if os.Getenv("VERIMETER_CONFORMANCE_ALL") == "" {
		t.Skip("set VERIMETER_CONFORMANCE_ALL=1 to run every model")
	}
	dir := conformanceDir(t)
	for _, md := range readExpected(t, dir) {
		if md.cfg == "transaction_commit/PaxosCommit.cfg" || md.cfg == "lamport_mutex/MCLamportMutex.cfg" {
			continue
		}
		if only := os.Getenv("VERIMETER_CONFORMANCE_MODEL"); only != "" && !strings.Contains(md.cfg, only) {
			continue
		}
		start := time.Now()
		got, res := runModel(t, dir, md, 2)
		t.Logf("%s: want %s %d, got %s, %d distinct, %d generated, depth %d, %.1fs", md.cfg, md.result, md.distinct, got, res.Distinct, res.Generated, res.Depth, time.Since(start).Seconds())
		if msg := md.mismatch(got, res); msg != "" && !strings.HasPrefix(got, "unsupported") {
			t.Errorf("%s: %s", md.cfg, msg)
		}
	}
}
