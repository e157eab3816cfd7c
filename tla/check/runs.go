package check

import "sync/atomic"

// maxRun bounds the blocks a worker takes at once.
const maxRun = 512 / expandBlock

// blockRuns hands the blocks of a chunk of the frontier (blocks of
// expandBlock states) to the workers. A worker takes a run of
// consecutive blocks and expands them from the front. Neighbouring states
// share most of their values and many successors: a worker expanding
// them finds more of those values in its decoder's and encoder's memory,
// and judges fewer successors that an earlier state, expanded by another
// worker, then claims (MCLamportMutex, two workers taking one block at a
// time: 64,094 states judged twice; with runs up to maxRun blocks,
// 31,926). Runs shrink as the chunk runs out, and a worker that finds no
// run left takes blocks from the back of another's, so that one worker
// held up (a preempted thread) leaves the other no more than the block it
// is expanding to wait for.
type blockRuns struct {
	blocks int
	next   atomic.Int64 // the first block in no run yet
	own    []ownRun     // each worker's run
}

// ownRun is a worker's run, the blocks lo <= b < hi packed as lo<<32 | hi,
// alone on its cache line: its worker writes it at every block.
type ownRun struct {
	r atomic.Uint64
	_ [cacheLine - 8]byte
}

func newBlockRuns(states, workers int) *blockRuns {
	return &blockRuns{blocks: (states + expandBlock - 1) / expandBlock, own: make([]ownRun, workers)}
}

func packRun(lo, hi int) uint64       { return uint64(lo)<<32 | uint64(hi) }
func unpackRun(v uint64) (lo, hi int) { return int(v >> 32), int(v & (1<<32 - 1)) }

// take returns the next block for worker k, false when none is left:
// the front of its run, else the front of a new run, else the back of
// another worker's run.
func (r *blockRuns) take(k int) (int, bool) {
	own := &r.own[k].r
	if b, ok := takeEnd(own, false); ok {
		return b, true
	}
	// The run is empty, so no other worker writes it (they take only from
	// runs with blocks left): it is the worker's to set.
	if lo, hi, ok := r.newRun(); ok {
		own.Store(packRun(lo+1, hi))
		return lo, true
	}
	for j := range r.own {
		if j == k {
			continue
		}
		if b, ok := takeEnd(&r.own[j].r, true); ok {
			return b, true
		}
	}
	return 0, false
}

// takeEnd takes a block from run, its first or (back) its last; false
// when the run is empty.
func takeEnd(run *atomic.Uint64, back bool) (int, bool) {
	for {
		v := run.Load()
		lo, hi := unpackRun(v)
		if lo >= hi {
			return 0, false
		}
		b, rest := lo, packRun(lo+1, hi)
		if back {
			b, rest = hi-1, packRun(lo, hi-1)
		}
		if run.CompareAndSwap(v, rest) {
			return b, true
		}
	}
}

// newRun takes the next run of blocks: a quarter of the blocks left a
// worker, at least one, at most maxRun.
func (r *blockRuns) newRun() (lo, hi int, ok bool) {
	for {
		at := r.next.Load()
		left := r.blocks - int(at)
		if left <= 0 {
			return 0, 0, false
		}
		n := max(1, min(left/(4*len(r.own)), maxRun))
		if r.next.CompareAndSwap(at, at+int64(n)) {
			return int(at), int(at) + n, true
		}
	}
}
