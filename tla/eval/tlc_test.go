package eval

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/tlctest"
	"github.com/verimeter/verimeter/tla/check"
)

var (
	tlcCounts = regexp.MustCompile(`([0-9,]+) states generated, ([0-9,]+) distinct states found, ([0-9,]+) states left on queue`)
	tlcDepth  = regexp.MustCompile(`depth of the complete state graph search is ([0-9,]+)`)
)

type tlcRun struct {
	verdict                   string
	generated, distinct, left int64
	depth                     int64
	out                       string
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	return n
}

// runTLC runs TLC with one worker on a conformance model and reads its
// verdict and counters from its output.
func runTLC(t *testing.T, dir string, md model) tlcRun {
	t.Helper()
	cmd := tlctest.Command(t, filepath.Join(dir, filepath.Dir(md.spec)), "-workers", "1", "-config", filepath.Base(md.cfg), filepath.Base(md.spec))
	b, _ := cmd.CombinedOutput() // TLC exits non-zero on a violation
	r := tlcRun{out: string(b)}
	switch {
	case strings.Contains(r.out, "No error has been found"):
		r.verdict = "success"
	case regexp.MustCompile(`Invariant \S+ is violated`).MatchString(r.out):
		r.verdict = "safety failure"
	case strings.Contains(r.out, "Deadlock reached"):
		r.verdict = "deadlock failure"
	default:
		r.verdict = "error"
	}
	if m := tlcCounts.FindAllStringSubmatch(r.out, -1); m != nil {
		last := m[len(m)-1]
		r.generated, r.distinct, r.left = atoi(last[1]), atoi(last[2]), atoi(last[3])
	}
	if m := tlcDepth.FindStringSubmatch(r.out); m != nil {
		r.depth = atoi(m[1])
	}
	return r
}

// TestAgainstTLC runs TLC and our checker, both with one worker, on the
// small conformance models and requires the same verdict, distinct states,
// states generated and depth.
func TestAgainstTLC(t *testing.T) {
	dir := conformanceDir(t)
	tlctest.Path(t) // TLC found, or the test stops here, before any work
	n := 0
	for _, md := range readExpected(t, dir) {
		if !small[md.cfg] {
			continue
		}
		n++
		md := md
		t.Run(md.cfg, func(t *testing.T) {
			want := runTLC(t, dir, md)
			if want.verdict == "error" {
				t.Fatalf("TLC did not finish:\n%s", want.out)
			}
			res, err := CheckModel(context.Background(), filepath.Join(dir, md.spec), filepath.Join(dir, md.cfg), check.Options{Workers: 1})
			got := map[check.Verdict]string{check.Success: "success", check.InvariantViolated: "safety failure", check.Deadlocked: "deadlock failure"}[res.Verdict]
			if err != nil || got != want.verdict {
				t.Fatalf("verdict %q (%v), TLC %q", got, err, want.verdict)
			}
			if res.Distinct != want.distinct || res.Generated != want.generated || int64(res.Depth) != want.depth {
				t.Fatalf("ours: %d distinct, %d generated, depth %d; TLC: %d distinct, %d generated, depth %d",
					res.Distinct, res.Generated, res.Depth, want.distinct, want.generated, want.depth)
			}
			t.Logf("%s: %d distinct, %d generated, depth %d (TLC agrees)", want.verdict, res.Distinct, res.Generated, res.Depth)
		})
	}
	if n == 0 {
		t.Fatal("no small model found in expected.tsv")
	}
}
