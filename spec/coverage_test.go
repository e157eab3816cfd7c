package spec

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/eval"
)

// Non-vacuity: an action of a model that is never enabled, or never
// reaches a state first, leaves the model's properties checked without it.
// Every small model must cover each of its actions, or say in its
// configuration why not (`\* @uncovered Action: reason`, spec/README.md);
// make spec does the same for spec/large/ with `verimeter check
// -coverage-strict`.

// coverageOf runs our checker with coverage on a model.
func coverageOf(t *testing.T, module, cfg string) check.Result {
	t.Helper()
	dir := t.TempDir()
	stage(t, dir, module, cfg)
	res, err := eval.CheckModel(context.Background(), filepath.Join(dir, module+".tla"), filepath.Join(dir, module+".cfg"),
		check.Options{Workers: runtime.NumCPU(), Coverage: true})
	if err != nil {
		t.Fatalf("verimeter check %s: %v", module, err)
	}
	return res
}

func TestEveryActionCovered(t *testing.T) {
	for _, cfg := range models(t) {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := coverageOf(t, moduleOf(cfg), string(text))
			if res.Verdict != check.Success {
				t.Fatalf("%s: %s %s", cfg, res.Verdict, res.Invariant)
			}
			if len(res.Coverage) == 0 {
				t.Fatalf("%s: no coverage reported", cfg)
			}
			uncovered, stale := check.Uncovered(res.Coverage, check.CoverageExcuses(text))
			for _, a := range res.Coverage {
				t.Logf("%s: <%s> enabled in %d states, %d:%d", cfg, a.Name, a.Enabled, a.Distinct, a.Generated)
			}
			if len(uncovered) > 0 {
				t.Errorf("%s: never enabled or adding no state, and no `\\* @uncovered Action: reason` line: %v", cfg, uncovered)
			}
			if len(stale) > 0 {
				t.Errorf("%s: `@uncovered` names an action that is covered or absent: %v", cfg, stale)
			}
		})
	}
}

// reTLCAction is a line of TLC's -coverage report for an action:
// `<Name line l, col c to line l2, col c2 of module M (l c l2 c2)>: distinct:generated`
// (the parenthesised range names a disjunct of Next that TLC names
// after Next itself).
var reTLCAction = regexp.MustCompile(`(?m)^<(\w+) line \d+, col \d+ to line \d+, col \d+ of module \w+(?: \((\d+) (\d+) (\d+) (\d+)\))?>: (\d+):(\d+)$`)

// reLastCall is the last operator applied in a disjunct's text: the
// action TLC names after Next (`\E e \in queue : Upload(e)` is Upload).
var reLastCall = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(|$)`)

// tlcCoverage runs TLC with -coverage on a model and returns the distinct
// states per action.
func tlcCoverage(t *testing.T, module, cfg string) map[string]int64 {
	t.Helper()
	dir := t.TempDir()
	stage(t, dir, module, cfg)
	cmd := exec.Command(tlcPath(t), "-workers", "1", "-coverage", "1", "-config", module+".cfg", module+".tla")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No error has been found") {
		t.Fatalf("TLC on %s: %v\n%s", module, err, out)
	}
	src, err := os.ReadFile(module + ".tla")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	got := map[string]int64{}
	for _, m := range reTLCAction.FindAllStringSubmatch(string(out), -1) {
		name := m[1]
		if name == "Init" {
			continue
		}
		if m[2] != "" { // a disjunct of Next: the operator it applies
			l1, c1, l2, c2 := atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5])
			var text string
			if l1 == l2 {
				text = lines[l1-1][c1-1 : c2]
			} else {
				text = strings.Join(append([]string{lines[l1-1][c1-1:]}, lines[l1:l2]...), " ")
			}
			calls := reLastCall.FindAllStringSubmatch(strings.TrimSpace(text), -1)
			if len(calls) == 0 {
				t.Fatalf("TLC's disjunct %q names no action", text)
			}
			name = calls[len(calls)-1][1]
		}
		got[name] += int64(atoi(m[6]))
	}
	if len(got) == 0 {
		t.Fatalf("TLC on %s printed no coverage:\n%s", module, out)
	}
	return got
}

// TestCoverageMatchesTLC: our per-action distinct states are TLC's
// -coverage numbers on the same models (both credit a state to the action
// that reached it first in breadth-first order).
func TestCoverageMatchesTLC(t *testing.T) {
	for _, cfg := range []string{"Market.cfg", "Collection.cfg", "Commands.cfg", "Firmware.cfg"} {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ours := coverageOf(t, moduleOf(cfg), string(text))
			theirs := tlcCoverage(t, moduleOf(cfg), string(text))
			if len(ours.Coverage) != len(theirs) {
				t.Errorf("%s: %d actions, TLC %d (%v)", cfg, len(ours.Coverage), len(theirs), theirs)
			}
			for _, a := range ours.Coverage {
				if tl, ok := theirs[a.Name]; !ok || tl != a.Distinct {
					t.Errorf("%s: <%s> %d distinct states, TLC %d (found %v)", cfg, a.Name, a.Distinct, tl, ok)
				} else {
					t.Logf("%s: <%s> %d distinct states, TLC the same", cfg, a.Name, a.Distinct)
				}
			}
		})
	}
}
