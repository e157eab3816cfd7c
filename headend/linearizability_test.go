package headend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// Linearizability of the head-end's store under crashes: concurrent
// gateways ingest batches of signed readings (idempotent on the meter's
// counter), auditors query by period, and the market switches suppliers,
// while the store is closed and reopened at random points (a restart: only
// committed transactions survive). Every history is checked with porcupine
// against a sequential model; a failing one is written as HTML.

const (
	hlCounters = 10 // readings 1..10 of one meter
	hlSlots    = 4  // supplier checkpoints: hours 1..4 of the day
	hlClients  = 3
	hlOps      = 10
)

type hlState struct {
	stored uint16            // bit c: reading c is stored
	sup    [hlSlots + 1]byte // supplier entitled at hour h (1..4), by initial
}

type hlInput struct {
	op       string // "ingest", "query", "switch", "supplier"
	counters []int  // ingest
	from, to int    // query: counters with from <= c < to (their signing times)
	who      byte   // switch: new supplier
	hour     int    // switch: from this hour on; supplier: at this hour
}

type hlOutput struct {
	failed        bool
	stored, dups  int
	counters      uint16 // query result
	suppliers     string // supplier result
	indeterminate bool
}

var hlModel = porcupine.NondeterministicModel{
	Init: func() []any {
		var s hlState
		for h := 1; h <= hlSlots; h++ {
			s.sup[h] = 'A'
		}
		return []any{s}
	},
	Step: func(st, in, out any) []any {
		s, i, o := st.(hlState), in.(hlInput), out.(hlOutput)
		switch i.op {
		case "ingest":
			n := s
			var fresh, dups int
			for _, c := range i.counters {
				if s.stored&(1<<c) != 0 {
					dups++
				} else {
					fresh++
				}
				n.stored |= 1 << c
			}
			if o.indeterminate {
				return []any{s, n} // one transaction: all or nothing
			}
			if o.failed {
				return []any{s}
			}
			if o.stored != fresh || o.dups != dups {
				return nil
			}
			return []any{n}
		case "switch":
			n := s
			for h := i.hour; h <= hlSlots; h++ {
				n.sup[h] = i.who
			}
			if o.indeterminate {
				return []any{s, n}
			}
			if o.failed {
				return []any{s}
			}
			return []any{n}
		case "query":
			if o.failed {
				return []any{s}
			}
			var want uint16
			for c := i.from; c < i.to; c++ {
				want |= s.stored & (1 << c)
			}
			if o.counters != want {
				return nil
			}
			return []any{s}
		case "supplier":
			if o.failed || o.suppliers == string(s.sup[i.hour]) {
				return []any{s}
			}
			return nil
		}
		return nil
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(hlInput), out.(hlOutput)
		res := ""
		switch {
		case o.indeterminate:
			res = "interrupted by a restart"
		case o.failed:
			res = "failed"
		case i.op == "ingest":
			res = fmt.Sprintf("stored %d, duplicates %d", o.stored, o.dups)
		case i.op == "query":
			res = fmt.Sprintf("%016b", o.counters)
		case i.op == "supplier":
			res = o.suppliers
		default:
			res = "ok"
		}
		switch i.op {
		case "ingest":
			return fmt.Sprintf("Ingest%v → %s", i.counters, res)
		case "query":
			return fmt.Sprintf("Query[%d,%d) → %s", i.from, i.to, res)
		case "switch":
			return fmt.Sprintf("Switch(%c from hour %d) → %s", i.who, i.hour, res)
		}
		return fmt.Sprintf("SupplierAt(hour %d) → %s", i.hour, res)
	},
	DescribeState: func(st any) string {
		s := st.(hlState)
		return fmt.Sprintf("stored %016b suppliers %s", s.stored, string(s.sup[1:]))
	},
}

// hlWorld is a head-end that can be restarted under the clients' feet.
type hlWorld struct {
	f        *fixture
	path     string
	cur      atomic.Pointer[HeadEnd]
	readings [hlCounters + 1][]byte
	// nonAtomicSwitch is the mutant: the supplier switch as two separate
	// statements, so a restart between them leaves no supplier.
	nonAtomicSwitch bool
}

func (w *hlWorld) open(t testing.TB) {
	st, err := OpenStore(w.path)
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{Store: st, Meters: w.f.he.cfg.Meters, Validator: w.f.he.cfg.Validator, Key: w.f.he.cfg.Key, Now: func() time.Time { return w.f.now }, Rand: w.f.he.cfg.Rand})
	w.cur.Store(h)
}

func (w *hlWorld) dayStart() time.Time { return w.f.t0 }

func (w *hlWorld) do(in hlInput) hlOutput {
	h := w.cur.Load()
	st := h.store()
	var o hlOutput
	switch in.op {
	case "ingest":
		items := make([]wan.Item, len(in.counters))
		for i, c := range in.counters {
			items[i] = wan.Item{Kind: wan.KindReading, Raw: w.readings[c]}
		}
		res, err := h.Ingest(context.Background(), "gw", items)
		if err != nil {
			o.failed, o.indeterminate = true, true
			return o
		}
		o.stored, o.dups = res.Stored, res.Duplicates
	case "query":
		cs, err := st.counters(w.f.meter, w.f.t0.Unix()+int64(in.from)*900, w.f.t0.Unix()+int64(in.to)*900)
		if err != nil {
			o.failed = true
			return o
		}
		for _, c := range cs {
			o.counters |= 1 << c
		}
	case "switch":
		at := w.dayStart().Add(time.Duration(in.hour) * time.Hour)
		until := w.dayStart().Add(48 * time.Hour)
		var err error
		if w.nonAtomicSwitch {
			if err = st.endContracts(protocol.RoleSupplier, w.f.meter, at); err == nil {
				time.Sleep(50 * time.Microsecond) // widen the window a restart can hit
				err = st.addContract(string(in.who), protocol.RoleSupplier, w.f.meter, at, until)
			}
		} else {
			err = st.switchSupplier(w.f.meter, string(in.who), at, until)
		}
		if err != nil {
			o.failed, o.indeterminate = true, true
		}
	case "supplier":
		ps, err := st.supplierAt(w.f.meter, w.dayStart().Add(time.Duration(in.hour)*time.Hour+time.Minute))
		if err != nil {
			o.failed = true
			return o
		}
		for _, p := range ps {
			o.suppliers += p
		}
	}
	return o
}

func runStoreHistory(t testing.TB, w *hlWorld, seed uint64) []porcupine.Operation {
	os.Remove(w.path)
	os.Remove(w.path + "-wal")
	os.Remove(w.path + "-shm")
	w.open(t)
	if err := w.cur.Load().store().addContract("A", protocol.RoleSupplier, w.f.meter, w.dayStart(), w.dayStart().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	var clock atomic.Int64
	var mu sync.Mutex
	var ops []porcupine.Operation
	var wg sync.WaitGroup
	for c := range hlClients {
		crng := rand.New(rand.NewPCG(rng.Uint64(), uint64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range hlOps {
				var in hlInput
				switch k := crng.IntN(10); {
				case k < 4:
					in.op = "ingest"
					perm := crng.Perm(hlCounters)
					for _, p := range perm[:1+crng.IntN(3)] {
						in.counters = append(in.counters, p+1)
					}
				case k < 6:
					in.op = "query"
					in.from = 1 + crng.IntN(hlCounters)
					in.to = in.from + 1 + crng.IntN(hlCounters-in.from+1)
				case k < 8:
					in.op = "switch"
					in.who = "ABC"[crng.IntN(3)]
					in.hour = 1 + crng.IntN(hlSlots)
				default:
					in.op = "supplier"
					in.hour = 1 + crng.IntN(hlSlots)
				}
				call := clock.Add(1)
				out := w.do(in)
				ret := clock.Add(1)
				if out.indeterminate {
					ret = 1 << 62
				}
				mu.Lock()
				ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	restarts := 0
	for {
		select {
		case <-done:
			w.cur.Load().store().Close()
			return ops
		case <-time.After(time.Duration(rng.IntN(3000)) * time.Microsecond):
		}
		if restarts < 2 {
			restarts++
			old := w.cur.Load()
			w.open(t) // the new process opens the database...
			old.store().Close()
		}
	}
}

func storeHistories(t *testing.T) int {
	if v := os.Getenv("VERIMETER_LIN_HISTORIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("VERIMETER_LIN_HISTORIES=%q", v)
		}
		return n
	}
	return 1000
}

func newHLWorld(t *testing.T) *hlWorld {
	f := newFixture(t)
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "verimeter-he-"); err == nil {
			dir = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	w := &hlWorld{f: f, path: filepath.Join(dir, "he.db")}
	for c := 1; c <= hlCounters; c++ {
		r, err := f.signer.SignReading(protocol.Reading{Meter: f.meter, Counter: uint64(c), Time: f.t0.Unix() + int64(c)*900, OBIS: protocol.ActiveEnergyImport, Value: uint64(c)})
		if err != nil {
			t.Fatal(err)
		}
		w.readings[c] = r
	}
	return w
}

func TestStoreLinearizableUnderRestarts(t *testing.T) {
	w := newHLWorld(t)
	model := hlModel.ToModel()
	n := storeHistories(t)
	var ops, interrupted int
	for h := range n {
		hist := runStoreHistory(t, w, uint64(h))
		ops += len(hist)
		for _, o := range hist {
			if o.Output.(hlOutput).failed {
				interrupted++
			}
		}
		res, info := porcupine.CheckOperationsVerbose(model, hist, 10*time.Second)
		if res != porcupine.Ok {
			out := filepath.Join(os.TempDir(), fmt.Sprintf("verimeter-headend-store-%d.html", h))
			porcupine.VisualizePath(model, info, out)
			t.Fatalf("history %d is %s; visualisation in %s", h, res, out)
		}
	}
	if interrupted == 0 {
		t.Fatal("no operation was interrupted by a restart: the test exercised nothing")
	}
	t.Logf("%d histories, %d operations, %d failed or interrupted by restarts: all linearizable", n, ops, interrupted)
}

// TestStoreLinearizabilityCatchesNonAtomicSwitch: a supplier switch made
// of two statements can be cut by a restart, leaving no supplier; the
// checker must find such a history.
func TestStoreLinearizabilityCatchesNonAtomicSwitch(t *testing.T) {
	w := newHLWorld(t)
	w.nonAtomicSwitch = true
	model := hlModel.ToModel()
	for h := range 3000 {
		if !porcupine.CheckOperations(model, runStoreHistory(t, w, uint64(h))) {
			t.Logf("non-atomic switch caught in history %d", h)
			return
		}
	}
	t.Fatal("3000 histories with a non-atomic supplier switch all passed: the check is blind")
}
