package check

import (
	"fmt"

	"github.com/verimeter/verimeter/tla/value"
)

// TemporalOp is the operator of a Temporal formula node.
type TemporalOp uint8

// The temporal operators a PROPERTY may use.
const (
	// TState is a state predicate (Temporal.State).
	TState TemporalOp = iota
	// TAction is a step predicate (Temporal.Action), such as <<A>>_v.
	TAction
	TNot
	TAnd
	TOr
	TImplies
	// TAlways is [] f.
	TAlways
	// TEventually is <> f.
	TEventually
	// TLeadsTo is f ~> g.
	TLeadsTo
)

// Temporal is a temporal formula over state and step predicates, what a
// PROPERTY's liveness part compiles to; the checker decides it on the state
// graph after the breadth-first search.
type Temporal struct {
	Op     TemporalOp
	Args   []*Temporal
	State  func(State) (bool, error)
	Action func(s, t State) (bool, error)
	// Text describes the node (source position and text) for messages.
	Text string
	// Angle, on a TState node that is ENABLED <<A>>_v, is <<A>>_v: used
	// when State answers ErrEnabledBySuccessors.
	Angle *AngleStep
}

// AngleStep is <<A>>_v in its two parts, so that a search for a step over
// many pairs of states (ENABLED decided on the state graph) evaluates v
// once per state: a step s -> t is one when Same(Sub(s), Sub(t)) is false
// and Act(s, t) is true, evaluated in that order.
type AngleStep struct {
	// Sub is v in a state.
	Sub func(State) (value.Value, error)
	// Same compares two values of v as the step's "v unchanged" does.
	Same func(a, b value.Value) (bool, error)
	// Act is A on a step.
	Act func(s, t State) (bool, error)
}

// Step is <<A>>_v on s -> t, v evaluated afresh in both states.
func (a *AngleStep) Step(s, t State) (bool, error) {
	vs, err := a.Sub(s)
	if err != nil {
		return false, err
	}
	vt, err := a.Sub(t)
	if err != nil {
		return false, err
	}
	return a.changed(s, t, vs, vt)
}

// changed is the step s -> t once v's values in s and t, vs and vt, are
// known: FALSE when v is unchanged, else A.
func (a *AngleStep) changed(s, t State, vs, vt value.Value) (bool, error) {
	if same, err := a.Same(vs, vt); err != nil || same {
		return false, err
	}
	return a.Act(s, t)
}

// Fairness is one WF_v(A) or SF_v(A) conjunct of the specification: only
// behaviours satisfying every one of them count as liveness counterexamples.
type Fairness struct {
	Name   string
	Strong bool
	// Enabled is ENABLED <<A>>_v.
	Enabled func(State) (bool, error)
	// Step is <<A>>_v on a step s -> t.
	Step func(s, t State) (bool, error)
	// Angle, if not nil, is Step in its parts, for the search of
	// ErrEnabledBySuccessors.
	Angle *AngleStep
}

// Property is one PROPERTY of the configuration, split as TLC splits it:
// state predicates checked on initial states, step predicates ([][A]_v)
// checked on every transition, state invariants ([]P) on every state, and
// the rest as liveness on the state graph.
type Property struct {
	Name       string
	Init       []StatePredicate
	Actions    []ActionPredicate
	Invariants []StatePredicate
	Liveness   []*Temporal
}

// PropertySystem is a System with temporal properties and fairness; the
// checker uses it when the System implements it (an optional extension so
// that System stays small).
type PropertySystem interface {
	System
	Properties() []Property
	Fairness() []Fairness
}

// Fingerprinter is a System that chooses what identifies a state: TLC's
// VIEW (only the view's value counts) and SYMMETRY (the smallest state of
// the orbit counts). The checker keeps exploring the state it found first.
type Fingerprinter interface {
	System
	Fingerprint(State) (uint64, error)
	// MergesStates reports whether different states may share a fingerprint
	// on purpose (a VIEW or SYMMETRY is in force); exact mode, which counts
	// such sharing as collisions, then refuses to run.
	MergesStates() bool
}

// ValuesFingerprinter is a Fingerprinter that tells whether its
// fingerprint of a state is a function of the state's values alone (a
// SYMMETRY: the orbit of the values), so that a successor made of its
// parent's very values has the parent's fingerprint and is a step back to
// a stored state, which the checker need not fingerprint (self-loops). A
// VIEW may read more than the variables (TLCGet("level") in a trace
// validation's <<vars, TLCGet("level")>>).
type ValuesFingerprinter interface {
	FingerprintsValuesOnly() bool
}

// LivenessViolated: a fair behaviour violates Result.Property (a prefix
// and a cycle back to Trace[Result.CycleStart]).
const LivenessViolated Verdict = "liveness"

// StutteringAction names a stuttering step in a liveness counterexample.
const StutteringAction = "Stuttering"

// props is the checker's view of the PropertySystem.
type props struct {
	list   []Property
	fair   []Fairness
	live   bool // some liveness formula: record the state graph
	fp     func(State) (uint64, error)
	merges bool      // fp merges states on purpose (VIEW, SYMMETRY): it reads their values
	values bool      // fp is a function of the state's values alone (ValuesFingerprinter)
	states []State   // by node index (when live)
	succ   [][]gedge // by node index (when live)
	inits  []int32
	index  map[uint64]int32
	// memo keeps, from one liveness check to the next (during the search,
	// then at its end), what depends on states alone: the formulas' leaves
	// and their values on the states and steps met so far.
	memo *liveMemo
	// exactErr refuses exact mode on a System that merges states.
	exactErr error
}

type gedge struct {
	to     int32
	action uint16
}

type succRec struct {
	fp     uint64
	action uint16
}

func (c *checker) setupProps() {
	if f, ok := c.sys.(Fingerprinter); ok {
		c.p.fp, c.p.merges = f.Fingerprint, f.MergesStates()
		if v, ok := f.(ValuesFingerprinter); ok {
			c.p.values = v.FingerprintsValuesOnly()
		}
		if c.exact != nil && f.MergesStates() {
			c.p.exactErr = fmt.Errorf("check: exact mode cannot check a System that merges states (VIEW, SYMMETRY)")
		}
	}
	ps, ok := c.sys.(PropertySystem)
	if !ok {
		return
	}
	c.p.list = ps.Properties()
	c.p.fair = ps.Fairness()
	for _, p := range c.p.list {
		for _, inv := range p.Invariants {
			c.invs = append(c.invs, Invariant{Name: p.Name, Holds: inv.Holds})
		}
		if len(p.Liveness) > 0 {
			c.p.live = true
		}
	}
	if c.p.live {
		c.p.index = map[uint64]int32{}
	}
}

// fingerprintOf is the state's fingerprint, through the System's own when it has one.
func (c *checker) fingerprintOf(s State) (uint64, error) {
	if c.p.fp != nil {
		return c.p.fp(s)
	}
	return fingerprint(s), nil
}

// checkInitProps evaluates the properties' initial-state predicates.
func (c *checker) checkInitProps(s State) (string, error) {
	for _, p := range c.p.list {
		for _, q := range p.Init {
			ok, err := q.Holds(s)
			if err != nil {
				return "", fmt.Errorf("evaluating property %s: %w", p.Name, err)
			}
			if !ok {
				return p.Name, nil
			}
		}
	}
	return "", nil
}

// checkActionProps evaluates the properties' step predicates on s -> t.
func (c *checker) checkActionProps(s, t State) (string, error) {
	for _, p := range c.p.list {
		for _, q := range p.Actions {
			ok, err := q.Holds(s, t)
			if err != nil {
				return "", fmt.Errorf("evaluating property %s: %w", p.Name, err)
			}
			if !ok {
				return p.Name, nil
			}
		}
	}
	return "", nil
}

func (c *checker) hasActionProps() bool {
	for _, p := range c.p.list {
		if len(p.Actions) > 0 {
			return true
		}
	}
	return false
}

// recordNode remembers a stored state for the liveness graph.
func (c *checker) recordNode(idx int32, s State, fp uint64, initial bool) {
	if !c.p.live {
		return
	}
	c.p.states = append(c.p.states, s)
	c.p.succ = append(c.p.succ, nil)
	c.p.index[fp] = idx
	if initial {
		c.p.inits = append(c.p.inits, idx)
	}
}

// recordEdges adds the edges of an explored state once its new successors are stored.
func (c *checker) recordEdges(from int32, succ []succRec) {
	if !c.p.live {
		return
	}
	for _, r := range succ {
		if to, ok := c.p.index[r.fp]; ok {
			c.p.succ[from] = append(c.p.succ[from], gedge{to, r.action})
		}
	}
}

// judgeStep checks the action properties on the step s -> t (every step
// into the model, new state or not, as TLC checks implied actions); it
// reports whether the expansion must stop.
func (c *checker) judgeStep(s, t State, fp uint64, pos int32, action string, e *expansion) bool {
	cand := candidate{state: t, fp: fp, pos: pos, action: c.actionID(action), always: true}
	for _, p := range c.cons {
		ok, err := p.Holds(t)
		if err != nil || !ok {
			return false // judged (and reported) with the state itself
		}
	}
	name, err := c.checkActionProps(s, t)
	switch {
	case err != nil:
		cand.err = err
	case name != "":
		cand.prop = name
	default:
		return false
	}
	e.cands = append(e.cands, cand)
	return true
}
