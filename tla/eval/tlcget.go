package eval

import (
	"sync"
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/syntax"
	"github.com/verimeter/verimeter/tla/value"
)

// RunInfo is what a model may learn about its run through TLC's
// TLCGet("config"): the number of workers and whether deadlock is checked
// (the command line's part of it; CHECK_DEADLOCK comes from the
// configuration). Workers 0 means unknown (LoadModel): TLCGet("config")
// is then unsupported.
type RunInfo struct {
	Workers    int
	NoDeadlock bool
}

// tlcState is a machine's share of TLC's run-time operators: the run's
// options and the registers TLCSet(i, v) writes and TLCGet(i) reads.
//
// TLC keeps a register per worker, and a TLCSet in an action or invariant
// makes the search depend on the order in which TLC's workers meet the
// states; our order need not be TLC's. So TLCSet is taken only while the
// assumptions are checked (DieHardest's ASSUME TLCSet(2, 999)), before
// the search, and is unsupported during it; TLCGet(i) reads the registers
// during the search only with one worker (TLC copies the main thread's
// registers into its worker then; with several, unsupported).
type tlcState struct {
	run      RunInfo
	deadlock bool
	assumed  atomic.Bool // the assumptions are checked: the search runs
	mu       sync.Mutex
	regs     map[int32]value.Value
	// level is the level of the states the checker expands now, next that
	// of their successors (SetLevel: one more; an ALIAS on a trace's last
	// state: the same, TLC's next state being the state itself); -1 when
	// unknown.
	level, next atomic.Int32
	// stats is TLCGet("stats") for the postcondition, once the search is
	// over (nil before).
	stats atomic.Pointer[value.Func]
}

func newTLCState(run RunInfo, c *cfg.Config) *tlcState {
	noDeadlock := run.NoDeadlock || c.CheckDeadlock != nil && !*c.CheckDeadlock
	t := &tlcState{run: run, deadlock: !noDeadlock, regs: map[int32]value.Value{}}
	t.setLevels(-1, -1)
	return t
}

// setLevels sets the levels of the states expanded now and of their
// successors.
func (t *tlcState) setLevels(level, next int) {
	t.level.Store(int32(level))
	t.next.Store(int32(next))
}

// SetLevel implements check.LevelSystem: TLCGet("level") reads it.
func (m *Machine) SetLevel(level int) {
	if level < 0 {
		m.tlc.setLevels(-1, -1)
		return
	}
	m.tlc.setLevels(level, level+1)
}

var _ check.LevelSystem = (*Machine)(nil)

// tlcLevel is TLCGet("level") as TLC defines it: 0 in a constant
// expression (an ASSUME, the POSTCONDITION) and in the initial predicate;
// in an action, the level of its state, one more for TLCGet("level")';
// in a predicate of one state (an invariant, a constraint, a VIEW), that
// state's level. The evaluation tells them apart by its states: none for
// a constant, a next state for an action or the initial predicate (whose
// current state is none), the current state alone for a state predicate.
// The checker's search and its simulation give the level (SetLevel), as
// does a counterexample's ALIAS (ApplyAlias); outside them, in a set
// filtered lazily (evaluated whenever it is asked) and under ENABLED
// (an action and its subscript on states of other levels), it is unknown
// and TLCGet("level") unsupported.
func (m *Machine) tlcLevel(r *rt, pos syntax.Pos, primed bool) (value.Value, error) {
	if r.cur == nil && r.nxt == nil && !r.noLevel {
		return value.Int(0), nil
	}
	l := m.tlc.level.Load()
	if l < 0 || r.noLevel {
		return nil, unsupported(pos, `TLCGet("level") outside the checker's breadth-first search, under ENABLED or in a lazily filtered set`)
	}
	if r.nxt == nil || primed {
		l = m.tlc.next.Load()
	}
	return value.Int(l), nil
}

// tlcGet answers TLCGet(v) for "config" and a register number; ok is false
// for the keys it does not know (TLCGet is then unsupported).
func (m *Machine) tlcGet(pos syntax.Pos, v value.Value) (value.Value, bool, error) {
	t := m.tlc
	switch k := v.(type) {
	case value.Str:
		if k.Go() == "stats" {
			if st := t.stats.Load(); st != nil {
				return st, true, nil
			}
			return nil, true, unsupported(pos, `TLCGet("stats") before the search is over (its figures depend on the order of TLC's workers)`)
		}
		if k.Go() != "config" {
			return nil, false, nil
		}
		if t.run.Workers <= 0 {
			return nil, true, unsupported(pos, `TLCGet("config") without the run's options`)
		}
		// TLC's record also has seed, fingerprint and install, which are
		// TLC's own; reading one of them here is an error.
		r, err := value.Record(m.strs, []string{"mode", "deadlock", "worker"},
			[]value.Value{m.strs.String("bfs"), value.Bool(t.deadlock), value.Int(t.run.Workers)})
		return r, true, wrap(pos, err)
	case value.Int:
		if k < 0 {
			return nil, true, evalErr(pos, "TLCGet(%d): a register number is not negative", k)
		}
		if t.assumed.Load() && t.run.Workers != 1 {
			return nil, true, unsupported(pos, "TLCGet of a register during a search with more than one worker (TLC's registers are per worker)")
		}
		t.mu.Lock()
		r := t.regs[int32(k)]
		t.mu.Unlock()
		if r == nil {
			return nil, true, evalErr(pos, "TLCGet(%d): the register was not set by TLCSet", k)
		}
		return r, true, nil
	}
	return nil, false, nil
}

// compileTLCSet is TLC's TLCSet(i, v) for a register number i while the
// assumptions are checked: it sets the register and equals TRUE.
func compileTLCSet(s scope, pos syntax.Pos, args []evalFn) evalFn {
	s.fl.impure = true
	t := s.c.m.tlc
	return func(r *rt) (value.Value, error) {
		vs, err := evalAll(r, args)
		if err != nil {
			return nil, err
		}
		k, ok := vs[0].(value.Int)
		if !ok {
			return nil, unsupported(pos, "TLCSet("+vs[0].String()+", ...)")
		}
		if k < 0 {
			return nil, evalErr(pos, "TLCSet(%d, ...): a register number is not negative", k)
		}
		if t.assumed.Load() {
			return nil, unsupported(pos, "TLCSet during the search (TLC's registers then depend on the order of its workers' exploration)")
		}
		t.mu.Lock()
		t.regs[int32(k)] = vs[1]
		t.mu.Unlock()
		return value.True, nil
	}
}

// tlcGetCall compiles TLCGet(k): of TLC's run statistics, the level of a
// state (tlcLevel), "config", the registers and, after the search,
// "stats" (tlcGet); the one JVM property a corpus model asks for is the
// switch of \cdot, which is always on here. As in TLC (its minimum level
// is 1), TLCGet is state-level: a definition using it is no constant
// evaluated once.
func (s scope) tlcGetCall(pos syntax.Pos, p syntax.RefPart) evalFn {
	s.fl.impure, s.fl.state = true, true
	if s.primed {
		s.fl.next = true
	}
	if len(p.Args) != 1 {
		return errFn(evalErr(pos, "TLCGet takes 1 argument, got %d", len(p.Args)))
	}
	m := s.c.m
	arg, primed := s.expr(p.Args[0]), s.primed
	return func(r *rt) (value.Value, error) {
		v, err := arg(r)
		if err != nil {
			return nil, err
		}
		str, isStr := v.(value.Str)
		switch {
		case isStr && str.Go() == "-Dtlc2.tool.impl.Tool.cdot":
			return m.strs.String("true"), nil
		case isStr && str.Go() == "level":
			return m.tlcLevel(r, pos, primed)
		}
		if got, ok, err := m.tlcGet(pos, v); ok {
			return got, err
		}
		return nil, unsupported(pos, "TLCGet("+v.String()+")")
	}
}
