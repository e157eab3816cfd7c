package tracecheck

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// Options bound the search.
type Options struct {
	// MaxHidden is how many unlogged steps (of actions no logging role
	// owns) may precede each logged step. 0 allows none.
	MaxHidden int
	// MaxStates caps the candidate states kept at once (after the hidden
	// steps before a logged step); 0 means DefaultMaxStates.
	MaxStates int
}

// Defaults of the CLI and of a zero Options.MaxStates.
const (
	DefaultMaxHidden = 3
	DefaultMaxStates = 200000
)

// Result is a validated trace.
type Result struct {
	Module string
	Steps  int // logged steps explained
	Nodes  int // distinct nodes in the logs
	// States is how many states of the model are consistent with the
	// whole trace (the candidates after its last step).
	States int
}

// String is the verdict as the CLI prints it.
func (r *Result) String() string {
	return fmt.Sprintf("%d steps explained by a behaviour of %s", r.Steps, r.Module)
}

// ErrUnexplained matches every *Unexplained with errors.Is.
var ErrUnexplained = errors.New("trace step explained by no behaviour of the spec")

// ErrStateLimit: the candidate states exceed Options.MaxStates; the search
// stopped without a verdict (raise the cap or lower MaxHidden).
var ErrStateLimit = errors.New("tracecheck: candidate states exceed the cap")

// ErrTieTooLarge: more than 64 steps share one Lamport time, more orders
// than Check tries.
var ErrTieTooLarge = errors.New("tracecheck: more than 64 steps with one Lamport time")

// Unexplained is the first logged step that no behaviour of the spec
// explains, with the states that explain the steps before it. Among steps
// with one Lamport time it is the first in merged order that some order of
// them still had to take and none could.
type Unexplained struct {
	Module string
	Index  int // 1-based position of the step in the merged trace
	Step   Step
	Reason string
	// Logged is the logging role's state after the step as logged, as a
	// TLA+ record (empty when the line itself does not fit the spec).
	Logged string
	// Candidates are up to MaxShown of the NCandidates states that explain
	// steps 1..Index-1 (hidden steps included), as TLA+ conjunctions.
	Candidates  []string
	NCandidates int
	// Reached are up to MaxShown role states the logged action leads to
	// from the candidates (what the spec allowed instead).
	Reached []string
}

// MaxShown is how many states an Unexplained prints of each kind.
const MaxShown = 3

// Error is the report an operator reads: the step, why, the logged state,
// what the spec's action allowed instead, and the states before.
func (e *Unexplained) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d (%s) is explained by no behaviour of %s: %s\n", e.Index, e.Step.Where(), e.Module, e.Reason)
	fmt.Fprintf(&b, "  line: %s\n", e.Step.Raw)
	if e.Logged != "" {
		fmt.Fprintf(&b, "  logged %s state after %s: %s\n", e.Step.Role, e.Step.Action, e.Logged)
	}
	if len(e.Reached) > 0 {
		fmt.Fprintf(&b, "  the spec's %s leads to:\n", e.Step.Action)
		for _, r := range e.Reached {
			fmt.Fprintf(&b, "    %s\n", r)
		}
	}
	before := "the initial states"
	if e.Index > 1 {
		before = fmt.Sprintf("states explaining steps 1..%d, hidden steps included", e.Index-1)
	}
	fmt.Fprintf(&b, "  %s (%d, %d shown):\n", before, e.NCandidates, len(e.Candidates))
	for i, c := range e.Candidates {
		fmt.Fprintf(&b, "  state %d:\n%s\n", i+1, c)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Is makes errors.Is(err, ErrUnexplained) hold.
func (e *Unexplained) Is(target error) bool { return target == ErrUnexplained }

// prepared is a logged step in the spec's terms.
type prepared struct {
	idx    int // 1-based in the merged trace
	step   *Step
	vars   []string          // the role's variables
	state  map[string]string // canonical logged value by variable
	logged string            // the logged state as a record
	params []loggedParam
	// all: every parameter of the action is logged (params in the
	// action's order), so the step can be taken with those very arguments.
	all bool
}

type loggedParam struct {
	p     *gen.Param
	canon string
	num   int64 // for a parameter drawn from a range
}

// prepare checks that the step's line speaks the spec's vocabulary: its
// action is one of its role's, its state has exactly the role's variables,
// typed, and its event only the action's parameters. A mismatch is a
// reason (the step is unexplained); an error means the role cannot be
// analysed at all.
func (m *Model) prepare(idx int, s *Step) (*prepared, string, error) {
	owner, ok := m.roles.Actions[s.Action]
	if !ok {
		return nil, fmt.Sprintf("%s is not an annotated action of %s", s.Action, m.Module), nil
	}
	if owner != s.Role {
		return nil, fmt.Sprintf("%s is an action of role %s, not of %s", s.Action, owner, s.Role), nil
	}
	g, err := m.machine(s.Role)
	if err != nil {
		return nil, "", err
	}
	var act *gen.Action
	for _, a := range g.Actions {
		if a.Name == s.Action {
			act = a
		}
	}
	if act == nil {
		return nil, "", fmt.Errorf("tracecheck: gen has no action %s for role %s", s.Action, s.Role)
	}
	p := &prepared{idx: idx, step: s, state: map[string]string{}}
	st, err := decodeJSON(s.State)
	if err != nil {
		return nil, fmt.Sprintf("state is not JSON: %v", err), nil
	}
	obj, ok := st.(map[string]any)
	if !ok {
		return nil, "state is not a JSON object", nil
	}
	var parts []string
	for _, v := range g.Vars {
		raw, ok := obj[v.Name]
		if !ok && v.Store {
			// Kept by the role outside its machine (@store) and not
			// logged: constrained through the parameters drawn from it.
			// A role that logs its store (the meter's logbook) has it
			// checked like any other variable.
			continue
		}
		if !ok {
			return nil, fmt.Sprintf("state lacks variable %s of role %s", v.Name, s.Role), nil
		}
		c, err := canonJSON(raw, v.Type)
		if err != nil {
			return nil, fmt.Sprintf("state variable %s: %v", v.Name, err), nil
		}
		p.vars = append(p.vars, v.Name)
		p.state[v.Name] = c
		parts = append(parts, v.Name+" |-> "+c)
	}
	if len(obj) != len(g.Vars) {
		for k := range obj {
			if _, ok := p.state[k]; !ok {
				return nil, fmt.Sprintf("state has %s, not a variable of role %s in %s", k, s.Role, m.Module), nil
			}
		}
	}
	sort.Strings(parts)
	p.logged = "[" + strings.Join(parts, ", ") + "]"

	if len(s.Event) == 0 || string(s.Event) == "null" {
		return p, "", nil
	}
	if why := m.prepareEvent(p, s, g, act); why != "" {
		return nil, why, nil
	}
	return p, "", nil
}

// prepareEvent checks the step's logged event against act's parameters and
// keeps the parameters it gives in p; the reason it does not match, or "".
func (m *Model) prepareEvent(p *prepared, s *Step, g *gen.Machine, act *gen.Action) string {
	ev, err := decodeJSON(s.Event)
	if err != nil {
		return fmt.Sprintf("event is not JSON: %v", err)
	}
	eobj, ok := ev.(map[string]any)
	if !ok {
		return "event is not a JSON object"
	}
	known := map[string]bool{"kind": true}
	for _, a := range g.Actions {
		for _, prm := range a.Params {
			known[prm.Name] = true
		}
	}
	for k := range eobj {
		if !known[k] {
			return fmt.Sprintf("event has %s, a parameter of no event of role %s", k, s.Role)
		}
	}
	if k, ok := eobj["kind"]; ok && k != m.roles.Events[s.Action] {
		return fmt.Sprintf("event %s is not %s's event %s", short(k), s.Action, m.roles.Events[s.Action])
	}
	for _, prm := range act.Params {
		raw, ok := eobj[prm.Name]
		if !ok {
			continue
		}
		c, err := canonJSON(raw, prm.Type)
		if err != nil {
			return fmt.Sprintf("event parameter %s: %v", prm.Name, err)
		}
		lp := loggedParam{p: prm, canon: c}
		if prm.Type.Kind == gen.TInt {
			lp.num, _ = strconv.ParseInt(c, 10, 64)
		}
		p.params = append(p.params, lp)
	}
	p.all = len(p.params) == len(act.Params)
	return ""
}

// paramsOK: every logged parameter is among the values Next draws it from
// in state s.
func (m *Model) paramsOK(p *prepared, s check.State) (bool, error) {
	ok, _, err := m.params(p, s)
	return ok, err
}

// params is paramsOK that also returns the logged arguments as the
// model's values, in the action's order, when every parameter is logged
// and drawn from a variable or a range (nil otherwise): the arguments the
// logged step must have been taken with.
func (m *Model) params(p *prepared, s check.State) (bool, []value.Value, error) {
	var args []value.Value
	if p.all {
		args = make([]value.Value, 0, len(p.params))
	}
	for _, lp := range p.params {
		switch {
		case lp.p.From != "":
			set, ok := s[m.idx[lp.p.From]].(value.SetValue)
			if !ok {
				return false, nil, fmt.Errorf("tracecheck: %s is not a set", lp.p.From)
			}
			e, err := set.Enumerate()
			if err != nil {
				return false, nil, err
			}
			var found value.Value
			for _, x := range e.Elems() {
				if value.Canonical(x) == lp.canon {
					found = x
					break
				}
			}
			if found == nil {
				return false, nil, nil
			}
			if args != nil {
				args = append(args, found)
			}
		case lp.p.Lo != nil:
			vals, err := gen.RangeValues(lp.p, func(n string) (int64, bool) {
				if i, ok := m.idx[n]; ok {
					v, ok := s[i].(value.Int)
					return int64(v), ok
				}
				c, ok := m.consts[n]
				return c, ok
			})
			if err != nil {
				return false, nil, err
			}
			found := false
			for _, v := range vals {
				found = found || v == lp.num
			}
			if !found {
				return false, nil, nil
			}
			if args != nil {
				if lp.num < math.MinInt32 || lp.num > math.MaxInt32 {
					args = nil // beyond the model's integers: membership only
				} else {
					args = append(args, value.Int(lp.num))
				}
			}
		default:
			args = nil // a domain the check does not enumerate: membership only
		}
	}
	return true, args, nil
}

// exact keeps the successors of an action taken with the logged
// arguments args from s (eval's ActionSuccessors) that are also Next's
// successors succs of that action: Next's successors name the action but
// not its arguments, so without this a step whose arguments leave no
// trace in the logging role's state (a set the role keeps in its store)
// would be explained by the action with any argument, and the candidates
// multiply with every such step.
func (m *Model) exact(action string, args []value.Value, s check.State, succs []succ) ([]succ, error) {
	inNext := map[uint64]bool{}
	for _, sc := range succs {
		if sc.action == action {
			inNext[check.Fingerprint(sc.state)] = true
		}
	}
	var out []succ
	err := m.mach.ActionSuccessors(action, args, s, func(t check.State) error {
		if inNext[check.Fingerprint(t)] {
			out = append(out, succ{action, t})
		}
		return nil
	})
	return out, err
}

// project prints the role's variables of s as prepare prints the logged state.
func (m *Model) project(p *prepared, s check.State) string {
	parts := make([]string, len(p.vars))
	for i, v := range p.vars {
		parts[i] = v + " |-> " + value.Canonical(s[m.idx[v]])
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, ", ") + "]"
}

func (m *Model) matches(p *prepared, t check.State) bool {
	for _, v := range p.vars {
		if value.Canonical(t[m.idx[v]]) != p.state[v] {
			return false
		}
	}
	return true
}

func (m *Model) showState(s check.State) string {
	var b strings.Builder
	for i, v := range m.mach.Variables() {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "    /\\ %s = %s", v, value.Canonical(s[i]))
	}
	return b.String()
}

type succ struct {
	action string
	state  check.State
}

// item is a candidate state with the steps of the current tie group still
// to take (bit j: the group's step j).
type item struct {
	s     check.State
	fp    uint64
	mask  uint64
	succs []succ
}

type searcher struct {
	m      *Model
	opt    Options
	hidden map[string]bool
}

// Check searches for a behaviour of the model that explains the merged
// steps (see the package documentation). It returns an *Unexplained for the
// first step none explains, ErrStateLimit (wrapped) when the candidates
// outgrow the cap, and other errors for a model that cannot be evaluated.
func (m *Model) Check(steps []Step, opt Options) (*Result, error) {
	if opt.MaxStates <= 0 {
		opt.MaxStates = DefaultMaxStates
	}
	if opt.MaxHidden < 0 {
		opt.MaxHidden = 0
	}
	logging := map[string]bool{}
	nodes := map[string]bool{}
	for _, s := range steps {
		logging[s.Role] = true
		nodes[s.Node] = true
	}
	sr := &searcher{m: m, opt: opt, hidden: map[string]bool{}}
	for _, a := range m.mach.ActionNames() {
		sr.hidden[a] = !logging[m.roles.Actions[a]]
	}
	var frontier []check.State
	seen := map[uint64]bool{}
	if err := m.mach.Init(func(s check.State) error {
		if fp := check.Fingerprint(s); !seen[fp] {
			seen[fp] = true
			frontier = append(frontier, s)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for i := 0; i < len(steps); {
		j := i + 1
		for j < len(steps) && steps[j].Clock == steps[i].Clock {
			j++
		}
		if j-i > 64 {
			return nil, fmt.Errorf("%w: %d at time %d (%s)", ErrTieTooLarge, j-i, steps[i].Clock, steps[i].Where())
		}
		group := make([]*prepared, 0, j-i)
		for k := i; k < j; k++ {
			p, reason, err := m.prepare(k+1, &steps[k])
			if err != nil {
				return nil, err
			}
			if reason != "" {
				return nil, sr.unexplained(&steps[k], k+1, reason, "", frontier, nil)
			}
			group = append(group, p)
		}
		next, err := sr.group(group, frontier)
		if err != nil {
			return nil, err
		}
		frontier = next
		i = j
	}
	return &Result{Module: m.Module, Steps: len(steps), Nodes: len(nodes), States: len(frontier)}, nil
}

// group takes the steps of one Lamport time in every order, each after up
// to MaxHidden hidden steps, and returns the states after all of them.
func (sr *searcher) group(group []*prepared, frontier []check.State) ([]check.State, error) {
	full := uint64(1)<<len(group) - 1
	level := make([]item, 0, len(frontier))
	for _, s := range frontier {
		level = append(level, item{s: s, fp: check.Fingerprint(s), mask: full})
	}
	for done := 0; done < len(group); done++ {
		closure, err := sr.close(level)
		if err != nil {
			return nil, fmt.Errorf("%w (%d) before step %d (%s)", err, sr.opt.MaxStates, group[0].idx, group[0].step.Where())
		}
		type key struct{ fp, mask uint64 }
		seen := map[key]bool{}
		var next []item
		for _, it := range closure {
			for j, p := range group {
				bit := uint64(1) << j
				if it.mask&bit == 0 {
					continue
				}
				ok, args, err := sr.m.params(p, it.s)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				succs := it.succs
				if args != nil {
					if succs, err = sr.m.exact(p.step.Action, args, it.s, it.succs); err != nil {
						return nil, err
					}
				}
				for _, sc := range succs {
					if sc.action != p.step.Action || !sr.m.matches(p, sc.state) {
						continue
					}
					k := key{check.Fingerprint(sc.state), it.mask &^ bit}
					if !seen[k] {
						seen[k] = true
						next = append(next, item{s: sc.state, fp: k.fp, mask: k.mask})
					}
				}
			}
		}
		if len(next) == 0 {
			return nil, sr.fail(group, closure)
		}
		level = next
	}
	out := make([]check.State, len(level))
	for i, it := range level {
		out[i] = it.s
	}
	return out, nil
}

// close adds to items every state up to MaxHidden hidden steps away (same
// mask), and computes each state's successors once.
func (sr *searcher) close(items []item) ([]item, error) {
	type key struct{ fp, mask uint64 }
	seen := map[key]bool{}
	var all []item
	add := func(it item) {
		if k := (key{it.fp, it.mask}); !seen[k] {
			seen[k] = true
			all = append(all, it)
		}
	}
	for _, it := range items {
		add(it)
	}
	lo := 0
	for depth := 0; depth <= sr.opt.MaxHidden; depth++ {
		hi := len(all)
		for i := lo; i < hi; i++ {
			it := &all[i] // successors are set before add may move all
			if err := sr.m.mach.Next(it.s, func(t check.State, a string) error {
				it.succs = append(it.succs, succ{a, t})
				return nil
			}); err != nil {
				return nil, err
			}
			if depth == sr.opt.MaxHidden {
				continue
			}
			for _, sc := range it.succs {
				if sr.hidden[sc.action] {
					add(item{s: sc.state, fp: check.Fingerprint(sc.state), mask: it.mask})
				}
			}
			if len(all) > sr.opt.MaxStates {
				return nil, ErrStateLimit
			}
		}
		lo = hi
	}
	return all, nil
}

// fail reports the first step of the group (in merged order) that some
// candidate still had to take and none could.
func (sr *searcher) fail(group []*prepared, closure []item) error {
	first := -1
	for _, it := range closure {
		for j := range group {
			if it.mask&(1<<j) != 0 && (first < 0 || j < first) {
				first = j
			}
		}
	}
	p := group[first]
	var cands []check.State
	enabled, paramsOK := 0, 0
	reached := map[string]bool{}
	var reachedList []string
	for _, it := range closure {
		if it.mask&(1<<first) == 0 {
			continue
		}
		cands = append(cands, it.s)
		ok, _ := sr.m.paramsOK(p, it.s)
		for _, sc := range it.succs {
			if sc.action != p.step.Action {
				continue
			}
			enabled++
			if ok {
				paramsOK++
			}
			if r := sr.m.project(p, sc.state); !reached[r] {
				reached[r] = true
				reachedList = append(reachedList, r)
			}
		}
	}
	sort.Strings(reachedList)
	if len(reachedList) > MaxShown {
		reachedList = reachedList[:MaxShown]
	}
	hidden := fmt.Sprintf("with up to %d hidden steps before it", sr.opt.MaxHidden)
	var reason string
	switch {
	case enabled == 0:
		reason = fmt.Sprintf("%s is enabled in none of the %d candidate states (%s)", p.step.Action, len(cands), hidden)
	case paramsOK == 0:
		reason = fmt.Sprintf("the logged event's parameters are not among the values %s draws them from in any candidate state", p.step.Action)
	default:
		reason = fmt.Sprintf("no step of %s from the candidate states (%s) leaves the %s in the logged state", p.step.Action, hidden, p.step.Role)
	}
	return sr.unexplained(p.step, p.idx, reason, p.logged, cands, reachedList)
}

func (sr *searcher) unexplained(s *Step, idx int, reason, logged string, cands []check.State, reached []string) *Unexplained {
	u := &Unexplained{Module: sr.m.Module, Index: idx, Step: *s, Reason: reason, Logged: logged, NCandidates: len(cands), Reached: reached}
	for i := 0; i < len(cands) && i < MaxShown; i++ {
		u.Candidates = append(u.Candidates, sr.m.showState(cands[i]))
	}
	return u
}
