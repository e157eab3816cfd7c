package check

import (
	"sync"
	"sync/atomic"

	"github.com/verimeter/verimeter/tla/value"
)

// claimTable is the fingerprint set of a run: lock-free open addressing with
// linear probing in one flat array of slots (a fingerprint and its claim, 16
// bytes on one cache line, no pointers). Workers
// insert the successors they generate concurrently; each slot also holds the
// smallest claim on its fingerprint in this level (the position of the
// successor in the sequential order: frontier index, then successor index),
// so that exactly the first occurrence in that order is kept, whatever the
// worker count. Between levels the merge marks claims as stored. The table
// grows under an exclusive lock, taken only between two states' expansions.
type claimTable struct {
	// slots and mask, read at every claim, share no cache line with the
	// fields the workers write (the lock's reader count, at every block
	// of states; n), nor with another value before the table: a write
	// there would take the line from the other worker's core, which would
	// read it again at its next claim. A line's worth of bytes on either
	// side keeps them apart wherever the allocator places the table.
	_     [cacheLine]byte
	slots []claimSlot
	mask  uint64
	_     [cacheLine]byte
	mu    sync.RWMutex
	n     atomic.Int64
	grow  atomic.Int64 // n at which to grow: 60% of len(slots), read without mu
}

// cacheLine is the size of a cache line of the processors Go runs on
// mostly (amd64, arm64).
const cacheLine = 64

type claimSlot struct {
	fp  uint64
	key uint64 // ^key, so that the zero value means "no claim"
}

// Logical keys: stored states and states outside the constraints (seen, not
// stored) order before every claim.
const (
	keyStored = 0
	keyOut    = 1
	keyNone   = ^uint64(0)
)

// claimKey orders successor pos of frontier state idx.
func claimKey(idx int, pos int32) uint64 {
	p := uint64(pos)
	if p > 1<<24-1 {
		p = 1<<24 - 1
	}
	return uint64(idx+2)<<24 | p
}

func newClaimTable(size int) *claimTable {
	t := &claimTable{slots: make([]claimSlot, size), mask: uint64(size - 1)}
	value.TouchPages(t.slots)
	t.grow.Store(int64(size) * 3 / 5)
	return t
}

// claim records key for fp and reports whether it is now the smallest claim
// (false: fp is stored, seen, or claimed earlier in the sequential order).
// Callers hold mu for reading.
func (t *claimTable) claim(fp, key uint64) bool {
	var made int64
	ok := t.claimCounting(fp, key, &made)
	if made > 0 {
		t.n.Add(made)
	}
	return ok
}

// claimCounting is claim for a worker, which counts the slots it fills in
// *made and adds them to the table's count at the end of its block
// (before maybeGrow): one shared counter written by every new fingerprint
// costs both workers a cache miss each time.
func (t *claimTable) claimCounting(fp, key uint64, made *int64) bool {
	fp = fpKey(fp)
	for i := fp & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		cur := atomic.LoadUint64(&sl.fp)
		if cur == 0 {
			if !atomic.CompareAndSwapUint64(&sl.fp, 0, fp) {
				cur = atomic.LoadUint64(&sl.fp)
			} else {
				*made++
				cur = fp
			}
		}
		if cur != fp {
			continue
		}
		for {
			old := ^atomic.LoadUint64(&sl.key)
			if old <= key {
				return false
			}
			if atomic.CompareAndSwapUint64(&sl.key, ^old, ^key) {
				return true
			}
		}
	}
}

// touch reads the first slot fp would be claimed in. Called for a batch
// of fingerprints before claiming them, its reads do not depend on each
// other, so the processor waits for their cache misses together instead
// of one after another in claimCounting, which then finds the slots in
// its cache. (An atomic load is never optimised away, used or not.)
// Callers hold mu for reading.
func (t *claimTable) touch(fp uint64) {
	atomic.LoadUint64(&t.slots[fpKey(fp)&t.mask].fp)
}

// slot finds fp's slot; ok is false if absent. Workers may claim beside
// it (the merge runs while they expand), never grow the table (callers
// hold mu for reading or run alone).
func (t *claimTable) slot(fp uint64) (uint64, bool) {
	fp = fpKey(fp)
	for i := fp & t.mask; ; i = (i + 1) & t.mask {
		switch atomic.LoadUint64(&t.slots[i].fp) {
		case fp:
			return i, true
		case 0:
			return 0, false
		}
	}
}

// key returns fp's logical key (keyNone if absent).
func (t *claimTable) key(fp uint64) uint64 {
	i, ok := t.slot(fp)
	if !ok {
		return keyNone
	}
	return ^atomic.LoadUint64(&t.slots[i].key)
}

// maybeGrow adds the slots a worker filled (*made, zeroed) to the table's
// count and doubles the table when it is 60% full; workers call it between
// blocks of states without holding mu (a block claims a few hundred
// fingerprints at most, far fewer than the 40% left free).
func (t *claimTable) maybeGrow(made *int64) {
	if *made > 0 {
		t.n.Add(*made)
		*made = 0
	}
	if t.n.Load() < t.grow.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n.Load() < t.grow.Load() {
		return
	}
	old := t.slots
	t.slots = make([]claimSlot, 2*len(old))
	value.TouchPages(t.slots)
	t.mask = uint64(len(t.slots) - 1)
	t.grow.Store(int64(len(t.slots)) * 3 / 5)
	for _, sl := range old {
		if sl.fp == 0 {
			continue
		}
		for i := sl.fp & t.mask; ; i = (i + 1) & t.mask {
			if t.slots[i].fp == 0 {
				t.slots[i] = sl
				break
			}
		}
	}
}
