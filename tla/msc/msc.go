package msc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// Roles is what the annotations of a specification say: the owner of each
// variable and the role taking each action. Unannotated names are drawn on
// an "env" lifeline.
type Roles struct {
	Var    map[string]string
	Action map[string]string
	// Order lists the roles in the order they were first annotated, which
	// is the order of the lifelines.
	Order []string
}

var (
	varAnnot    = regexp.MustCompile(`^\s*\\\*\s*@type:.*@role:\s*([A-Za-z_][A-Za-z0-9_]*)`)
	actionAnnot = regexp.MustCompile(`^\s*\\\*\s*@role:\s*([A-Za-z_][A-Za-z0-9_]*)\s+@event:`)
	defLine     = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))?\s*==`)
	varLine     = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*,?\s*(\\\*.*)?$`)
	comment     = regexp.MustCompile(`^\s*(\\\*.*)?$`)
)

// ParseRoles reads the annotations of one or more TLA+ sources. A variable
// annotation applies to the next variable name, an action annotation to the
// next definition; comment lines in between are allowed.
func ParseRoles(srcs ...[]byte) Roles {
	r := Roles{Var: map[string]string{}, Action: map[string]string{}}
	seen := map[string]bool{}
	note := func(role string) {
		if !seen[role] {
			seen[role] = true
			r.Order = append(r.Order, role)
		}
	}
	for _, src := range srcs {
		var pendingVar, pendingAct string
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := varAnnot.FindStringSubmatch(line); m != nil {
				pendingVar = m[1]
				continue
			}
			if m := actionAnnot.FindStringSubmatch(line); m != nil {
				pendingAct = m[1]
				continue
			}
			if comment.MatchString(line) {
				continue
			}
			if pendingAct != "" {
				if m := defLine.FindStringSubmatch(line); m != nil {
					r.Action[m[1]] = pendingAct
					note(pendingAct)
				}
				pendingAct = ""
			}
			if pendingVar != "" {
				if m := varLine.FindStringSubmatch(line); m != nil {
					r.Var[m[1]] = pendingVar
					note(pendingVar)
				}
				pendingVar = ""
			}
		}
	}
	return r
}

// env is the lifeline of what no annotation claims.
const env = "env"

func (r Roles) actor(action string) string {
	// TLC names an action by its operator; a name with arguments may come
	// as "Op(args)" or "Op line ..." from other tools.
	name := action
	if i := strings.IndexAny(name, "( "); i > 0 {
		name = name[:i]
	}
	if role, ok := r.Action[name]; ok {
		return role
	}
	return env
}

// history is the role of the spec's history variables (spec/README.md).
const history = "history"

func (r Roles) owner(v string) string {
	if role, ok := r.Var[v]; ok {
		return role
	}
	return env
}

// label makes a value safe inside a Mermaid message: no line breaks, no
// semicolons or '#' (Mermaid's statement separator and entity escape), and
// capped so that a huge set does not swamp the chart.
func label(s string) string {
	const maxLabel = 120
	s = strings.NewReplacer("\n", " ", ";", ",", "#", "no.", "\r", " ").Replace(s)
	if len(s) > maxLabel {
		s = s[:maxLabel-3] + "..."
	}
	return s
}

// Render writes res's trace as a Mermaid sequenceDiagram. The initial
// state is a note over every lifeline; each later step is a note on the
// actor with the action's name, then one arrow per changed variable of
// another role and a note for the actor's own changed variables. A
// violated property closes the chart as a note.
func Render(w io.Writer, r Roles, res check.Result) error {
	if len(res.Trace) == 0 {
		return fmt.Errorf("msc: the result has no trace")
	}
	// History variables (role history) record what happened for the
	// properties; their changes are noted on the step's actor, not drawn
	// as messages to a lifeline of their own.
	var lifelines []string
	for _, l := range r.Order {
		if l != history {
			lifelines = append(lifelines, l)
		}
	}
	used := map[string]bool{history: true}
	for _, l := range lifelines {
		used[l] = true
	}
	extra := []string{}
	for _, st := range res.Trace[1:] {
		if a := r.actor(st.Action); !used[a] {
			used[a] = true
			extra = append(extra, a)
		}
	}
	for _, v := range res.Variables {
		if o := r.owner(v); !used[o] {
			used[o] = true
			extra = append(extra, o)
		}
	}
	sort.Strings(extra)
	lifelines = append(lifelines, extra...)
	b := &strings.Builder{}
	b.WriteString("sequenceDiagram\n")
	for _, l := range lifelines {
		fmt.Fprintf(b, "    participant %s\n", l)
	}
	first := res.Trace[0]
	var init []string
	for i, v := range res.Variables {
		if i < len(first.State) {
			init = append(init, v+" = "+first.State[i].String())
		}
	}
	over := lifelines[0]
	if len(lifelines) > 1 {
		over += "," + lifelines[len(lifelines)-1]
	}
	fmt.Fprintf(b, "    Note over %s: 1. initial state: %s\n", over, label(strings.Join(init, ", ")))
	for k := 1; k < len(res.Trace); k++ {
		prev, cur := res.Trace[k-1].State, res.Trace[k].State
		actor := r.actor(res.Trace[k].Action)
		fmt.Fprintf(b, "    Note over %s: %d. %s\n", actor, k+1, label(res.Trace[k].Action))
		var own []string
		for i, v := range res.Variables {
			if i >= len(prev) || i >= len(cur) {
				continue
			}
			eq, err := value.Equal(cur[i], prev[i])
			if err == nil && eq {
				continue
			}
			change := v + " = " + cur[i].String()
			if o := r.owner(v); o != actor && o != history {
				fmt.Fprintf(b, "    %s->>%s: %s\n", actor, o, label(change))
			} else {
				own = append(own, change)
			}
		}
		if len(own) > 0 {
			fmt.Fprintf(b, "    Note right of %s: %s\n", actor, label(strings.Join(own, ", ")))
		}
	}
	switch {
	case res.Invariant != "":
		fmt.Fprintf(b, "    Note over %s: violates %s\n", over, label(res.Invariant))
	case res.Verdict == check.LivenessViolated:
		fmt.Fprintf(b, "    Note over %s: violates %s: the steps from state %d on repeat forever\n", over, label(res.Property), res.CycleStart+1)
	case res.Property != "":
		fmt.Fprintf(b, "    Note over %s: violates %s\n", over, label(res.Property))
	case res.Verdict == check.Deadlocked:
		fmt.Fprintf(b, "    Note over %s: deadlock: no action is enabled\n", over)
	case res.Error != "":
		fmt.Fprintf(b, "    Note over %s: %s\n", over, label(res.Error))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
