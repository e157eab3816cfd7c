package spec

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
)

// Non-vacuity: an action of a model that is never enabled, or never
// reaches a state first, leaves the model's properties checked without it.
// Every small model must cover each of its actions, or say in its
// configuration why not (`\* @uncovered Action: reason`, spec/README.md);
// make spec does the same for spec/large/ with `verimeter check
// -coverage-strict`.

// coverageOf is our checker's run of a model with the actions' coverage:
// the run TestModelsPass made, or a new one.
func coverageOf(t *testing.T, cfg, text string) check.Result {
	t.Helper()
	return cached(t, cfg, func() outcome { return runOurs(t, moduleOf(cfg), text) }).res
}

func TestEveryActionCovered(t *testing.T) {
	for _, cfg := range models(t) {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := coverageOf(t, cfg, string(text))
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
func tlcCoverage(t *testing.T, cfg, text string) map[string]int64 {
	t.Helper()
	module := moduleOf(cfg)
	r := runTLCOnce(t, cfg, module, text)
	if !r.ok {
		t.Fatalf("TLC on %s: %s", module, r.output)
	}
	out := r.output
	// TLC prints coverage every minute and at the end: the last report
	// is the whole run's.
	if i := strings.LastIndex(out, "The coverage statistics"); i >= 0 {
		out = out[i:]
	}
	src, err := os.ReadFile(module + ".tla")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	got := map[string]int64{}
	for _, m := range reTLCAction.FindAllStringSubmatch(out, -1) {
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
		t.Fatalf("TLC on %s printed no coverage:\n%s", module, r.output)
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
			ours := coverageOf(t, cfg, string(text))
			theirs := tlcCoverage(t, cfg, string(text))
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
