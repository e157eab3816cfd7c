package eval

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// LabelTrace fills res.Labels, and res.CycleLabel for a cycle, with
// ActionLabels.
func (m *Machine) LabelTrace(res *check.Result) {
	if len(res.Trace) == 0 {
		return
	}
	res.Labels = m.ActionLabels(res.Trace)
	if res.CycleAction != "" {
		back := []check.TraceStep{res.Trace[len(res.Trace)-1], {Action: res.CycleAction, State: res.Trace[res.CycleStart].State}}
		res.CycleLabel = m.ActionLabels(back)[1]
	}
}

// InitLabel is the initial state's label in a trace of TLC's simulation
// ("Init line 4, col 9 to line 5, col 16 of module M": the initial
// predicate's definition and its body's span), "" when the initial
// predicate is not a definition.
func (m *Machine) InitLabel() string {
	r, ok := m.init.(*syntax.Ref)
	if !ok {
		return ""
	}
	d, _, _, _, _ := m.defOf(r, nil)
	if d == nil || d.Body == nil || d.End == (syntax.Pos{}) {
		return ""
	}
	return r.Parts[len(r.Parts)-1].Name + span(startOf(d.Body, 0), d.End)
}

// span is TLC's text for where an action is written.
func span(at, end syntax.Pos) string {
	return fmt.Sprintf(" line %d, col %d to line %d, col %d of module %s", at.Line, at.Col, end.Line, end.Col,
		strings.TrimSuffix(filepath.Base(at.File), filepath.Ext(at.File)))
}

// maxLabelDepth bounds how deep ActionLabels follows Next's disjunctions,
// existentials, LETs and definitions.
const maxLabelDepth = 64

// maxLabelChecks bounds how many actions ActionLabels tries on a trace
// (each compiled for its bindings, some ten microseconds): past it, the
// steps left keep their names, so that a trace is printed in seconds even
// where Next's existentials range over thousands of values. A variable
// for the test that exhausts it.
var maxLabelChecks = 200_000

var (
	// errLabelFound ends the search of a step's label once found.
	errLabelFound = errors.New("label found")
	// errLabelBudget ends it when maxLabelChecks actions have been tried.
	errLabelBudget = errors.New("label search over its budget")
)

// ActionLabels names each step of a counterexample as TLC prints it,
// "Name(args) line L, col C to line L2, col C2 of module M", splitting Next
// into actions as TLC does (Tool.getActions): through disjunctions, LETs,
// labels, existentials over sets that read no variable (one action per
// binding) and definitions whose arguments read no variable (Name is the
// definition, args the values of its parameters; none, no parentheses,
// without parameters); anything else is an action, named by the
// definition it is in, spanning its text. labels[0] is the initial
// state's (TLC's "Initial predicate"); a step whose action is not found
// keeps its name. A step is matched to the first action of its name that
// leads to it, or failing that to the first action that does (where the
// compiled Next names an action by a definition TLC does not expand).
// After maxLabelChecks actions tried, the steps left keep their names.
func (m *Machine) ActionLabels(trace []check.TraceStep) []string {
	labels := make([]string, len(trace))
	budget := maxLabelChecks
	for i, st := range trace {
		labels[i] = st.Action
		if i == 0 || m.next == nil || st.Action == check.StutteringAction || budget <= 0 {
			continue
		}
		for _, byName := range []bool{true, false} {
			l := &labeler{m: m, s: trace[i-1].State, t: st.State, name: st.Action, byName: byName, budget: &budget}
			if err := l.walk(m.next, nil, "", "", syntax.Pos{}, 0); errors.Is(err, errLabelFound) {
				labels[i] = l.found
				break
			}
		}
	}
	return labels
}

// labeler looks for the action of Next that leads from s to t (under the
// name name, if byName).
type labeler struct {
	m      *Machine
	s, t   check.State
	name   string
	byName bool
	found  string
	budget *int // actions left to try on the trace
}

// walk follows x, an action in the environment e reached under the name
// name with the arguments args (their text), whose text ends at end; it
// returns errLabelFound once the label is found.
func (l *labeler) walk(x syntax.Expr, e *env, name, args string, end syntax.Pos, depth int) error {
	if depth > maxLabelDepth {
		return nil
	}
	switch y := x.(type) {
	case *syntax.Label:
		return l.walk(y.Body, e, name, args, end, depth+1)
	case *syntax.Let:
		return l.walk(y.Body, l.m.letEnv(y, e), name, args, end, depth+1)
	case *syntax.Junction:
		if y.Op == "\\/" {
			for i, it := range y.Items {
				itEnd := end
				if i < len(y.Ends) && y.Ends[i] != (syntax.Pos{}) {
					itEnd = y.Ends[i]
				}
				if err := l.walk(it, e, name, args, itEnd, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	case *syntax.Quant:
		if done, err := l.walkExists(y, e, name, args, end, depth); done {
			return err
		}
	case *syntax.Ref:
		if done, err := l.walkRef(y, e, name, args, end, depth); done {
			return err
		}
	}
	return l.leaf(x, e, name, args, end)
}

// leaf is an action of Next: its label, if it leads from l.s to l.t.
func (l *labeler) leaf(x syntax.Expr, e *env, name, args string, end syntax.Pos) error {
	if l.byName && name != l.name {
		return nil
	}
	if *l.budget--; *l.budget < 0 {
		return errLabelBudget
	}
	if ok, err := l.leads(x, e); err != nil || !ok {
		return nil // not this action (an error here is the search's, not the model's)
	}
	l.found = name + args
	if end != (syntax.Pos{}) {
		l.found += span(startOf(x, 0), end)
	}
	return errLabelFound
}

// walkExists follows \E over sets that read no variable, one binding at a
// time, as TLC splits it; done is false for another quantifier (or an
// empty one), an action as a whole.
func (l *labeler) walkExists(y *syntax.Quant, e *env, name, args string, end syntax.Pos, depth int) (done bool, err error) {
	if y.Kind != "\\E" {
		return false, nil
	}
	for _, b := range y.Bounds {
		if b.Set == nil || l.m.readsState(b.Set, e) {
			return false, nil
		}
	}
	some := false
	err = l.m.forBounds(y.Bounds, 0, e, &frame{}, func(e2 *env) error {
		some = true
		return l.walk(y.Body, e2, name, args, end, depth+1)
	})
	if errors.Is(err, errLabelFound) || errors.Is(err, errLabelBudget) {
		return true, err
	}
	return some && err == nil, nil
}

// walkRef follows a reference to a definition whose arguments read no
// variable into its body, named by it, as TLC does; done is false for
// another reference, an action as a whole (named by the definition it
// calls, if any: TLC's name for an operator it does not expand).
func (l *labeler) walkRef(y *syntax.Ref, e *env, name, args string, end syntax.Pos, depth int) (done bool, err error) {
	d, denv, argx, x, xenv := l.m.defOf(y, e)
	if x != nil {
		return true, l.walk(x, xenv, name, args, end, depth+1)
	}
	if d == nil || d.FnBounds != nil || d.Instance != nil || d.Recursive || len(argx) != len(d.Params) {
		return false, nil
	}
	op := y.Parts[len(y.Parts)-1].Name
	vals := make([]string, len(argx))
	for i, a := range argx {
		v, ok := l.m.constValue(a, e)
		if !ok {
			return true, l.leaf(y, e, op, "", end)
		}
		vals[i] = v.String()
	}
	ne, err := bindByName(e)(y.P, d, argx, denv)
	if err != nil {
		return false, nil
	}
	text := ""
	if len(vals) > 0 {
		text = "(" + strings.Join(vals, ",") + ")"
	}
	return true, l.walk(d.Body, ne, op, text, d.End, depth+1)
}

// readsState reports whether x, in the environment e, reads a variable
// (an expression of TLC's level 1 or more).
func (m *Machine) readsState(x syntax.Expr, e *env) bool {
	_, state := m.compileOnce(x, e)
	return state
}

// constValue is the value of x in the environment e when x reads no
// variable (TLC's level 0); ok is false when it reads one or fails.
func (m *Machine) constValue(x syntax.Expr, e *env) (v value.Value, ok bool) {
	p, state := m.compileOnce(x, e)
	if state {
		return nil, false
	}
	v, err := m.run(p, nil, nil, nil)
	return v, err == nil
}

// compileOnce compiles x in e without keeping it (a trace's labels compile
// an expression per binding) and tells whether it reads a variable.
func (m *Machine) compileOnce(x syntax.Expr, e *env) (p *compiledPred, state bool) {
	c := m.compiler()
	m.prog.mu.Lock()
	defer m.prog.mu.Unlock()
	t := c.top(false)
	t.env = e
	p = &compiledPred{fn: t.expr(x)}
	p.n = t.units[0].n
	return p, t.fl.state || t.fl.next
}

// leads reports whether the action x, in the environment e, leads from
// l.s to l.t (a variable it leaves unassigned keeps its value).
func (l *labeler) leads(x syntax.Expr, e *env) (bool, error) {
	c := l.m.compiler()
	l.m.prog.mu.Lock()
	p := compileAction(c, x, e) // not kept: one per binding
	l.m.prog.mu.Unlock()
	r := &rt{cur: l.s, nxt: make([]value.Value, len(l.m.vars)), slots: make([]value.Value, p.n)}
	found := false
	r.emit = func(nxt []value.Value, _ int) error {
		for i, v := range nxt {
			if v == nil {
				v = l.s[i]
			}
			if eq, err := value.Equal(v, l.t[i]); err != nil || !eq {
				return nil
			}
		}
		found = true
		return errLabelFound
	}
	if err := p.run(r); err != nil && !errors.Is(err, errLabelFound) {
		return false, err
	}
	return found, nil
}

// startOf is where the text of x begins: an infix operator's node is at
// the operator, a postfix one's may be too, so the first operand is
// followed down to the leftmost token.
func startOf(x syntax.Expr, depth int) syntax.Pos {
	at := x.At()
	var first syntax.Expr
	switch y := x.(type) {
	case *syntax.OpApp:
		if len(y.Args) > 0 {
			first = y.Args[0]
		}
	case *syntax.Junction:
		if len(y.Items) > 0 {
			first = y.Items[0]
		}
	case *syntax.Times:
		if len(y.Sets) > 0 {
			first = y.Sets[0]
		}
	case *syntax.Apply:
		first = y.Fn
	case *syntax.Dot:
		first = y.Rec
	}
	if first == nil || depth > maxLabelDepth {
		return at
	}
	if f := startOf(first, depth+1); f.Line < at.Line || f.Line == at.Line && f.Col < at.Col {
		return f
	}
	return at
}
