package eval

import (
	"sync"
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/cfg"
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
}

func newTLCState(run RunInfo, c *cfg.Config) *tlcState {
	noDeadlock := run.NoDeadlock || c.CheckDeadlock != nil && !*c.CheckDeadlock
	return &tlcState{run: run, deadlock: !noDeadlock, regs: map[int32]value.Value{}}
}

// tlcGet answers TLCGet(v) for "config" and a register number; ok is false
// for the keys it does not know (TLCGet is then unsupported).
func (m *Machine) tlcGet(pos syntax.Pos, v value.Value) (value.Value, bool, error) {
	t := m.tlc
	switch k := v.(type) {
	case value.Str:
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
