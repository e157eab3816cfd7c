package eval

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/tla/check"
)

// TestConformanceLarge runs the two large conformance models (PaxosCommit and
// MCLamportMutex) and logs their speed: VERIMETER_LARGE=1. VERIMETER_MODELS
// (comma-separated cfg paths of expected.tsv) picks other models instead, and
// VERIMETER_WORKERS sets the worker count (default 2).
func TestConformanceLarge(t *testing.T) {
	if os.Getenv("VERIMETER_LARGE") == "" {
		t.Skip("set VERIMETER_LARGE=1 to run the large models")
	}
	want := map[string]bool{"transaction_commit/PaxosCommit.cfg": true, "lamport_mutex/MCLamportMutex.cfg": true}
	if s := os.Getenv("VERIMETER_MODELS"); s != "" {
		want = map[string]bool{}
		for _, m := range strings.Split(s, ",") {
			want[m] = true
		}
	}
	workers := 2
	if s := os.Getenv("VERIMETER_WORKERS"); s != "" {
		if _, err := fmt.Sscan(s, &workers); err != nil {
			t.Fatal(err)
		}
	}
	// As the CLI runs the checker (check.TuneGC), unless VERIMETER_NO_TUNE_GC.
	if os.Getenv("VERIMETER_NO_TUNE_GC") == "" {
		defer check.TuneGC(900<<20, 0, os.Getenv)()
	}
	dir := conformanceDir(t)
	for _, md := range readExpected(t, dir) {
		if !want[md.cfg] {
			continue
		}
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		got, res := runModel(t, dir, md, workers)
		secs := time.Since(start).Seconds()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if msg := md.mismatch(got, res); msg != "" {
			t.Errorf("%s: %s", md.cfg, msg)
		}
		perState := 0.0
		if res.Distinct > 0 {
			perState = float64(after.HeapInuse) / float64(res.Distinct)
		}
		t.Logf("%s: %s, %d distinct, %d generated, depth %d; %d workers, %.1f s, %.0f generated/s, %.0f distinct/s, heap in use %d MiB at the end (%.0f bytes/state), %d collisions",
			md.cfg, got, res.Distinct, res.Generated, res.Depth, workers, secs,
			float64(res.Generated)/secs, float64(res.Distinct)/secs, after.HeapInuse>>20, perState, res.Collisions)
	}
}
