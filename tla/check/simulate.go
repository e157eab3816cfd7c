package check

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// SimOptions tune Simulate, TLC's simulation mode (-simulate, -depth,
// -seed): random behaviours instead of the whole state space, for models
// too large to exhaust, where a bug deep in a behaviour is more likely
// found by walking far than by searching wide.
type SimOptions struct {
	// Depth is the number of states of a behaviour, its initial state
	// included (TLC's -depth; 0: 100, TLC's default).
	Depth int
	// Behaviours is the number of behaviours to generate (TLC's
	// -simulate num=N); 0 generates until the context ends.
	Behaviours int64
	// Seed makes the run repeatable: the same seed, System and options give
	// the same behaviours (TLC's -seed).
	Seed uint64
	// NoDeadlock disables deadlock checking, as in Options.
	NoDeadlock bool
	// Now is the clock for Result.Seconds; time.Now if nil.
	Now func() time.Time
}

// SimResult is what Simulate found: a Result (Verdict, Trace, Generated,
// Depth as the longest behaviour) and the number of behaviours.
type SimResult struct {
	Result
	// Behaviours counts the behaviours generated, the violating one included.
	Behaviours int64 `json:"behaviours"`
}

// Simulate generates random behaviours of sys: an initial state chosen
// uniformly among Init's, then at each step one successor chosen uniformly
// among those Next generates that satisfy the constraints, until the
// behaviour has SimOptions.Depth states or no allowed successor. Every
// generated state, initial or successor, is checked against the
// invariants and every step against the properties' action parts, as TLC
// checks in simulation; a state with no successor at all is a deadlock
// unless NoDeadlock. The properties' liveness parts are not checked (TLC
// checks them on each behaviour; a finite behaviour proves little), and
// neither VIEW nor SYMMETRY matter (no state is remembered). The error is
// non-nil exactly when the verdict is EvalError or Canceled; ending the
// context after at least one behaviour when Behaviours is 0 is the normal
// end, with verdict Success.
func Simulate(ctx context.Context, sys System, opts SimOptions) (SimResult, error) {
	if opts.Depth <= 0 {
		opts.Depth = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &checker{sys: sys, vars: sys.Variables(), invs: sys.Invariants(),
		cons: sys.Constraints(), acons: sys.ActionConstraints()}
	c.setupProps()
	m := &simulator{c: c, sys: sys, opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
		res: SimResult{Result: Result{Verdict: Success, Variables: c.vars, Workers: 1}}}
	start := opts.Now()
	if ls, ok := sys.(LevelSystem); ok {
		m.level = ls.SetLevel
		defer ls.SetLevel(-1)
	}
	err := m.run(ctx)
	m.res.Seconds = opts.Now().Sub(start).Seconds()
	return m.res, err
}

// simulator is one run of Simulate.
type simulator struct {
	c     *checker
	sys   System
	opts  SimOptions
	rng   *rand.Rand
	res   SimResult
	trace []TraceStep
	cands []simSucc
	// level tells a LevelSystem the level of the states expanded now: a
	// behaviour's states are at levels 1, 2, ... as in TLC's simulation
	// (nil for another System).
	level func(int)
}

// setLevel tells the System the level of the states expanded now.
func (m *simulator) setLevel(d int) {
	if m.level != nil {
		m.level(d)
	}
}

// simSucc is a successor a behaviour may take.
type simSucc struct {
	s      State
	action string
}

// run generates the behaviours; the error is Simulate's.
func (m *simulator) run(ctx context.Context) error {
	inits, err := m.initial()
	if err != nil || m.res.Verdict != Success || len(inits) == 0 {
		return err
	}
	for m.opts.Behaviours == 0 || m.res.Behaviours < m.opts.Behaviours {
		if err := ctx.Err(); err != nil {
			if m.opts.Behaviours == 0 && m.res.Behaviours > 0 {
				return nil
			}
			m.res.Verdict, m.res.Error = Canceled, err.Error()
			return err
		}
		m.res.Behaviours++
		if stop, err := m.behaviour(inits[m.rng.IntN(len(inits))]); stop || err != nil {
			return err
		}
	}
	return nil
}

// initial judges the initial states once and returns those within the
// constraints; a violation or an error ends the run there.
func (m *simulator) initial() ([]State, error) {
	res, c := &m.res, m.c
	var inits []State
	var firstErr error
	m.setLevel(0)
	err := m.sys.Init(func(s State) error {
		res.Generated++
		var cand candidate
		c.judge(nil, s, &cand, nil)
		switch {
		case cand.err != nil:
			firstErr = cand.err
		case cand.inv != "":
			res.Verdict, res.Invariant = InvariantViolated, cand.inv
		default:
			if name, err := c.checkInitProps(s); err != nil {
				firstErr = err
			} else if name != "" {
				res.Verdict, res.Invariant, res.Property = InvariantViolated, name, name
			} else if !cand.out {
				inits = append(inits, s)
			}
			if firstErr == nil && res.Verdict == Success {
				return nil
			}
		}
		res.Trace = []TraceStep{{InitialAction, s}}
		return errStop
	})
	switch {
	case firstErr != nil:
		res.Verdict, res.Error = EvalError, firstErr.Error()
		return nil, firstErr
	case res.Verdict != Success:
		res.Depth, res.Behaviours = 1, 1
		return nil, nil
	case err != nil && !errors.Is(err, errStop):
		res.Verdict, res.Error = EvalError, err.Error()
		return nil, err
	}
	return inits, nil
}

// behaviour walks one behaviour from s; it reports whether the run ends
// (a violation, a deadlock or an error, recorded in the result).
func (m *simulator) behaviour(s State) (bool, error) {
	res := &m.res
	m.trace = append(m.trace[:0], TraceStep{InitialAction, s})
	for len(m.trace) < m.opts.Depth {
		m.setLevel(len(m.trace))
		n, stop, fault := m.successors(s)
		if fault != nil || stop {
			res.Depth = max(res.Depth, len(m.trace))
			res.Trace = append([]TraceStep(nil), m.trace...)
			if fault != nil {
				res.Verdict, res.Error = EvalError, fault.Error()
				return true, fmt.Errorf("check: simulation: %w", fault)
			}
			return true, nil
		}
		if n == 0 && !m.opts.NoDeadlock {
			res.Verdict = Deadlocked
			res.Depth = max(res.Depth, len(m.trace))
			res.Trace = append([]TraceStep(nil), m.trace...)
			return true, nil
		}
		if len(m.cands) == 0 {
			break
		}
		next := m.cands[m.rng.IntN(len(m.cands))]
		s = next.s
		m.trace = append(m.trace, TraceStep{next.action, s})
	}
	res.Depth = max(res.Depth, len(m.trace))
	return false, nil
}

// successors generates s's successors, judges each, and keeps in m.cands
// those the behaviour may take; it returns how many Next generated, and
// whether one violated an invariant or property (appended to the trace)
// or failed to evaluate.
func (m *simulator) successors(s State) (n int, stop bool, fault error) {
	res, c := &m.res, m.c
	m.cands = m.cands[:0]
	err := m.sys.Next(s, func(t State, action string) error {
		n++
		res.Generated++
		var cand candidate
		c.judge(s, t, &cand, nil)
		name, perr := "", error(nil)
		if cand.err == nil && cand.inv == "" && !cand.out {
			name, perr = c.checkActionProps(s, t)
		}
		switch {
		case cand.err != nil:
			fault = cand.err
		case perr != nil:
			fault = perr
		case cand.inv != "":
			res.Verdict, res.Invariant = InvariantViolated, cand.inv
		case name != "":
			res.Verdict, res.Invariant, res.Property = InvariantViolated, name, name
		default:
			if !cand.out {
				m.cands = append(m.cands, simSucc{t, action})
			}
			return nil
		}
		m.trace = append(m.trace, TraceStep{action, t})
		stop = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) && fault == nil {
		fault = err
	}
	return n, stop, fault
}
