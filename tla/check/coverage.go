package check

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// ActionCoverage is what one action (a disjunct of Next, named as TLC names
// it) did in a run with Options.Coverage: a model whose action is never
// enabled, or never leads to a state no other action reached first, checks
// its properties without that action, which is how a property holds for
// the wrong reason.
type ActionCoverage struct {
	Name string `json:"action"`
	// Enabled counts the explored states with at least one successor by
	// this action.
	Enabled int64 `json:"enabled"`
	// Generated counts the successors it produced, duplicates included
	// (TLC's -coverage second number).
	Generated int64 `json:"generated"`
	// Distinct counts the new distinct states it produced first, in the
	// breadth-first order (TLC's -coverage first number).
	Distinct int64 `json:"distinct"`
}

// actCount is an expansion's count for one action.
type actCount struct {
	action    uint16
	generated int32
}

// countAction adds one successor of action to an expansion's counts.
func (e *expansion) countAction(action uint16) {
	for i := range e.cov {
		if e.cov[i].action == action {
			e.cov[i].generated++
			return
		}
	}
	e.cov = append(e.cov, actCount{action, 1})
}

// coverageRec accumulates the counts of one action over the run.
type coverageRec struct{ enabled, generated, distinct int64 }

func (c *checker) coverageOf(action uint16) *coverageRec {
	for int(action) >= len(c.cov) {
		c.cov = append(c.cov, coverageRec{})
	}
	return &c.cov[action]
}

// addCoverage merges an expansion's counts (in frontier order, with merge).
func (c *checker) addCoverage(e *expansion) {
	for _, a := range e.cov {
		r := c.coverageOf(a.action)
		r.enabled++
		r.generated += int64(a.generated)
	}
}

// coverage lists every action the System names (a BufferedSystem names all
// of them, also those never enabled), in the order of Next; the initial
// predicate is not an action (Result.Distinct counts its states).
func (c *checker) coverage() []ActionCoverage {
	var out []ActionCoverage
	c.actMu.RLock()
	defer c.actMu.RUnlock()
	for id, name := range c.actions {
		if id == 0 && name == InitialAction {
			continue
		}
		var r coverageRec
		if id < len(c.cov) {
			r = c.cov[id]
		}
		if name == "" && r.generated == 0 {
			continue // the initial predicate's name in a System that has no other
		}
		out = append(out, ActionCoverage{Name: name, Enabled: r.enabled, Generated: r.generated, Distinct: r.distinct})
	}
	return out
}

// reExcuse is a model's reason for an action that adds no state: a comment
// line `\* @uncovered Name: why` in its configuration.
var reExcuse = regexp.MustCompile(`^\s*\\\*\s*@uncovered\s+([A-Za-z_][A-Za-z0-9_!]*)\s*:\s*(\S.*)$`)

// CoverageExcuses reads the `\* @uncovered Name: why` lines of a model
// configuration: the actions the model says why it leaves without a new
// state (a fault the model does not inject, a rule a bound never reaches).
// A line without a reason does not excuse anything.
func CoverageExcuses(cfg []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(cfg))
	for sc.Scan() {
		if m := reExcuse.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return out
}

// Uncovered lists the actions of cov never enabled or that added no
// distinct state, except those excuses names; and the excuses that name an
// action that is covered, or none of cov's (a stale reason hides nothing
// but misleads a reader).
func Uncovered(cov []ActionCoverage, excuses map[string]string) (uncovered, stale []string) {
	seen := map[string]bool{}
	for _, a := range cov {
		seen[a.Name] = true
		bad := a.Enabled == 0 || a.Distinct == 0
		_, excused := excuses[a.Name]
		switch {
		case bad && !excused:
			uncovered = append(uncovered, a.Name)
		case !bad && excused:
			stale = append(stale, a.Name)
		}
	}
	for name := range excuses {
		if !seen[name] {
			stale = append(stale, name)
		}
	}
	return uncovered, stale
}
