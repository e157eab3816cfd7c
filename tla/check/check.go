package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verimeter/verimeter/tla/value"
)

// Verdict is the outcome of a run, as TLC reports it.
type Verdict string

// The verdicts.
const (
	// Success: every reachable state (within the constraints) was explored.
	Success Verdict = "success"
	// InvariantViolated: a generated state violates Result.Invariant.
	InvariantViolated Verdict = "invariant"
	// Deadlocked: a reachable state has no successor and deadlock is checked.
	Deadlocked Verdict = "deadlock"
	// EvalError: the System returned an error (TLC's "error occurred").
	EvalError Verdict = "error"
	// Canceled: the context ended the run first.
	Canceled Verdict = "canceled"
)

// ErrCollision is returned in exact mode when two different states share a
// fingerprint (so the fingerprinted run would have missed a state).
var ErrCollision = errors.New("check: fingerprint collision")

// Options tune a run; the zero value checks deadlock with GOMAXPROCS workers.
type Options struct {
	// Workers is the number of goroutines computing successors (0: GOMAXPROCS).
	// The result does not depend on it.
	Workers int
	// NoDeadlock disables deadlock checking (CHECK_DEADLOCK FALSE, TLC -deadlock).
	NoDeadlock bool
	// Progress, if set, receives a progress line (depth, generated, states/s,
	// distinct, queue) at most every ProgressEvery (default 60 s, as TLC),
	// checked after each explored state's successors are merged, and a final
	// line at the end of the run.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Exact stores every state in full besides its fingerprint and compares
	// states on fingerprint hits, counting collisions (for tests: it shows that
	// the fingerprint did not merge distinct states). It costs memory.
	Exact bool
	// ArenaPoison, for tests, never reuses the memory of the successors'
	// arenas (PendingSystem) and clears what is released, so that a value
	// used after its release fails loudly instead of reading another
	// successor's.
	ArenaPoison bool
	// Now is the clock (for Seconds and progress); time.Now if nil.
	Now func() time.Time
	// Coverage counts, per action, the states it was enabled in, the
	// successors it generated and the new states it found first
	// (Result.Coverage, TLC's -coverage).
	Coverage bool
	// FPMem is the memory in bytes given to the fingerprint table up front
	// (TLC's -fpmem), so that it need not grow (0: it starts small and
	// doubles as needed).
	FPMem int64
	// MetaDir is the directory of the run's files: with it, the trace (a
	// fingerprint, parent and action per stored state) is kept on disk
	// instead of in memory, frontier blocks over FrontierMem are spilled
	// there, and checkpoints are written there.
	MetaDir string
	// FrontierMem is the memory in bytes the BFS queue may hold before its
	// blocks are spilled to MetaDir in compressed form (0: no spilling).
	FrontierMem int64
	// Checkpoint is the interval between checkpoints written to MetaDir
	// between two levels (0: none); Recover resumes from MetaDir's last
	// checkpoint instead of starting with the initial states.
	Checkpoint time.Duration
	Recover    bool
	// LivenessEvery is the least interval between two liveness checks
	// during the search, on the states explored so far, so that a
	// violation is found (and the run stops) as TLC finds it, without
	// exploring the rest of the space: 0 is TLC's minute, a negative
	// value checks only after the search. A check runs between two levels
	// once the explored graph has grown by a tenth since the last one,
	// and the next waits as long again as the check took.
	LivenessEvery time.Duration
}

// TraceStep is one state of a counterexample with the action that led to it
// (Action is "Initial predicate" for the first state, as TLC prints it).
type TraceStep struct {
	Action string `json:"action"`
	State  State  `json:"state"`
}

// MarshalJSON prints each variable's value in TLC's format.
func (s State) MarshalJSON() ([]byte, error) {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = v.String()
	}
	return json.Marshal(out)
}

// Result is what a run found, with TLC's counters.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Invariant names the violated invariant (InvariantViolated).
	Invariant string `json:"invariant,omitempty"`
	// Error is the evaluation error's text (EvalError, Canceled).
	Error string `json:"error,omitempty"`
	// Distinct counts stored states, initial ones included (TLC's "distinct states found").
	Distinct int64 `json:"distinct"`
	// Generated counts every state generated, initial ones and duplicates included.
	Generated int64 `json:"generated"`
	// Depth is the number of BFS levels, the initial states being level 1.
	Depth int `json:"depth"`
	// Queue is the number of states left unexplored when the run stopped.
	Queue   int64   `json:"queue"`
	Seconds float64 `json:"seconds"`
	Workers int     `json:"workers"`
	// Collisions counts fingerprint collisions found in exact mode.
	Collisions int64 `json:"collisions,omitempty"`
	// Variables names the trace's columns.
	Variables []string `json:"variables"`
	// Trace is the shortest path from an initial state to the violation (or to
	// the state whose evaluation failed, or the deadlocked state); for a
	// liveness violation, a prefix and a cycle.
	Trace []TraceStep `json:"trace,omitempty"`
	// Property names the violated PROPERTY (LivenessViolated, and
	// InvariantViolated when a property's safety part failed).
	Property string `json:"property,omitempty"`
	// CycleStart is, for LivenessViolated, the index in Trace of the state the
	// cycle returns to after Trace's last state ("back to state CycleStart+1").
	CycleStart int `json:"cycle_start,omitempty"`
	// CycleAction names, for LivenessViolated, the action of the cycle's
	// last step, from Trace's last state back to Trace[CycleStart] (TLC's
	// "Back to state N: <action>"); empty when the cycle is a stuttering
	// step, which Trace ends with.
	CycleAction string `json:"cycle_action,omitempty"`
	// Shown is Trace's states as the model's ALIAS shows them, one per
	// step, filled in by the model after the run; nil without an ALIAS.
	Shown []ShownState `json:"-"`
	// Labels is, when the model fills it in after the run, each step's
	// action as TLC names it: with its arguments and where it is written
	// ("Send(2) line 5, col 11 to line 6, col 19 of module M"); CycleLabel
	// is CycleAction's.
	Labels     []string `json:"-"`
	CycleLabel string   `json:"-"`
	// Coverage is, with Options.Coverage, each action's counts in the order
	// of Next.
	Coverage []ActionCoverage `json:"coverage,omitempty"`
	// CollisionCalculated is TLC's "calculated (optimistic)" probability
	// that a fingerprint collision merged two states: distinct *
	// (generated - distinct) / 2^64; CollisionObserved is TLC's estimate
	// "based on the actual fingerprints": 1 / the smallest distance between
	// two stored fingerprints. Both are 0 when not computed (exact mode).
	CollisionCalculated float64 `json:"collision_calculated,omitempty"`
	CollisionObserved   float64 `json:"collision_observed,omitempty"`
	// Checkpoints counts the checkpoints written; Recovered is true when the
	// run resumed from one.
	Checkpoints int  `json:"checkpoints,omitempty"`
	Recovered   bool `json:"recovered,omitempty"`
}

// ShownState is a counterexample's state as the model's ALIAS shows it:
// TLC prints the lines of the alias's record (Names[i] = Values[i]) in
// place of the variables.
type ShownState struct {
	Names  []string
	Values []value.Value
	// Format is the record's _format field: the pattern (Java's
	// String.format, with the name and the value for its two %s) TLC prints
	// each line with; "" for its default.
	Format string
}

// InitialAction is the action name of a trace's first step.
const InitialAction = "Initial predicate"

// Fingerprint mixes the per-variable hashes of s in order (not XOR, so that
// swapping two variables' values changes it).
func Fingerprint(s State) uint64 {
	h := uint64(0x6a09e667f3bcc909) + uint64(len(s))
	for _, v := range s {
		h = value.Mix(h, v.Hash())
	}
	return h
}

// fingerprint is Fingerprint; tests replace it with a weak function to
// show that exact mode detects collisions.
var fingerprint = Fingerprint

// node is a stored state's trace record: about 16 bytes, no pointers.
type node struct {
	fp     uint64
	parent int32 // -1 for initial states
	action uint16
}

type candidate struct {
	state  State
	fp     uint64
	pos    int32 // index among the parent's successors
	action uint16
	key    uint64 // claim in the claim table
	out    bool   // outside the constraints: not stored
	inv    string // violated invariant, if any
	prop   string // violated action property, if any
	always bool   // judged outside the claim table (action property, fingerprint error)
	err    error
	enc    []byte // the state's compact encoding (nil if it has none)
}

type expansion struct {
	parent int32
	state  State
	nsucc  int32
	cands  []candidate
	err    error // error from Next itself, after its nsucc successors
	succ   []succRec
	cov    []actCount // with Options.Coverage: successors per action
}

type checker struct {
	sys     System
	opts    Options
	level   int // the level of the states expanded now, as told a LevelSystem (setLevel)
	vars    []string
	invs    []Invariant
	cons    []StatePredicate
	acons   []ActionPredicate
	seen    *FPSet
	claims  *claimTable // replaces seen unless in exact mode or with action constraints
	exact   map[uint64][]State
	nodes   [][]node   // the trace records in chunks of nodeChunk (storeNode)
	tfile   *traceFile // the trace on disk (Options.MetaDir), replacing nodes
	lastCP  time.Time
	actions []string
	actIdx  map[string]uint16
	actMu   sync.RWMutex
	res     Result
	buf     BufferedSystem
	bufActs []uint16       // the BufferedSystem's action indexes as ours
	arenas  []*value.Arena // one per worker (PendingSystem)
	// scratches are the workers' scratch memories, exps the expansions of
	// a chunk: kept from chunk to chunk, so that a chunk's expansion does
	// not allocate them again (see expandMerge).
	scratches []*scratch
	exps      []expansion
	// freeItems holds the emptied blocks of explored frontier states
	// (recycle), for the next level's blocks (level.push).
	freeItems [][]frontierItem
	start     time.Time
	lastLog   time.Time
	p         props
	cov       []coverageRec // with Options.Coverage, by action index
	// The last liveness check during the search: when it ended and how
	// many explored states it saw.
	liveAt   time.Time
	liveSeen int32
}

// Run explores sys breadth first and returns the result. The returned error
// is non-nil exactly when the verdict is EvalError or Canceled (it wraps the
// System's error or the context's), or on a collision in exact mode; Result
// is filled in every case.
func Run(ctx context.Context, sys System, opts Options) (Result, error) {
	c := newChecker(sys, opts)
	opts = c.opts
	c.setupProps()
	var err error
	if c.p.exactErr != nil {
		err = c.fail(ctx, c.p.exactErr, nil)
	} else if err = c.diskOptions(); err != nil {
		err = c.fail(ctx, err, nil)
	} else {
		err = c.run(ctx)
	}
	if err == nil && c.res.Verdict == Success && c.p.live {
		err = c.liveness(ctx)
	}
	c.res.Seconds = opts.Now().Sub(c.start).Seconds()
	if opts.Coverage {
		c.res.Coverage = c.coverage()
	}
	if err != nil && c.res.Error == "" {
		c.res.Error = err.Error()
	}
	c.progress(true, 0)
	c.collisionOdds()
	return c.res, err
}

// newChecker makes the checker of a Run, before its properties are set up
// (setupProps) or anything is explored.
func newChecker(sys System, opts Options) *checker {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = time.Minute
	}
	c := &checker{
		sys: sys, opts: opts, vars: sys.Variables(),
		invs: sys.Invariants(), cons: sys.Constraints(), acons: sys.ActionConstraints(),
		seen: NewFPSet(1 << 16), actIdx: map[string]uint16{},
	}
	claimSlots := 1 << 16
	if opts.FPMem > 0 {
		claimSlots = int(fitPow2(opts.FPMem / 16))
	}
	if opts.Exact {
		c.exact = map[uint64][]State{}
	}
	if c.exact == nil && len(c.acons) == 0 {
		// The first occurrence of a state in the sequential order decides
		// its judgement; that needs judgement to depend on the state only.
		c.claims = newClaimTable(claimSlots)
	} else if opts.FPMem > 0 {
		c.seen = NewFPSet(int(fitPow2(opts.FPMem/8) * 3 / 4))
	}
	c.arenas = make([]*value.Arena, opts.Workers)
	for i := range c.arenas {
		c.arenas[i] = &value.Arena{Poison: opts.ArenaPoison}
	}
	c.scratches = make([]*scratch, opts.Workers)
	for i := range c.scratches {
		c.scratches[i] = &scratch{arena: c.arenas[i]}
	}
	if b, ok := sys.(BufferedSystem); ok {
		c.buf = b
		c.actionID(InitialAction)
		for _, name := range b.ActionNames() {
			c.bufActs = append(c.bufActs, c.actionID(name))
		}
	}
	c.start = opts.Now()
	c.lastLog = c.start
	c.res.Workers = opts.Workers
	c.res.Variables = c.vars
	c.res.Verdict = Success
	return c
}

// diskOptions checks the options of the run's files.
func (c *checker) diskOptions() error {
	if c.opts.Checkpoint > 0 || c.opts.Recover {
		return c.checkpointable()
	}
	if c.opts.FrontierMem > 0 && c.opts.MetaDir == "" {
		return fmt.Errorf("%w: a frontier memory budget needs a directory (MetaDir)", ErrDisk)
	}
	return nil
}

// fitPow2 is the largest power of two at most n (at least 1024).
func fitPow2(n int64) int64 {
	p := int64(1024)
	for p*2 <= n {
		p *= 2
	}
	return p
}

func (c *checker) actionID(name string) uint16 {
	c.actMu.RLock()
	id, ok := c.actIdx[name]
	c.actMu.RUnlock()
	if ok {
		return id
	}
	c.actMu.Lock()
	defer c.actMu.Unlock()
	id, ok = c.actIdx[name]
	if !ok {
		if len(c.actions) == 0 {
			c.actions = append(c.actions, InitialAction)
			c.actIdx[InitialAction] = 0
			if name == InitialAction {
				return 0
			}
		}
		if len(c.actions) >= 1<<16-1 {
			return uint16(len(c.actions) - 1) // more than 65535 action names: trace names may merge
		}
		id = uint16(len(c.actions))
		c.actions = append(c.actions, name)
		c.actIdx[name] = id
	}
	return id
}

// judge evaluates constraints and invariants of a generated state, the
// invariants with the worker's memo if not nil.
func (c *checker) judge(parent State, s State, cand *candidate, memo *value.WorkerMemo) {
	for _, p := range c.cons {
		ok, err := p.Holds(s)
		if err != nil {
			cand.err = fmt.Errorf("evaluating constraint %s: %w", p.Name, err)
			return
		}
		if !ok {
			cand.out = true
			break
		}
	}
	if !cand.out && parent != nil {
		for _, p := range c.acons {
			ok, err := p.Holds(parent, s)
			if err != nil {
				cand.err = fmt.Errorf("evaluating action constraint %s: %w", p.Name, err)
				return
			}
			if !ok {
				cand.out = true
				break
			}
		}
	}
	for _, inv := range c.invs {
		var ok bool
		var err error
		if inv.HoldsMemo != nil && memo != nil {
			ok, err = inv.HoldsMemo(s, memo)
		} else {
			ok, err = inv.Holds(s)
		}
		if err != nil {
			cand.err = fmt.Errorf("evaluating invariant %s: %w", inv.Name, err)
			return
		}
		if !ok {
			cand.inv = inv.Name
			return
		}
	}
}

// isNew consults the stores; in exact mode a fingerprint hit with a different
// state is a collision, counted and treated as a new state.
func (c *checker) isNew(s State, fp uint64) (bool, error) {
	if c.claims != nil {
		return c.claims.key(fp) != keyStored, nil
	}
	if c.exact == nil {
		return !c.seen.Contains(fp), nil
	}
	for _, t := range c.exact[fp] {
		if eq, err := equalStates(s, t); err != nil || eq {
			return false, err
		}
	}
	return true, nil
}

func (c *checker) store(s State, fp uint64, parent int32, action uint16) (int32, error) {
	if c.exact != nil {
		if len(c.exact[fp]) > 0 {
			c.res.Collisions++
		}
		c.exact[fp] = append(c.exact[fp], s)
	}
	if c.claims != nil {
		// Workers may claim beside a merge: the table must not grow here
		// (claim never does; initial grows it between states).
		c.claims.claim(fp, keyStored)
	} else {
		c.seen.Insert(fp)
	}
	if c.res.Distinct >= 1<<31-1 {
		return 0, fmt.Errorf("check: more than 2^31-1 distinct states")
	}
	if c.tfile != nil {
		if err := c.tfile.append(node{fp: fp, parent: parent, action: action}); err != nil {
			return 0, err
		}
	} else {
		c.storeNode(node{fp: fp, parent: parent, action: action})
	}
	c.res.Distinct++
	return int32(c.res.Distinct - 1), nil
}

// nodeAt is stored state i's trace record.
func (c *checker) nodeAt(i int32) (node, error) {
	if c.tfile != nil {
		return c.tfile.get(i)
	}
	return c.nodes[i/nodeChunk][i%nodeChunk], nil
}

// nodeChunk is how many trace records a chunk of checker.nodes holds.
const nodeChunk = 1 << 16

// storeNode appends n to the trace records. They grow by chunks, the
// first from small (a small model stays small), none ever copied or
// freed: one slice grown by append copied them all at every doubling, in
// the merge, and left the old arrays to the garbage collector.
func (c *checker) storeNode(n node) {
	if len(c.nodes) == 0 || len(c.nodes[len(c.nodes)-1]) == nodeChunk {
		c.nodes = append(c.nodes, make([]node, 0, 64))
	}
	last := &c.nodes[len(c.nodes)-1]
	*last = append(growCapped(*last, nodeChunk), n)
}

func equalStates(a, b State) (bool, error) {
	if len(a) != len(b) {
		return false, nil
	}
	for i := range a {
		eq, err := value.Equal(a[i], b[i])
		if err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// frontierItem is a stored state still to be explored: its compact
// encoding in a pointer-free arena (enc), or, for the few states with a
// value that has none (and initial states), the state itself.
type frontierItem struct {
	idx   int32
	state State
	enc   []byte
}

// scratch is a worker's memory for encoding states: the encoder and the
// arena chunk new states are encoded into. Frontier items reference the
// chunks, which are filled again once their level is expanded (encChunks)
// and which the garbage collector never scans (they hold no pointers). A
// worker keeps its scratch for the whole run (checker.scratches): made
// again for each chunk of states, its tables and part-filled slabs were
// half the bytes MCLamportMutex allocated, and its decoder forgot the
// values the states of the chunk before shared.
type scratch struct {
	arena   *value.Arena // the successors' values (PendingSystem)
	enc     value.Encoder
	dec     value.Decoder
	buf     []byte
	chunk   []byte
	cands   []candidate                     // the candidates of the expansions, end to end (addCand)
	states  []value.Value                   // the decoded states, end to end (decodeState)
	candSl  slabPool[candidate]             // the slabs of cands, taken back at each chunk (reuse)
	stateSl slabPool[value.Value]           // the slabs of states, taken back at each chunk (reuse)
	encs    encChunks                       // the chunks of encodings, taken back by level (begin)
	claimed int64                           // claim table slots filled in this block (claimTable.claimCounting)
	sink    succSink                        // the state being expanded and the successors held (expandOne)
	emit    func(t State, action int) error // sink.next, made once
}

// candChunk is how many candidates a worker's slab of candidates holds.
const candChunk = 1 << 10

// addCand appends c to e's candidates. The candidates of the expansions a
// worker makes come one expansion after another, so e's are the last ones
// in the worker's slab, where c joins them; a full slab is replaced (e's
// copied over) by one of the worker's slabs (candSl), and the old one is
// left to the expansions that use it until their chunk is merged.
func (w *scratch) addCand(e *expansion, c candidate) {
	n := len(e.cands)
	if n > 0 && (len(w.cands) < n || &w.cands[len(w.cands)-n] != &e.cands[0]) {
		e.cands = append(e.cands, c) // not at the slab's end (not made here)
		return
	}
	if len(w.cands) == cap(w.cands) {
		var slab []candidate
		if n+1 <= candChunk {
			slab = w.candSl.get(candChunk)[:n]
		} else {
			slab = make([]candidate, n, 2*(n+1))
		}
		copy(slab, e.cands)
		w.cands = slab
	}
	w.cands = append(w.cands, c)
	e.cands = w.cands[len(w.cands)-n-1 : len(w.cands) : len(w.cands)]
}

// arenaChunk is the size of an arena chunk.
const arenaChunk = 1 << 20

// encode returns s's compact encoding in the worker's arena, or nil when a
// value of s has none.
func (w *scratch) encode(s State) []byte {
	buf := w.buf[:0]
	var err error
	for _, v := range s {
		if buf, err = w.enc.AppendEncoded(buf, v); err != nil {
			w.buf = buf
			return nil
		}
	}
	w.buf = buf
	if len(buf) > cap(w.chunk)-len(w.chunk) {
		w.chunk = w.encs.get(len(buf))
	}
	start := len(w.chunk)
	w.chunk = append(w.chunk, buf...)
	return w.chunk[start:len(w.chunk):len(w.chunk)]
}

// stateSlab is how many values a worker's slab of decoded states holds.
const stateSlab = 1 << 10

// decodeState rebuilds a state of n variables from its compact encoding.
// The states a worker decodes lie end to end in its slab (one allocation
// per stateSlab values, not one per state: with two workers, each
// allocation costs the other worker too), never written again until the
// chunk of expansions that hold them is merged (stateSl); a full slab is
// left to them.
func (w *scratch) decodeState(b []byte, n int) (State, error) {
	if cap(w.states)-len(w.states) < n {
		if n <= stateSlab {
			w.states = w.stateSl.get(stateSlab)
		} else {
			w.states = make([]value.Value, 0, n)
		}
	}
	k := len(w.states)
	w.states = w.states[:k+n]
	s := State(w.states[k : k+n : k+n])
	var err error
	for i := range s {
		if s[i], b, err = w.dec.Decode(b); err != nil {
			return nil, fmt.Errorf("check: decoding a stored state: %w", err)
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("check: decoding a stored state: %w: %d trailing bytes", value.ErrBadEncoding, len(b))
	}
	return s, nil
}

// maxFreeItems bounds checker.freeItems: the next level takes a block as
// each of this level's is explored, so one or two are enough.
const maxFreeItems = 2

// recycle keeps the block of frontier states items, explored and released,
// for a block of the next level: it is not referenced any more (the
// workers copied its items; a spilled block read back is a copy too).
func (c *checker) recycle(items []frontierItem) {
	if cap(items) != chunkStates || len(c.freeItems) >= maxFreeItems {
		return
	}
	clear(items[:cap(items)]) // the states and encodings are not kept alive
	c.freeItems = append(c.freeItems, items[:0])
}

// run explores the state graph breadth-first: the initial states, then
// level by level, each level expanded and merged in chunks.
func (c *checker) run(ctx context.Context) error {
	if dir := c.opts.MetaDir; dir != "" {
		// A recovery from a directory that is not there fails below, as
		// one without a checkpoint.
		if _, err := os.Stat(dir); err == nil || !c.opts.Recover {
			unlock, err := lockDir(dir)
			if err != nil {
				return c.fail(ctx, err, nil)
			}
			defer unlock()
		}
	}
	if c.opts.MetaDir != "" && !c.opts.Recover {
		tf, err := openTraceFile(c.opts.MetaDir, 0)
		if err != nil {
			return c.fail(ctx, err, nil)
		}
		c.tfile = tf
	}
	defer func() {
		if c.tfile != nil {
			c.tfile.close()
		}
	}()
	var frontier *level
	defer func() { frontier.close() }()
	if c.opts.Recover {
		var err error
		if frontier, err = c.recover(); err != nil {
			return c.fail(ctx, err, nil)
		}
		c.res.Recovered = true
	} else {
		frontier = c.newLevel()
		c.setLevel(0)
		if err := c.initial(ctx, frontier); err != nil || c.res.Verdict != Success {
			return err
		}
	}
	defer c.setLevel(-1)
	c.lastCP = c.opts.Now()
	c.liveAt = c.lastCP
	for frontier.n > 0 {
		c.setLevel(c.res.Depth)
		for _, w := range c.scratches {
			w.encs.begin(c.opts.ArenaPoison)
		}
		if err := ctx.Err(); err != nil {
			c.res.Queue = frontier.n
			return c.fail(ctx, err, nil)
		}
		// The level is expanded and merged block by block, so that the
		// states of the frontier already explored can be freed early.
		next := c.newLevel()
		lo := 0
		for k := range frontier.blocks {
			items, err := frontier.block(k)
			if err != nil {
				next.close()
				return c.fail(ctx, err, nil)
			}
			hi := lo + len(items)
			done, err := c.expandMerge(ctx, items, lo, next, int(frontier.n)-hi)
			if done || err != nil {
				next.close()
				return err
			}
			frontier.release(k)
			c.recycle(items)
			lo = hi
		}
		if next.n > 0 {
			c.res.Depth++
		}
		frontier.close()
		frontier = next
		c.progress(false, int(frontier.n))
		if err := c.maybeCheckpoint(frontier); err != nil {
			return c.fail(ctx, err, nil)
		}
		if found, err := c.maybeLiveness(ctx, frontier); found || err != nil {
			c.res.Queue = frontier.n
			return err
		}
	}
	return nil
}

// setLevel tells a LevelSystem the level of the states expanded now (see
// LevelSystem); where liveness is checked, the level stays unknown: the
// tableau's predicates are evaluated on states of every level.
func (c *checker) setLevel(d int) {
	c.level = d
	if ls, ok := c.sys.(LevelSystem); ok && !c.p.live {
		ls.SetLevel(d)
	}
}

// maybeLiveness checks liveness on the states explored so far (all but
// the frontier's) when Options.LivenessEvery has passed since the last
// check and the explored graph has grown by a tenth; it reports whether a
// violation was found.
func (c *checker) maybeLiveness(ctx context.Context, frontier *level) (bool, error) {
	every := c.opts.LivenessEvery
	if every == 0 {
		every = time.Minute
	}
	if !c.p.live || every < 0 || c.res.Recovered || frontier.n == 0 {
		return false, nil
	}
	explored := int32(c.res.Distinct - frontier.n)
	start := c.opts.Now()
	if start.Sub(c.liveAt) < every || int64(explored) <= int64(c.liveSeen)*11/10 {
		return false, nil
	}
	found, err := c.livenessUpTo(ctx, explored)
	end := c.opts.Now()
	c.liveAt, c.liveSeen = end.Add(end.Sub(start)), explored
	return found, err
}

func (c *checker) newLevel() *level {
	return &level{budget: c.opts.FrontierMem, dir: c.opts.MetaDir, free: &c.freeItems}
}

// initial generates, judges and stores the initial states in emission
// order into frontier; a violation sets the verdict and returns nil.
func (c *checker) initial(ctx context.Context, frontier *level) error {
	initID := c.actionID(InitialAction)
	// Initial states: generated, judged, stored in emission order.
	var stop error
	err := c.sys.Init(func(s State) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.res.Generated++
		fp, err := c.fingerprintOf(s)
		if err != nil {
			c.res.Verdict = EvalError
			c.res.Trace = []TraceStep{{InitialAction, s}}
			stop = err
			return err
		}
		var cand candidate
		newState, err := c.isNew(s, fp)
		if err != nil {
			return err
		}
		if !newState {
			return nil
		}
		c.judge(nil, s, &cand, nil)
		if cand.err != nil {
			c.res.Verdict = EvalError
			c.res.Trace = []TraceStep{{InitialAction, s}}
			stop = cand.err
			return cand.err
		}
		if cand.out {
			if cand.inv != "" {
				c.violation(cand.inv, []TraceStep{{InitialAction, s}})
				stop = errStop
				return errStop
			}
			return nil
		}
		if c.claims != nil {
			var none int64
			c.claims.maybeGrow(&none) // no worker runs yet
		}
		idx, err := c.store(s, fp, -1, initID)
		if err != nil {
			return err
		}
		c.recordNode(idx, s, fp, true)
		if cand.inv != "" {
			c.violation(cand.inv, []TraceStep{{InitialAction, s}})
			stop = errStop
			return errStop
		}
		if name, err := c.checkInitProps(s); err != nil || name != "" {
			if err != nil {
				c.res.Verdict = EvalError
				c.res.Trace = []TraceStep{{InitialAction, s}}
				stop = err
				return err
			}
			c.violation(name, []TraceStep{{InitialAction, s}})
			c.res.Property = name
			stop = errStop
			return errStop
		}
		if err := frontier.push(frontierItem{idx: idx, state: s}); err != nil {
			c.res.Verdict = EvalError
			stop = err
			return err
		}
		return nil
	})
	if stop != nil {
		if stop == errStop {
			return nil
		}
		return stop
	}
	if err != nil {
		return c.fail(ctx, err, nil)
	}
	if frontier.n > 0 {
		c.res.Depth = 1
	}
	return nil
}

var errStop = errors.New("stop")

func (c *checker) violation(inv string, trace []TraceStep) {
	c.res.Verdict = InvariantViolated
	c.res.Invariant = inv
	c.res.Trace = trace
}

func (c *checker) fail(ctx context.Context, err error, trace []TraceStep) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		c.res.Verdict = Canceled
	} else {
		c.res.Verdict = EvalError
	}
	c.res.Trace = trace
	return err
}

// blockMerger merges blocks of expansions in frontier order as the workers
// finish them: the worker that finishes the next block to merge (or finds
// it finished) merges it and every finished block after it, one worker at
// a time. Merging where the expansions were made keeps them in that core's
// cache and spares a merging goroutine its sleeps and wake-ups (with one
// worker, waking it after every block took a thirtieth of PaxosCommit's
// time and half of MCLamportMutex's system time).
type blockMerger struct {
	c      *checker
	ctx    context.Context
	exps   []expansion
	next   *level
	rest   int // frontier states after exps
	done   []atomic.Bool
	cursor atomic.Int64 // the next block to merge
	stop   *atomic.Bool // set when the merge is over: the workers take no more blocks
	mu     sync.Mutex   // held by the merging worker
	over   bool         // the merge's result, once stop is set
	err    error
}

func newBlockMerger(c *checker, ctx context.Context, exps []expansion, next *level, rest int, stop *atomic.Bool) *blockMerger {
	blocks := (len(exps) + expandBlock - 1) / expandBlock
	return &blockMerger{c: c, ctx: ctx, exps: exps, next: next, rest: rest, done: make([]atomic.Bool, blocks), stop: stop}
}

// finish marks block b done and merges what can be merged, unless another
// worker is merging. A worker finding the lock taken leaves its block to
// the merging one, which looks for finished blocks again after unlocking:
// the block's done flag is set before the failed attempt to lock, so that
// look sees it.
func (m *blockMerger) finish(b int) {
	m.done[b].Store(true)
	for {
		n := int(m.cursor.Load())
		if n >= len(m.done) || !m.done[n].Load() || m.stop.Load() || !m.mu.TryLock() {
			return
		}
		m.mergeReady()
		m.mu.Unlock()
	}
}

// mergeReady merges the finished blocks from the cursor on; m.mu is held.
func (m *blockMerger) mergeReady() {
	for {
		b := int(m.cursor.Load())
		if b >= len(m.done) || !m.done[b].Load() || m.stop.Load() {
			return
		}
		lo, hi := b*expandBlock, min((b+1)*expandBlock, len(m.exps))
		// The read lock keeps the workers from growing the table while
		// the merge looks fingerprints up in it.
		m.c.claims.mu.RLock()
		over, err := m.c.merge(m.ctx, m.exps[lo:hi], m.next, m.rest+len(m.exps)-hi)
		m.c.claims.mu.RUnlock()
		clear(m.exps[lo:hi])
		m.cursor.Store(int64(b + 1))
		if over || err != nil {
			m.over, m.err = over, err
			m.stop.Store(true)
			return
		}
	}
}

// chunkStates is how many frontier states are expanded between merges.
const chunkStates = 1 << 14

// expandBlock is how many frontier states a worker expands at a time.
const expandBlock = 32

// expandMerge expands part of the frontier (base is the index of its first
// state in the level) with the workers and merges the expansions in
// frontier order into next (rest counts the frontier states after it).
// With the claim table the merge, which is sequential, runs in the
// workers (blockMerger): a block of expansions is merged as soon as it and
// every block before it are done, not at the chunk's end, where the
// workers would wait for it (with two workers that wait was a fortieth of
// the run). Without it (exact mode, action constraints) the workers read the
// fingerprint set the merge writes, so the merge waits for all of them.
func (c *checker) expandMerge(ctx context.Context, items []frontierItem, base int, next *level, rest int) (bool, error) {
	// The chunk before's slice, its expansions merged: the blockMerger
	// cleared each block it merged; without the claim table the merge
	// clears none, and the slice is cleared here.
	if cap(c.exps) < len(items) {
		c.exps = make([]expansion, len(items))
		value.TouchPages(c.exps)
	}
	exps := c.exps[:len(items)]
	if c.claims == nil {
		clear(exps)
		c.expand(ctx, items, base, exps, nil, nil)
		return c.merge(ctx, exps, next, rest)
	}
	var stop atomic.Bool
	m := newBlockMerger(c, ctx, exps, next, rest, &stop)
	c.expand(ctx, items, base, exps, m, &stop)
	// Every block was merged by the worker that finished it or by the one
	// merging then; the workers have stopped, so no lock is contended.
	m.mu.Lock()
	m.mergeReady()
	m.mu.Unlock()
	return m.over, m.err
}

// expand computes the successors of part of the frontier (base is the
// index of its first state in the level) into exps with the workers, which
// take runs of consecutive blocks of states (blockRuns) and hand each
// block done to merger (if not nil), which merges it; once stop is set, the
// workers take no more blocks.
func (c *checker) expand(ctx context.Context, frontier []frontierItem, base int, exps []expansion, merger *blockMerger, stop *atomic.Bool) {
	w := c.opts.Workers
	if w > len(frontier) {
		w = len(frontier)
	}
	runs := newBlockRuns(len(frontier), w)
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := c.scratches[k]
			// Nothing reads the candidates and decoded states of the
			// chunk before any more (merged): their slabs are filled again.
			w.candSl.reuse(c.opts.ArenaPoison)
			w.stateSl.reuse(c.opts.ArenaPoison)
			w.cands, w.states = nil, nil
			for {
				b, ok := runs.take(k)
				if !ok || stop != nil && stop.Load() {
					return
				}
				c.expandAt(ctx, w, frontier, base, exps, b*expandBlock)
				if merger != nil {
					merger.finish(b)
				}
			}
		}()
	}
	wg.Wait()
}

// expandAt expands the block of frontier states from lo into exps.
func (c *checker) expandAt(ctx context.Context, w *scratch, frontier []frontierItem, base int, exps []expansion, lo int) {
	hi := min(lo+expandBlock, len(frontier))
	if ctx.Err() != nil {
		for i := lo; i < hi; i++ {
			exps[i] = expansion{parent: frontier[i].idx, err: ctx.Err()}
		}
		return
	}
	// The claim table grows only between blocks (under its exclusive
	// lock), so a block holds the read lock once.
	if c.claims != nil {
		c.claims.mu.RLock()
	}
	for i := lo; i < hi; i++ {
		c.expandOne(w, base+i, frontier[i], &exps[i])
	}
	w.sink.flushBlock()
	if c.claims != nil {
		c.claims.mu.RUnlock()
		c.claims.maybeGrow(&w.claimed)
	}
}

// dup reports whether successor pos of frontier state i, with fingerprint
// fp, needs no judging: it is stored, or (with the claim table) occurs
// earlier in the sequential order.
func (c *checker) dup(w *scratch, i int, pos int32, fp uint64) (bool, uint64) {
	if c.claims != nil {
		key := claimKey(i, pos)
		return !c.claims.claimCounting(fp, key, &w.claimed), key
	}
	return c.exact == nil && c.seen.Contains(fp), 0
}

// expandOne expands frontier state i (it) into *e.
func (c *checker) expandOne(w *scratch, i int, it frontierItem, e *expansion) {
	*e = expansion{parent: it.idx, state: it.state}
	if it.enc != nil {
		s, err := w.decodeState(it.enc, len(c.vars))
		if err != nil {
			e.err = err
			return
		}
		it.state, e.state = s, s
	}
	// Successors go through the worker's sink, from a BufferedSystem as it
	// emits them, from a System through a closure naming their action.
	actProps := c.hasActionProps()
	k := &w.sink
	k.c, k.w, k.i, k.parent, k.e, k.actProps = c, w, i, it.state, e, actProps
	k.hold = !(c.opts.Coverage || c.p.live || actProps)
	k.selfLoops = !(c.p.live || actProps || c.p.fp != nil && !c.p.values)
	var err error
	if c.buf != nil {
		if w.emit == nil {
			w.emit = w.sink.next
		}
		k.names = c.buf.ActionNames()
		// A VIEW or SYMMETRY fingerprints from the values themselves.
		if ps, ok := c.buf.(PendingSystem); ok && !c.p.merges {
			err = ps.NextIntoPending(it.state, w.emit, w.arena)
		} else {
			err = c.buf.NextInto(it.state, w.emit)
		}
	} else {
		err = c.sys.Next(it.state, func(t State, action string) error { return k.take(t, c.actionID(action), action) })
	}
	// Successors held at the end are claimed with the next state's, or at
	// the end of the block (flushBlock). An error here after a stop that a
	// held successor will make is harmless: the merge meets the stop first.
	if err != nil && err != errStop {
		e.err = err
	}
}

// succSink receives the successors of the states a worker expands: set up
// for each state, so that no closure is made per state for a
// BufferedSystem (see scratch.sink).
type succSink struct {
	c        *checker
	w        *scratch
	i        int
	parent   State
	e        *expansion
	actProps bool
	names    []string // a BufferedSystem's action names
	// hold: successors may wait for their claims (nothing else is recorded
	// per successor: coverage, liveness edges, action properties, which a
	// stop would have to take back).
	hold bool
	// selfLoops: a successor made of the very values of the state being
	// expanded (an action that changes nothing: a message sent again, a
	// variable set to the value it has, which the evaluator returns as the
	// value it had) is a step back to that state, which is stored: a
	// duplicate, counted as generated but neither fingerprinted nor claimed.
	// PaxosCommit: 9.9 million of its 17 million successors. Off where each
	// successor's fingerprint is recorded (liveness) or each step judged
	// (action properties), and where the System fingerprints states itself
	// (Fingerprinter) from more than their values (ValuesFingerprinter): a
	// VIEW may read more than the variables, as a trace validation's
	// <<vars, TLCGet("level")>> does, for which a step that changes no
	// variable reaches a new state; a SYMMETRY reads the values only.
	selfLoops bool
	// The successors whose fingerprints are still to be claimed, of the
	// states of a block expanded so far, their values in flat: claims made
	// together, one after the other, wait for their cache misses together
	// (the table is far larger than the caches), where a claim made as
	// each successor comes waits alone.
	pend []pendSucc
	flat []value.Value
}

// pendSucc is a successor waiting for its claim: successor pos of frontier
// state i (parent), expanded into e.
type pendSucc struct {
	fp     uint64
	key    uint64
	e      *expansion
	parent State
	i      int
	pos    int32
	action uint16
	dup    bool
}

// maxPend bounds the successors a sink holds before claiming them.
const maxPend = 64

// next takes one successor t of a BufferedSystem (valid during the call)
// by action.
func (k *succSink) next(t State, action int) error {
	return k.take(t, k.c.bufActs[action], k.names[action])
}

// take takes one successor t (valid during the call) by the action act,
// named name: it is held by reference until its fingerprint is claimed
// (flush), and copied only when that finds it new.
func (k *succSink) take(t State, act uint16, name string) error {
	c, e := k.c, k.e
	pos := e.nsucc
	e.nsucc++
	if c.opts.Coverage {
		e.countAction(act)
	}
	if k.selfLoops && sameState(t, k.parent) {
		return nil
	}
	fp, err := c.fingerprintOf(t)
	if err != nil {
		t = materialize(append(State(nil), t...))
		if ferr := k.flush(); ferr != nil {
			return ferr // a successor before this one stopped the expansion
		}
		e.cands = append(e.cands, candidate{state: t, pos: pos, action: act, err: err, always: true})
		return errStop
	}
	if c.p.live {
		e.succ = append(e.succ, succRec{fp, act})
	}
	if k.actProps {
		if stop := c.judgeStep(k.parent, materialize(append(State(nil), t...)), fp, pos, name, e); stop {
			return errStop
		}
	}
	k.pend = append(k.pend, pendSucc{fp: fp, e: e, parent: k.parent, i: k.i, pos: pos, action: act})
	k.flat = append(k.flat, t...)
	if len(k.pend) == maxPend || !k.hold {
		return k.flush()
	}
	return nil
}

// flush claims the held successors, then admits the new ones in order.
// A stop (errStop) ends its expansion: the merge stops at that candidate
// and counts the states generated up to it, as if the ones after it had
// not been generated (their claims, later in the sequential order than
// any state the merge will store, change nothing). flush reports the stop
// of the state being expanded, whose Next then ends.
func (k *succSink) flush() error {
	c := k.c
	if c.claims != nil && len(k.pend) > 1 {
		for i := range k.pend {
			c.claims.touch(k.pend[i].fp)
		}
	}
	for i := range k.pend {
		p := &k.pend[i]
		p.dup, p.key = c.dup(k.w, p.i, p.pos, p.fp)
	}
	n := len(c.vars)
	var stopped *expansion
	for i, p := range k.pend {
		if p.dup || p.e == stopped {
			continue
		}
		// The successor's values stay in the arena (admit copies them out
		// only to keep them), its Pendings built.
		t := k.flat[i*n : (i+1)*n : (i+1)*n]
		for j, v := range t {
			t[j] = value.Resolve(v)
		}
		if err := c.admit(k.w, p.e, p.parent, candidate{state: t, fp: p.fp, pos: p.pos, key: p.key, action: p.action}); err != nil {
			stopped = p.e
		}
	}
	clear(k.pend)
	k.pend, k.flat = k.pend[:0], clear0(k.flat)
	// Every successor held came from an expansion before the current one
	// or from the current one, whose assignments may still hold their
	// values: the arena's epochs before it are free.
	k.w.arena.Release(k.w.arena.Epoch())
	if stopped != nil && stopped == k.e {
		return errStop
	}
	return nil
}

// flushBlock claims what is held at the end of a block of states, before
// the block goes to the merge, and lets go of the block's states.
func (k *succSink) flushBlock() {
	if k.c != nil {
		_ = k.flush() // a stop ends an expansion that has ended already
		k.w.arena.Release(k.w.arena.Epoch() + 1)
	}
	k.parent, k.e = nil, nil
}

// sameState reports whether t holds the very values of s (the same
// pointers, the same scalars): t = s without comparing a value's contents.
func sameState(t, s State) bool {
	if len(t) != len(s) {
		return false
	}
	for i, v := range t {
		if v != s[i] {
			return false
		}
	}
	return true
}

// materialize replaces the arena values of a successor the checker keeps
// (a value.Pending, arena functions) by the values they stand for, built
// outside the arena (see PendingSystem).
func materialize(t State) State {
	for i, v := range t {
		t[i] = value.Materialize(v)
	}
	return t
}

// clear0 empties s, dropping its references (the values of the last
// state's successors) so that they can be collected.
func clear0(s []value.Value) []value.Value {
	clear(s)
	return s[:0]
}

// admit judges a successor that is not known to be stored, encodes it for
// the frontier's arena when it may join the next level (within the
// constraints, no violation), and adds it to e; an evaluation error stops
// the expansion. cand.state may hold values of the worker's arena (no
// Pending): the candidate keeps a copy outside it (materialize) only where
// the merge reads the state (keepState), and else none.
func (c *checker) admit(w *scratch, e *expansion, parent State, cand candidate) error {
	c.judge(parent, cand.state, &cand, w.arena.Memo())
	if cand.err == nil && !cand.out && cand.inv == "" {
		cand.enc = w.encode(cand.state)
	}
	if c.keepState(&cand) {
		cand.state = materialize(append(State(nil), cand.state...))
	} else {
		cand.state = nil
	}
	w.addCand(e, cand)
	if cand.err != nil {
		return errStop
	}
	return nil
}

// keepState reports whether the merge reads a judged candidate's state:
// for a trace (an error, a violation, also outside the constraints), for
// the frontier when the state has no encoding, to compare states (exact
// mode) or for liveness.
func (c *checker) keepState(cand *candidate) bool {
	return cand.err != nil || cand.inv != "" || !cand.out && cand.enc == nil || c.exact != nil || c.p.live
}

// touchClaims reads the claim table's slots of the candidates of exps
// before the merge looks them up one after another: with two workers the
// merge of a block most often finds its candidates' slots in the cache of
// the core that claimed them, and these reads, independent of each other,
// wait for those lines together (MCLamportMutex: the merge's share of the
// run 1.6 % with one worker, 3.0 % with two before this).
func (c *checker) touchClaims(exps []expansion) {
	if c.claims == nil {
		return
	}
	for i := range exps {
		for j := range exps[i].cands {
			c.claims.touch(exps[i].cands[j].fp)
		}
	}
}

// merge walks the expansions in frontier order, stores new states and stops
// at the first violation, so the outcome is the same for any worker count.
// next accumulates the new states; rest counts the frontier states after
// exps.
func (c *checker) merge(ctx context.Context, exps []expansion, next *level, rest int) (done bool, err error) {
	ei := 0
	// On a stop, the queue is what TLC would still hold: the unexplored rest of
	// this level and the new states of the next.
	defer func() {
		if done {
			c.res.Queue = int64(len(exps)-ei-1+rest) + next.n
		}
	}()
	c.touchClaims(exps)
	for ei = range exps {
		e := &exps[ei]
		for ci := range e.cands {
			cand := &e.cands[ci]
			if c.claims != nil && !cand.always && c.claims.key(cand.fp) != cand.key {
				continue // a later occurrence of a state claimed first elsewhere
			}
			if cand.err != nil {
				c.res.Generated += int64(cand.pos) + 1
				return true, c.fail(ctx, cand.err, c.trace(e.parent, e.state, cand))
			}
			if cand.prop != "" {
				// TLC stores the new state before it checks implied actions.
				if isNew, err := c.isNew(cand.state, cand.fp); err == nil && isNew {
					if _, err := c.store(cand.state, cand.fp, e.parent, cand.action); err != nil {
						return true, c.fail(ctx, err, nil)
					}
				}
				c.res.Generated += int64(cand.pos) + 1
				c.violation(cand.prop, c.trace(e.parent, e.state, cand))
				c.res.Property = cand.prop
				return true, nil
			}
			if cand.out {
				if cand.inv != "" {
					c.res.Generated += int64(cand.pos) + 1
					c.violation(cand.inv, c.trace(e.parent, e.state, cand))
					return true, nil
				}
				if c.claims != nil {
					c.claims.claim(cand.fp, keyOut)
				}
				continue
			}
			isNew, err := c.isNew(cand.state, cand.fp)
			if err != nil {
				c.res.Generated += int64(cand.pos) + 1
				return true, c.fail(ctx, err, c.trace(e.parent, e.state, cand))
			}
			if !isNew {
				continue
			}
			idx, err := c.store(cand.state, cand.fp, e.parent, cand.action)
			if err != nil {
				return true, c.fail(ctx, err, nil)
			}
			c.recordNode(idx, cand.state, cand.fp, false)
			if c.opts.Coverage {
				c.coverageOf(cand.action).distinct++
			}
			if cand.inv != "" {
				c.res.Generated += int64(cand.pos) + 1
				c.violation(cand.inv, c.trace(e.parent, e.state, cand))
				// The violating state was stored, so TLC counts its level
				// (the trace's length) in the depth; one outside the
				// constraints (above) is not stored and does not count.
				if len(c.res.Trace) > c.res.Depth {
					c.res.Depth = len(c.res.Trace)
				}
				return true, nil
			}
			it := frontierItem{idx: idx, enc: cand.enc}
			if cand.enc == nil {
				it.state = cand.state
			}
			if err := next.push(it); err != nil {
				return true, c.fail(ctx, err, nil)
			}
		}
		c.res.Generated += int64(e.nsucc)
		if c.opts.Coverage {
			c.addCoverage(e)
		}
		c.recordEdges(e.parent, e.succ)
		if e.err != nil {
			return true, c.fail(ctx, e.err, c.trace(e.parent, e.state, nil))
		}
		if e.nsucc == 0 && !c.opts.NoDeadlock {
			c.res.Verdict = Deadlocked
			c.res.Trace = c.trace(e.parent, e.state, nil)
			return true, nil
		}
		c.progress(false, len(exps)-ei+rest+int(next.n))
	}
	return false, nil
}

// trace rebuilds the path to the stored state idx (whose value is s) from the
// pointer-free node arena by re-running Init and Next along the parents and
// matching fingerprints, then appends the candidate (if any).
func (c *checker) trace(idx int32, s State, last *candidate) []TraceStep {
	var path []node
	for i := idx; i >= 0; {
		n, err := c.nodeAt(i)
		if err != nil { // the trace file failed: the state alone
			path = []node{{fp: 0, parent: -1, action: 0}}
			break
		}
		path = append(path, n)
		i = n.parent
	}
	steps := make([]TraceStep, 0, len(path)+1)
	var cur State
	// The states are made again at their levels (LevelSystem), the
	// search's own restored after.
	defer c.setLevel(c.level)
	for k := len(path) - 1; k >= 0; k-- {
		n := path[k]
		var found State
		c.setLevel(len(path) - 1 - k)
		if k == len(path)-1 {
			_ = c.sys.Init(func(t State) error {
				if fp, _ := c.fingerprintOf(t); found == nil && fp == n.fp {
					found = t
				}
				return nil
			})
		} else {
			_ = c.sys.Next(cur, func(t State, a string) error {
				if fp, _ := c.fingerprintOf(t); found == nil && fp == n.fp && c.actions[n.action] == a {
					found = t
				}
				return nil
			})
		}
		if found == nil { // cannot happen for a deterministic System
			found = s
		}
		cur = found
		steps = append(steps, TraceStep{c.actions[n.action], found})
	}
	if last != nil {
		steps = append(steps, TraceStep{c.actions[last.action], last.state})
	}
	return steps
}

func (c *checker) progress(final bool, queue int) {
	if c.opts.Progress == nil {
		return
	}
	now := c.opts.Now()
	if !final && now.Sub(c.lastLog) < c.opts.ProgressEvery {
		return
	}
	c.lastLog = now
	secs := now.Sub(c.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(c.res.Generated) / secs
	}
	fmt.Fprintf(c.opts.Progress, "Progress(%d): %d states generated (%.0f s/s), %d distinct states found, %d states left on queue.\n",
		c.res.Depth, c.res.Generated, rate, c.res.Distinct, queue)
}
