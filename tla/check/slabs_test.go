package check

import (
	"context"
	"fmt"
	"testing"
	"unsafe"

	"github.com/verimeter/verimeter/tla/value"
)

// longStates is a model of n chains of the given length whose states have
// 64 variables, all but the first two determined by them (cell): about 300
// bytes of encoding a state, so that a level of a few thousand states fills
// several of a worker's chunks of encodings. Its invariant reads every
// variable: a state decoded from memory that was filled again fails it.
func longStates(n, length int32) *funcSystem {
	const vars = 64
	cell := func(x, y, k int32) int32 { return x*7919 + y*104729 + k*31 }
	mk := func(x, y int32) []int32 {
		s := make([]int32, vars)
		s[0], s[1] = x, y
		for k := int32(2); k < vars; k++ {
			s[k] = cell(x, y, k)
		}
		return s
	}
	f := &funcSystem{next: func(s []int32, emit func([]int32, string)) {
		if s[1] < length {
			emit(mk(s[0], s[1]+1), "Step")
			emit(mk(s[0], s[1]), "Stay")
		}
	}}
	for k := range vars {
		f.vars = append(f.vars, fmt.Sprintf("v%d", k))
	}
	for x := range n {
		f.init = append(f.init, mk(x, 0))
	}
	f.invs = []Invariant{{Name: "Cells", Holds: func(s State) (bool, error) {
		x, y := s[0].(value.Int), s[1].(value.Int)
		for k := int32(2); k < vars; k++ {
			if s[k] != value.Int(cell(int32(x), int32(y), k)) {
				return false, nil
			}
		}
		return true, nil
	}}}
	return f
}

// TestScratchMemoryFilledAgain checks a run whose workers fill their
// slabs of candidates and decoded states and their chunks of encodings
// again (a level of 5,000 states encodes into about 1.5 MB, a run into
// 20 MB): the counts are the model's, and with Options.ArenaPoison, where
// what is taken back is poisoned and never handed out again, no state is
// read after its memory was taken back. In exact mode the merge comes
// after the whole chunk's expansions, so a slab taken back too early is
// one the chunk still needs.
func TestScratchMemoryFilledAgain(t *testing.T) {
	const n, length = 5000, 12
	for _, w := range []int{1, 2} {
		for _, mode := range []string{"plain", "poison", "exact"} {
			poison := mode == "poison"
			c := newChecker(longStates(n, length), Options{Workers: w, ArenaPoison: poison, Exact: mode == "exact", NoDeadlock: true})
			c.setupProps()
			if err := c.run(context.Background()); err != nil {
				t.Fatalf("%d workers, %s: %v", w, mode, err)
			}
			res := c.res
			if res.Verdict != Success || res.Distinct != n*(length+1) || res.Generated != n+2*n*length || res.Depth != length+1 {
				t.Errorf("%d workers, %s: %s, %d distinct, %d generated, depth %d; want success, %d, %d, %d",
					w, mode, res.Verdict, res.Distinct, res.Generated, res.Depth, n*(length+1), n+2*n*length, length+1)
			}
			// The run encodes about 20 MB in 1 MB chunks; filled again,
			// the chunks a worker makes hold at most two levels (3 MB),
			// with its current chunk and the part-filled ones. The
			// slabs of states a worker makes are those of its largest
			// share of a chunk of states expanded, at most a level here
			// (a run decodes thirteen: 3,756 slabs made afresh).
			chunks, states := 0, 0
			for _, sc := range c.scratches {
				chunks += sc.encs.made
				states += sc.stateSl.made
			}
			if maxStates := w * (n*64/stateSlab + 2); !poison && (chunks > 6*w || states > maxStates) {
				t.Errorf("%d workers: %d chunks of encodings and %d slabs of states made, want at most %d and %d", w, chunks, states, 6*w, maxStates)
			}
		}
	}
}

// TestEncodingChunksByRound checks when a worker's chunk of encodings is
// handed out again: not while the level encoded into it, or the one after
// it, is being expanded, and then, filled again, instead of a new one.
func TestEncodingChunksByRound(t *testing.T) {
	var p encChunks
	p.begin(false) // round 1: the first level's successors
	first := p.get(10)
	p.begin(false) // round 2: the first chunk is current, written again
	second := p.get(arenaChunk)
	p.begin(false) // round 3: the first chunk holds round 2's encodings
	if len(p.free) != 0 {
		t.Fatalf("%d chunks free in round 3, want none", len(p.free))
	}
	p.get(1)       // the current chunk is now a new one
	p.begin(false) // round 4: the first chunk was last written in round 2
	if len(p.free) != 1 || &p.free[0][:1][0] != &first[:1][0] {
		t.Fatalf("round 4: %d chunks free, want the first", len(p.free))
	}
	if got := p.get(5); &got[:1][0] != &first[:1][0] {
		t.Errorf("a free chunk was not handed out again")
	}
	p.begin(false) // round 5: the second chunk (round 3) is free
	if len(p.free) != 1 || &p.free[0][:1][0] != &second[:1][0] {
		t.Errorf("round 5: %d chunks free, want the second", len(p.free))
	}
	if big := p.get(arenaChunk + 1); cap(big) != arenaChunk+1 || len(p.used) != 2 {
		t.Errorf("a chunk larger than arenaChunk: capacity %d, %d chunks kept, want %d and 2", cap(big), len(p.used), arenaChunk+1)
	}
	var poisoned encChunks
	poisoned.begin(true)
	b := poisoned.get(1)[:1]
	b[0] = 1
	poisoned.get(arenaChunk)
	poisoned.begin(true)
	poisoned.begin(true)
	if len(poisoned.free) != 0 || b[0] != poisonByte {
		t.Errorf("poison: %d chunks free, first byte %#x; want none and %#x", len(poisoned.free), b[0], poisonByte)
	}
}

// TestClaimTableLayout checks that the claim table's slots and mask,
// which every claim reads, are a line's worth of bytes away from its lock
// and count, which the workers write, and from the start of the table, so
// that no line holds both wherever the table is placed.
func TestClaimTableLayout(t *testing.T) {
	var ct claimTable
	read, readEnd := unsafe.Offsetof(ct.slots), unsafe.Offsetof(ct.mask)+unsafe.Sizeof(ct.mask)
	if write := unsafe.Offsetof(ct.mu); read < cacheLine || write < readEnd+cacheLine {
		t.Errorf("slots and mask at bytes %d to %d, the lock at %d: want %d bytes before and between", read, readEnd, write, cacheLine)
	}
}
