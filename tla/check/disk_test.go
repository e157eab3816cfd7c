package check

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/verimeter/verimeter/tla/value"
)

// grid is a model with a few hundred thousand states over several levels:
// (x, y, z) with x, y < n, z < 8, moving by one or jumping; Bad is
// violated at (n-1, n-1, 7) when bad is set.
func grid(n int32, bad bool) *funcSystem {
	f := &funcSystem{
		vars: []string{"x", "y", "z"},
		init: [][]int32{{0, 0, 0}, {1, 0, 0}},
		next: func(s []int32, emit func([]int32, string)) {
			x, y, z := s[0], s[1], s[2]
			if x+1 < n {
				emit([]int32{x + 1, y, z}, "IncX")
			}
			if y+1 < n {
				emit([]int32{x, y + 1, z}, "IncY")
			}
			emit([]int32{x, y, (z + 1) % 8}, "IncZ")
			emit([]int32{(x * 7) % n, (y + x) % n, z}, "Jump")
		},
	}
	if bad {
		f.invs = []Invariant{{Name: "Bad", Holds: func(s State) (bool, error) {
			return !(s[0] == value.Int(n-1) && s[1] == value.Int(n-1) && s[2] == value.Int(7)), nil
		}}}
	}
	return f
}

// wide is a model whose levels exceed a queue block: n initial states
// (x, 0), each step raising y up to 5, or halving x (duplicates); Bad is
// violated at (n-1, 5) when bad is set.
func wide(n int32, bad bool) *funcSystem {
	f := &funcSystem{
		vars: []string{"x", "y"},
		next: func(s []int32, emit func([]int32, string)) {
			if s[1] < 5 {
				emit([]int32{s[0], s[1] + 1}, "Up")
				emit([]int32{s[0] / 2, s[1] + 1}, "Half")
			}
		},
		acons: nil,
	}
	for x := range n {
		f.init = append(f.init, []int32{x, 0})
	}
	if bad {
		f.invs = []Invariant{{Name: "Bad", Holds: func(s State) (bool, error) {
			return !(s[0] == value.Int(n-1) && s[1] == value.Int(5)), nil
		}}}
	}
	return f
}

// sameRun compares what a disk-backed run must reproduce of an in-memory one.
func sameRun(t *testing.T, what string, got, want Result) {
	t.Helper()
	if got.Verdict != want.Verdict || got.Distinct != want.Distinct || got.Generated != want.Generated ||
		got.Depth != want.Depth || got.Queue != want.Queue || !reflect.DeepEqual(got.Trace, want.Trace) {
		t.Fatalf("%s: %s distinct %d generated %d depth %d queue %d trace %d steps; want %s %d %d %d %d, %d steps",
			what, got.Verdict, got.Distinct, got.Generated, got.Depth, got.Queue, len(got.Trace),
			want.Verdict, want.Distinct, want.Generated, want.Depth, want.Queue, len(want.Trace))
	}
}

// TestSpilledFrontierAndDiskTrace: with the trace on disk and every full
// queue block spilled, counts, depth and counterexample are those of the
// in-memory run, for any worker count.
func TestSpilledFrontierAndDiskTrace(t *testing.T) {
	for _, bad := range []bool{false, true} {
		want, _ := Run(context.Background(), wide(3*chunkStates, bad), Options{Workers: 1})
		if want.Distinct < 6*chunkStates {
			t.Fatalf("model too small to spill: %d states", want.Distinct)
		}
		for _, w := range []int{1, 3} {
			dir := t.TempDir()
			spilled := spilledBlocks.Load()
			got, err := Run(context.Background(), wide(3*chunkStates, bad), Options{Workers: w, MetaDir: dir, FrontierMem: 1})
			if err != nil {
				t.Fatal(err)
			}
			sameRun(t, "spilled", got, want)
			if spilledBlocks.Load() == spilled {
				t.Fatal("no block spilled")
			}
			if fi, err := os.Stat(filepath.Join(dir, traceName)); err != nil || fi.Size() == 0 {
				t.Fatalf("no trace file: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "level-*")); len(left) != 0 {
				t.Fatalf("spill files left behind: %v", left)
			}
		}
	}
}

// TestLevelSpills: a level over its budget writes full blocks to disk
// and reads them back as they were.
func TestLevelSpills(t *testing.T) {
	l := &level{budget: 1, dir: t.TempDir()}
	defer l.close()
	var sc scratch
	for i := range 3*chunkStates + 5 {
		if err := l.push(frontierItem{idx: int32(i), enc: sc.encode(toState([]int32{int32(i), -int32(i)}))}); err != nil {
			t.Fatal(err)
		}
	}
	if l.f == nil || l.blocks[0].items != nil {
		t.Fatal("nothing spilled")
	}
	for k := range l.blocks {
		items, err := l.block(k)
		if err != nil {
			t.Fatal(err)
		}
		for j, it := range items {
			i := k*chunkStates + j
			s, err := sc.decodeState(it.enc, 2)
			if err != nil || it.idx != int32(i) || !reflect.DeepEqual(ints(s), []int32{int32(i), -int32(i)}) {
				t.Fatalf("block %d item %d: %v %v %v", k, j, it.idx, s, err)
			}
		}
	}
}

// cancelAfter wraps a System to cancel the run after n calls of Next (a
// kill in the middle of a level).
type cancelAfter struct {
	*funcSystem
	n      atomic.Int64
	cancel func()
}

func (c *cancelAfter) Next(s State, emit func(State, string) error) error {
	if c.n.Add(-1) == 0 {
		c.cancel()
	}
	return c.funcSystem.Next(s, emit)
}

// TestCheckpointRecover: a run stopped half-way resumes from its last
// checkpoint and ends with the uninterrupted run's counts and trace.
func TestCheckpointRecover(t *testing.T) {
	for _, bad := range []bool{false, true} {
		want, _ := Run(context.Background(), wide(3*chunkStates, bad), Options{Workers: 2})
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		sys := &cancelAfter{funcSystem: wide(3*chunkStates, bad), cancel: cancel}
		sys.n.Store(want.Distinct / 2)
		opts := Options{Workers: 2, MetaDir: dir, FrontierMem: 1, Checkpoint: 1}
		first, err := Run(ctx, sys, opts)
		cancel()
		if !errors.Is(err, context.Canceled) || first.Checkpoints == 0 {
			t.Fatalf("first run: %v, %d checkpoints", err, first.Checkpoints)
		}
		opts.Recover = true
		got, err := Run(context.Background(), wide(3*chunkStates, bad), opts)
		if (err != nil) != (want.Verdict == EvalError) || !got.Recovered {
			t.Fatalf("recovered run: %v (recovered %v)", err, got.Recovered)
		}
		sameRun(t, "recovered", got, want)
	}
}

// TestRecoverRefusesOtherModel: a checkpoint of other variables is an
// error, not a wrong count.
func TestRecoverRefusesOtherModel(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), grid(60, false), Options{MetaDir: dir, Checkpoint: 1}); err != nil {
		t.Fatal(err)
	}
	other := grid(60, false)
	other.vars = []string{"a", "b", "c"}
	if _, err := Run(context.Background(), other, Options{MetaDir: dir, Recover: true}); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("got %v, want ErrCheckpoint", err)
	}
	if _, err := Run(context.Background(), grid(60, false), Options{MetaDir: t.TempDir(), Recover: true}); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("no checkpoint: got %v, want ErrCheckpoint", err)
	}
	// written by a build that hashed values otherwise (format 1 and before,
	// whose meta.json has no format): its fingerprints are not ours
	meta := filepath.Join(dir, cpDir, cpMeta)
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.Replace(b, []byte(`"format":2,`), nil, 1)
	if bytes.Equal(old, b) {
		t.Fatalf("meta.json has no format 2: %s", b)
	}
	if err := os.WriteFile(meta, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), grid(60, false), Options{MetaDir: dir, Recover: true}); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "another version") {
		t.Fatalf("format 0: got %v, want ErrCheckpoint (another version)", err)
	}
}

// TestCollisionOdds: TLC's two estimates, with the table sized up front.
func TestCollisionOdds(t *testing.T) {
	for _, acons := range []bool{false, true} {
		sys := grid(100, false)
		if acons { // an action constraint: the plain fingerprint set
			sys.acons = []ActionPredicate{{Name: "True", Holds: func(State, State) (bool, error) { return true, nil }}}
		}
		res, err := Run(context.Background(), sys, Options{FPMem: 1 << 22})
		if err != nil {
			t.Fatal(err)
		}
		d, g := float64(res.Distinct), float64(res.Generated)
		if want := d * (g - d) / math.Exp2(64); res.CollisionCalculated != want {
			t.Fatalf("calculated %g, want %g", res.CollisionCalculated, want)
		}
		// n random fingerprints: the smallest gap is about 2^64/n^2.
		if o := res.CollisionObserved; o <= 0 || o > 1e-3 {
			t.Fatalf("observed %g", o)
		}
	}
}

// TestFPMemSizesTable: -fpmem allocates the table up front.
func TestFPMemSizesTable(t *testing.T) {
	if got := fitPow2(1<<22 + 5); got != 1<<22 {
		t.Fatalf("fitPow2 = %d", got)
	}
	if got := fitPow2(10); got != 1024 {
		t.Fatalf("fitPow2(10) = %d", got)
	}
}

// TestObservedIsSmallestGap: the cluster-wise walk finds the smallest gap
// of the sorted (rotated) fingerprints, as a full sort does.
func TestObservedIsSmallestGap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 1000, 60000} {
		c := &checker{claims: newClaimTable(1 << 17)}
		var rot []uint64
		for range n {
			fp := r.Uint64() >> 20 // small fingerprints: small gaps, clusters
			c.claims.claim(fp, keyStored)
			rot = append(rot, bits.RotateLeft64(fpKey(fp), 64-17))
		}
		c.claims.claim(r.Uint64(), keyOut) // seen, not stored: not counted
		slices.Sort(rot)
		minGap := ^uint64(0)
		for i := 1; i < len(rot); i++ {
			minGap = min(minGap, rot[i]-rot[i-1])
		}
		c.res.Distinct, c.res.Generated = int64(n), int64(3*n)
		c.collisionOdds()
		if want := 1 / float64(minGap); c.res.CollisionObserved != want {
			t.Fatalf("n=%d: observed %g, want %g", n, c.res.CollisionObserved, want)
		}
	}
}

// TestGapFinderSortsClusters: a cluster's values come in insertion order,
// not sorted; the gaps are those of the sorted values.
func TestGapFinderSortsClusters(t *testing.T) {
	g := newGapFinder(1<<10 - 1)
	g.buf = append(g.buf, 100, 90, 70)
	g.flush()
	g.buf = append(g.buf, 200, 195)
	if got, want := g.result(), 1/5.0; got != want {
		t.Fatalf("got %g, want %g", got, want)
	}
}

// TestClaimCountsFromWorkers: a worker's claims of new fingerprints reach
// the table's count when it ends its block (maybeGrow), which then grows
// the table past 60% full and keeps every claim.
func TestClaimCountsFromWorkers(t *testing.T) {
	tab := newClaimTable(16)
	var made int64
	for i := range 10 {
		if !tab.claimCounting(uint64(i+1)*0x9e3779b97f4a7c15, claimKey(i, 0), &made) {
			t.Fatalf("fingerprint %d: not claimed", i)
		}
	}
	if made != 10 || tab.n.Load() != 0 {
		t.Fatalf("made %d, table count %d before the block's end", made, tab.n.Load())
	}
	tab.maybeGrow(&made)
	if made != 0 || tab.n.Load() != 10 || len(tab.slots) != 32 {
		t.Fatalf("after the block: made %d, count %d, %d slots; want 0, 10, 32", made, tab.n.Load(), len(tab.slots))
	}
	for i := range 10 {
		if k := tab.key(uint64(i+1) * 0x9e3779b97f4a7c15); k != claimKey(i, 0) {
			t.Fatalf("fingerprint %d: key %x after growing, want %x", i, k, claimKey(i, 0))
		}
	}
}

// TestDecodedStatesShareSlabs checks that a worker's decoded states lie in
// slabs, not one allocation each (with two workers every allocation costs
// both), and that a state decoded earlier keeps its values when later
// ones fill the same slab.
func TestDecodedStatesShareSlabs(t *testing.T) {
	var sc scratch
	encs := make([][]byte, 3*stateSlab)
	for i := range encs {
		// small integers: boxed without an allocation of their own
		encs[i] = sc.encode(toState([]int32{int32(i % 200), int32(i*7) % 250}))
	}
	first, err := sc.decodeState(encs[0], 2)
	if err != nil {
		t.Fatal(err)
	}
	i := 1
	allocs := testing.AllocsPerRun(len(encs)-2, func() {
		if _, err := sc.decodeState(encs[i], 2); err != nil {
			t.Fatal(err)
		}
		i++
	})
	// one slab of stateSlab values per stateSlab/2 states of 2 variables
	if allocs > 0.01 {
		t.Errorf("%.3f allocations per decoded state", allocs)
	}
	if !reflect.DeepEqual(ints(first), []int32{0, 0}) {
		t.Errorf("the first state decoded reads %v after %d more", ints(first), i-1)
	}
	// decoded states end where the next begins: appending to one copies
	var sc2 scratch
	a, err := sc2.decodeState(encs[0], 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sc2.decodeState(encs[1], 2)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(a, value.Int(9))
	if !reflect.DeepEqual(ints(b), []int32{1, 7}) {
		t.Errorf("appending to a decoded state wrote over the next one: %v", ints(b))
	}
}

// TestChunksReuseMemory checks that the expansions of a chunk and the
// workers' scratch memories (here: their decoders and slabs of decoded
// states; the states have no successors to encode) are kept for the next
// chunk, not made again for each (with two workers every allocation costs
// both).
func TestChunksReuseMemory(t *testing.T) {
	c := newChecker(quietSystem{&funcSystem{vars: []string{"x"}}}, Options{Workers: 2, NoDeadlock: true})
	var sc scratch
	items := make([]frontierItem, 2*stateSlab)
	for i := range items {
		// a tuple, a value the decoder remembers (one only: two whose
		// encodings share a slot of the decoder's table, which depends
		// on the process's hash seed, would make each other again)
		items[i] = frontierItem{idx: int32(i), enc: sc.encode(State{value.Tuple(value.Int(1), value.Int(2))})}
	}
	expand := func() {
		next := c.newLevel()
		defer next.close()
		if done, err := c.expandMerge(context.Background(), items, 0, next, 0); done || err != nil {
			t.Fatalf("expandMerge: done %v, error %v", done, err)
		}
	}
	for range 4 { // the first chunks make them (each worker's at its first block)
		expand()
	}
	// The fewest bytes of 5 runs of 8 chunks: the counts are the process's,
	// and goroutines an earlier test left may allocate beside a run.
	const chunks = 8
	perChunk := uint64(math.MaxUint64)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range chunks {
			expand()
		}
		runtime.ReadMemStats(&after)
		perChunk = min(perChunk, (after.TotalAlloc-before.TotalAlloc)/chunks)
	}
	// The slab of decoded states a chunk fills (a value each), and 16 KiB
	// besides (about 7 KiB used); a chunk's expansions made again for each
	// chunk take 8 times the slab, each worker's decoder made again its
	// table (12 KiB).
	if limit := uint64(len(items))*uint64(unsafe.Sizeof(value.Value(nil))) + 16<<10; perChunk > limit {
		t.Errorf("%d bytes allocated per chunk of %d states, want at most %d", perChunk, len(items), limit)
	}
	t.Logf("%d bytes allocated per chunk of %d states", perChunk, len(items))
}

// quietSystem is a BufferedSystem of states without successors whose
// NextInto allocates nothing.
type quietSystem struct{ *funcSystem }

func (quietSystem) ActionNames() []string                                    { return nil }
func (quietSystem) NextInto(State, func(next State, action int) error) error { return nil }

// TestTraceRecordsInChunks checks that the trace records, stored in chunks
// of nodeChunk, read back in order across the chunks' boundaries, and
// that the first chunk starts small.
func TestTraceRecordsInChunks(t *testing.T) {
	c := &checker{}
	c.storeNode(node{fp: 1})
	if got := cap(c.nodes[0]); got > 64 {
		t.Errorf("the first chunk holds %d records for one stored", got)
	}
	const n = 2*nodeChunk + 3
	for i := 1; i < n; i++ {
		c.storeNode(node{fp: uint64(i + 1), parent: int32(i - 1), action: uint16(i)})
	}
	if len(c.nodes) != 3 || len(c.nodes[0]) != nodeChunk || len(c.nodes[2]) != 3 {
		t.Fatalf("%d chunks (first %d records, last %d), want 3 (%d, 3)", len(c.nodes), len(c.nodes[0]), len(c.nodes[len(c.nodes)-1]), nodeChunk)
	}
	for i := int32(0); i < n; i++ {
		got, err := c.nodeAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if got.fp != uint64(i+1) || i > 0 && (got.parent != i-1 || got.action != uint16(i)) {
			t.Fatalf("record %d: %+v", i, got)
		}
	}
}

// TestFrontierBlocksRecycled checks that a block of explored frontier
// states, released, is emptied and filled again by the next level instead
// of a new one, and that only whole blocks, two at most, are kept.
func TestFrontierBlocksRecycled(t *testing.T) {
	c := &checker{}
	old := make([]frontierItem, chunkStates)
	for i := range old {
		old[i] = frontierItem{idx: int32(i), enc: []byte{1}, state: State{value.Int(i)}}
	}
	c.recycle(old)
	c.recycle(make([]frontierItem, 100))
	if len(c.freeItems) != 1 {
		t.Fatalf("%d blocks kept, want 1 (a block of 100 items is no whole block)", len(c.freeItems))
	}
	for i, it := range old {
		if it.enc != nil || it.state != nil {
			t.Fatalf("item %d of a recycled block still holds its state: %+v", i, it)
		}
	}
	next := c.newLevel()
	for i := range chunkStates + 1 {
		if err := next.push(frontierItem{idx: int32(i), enc: []byte{2}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(next.blocks) != 2 || &next.blocks[0].items[0] != &old[0] {
		t.Errorf("the next level's first block is not the recycled one")
	}
	if len(c.freeItems) != 0 {
		t.Errorf("%d blocks kept after the next level took one", len(c.freeItems))
	}
	// With none kept, a level's first block grows from a few items to a
	// whole block, which is kept in its turn.
	small := c.newLevel()
	for i := range chunkStates {
		if err := small.push(frontierItem{idx: int32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(small.blocks) != 1 || cap(small.blocks[0].items) != chunkStates {
		t.Fatalf("a level's first block grew to %d blocks, capacity %d, want one of %d", len(small.blocks), cap(small.blocks[0].items), chunkStates)
	}
	c.recycle(small.blocks[0].items)
	if len(c.freeItems) != 1 {
		t.Errorf("a grown first block was not kept (%d kept)", len(c.freeItems))
	}
	c.freeItems = nil
	for range 3 {
		c.recycle(make([]frontierItem, chunkStates))
	}
	if len(c.freeItems) != maxFreeItems {
		t.Errorf("%d blocks kept, want at most %d", len(c.freeItems), maxFreeItems)
	}
}
