package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/verimeter/verimeter/tla/value"
)

// funcSystem is a hand-written System over integer variables.
type funcSystem struct {
	vars  []string
	init  [][]int32
	next  func(s []int32, emit func([]int32, string))
	invs  []Invariant
	cons  []StatePredicate
	acons []ActionPredicate
}

func toState(xs []int32) State {
	s := make(State, len(xs))
	for i, x := range xs {
		s[i] = value.Int(x)
	}
	return s
}

func ints(s State) []int32 {
	xs := make([]int32, len(s))
	for i, v := range s {
		xs[i] = int32(v.(value.Int))
	}
	return xs
}

func (f *funcSystem) Variables() []string { return f.vars }
func (f *funcSystem) Init(emit func(State) error) error {
	for _, s := range f.init {
		if err := emit(toState(s)); err != nil {
			return err
		}
	}
	return nil
}
func (f *funcSystem) Next(s State, emit func(State, string) error) error {
	var err error
	f.next(ints(s), func(t []int32, a string) {
		if err == nil {
			err = emit(toState(t), a)
		}
	})
	return err
}
func (f *funcSystem) Invariants() []Invariant              { return f.invs }
func (f *funcSystem) Constraints() []StatePredicate        { return f.cons }
func (f *funcSystem) ActionConstraints() []ActionPredicate { return f.acons }

// dieHard is the jugs puzzle (3 and 5 gallons); NotSolved is violated when big = 4.
func dieHard() *funcSystem {
	return &funcSystem{
		vars: []string{"big", "small"},
		init: [][]int32{{0, 0}},
		next: func(s []int32, emit func([]int32, string)) {
			big, small := s[0], s[1]
			emit([]int32{big, 3}, "FillSmallJug")
			emit([]int32{5, small}, "FillBigJug")
			emit([]int32{big, 0}, "EmptySmallJug")
			emit([]int32{0, small}, "EmptyBigJug")
			if big+small <= 5 {
				emit([]int32{big + small, 0}, "SmallToBig")
			} else {
				emit([]int32{5, small - (5 - big)}, "SmallToBig")
			}
			if big+small <= 3 {
				emit([]int32{0, big + small}, "BigToSmall")
			} else {
				emit([]int32{big - (3 - small), 3}, "BigToSmall")
			}
		},
		invs: []Invariant{{Name: "NotSolved", Holds: func(s State) (bool, error) { return s[0] != value.Int(4), nil }}},
	}
}

// bfs is an independent brute-force search over int states: distinct,
// generated, depth, with no invariant and no constraint.
func bfs(f *funcSystem) (distinct, generated, depth int) {
	key := func(s []int32) [4]int32 { var k [4]int32; copy(k[:], s); return k }
	seen := map[[4]int32]bool{}
	var level [][]int32
	for _, s := range f.init {
		generated++
		if !seen[key(s)] {
			seen[key(s)] = true
			level = append(level, s)
		}
	}
	for len(level) > 0 {
		depth++
		var nxt [][]int32
		for _, s := range level {
			f.next(s, func(t []int32, _ string) {
				generated++
				if !seen[key(t)] {
					seen[key(t)] = true
					nxt = append(nxt, t)
				}
			})
		}
		level = nxt
	}
	return len(seen), generated, depth
}

func TestDieHardFindsShortestTrace(t *testing.T) {
	for _, w := range []int{1, 2, 4} {
		res, err := Run(context.Background(), dieHard(), Options{Workers: w, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != InvariantViolated || res.Invariant != "NotSolved" {
			t.Fatalf("workers %d: verdict %s %q", w, res.Verdict, res.Invariant)
		}
		// The known shortest solution has 7 states (6 steps).
		if len(res.Trace) != 7 {
			t.Fatalf("trace length %d, want 7: %v", len(res.Trace), res.Trace)
		}
		last := res.Trace[len(res.Trace)-1].State
		if last[0] != value.Int(4) {
			t.Fatalf("last state %v", last)
		}
		if res.Trace[0].Action != InitialAction {
			t.Fatalf("first action %q", res.Trace[0].Action)
		}
		// Every step must be a real transition of the system.
		sys := dieHard()
		for i := 1; i < len(res.Trace); i++ {
			ok := false
			sys.next(ints(res.Trace[i-1].State), func(n []int32, a string) {
				if a == res.Trace[i].Action && n[0] == ints(res.Trace[i].State)[0] && n[1] == ints(res.Trace[i].State)[1] {
					ok = true
				}
			})
			if !ok {
				t.Fatalf("step %d is not a transition: %v", i, res.Trace)
			}
		}
	}
}

func TestCountsMatchBruteForce(t *testing.T) {
	sys := dieHard()
	sys.invs = nil
	d, g, depth := bfs(sys)
	var prev Result
	for _, w := range []int{1, 3} {
		res, err := Run(context.Background(), sys, Options{Workers: w, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Success || res.Distinct != int64(d) || res.Generated != int64(g) || res.Depth != depth {
			t.Fatalf("workers %d: %+v, want distinct %d generated %d depth %d", w, res, d, g, depth)
		}
		if res.Collisions != 0 {
			t.Fatalf("collisions %d", res.Collisions)
		}
		if w > 1 && (res.Distinct != prev.Distinct || res.Generated != prev.Generated) {
			t.Fatal("result depends on workers")
		}
		prev = res
	}
	// The jugs reach 16 states (TLC: 16 distinct states), all in 8 levels.
	if d != 16 {
		t.Fatalf("brute force found %d states", d)
	}
}

// counter counts up by 1 or 2; the constraint x <= 10 bounds it.
func counter() *funcSystem {
	return &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}, {0}},
		next: func(s []int32, emit func([]int32, string)) {
			emit([]int32{s[0] + 1}, "Inc")
			emit([]int32{s[0] + 2}, "Inc2")
		},
		cons: []StatePredicate{{Name: "Bound", Holds: func(s State) (bool, error) { return s[0].(value.Int) <= 10, nil }}},
	}
}

func TestConstraintCounting(t *testing.T) {
	res, err := Run(context.Background(), counter(), Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Stored: 0..10 = 11 states. Generated: 2 initial + 2 per stored state = 24
	// (11 and 12 are generated but neither stored nor explored). Depth: x=10 is
	// reached at the earliest by 5 steps of 2, so 6 levels.
	if res.Verdict != Success || res.Distinct != 11 || res.Generated != 24 || res.Depth != 6 {
		t.Fatalf("%+v", res)
	}
}

func TestInvariantCheckedOutsideConstraint(t *testing.T) {
	sys := counter()
	sys.invs = []Invariant{{Name: "Small", Holds: func(s State) (bool, error) { return s[0].(value.Int) < 12, nil }}}
	res, err := Run(context.Background(), sys, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != InvariantViolated || res.Invariant != "Small" {
		t.Fatalf("%+v", res)
	}
	if got := ints(res.Trace[len(res.Trace)-1].State)[0]; got != 12 {
		t.Fatalf("violating state x=%d", got)
	}
	if len(res.Trace) != 7 { // 0,2,4,6,8,10,12
		t.Fatalf("trace %v", res.Trace)
	}
}

// TestCountsAsTLC holds the figures TLC 2.19 printed for the same spec
// (Init x = 0, Next x' = x+1 \/ x' = x+2, CONSTRAINT x <= 10, INVARIANT x < 12):
// "Invariant Small is violated", trace x = 0, 2, ..., 12, "23 states generated,
// 11 distinct states found, 0 states left on queue", depth 6; and without the
// invariant the same counts.
func TestCountsAsTLC(t *testing.T) {
	for _, withInv := range []bool{false, true} {
		sys := counter()
		sys.init = [][]int32{{0}}
		if withInv {
			sys.invs = []Invariant{{Name: "Small", Holds: func(s State) (bool, error) { return s[0].(value.Int) < 12, nil }}}
		}
		for _, w := range []int{1, 2} {
			res, err := Run(context.Background(), sys, Options{Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			if res.Generated != 23 || res.Distinct != 11 || res.Depth != 6 || res.Queue != 0 {
				t.Fatalf("invariant %v, workers %d: %+v", withInv, w, res)
			}
			if withInv && (res.Verdict != InvariantViolated || len(res.Trace) != 7) {
				t.Fatalf("%+v", res)
			}
		}
	}
}

func TestDeadlock(t *testing.T) {
	sys := &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) {
			if s[0] < 3 {
				emit([]int32{s[0] + 1}, "Step")
			}
		},
	}
	res, err := Run(context.Background(), sys, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// TLC on the same spec: "Deadlock reached", trace x = 0..3, "4 states
	// generated, 4 distinct states found, 0 states left on queue", depth 4.
	if res.Verdict != Deadlocked || len(res.Trace) != 4 || ints(res.Trace[3].State)[0] != 3 ||
		res.Generated != 4 || res.Distinct != 4 || res.Depth != 4 || res.Queue != 0 {
		t.Fatalf("%+v", res)
	}
	res, err = Run(context.Background(), sys, Options{NoDeadlock: true})
	if err != nil || res.Verdict != Success || res.Distinct != 4 || res.Generated != 4 || res.Depth != 4 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestSelfLoopIsNotDeadlock(t *testing.T) {
	sys := &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) { emit(s, "Stay") },
	}
	res, err := Run(context.Background(), sys, Options{})
	if err != nil || res.Verdict != Success || res.Distinct != 1 || res.Generated != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestSelfLoopsNotClaimed: a successor made of the very values of the
// state it came from (x' = x) is a step back to a stored state: it counts
// as generated, as in TLC, but is neither fingerprinted nor claimed; every
// other successor is fingerprinted once.
func TestSelfLoopsNotClaimed(t *testing.T) {
	var calls atomic.Int64
	defer func(f func(State) uint64) { fingerprint = f }(fingerprint)
	fp := fingerprint
	fingerprint = func(s State) uint64 { calls.Add(1); return fp(s) }
	sys := &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) {
			emit(s, "Stay")
			if s[0] < 9 {
				emit([]int32{s[0] + 1}, "Step")
			}
		},
	}
	for _, w := range []int{1, 2} {
		calls.Store(0)
		res, err := Run(context.Background(), sys, Options{Workers: w})
		if err != nil || res.Verdict != Success || res.Distinct != 10 || res.Generated != 20 {
			t.Fatalf("workers %d: %+v %v", w, res, err)
		}
		if n := calls.Load(); n != 10 {
			t.Fatalf("workers %d: %d fingerprints, want 10 (the initial state and the 9 steps that change x)", w, n)
		}
	}
}

// absView merges x and -x, fingerprinting states itself (as a SYMMETRY
// does) from their values alone when valuesOnly: counting its calls.
type absView struct {
	*funcSystem
	valuesOnly bool
	calls      atomic.Int64
}

func (v *absView) MergesStates() bool           { return true }
func (v *absView) FingerprintsValuesOnly() bool { return v.valuesOnly }
func (v *absView) Fingerprint(s State) (uint64, error) {
	v.calls.Add(1)
	x := ints(s)[0]
	return fingerprint(toState([]int32{max(x, -x)})), nil
}

// TestSelfLoopsUnderValuesFingerprinter: a System that fingerprints from
// the values alone (ValuesFingerprinter, a SYMMETRY) is not asked for the
// fingerprint of a successor with its parent's values; one that may read
// more (a VIEW) is asked for every successor.
func TestSelfLoopsUnderValuesFingerprinter(t *testing.T) {
	for _, valuesOnly := range []bool{true, false} {
		sys := &absView{valuesOnly: valuesOnly, funcSystem: &funcSystem{
			vars: []string{"x"},
			init: [][]int32{{0}},
			next: func(s []int32, emit func([]int32, string)) {
				emit(s, "Stay")
				switch x := s[0]; {
				case x >= 0 && x < 5:
					emit([]int32{-x - 1}, "Flip") // 0, -1, 2, -3, 4, -5, 6
				case x < 0:
					emit([]int32{-x + 1}, "Flip")
				}
			},
		}}
		res, err := Run(context.Background(), sys, Options{Workers: 2})
		if err != nil || res.Distinct != 7 || res.Generated != 14 {
			t.Fatalf("values only %v: %+v %v", valuesOnly, res, err)
		}
		// the initial state and the 6 flips, and with a VIEW the 7 stays
		want := map[bool]int64{true: 7, false: 14}[valuesOnly]
		if n := sys.calls.Load(); n != want {
			t.Errorf("values only %v: %d fingerprints, want %d", valuesOnly, n, want)
		}
	}
}

// levelView fingerprints a state by its values and the level the
// checker expands, as a trace validation's VIEW <<vars, TLCGet("level")>>
// does: a step that changes no variable reaches a new state.
type levelView struct {
	*funcSystem
	level atomic.Int64
}

func (v *levelView) SetLevel(level int) { v.level.Store(int64(level)) }
func (v *levelView) MergesStates() bool { return true }
func (v *levelView) Fingerprint(s State) (uint64, error) {
	// the successors of level L's states are at level L+1
	return fingerprint(s)*31 + uint64(v.level.Load()+1), nil
}

// TestSelfLoopsClaimedUnderAView: with a System that fingerprints states
// itself, a successor with its parent's values is fingerprinted like any
// other: under a view of the level, x' = x reaches a new state until the
// level's bound.
func TestSelfLoopsClaimedUnderAView(t *testing.T) {
	sys := &levelView{funcSystem: &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) { emit(s, "Stay") },
	}}
	sys.cons = []StatePredicate{{Name: "Levels", Holds: func(State) (bool, error) { return sys.level.Load() < 4, nil }}}
	res, err := Run(context.Background(), sys, Options{Workers: 1})
	if err != nil || res.Distinct != 4 || res.Depth != 4 {
		t.Fatalf("%+v %v: want 4 distinct states, one per level", res, err)
	}
}

var errBoom = errors.New("boom")

func TestInvariantErrorStopsWithTrace(t *testing.T) {
	sys := counter()
	sys.invs = []Invariant{{Name: "Fails", Holds: func(s State) (bool, error) {
		if s[0].(value.Int) == 3 {
			return false, errBoom
		}
		return true, nil
	}}}
	res, err := Run(context.Background(), sys, Options{Workers: 2})
	if !errors.Is(err, errBoom) || res.Verdict != EvalError {
		t.Fatalf("%+v %v", res, err)
	}
	if got := ints(res.Trace[len(res.Trace)-1].State)[0]; got != 3 || len(res.Trace) != 3 {
		t.Fatalf("trace %v", res.Trace)
	}
}

func TestCancel(t *testing.T) {
	sys := &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) { emit([]int32{s[0] + 1}, "Inc") },
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, sys, Options{})
	if !errors.Is(err, context.Canceled) || res.Verdict != Canceled {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	if _, err := Run(context.Background(), counter(), Options{Progress: &buf}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("11 distinct states found")) {
		t.Fatalf("progress: %q", buf.String())
	}
	// Within the first minute, the line at the end alone, once (as TLC's).
	if n := bytes.Count(buf.Bytes(), []byte("Progress(")); n != 1 {
		t.Errorf("%d progress lines within ProgressEvery, want the final one alone:\n%s", n, buf.String())
	}
}

func TestFPSet(t *testing.T) {
	s := NewFPSet(0)
	for i := uint64(0); i < 10000; i++ {
		if !s.Insert(i * 0x9e3779b97f4a7c15) {
			t.Fatalf("%d not new", i)
		}
	}
	for i := uint64(0); i < 10000; i++ {
		if s.Insert(i*0x9e3779b97f4a7c15) || !s.Contains(i*0x9e3779b97f4a7c15) {
			t.Fatalf("%d lost", i)
		}
	}
	if s.Contains(12345) || s.Len() != 10000 {
		t.Fatal("membership")
	}
}

func BenchmarkFPSetInsert(b *testing.B) {
	b.ReportAllocs()
	s := NewFPSet(b.N)
	for i := 0; i < b.N; i++ {
		s.Insert(uint64(i) * 0x9e3779b97f4a7c15)
	}
}

// BenchmarkStatesPerSecond explores a 3-counter grid (bounded by a constraint).
func BenchmarkStatesPerSecond(b *testing.B) {
	sys := &funcSystem{
		vars: []string{"a", "b", "c"},
		init: [][]int32{{0, 0, 0}},
		next: func(s []int32, emit func([]int32, string)) {
			for i := range s {
				t := append([]int32(nil), s...)
				t[i]++
				emit(t, "Inc")
			}
		},
		cons: []StatePredicate{{Name: "B", Holds: func(s State) (bool, error) {
			return s[0].(value.Int) < 40 && s[1].(value.Int) < 40 && s[2].(value.Int) < 40, nil
		}}},
	}
	b.ReportAllocs()
	var total int64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), sys, Options{Workers: 2})
		if err != nil || res.Distinct != 64000 {
			b.Fatal(res, err)
		}
		total += res.Generated
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "states/s")
}

func TestActionConstraint(t *testing.T) {
	sys := counter()
	sys.cons = nil
	// Only steps of 2 are allowed, and only up to 6: 0, 2, 4, 6.
	sys.acons = []ActionPredicate{{Name: "Even", Holds: func(s, u State) (bool, error) {
		return u[0].(value.Int)-s[0].(value.Int) == 2 && u[0].(value.Int) <= 6, nil
	}}}
	res, err := Run(context.Background(), sys, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Generated: 2 initial + 2 successors for each of the 4 stored states.
	if res.Verdict != Success || res.Distinct != 4 || res.Generated != 10 || res.Depth != 4 {
		t.Fatalf("%+v", res)
	}
}

func TestExactModeDetectsCollisions(t *testing.T) {
	// A deliberately weak fingerprint (x mod 3) merges distinct states: the
	// fingerprinted run loses states, the exact run finds them all and
	// counts the collisions.
	defer func(f func(State) uint64) { fingerprint = f }(fingerprint)
	fingerprint = func(s State) uint64 { return uint64(s[0].(value.Int)) % 3 }
	lossy, err := Run(context.Background(), counter(), Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := Run(context.Background(), counter(), Options{Workers: 1, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	if exact.Distinct != 11 || exact.Collisions == 0 {
		t.Fatalf("exact: %+v", exact)
	}
	if lossy.Distinct >= exact.Distinct {
		t.Fatalf("weak fingerprint lost nothing: %+v", lossy)
	}
}

func TestResultJSON(t *testing.T) {
	res, _ := Run(context.Background(), dieHard(), Options{Workers: 1})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"verdict":"invariant"`)) || !bytes.Contains(b, []byte(`"state":["4","3"]`)) {
		t.Fatalf("%s", b)
	}
}

// cube is a walk in {0..n-1}^3 by steps of +1 and +3 (mod n) in each
// coordinate: hundreds of states per level, so that a level is expanded
// in many blocks, which the workers finish out of order.
func cube(n int32) *funcSystem {
	return &funcSystem{
		vars: []string{"x", "y", "z"},
		init: [][]int32{{0, 0, 0}},
		next: func(s []int32, emit func([]int32, string)) {
			for i := range 3 {
				for _, d := range []int32{1, 3} {
					t := append([]int32(nil), s...)
					t[i] = (t[i] + d) % n
					emit(t, "Step")
				}
			}
		},
	}
}

// TestBlockMergeAsSequential: with the claim table, the workers merge the
// blocks of expansions as they finish them; the counts are those of a
// sequential search and the violation found, with its trace, is the same
// for any number of workers.
func TestBlockMergeAsSequential(t *testing.T) {
	sys := cube(24)
	d, g, depth := bfs(sys)
	for _, w := range []int{1, 2, 3, 8} {
		res, err := Run(context.Background(), sys, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Success || res.Distinct != int64(d) || res.Generated != int64(g) || res.Depth != depth {
			t.Fatalf("workers %d: %+v, want distinct %d generated %d depth %d", w, res, d, g, depth)
		}
	}
	sys.invs = []Invariant{{Name: "Far", Holds: func(s State) (bool, error) {
		return s[0].(value.Int)+s[1].(value.Int)+s[2].(value.Int) != 40, nil
	}}}
	var first Result
	for _, w := range []int{1, 2, 3, 8} {
		res, err := Run(context.Background(), sys, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != InvariantViolated {
			t.Fatalf("workers %d: %+v", w, res)
		}
		if w == 1 {
			first = res
			continue
		}
		if res.Distinct != first.Distinct || res.Generated != first.Generated || res.Queue != first.Queue ||
			fmt.Sprint(res.Trace) != fmt.Sprint(first.Trace) {
			t.Fatalf("workers %d: %+v\none worker: %+v", w, res, first)
		}
	}
}

// TestAddCandKeepsEachExpansions: candidates added expansion after
// expansion into a worker's slab (and, in between, appended the plain way
// as a successor judged outside the claim table is) stay each their
// expansion's, in order, across slabs, for an expansion larger than one.
func TestAddCandKeepsEachExpansions(t *testing.T) {
	var w scratch
	sizes := []int{1, 0, 60, 20, 5, candChunk - 3, 7, 3 * candChunk, 2, 1, candChunk}
	exps := make([]expansion, len(sizes))
	for i, n := range sizes {
		for j := range n {
			c := candidate{pos: int32(j), fp: uint64(i)}
			if j%97 == 50 {
				exps[i].cands = append(exps[i].cands, c)
			} else {
				w.addCand(&exps[i], c)
			}
		}
	}
	for i, n := range sizes {
		if len(exps[i].cands) != n {
			t.Fatalf("expansion %d: %d candidates, want %d", i, len(exps[i].cands), n)
		}
		for j, c := range exps[i].cands {
			if c.pos != int32(j) || c.fp != uint64(i) {
				t.Fatalf("expansion %d, candidate %d: pos %d of expansion %d", i, j, c.pos, c.fp)
			}
		}
	}
}

// TestInvariantsJudgedWithWorkerMemo: a worker judges the states it
// generates with its own memo (value.WorkerMemo), one per worker, which no
// other worker writes; Holds is left to callers without one.
func TestInvariantsJudgedWithWorkerMemo(t *testing.T) {
	sys := counter()
	sys.cons = []StatePredicate{{Name: "Bound", Holds: func(s State) (bool, error) { return s[0].(value.Int) <= 3000, nil }}}
	var mu sync.Mutex
	memos := map[*value.WorkerMemo]int{}
	var plain atomic.Int64
	sys.invs = []Invariant{{
		Name:  "Small",
		Holds: func(State) (bool, error) { plain.Add(1); return true, nil },
		HoldsMemo: func(_ State, m *value.WorkerMemo) (bool, error) {
			mu.Lock()
			memos[m]++
			mu.Unlock()
			return true, nil
		},
	}}
	res, err := Run(context.Background(), sys, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	judged := 0
	for m, n := range memos {
		if m == nil {
			t.Fatalf("%d states judged with a nil memo", n)
		}
		judged += n
	}
	// Every successor is judged once (the constraint holds for 0..3000),
	// by a worker; only the initial states are judged without one.
	if res.Verdict != Success || len(memos) == 0 || len(memos) > 2 || judged < 3000 || plain.Load() == 0 || plain.Load() > 2 {
		t.Fatalf("%+v: memos %v, judged without a memo %d", res, memos, plain.Load())
	}
}

// BenchmarkClaimBatch claims batches of 64 new fingerprints in a table of
// 2^22 slots (64 MiB, far larger than the caches), as a worker's sink
// does, with the batch's slots read first (touched, as flush does) and
// without.
func BenchmarkClaimBatch(b *testing.B) {
	for _, touched := range []bool{false, true} {
		b.Run(map[bool]string{false: "one-by-one", true: "touched"}[touched], func(b *testing.B) {
			t := newClaimTable(1 << 22)
			var made int64
			x := uint64(0x9e3779b97f4a7c15)
			fps := make([]uint64, 64)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if t.n.Load()+made > 1<<21 {
					b.StopTimer()
					t, made = newClaimTable(1<<22), 0
					b.StartTimer()
				}
				for j := range fps {
					x ^= x << 13
					x ^= x >> 7
					x ^= x << 17
					fps[j] = x
				}
				if touched {
					for _, fp := range fps {
						t.touch(fp)
					}
				}
				for j, fp := range fps {
					t.claimCounting(fp, claimKey(i, int32(j)), &made)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(fps)), "ns/claim")
		})
	}
}

// TestBlockRuns: the workers take the blocks of a chunk in runs, each
// block once; one worker in order; several blocks a run while many are
// left and one at the end; a worker with no run left takes blocks from the
// back of another's run.
func TestBlockRuns(t *testing.T) {
	for _, states := range []int{1, 31, 32, 33, 1000, chunkStates, chunkStates + 7} {
		r := newBlockRuns(states, 1)
		blocks := (states + expandBlock - 1) / expandBlock
		for want := 0; want < blocks; want++ {
			if b, ok := r.take(0); !ok || b != want {
				t.Fatalf("%d states: block %d, %v; want %d", states, b, ok, want)
			}
		}
		if b, ok := r.take(0); ok {
			t.Fatalf("%d states: block %d after the last", states, b)
		}
	}
	// Runs shrink, to single blocks as the chunk runs out.
	r := newBlockRuns(chunkStates, 2)
	last := maxRun
	for {
		lo, hi, ok := r.newRun()
		if !ok {
			break
		}
		if hi-lo > last {
			t.Fatalf("run [%d,%d) after one of %d blocks", lo, hi, last)
		}
		last = hi - lo
	}
	if last != 1 {
		t.Errorf("last run of %d blocks, want 1", last)
	}
	// Two workers: the first run is several blocks; the second worker
	// takes everything else, the rest of the first's run included.
	r = newBlockRuns(chunkStates, 2)
	if _, ok := r.take(0); !ok {
		t.Fatal("no block")
	}
	if lo, hi := unpackRun(r.own[0].r.Load()); hi-lo+1 < 4 {
		t.Errorf("first run of %d blocks, want several", hi-lo+1)
	}
	for {
		if _, ok := r.take(1); !ok {
			break
		}
	}
	if lo, hi := unpackRun(r.own[0].r.Load()); lo != hi {
		t.Errorf("worker 1 left worker 0's run [%d,%d)", lo, hi)
	}
	// Stealing: worker 0 holds a run, worker 1 finds none left.
	r = newBlockRuns(64*expandBlock, 2)
	b0, _ := r.take(0)
	lo, hi := unpackRun(r.own[0].r.Load())
	if b0 != 0 || lo != 1 || hi < 3 {
		t.Fatalf("worker 0: block %d, run [%d,%d)", b0, lo, hi)
	}
	r.next.Store(int64(r.blocks)) // every other run taken
	if b, ok := r.take(1); !ok || b != hi-1 {
		t.Fatalf("worker 1 took %d, %v; want the back of worker 0's run, %d", b, ok, hi-1)
	}
	if b, ok := r.take(0); !ok || b != 1 {
		t.Fatalf("worker 0 took %d, %v; want 1", b, ok)
	}
	// Workers taking at once take each block once.
	const states = 100_003
	r = newBlockRuns(states, 4)
	taken := make([]atomic.Int32, r.blocks)
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b, ok := r.take(k)
				if !ok {
					return
				}
				taken[b].Add(1)
			}
		}()
	}
	wg.Wait()
	for b := range taken {
		if n := taken[b].Load(); n != 1 {
			t.Fatalf("block %d taken %d times", b, n)
		}
	}
}
