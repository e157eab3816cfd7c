package eval

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/tlctest"
	"github.com/verimeter/verimeter/tla/check"
)

var (
	dotNodeLine = regexp.MustCompile(`^(-?\d+) \[label="((?:[^"\\]|\\.)*)"`)
	dotEdgeLine = regexp.MustCompile(`^(-?\d+) -> (-?\d+) \[label="((?:[^"\\]|\\.)*)"`)
)

// dotGraph reads a DOT state graph as sets of node labels and of edges
// (from label, to label, action name without TLC's parameters), so that
// two graphs compare without their fingerprints.
func dotGraph(t *testing.T, text string) (nodes, edges []string) {
	t.Helper()
	label := map[string]string{}
	var raw [][3]string
	for _, l := range strings.Split(text, "\n") {
		if m := dotEdgeLine.FindStringSubmatch(l); m != nil {
			act, _, _ := strings.Cut(m[3], "(")
			raw = append(raw, [3]string{m[1], m[2], act})
		} else if m := dotNodeLine.FindStringSubmatch(l); m != nil {
			label[m[1]] = canonLabel(m[2])
		}
	}
	set := map[string]bool{}
	for _, e := range raw {
		if label[e[0]] == "" || label[e[1]] == "" {
			t.Fatalf("edge %v between undrawn nodes", e)
		}
		set[label[e[0]]+" -"+e[2]+"-> "+label[e[1]]] = true
	}
	for _, l := range label {
		nodes = append(nodes, l)
	}
	for e := range set {
		edges = append(edges, e)
	}
	sort.Strings(nodes)
	sort.Strings(edges)
	return nodes, edges
}

// canonLabel is a DOT state label with its conjuncts sorted and without
// whitespace or line breaks: TLC orders the variables its own way and
// breaks long values over lines.
func canonLabel(l string) string {
	parts := strings.Split(strings.TrimPrefix(l, `/\\ `), `\n/\\ `)
	for i, p := range parts {
		p = strings.ReplaceAll(p, `\n`, "")
		parts[i] = strings.Join(strings.Fields(p), "")
	}
	sort.Strings(parts)
	return strings.Join(parts, " /\\ ")
}

// TestDumpAsTLC: our DOT state graph has the nodes (labelled as TLC labels
// them) and the steps of TLC's `-dump dot,actionlabels` on the same models.
func TestDumpAsTLC(t *testing.T) {
	dir := conformanceDir(t)
	tlctest.Path(t) // TLC found, or the test stops here, before any work
	for _, cfg := range []string{"transaction_commit/TCommit.cfg", "transaction_commit/TwoPhase.cfg", "DiningPhilosophers/DiningPhilosophers.cfg"} {
		t.Run(cfg, func(t *testing.T) {
			spec := strings.TrimSuffix(cfg, ".cfg") + ".tla"
			out := filepath.Join(t.TempDir(), "tlc")
			cmd := tlctest.Command(t, filepath.Join(dir, filepath.Dir(cfg)), "-workers", "1", "-dump", "dot,actionlabels", out, "-config", filepath.Base(cfg), filepath.Base(spec))
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("TLC: %v\n%s", err, b)
			}
			theirs, err := os.ReadFile(out + ".dot")
			if err != nil {
				t.Fatal(err)
			}
			m, err := LoadModel(filepath.Join(dir, spec), filepath.Join(dir, cfg))
			if err != nil {
				t.Fatal(err)
			}
			var ours bytes.Buffer
			if err := check.Dump(context.Background(), m, &ours, check.DumpOptions{}); err != nil {
				t.Fatal(err)
			}
			tn, te := dotGraph(t, string(theirs))
			on, oe := dotGraph(t, ours.String())
			if len(tn) == 0 || strings.Join(tn, "\n") != strings.Join(on, "\n") {
				t.Fatalf("nodes differ: TLC %d, ours %d\nTLC: %q\nours: %q", len(tn), len(on), tn[:min(3, len(tn))], on[:min(3, len(on))])
			}
			if strings.Join(te, "\n") != strings.Join(oe, "\n") {
				t.Fatalf("edges differ: TLC %d, ours %d", len(te), len(oe))
			}
			t.Logf("%d states, %d distinct steps, as TLC", len(on), len(oe))
		})
	}
}

// TestSimulateAsTLC: TLC's simulation mode and ours reach the same
// verdict on a model with a reachable violation (DieHard, depth 100) and
// on models without one, and our counterexample is a behaviour of the
// model (Next generates each of its steps).
func TestSimulateAsTLC(t *testing.T) {
	dir := conformanceDir(t)
	tlctest.Path(t) // TLC found, or the test stops here, before any work
	for _, c := range []struct {
		cfg, want string
		n         int64
	}{
		{"DieHard/DieHard.cfg", "NotSolved", 2000},
		{"transaction_commit/TCommit.cfg", "", 200},
		{"DiningPhilosophers/DiningPhilosophers.cfg", "", 200},
	} {
		t.Run(c.cfg, func(t *testing.T) {
			spec := strings.TrimSuffix(c.cfg, ".cfg") + ".tla"
			cmd := tlctest.Command(t, filepath.Join(dir, filepath.Dir(c.cfg)), "-workers", "1", "-simulate", fmt.Sprintf("num=%d", c.n), "-depth", "100", "-seed", "1", "-config", filepath.Base(c.cfg), filepath.Base(spec))
			b, _ := cmd.CombinedOutput()
			tlcViolated := regexp.MustCompile(`Invariant (\S+) is violated`).FindStringSubmatch(string(b))
			switch {
			case c.want != "" && (tlcViolated == nil || tlcViolated[1] != c.want):
				t.Fatalf("TLC did not find %s:\n%s", c.want, b)
			case c.want == "" && (tlcViolated != nil || !strings.Contains(string(b), "states generated")):
				t.Fatalf("TLC:\n%s", b)
			}
			m, err := LoadModel(filepath.Join(dir, spec), filepath.Join(dir, c.cfg))
			if err != nil {
				t.Fatal(err)
			}
			res, err := check.Simulate(context.Background(), m, check.SimOptions{Depth: 100, Behaviours: c.n, Seed: 1, NoDeadlock: m.NoDeadlock})
			if err != nil {
				t.Fatal(err)
			}
			if c.want != "" {
				if res.Verdict != check.InvariantViolated || res.Invariant != c.want {
					t.Fatalf("ours: %s %q", res.Verdict, res.Invariant)
				}
				for i := 1; i < len(res.Trace); i++ {
					found := false
					_ = m.Next(res.Trace[i-1].State, func(n check.State, a string) error {
						eq, _ := equalStateValues(n, res.Trace[i].State)
						found = found || eq && a == res.Trace[i].Action
						return nil
					})
					if !found {
						t.Fatalf("step %d of the counterexample is not a step of Next", i)
					}
				}
			} else if res.Verdict != check.Success || res.Behaviours != c.n {
				t.Fatalf("ours: %+v", res)
			}
			t.Logf("%s after %d behaviours, %d states generated; TLC agrees", res.Verdict, res.Behaviours, res.Generated)
		})
	}
}

func equalStateValues(a, b check.State) (bool, error) {
	if len(a) != len(b) {
		return false, nil
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false, nil
		}
	}
	return true, nil
}
