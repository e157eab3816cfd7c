package headend

import (
	"flag"
	"reflect"
	"testing"

	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/statemachine/gen/difftest"
)

var writeGen = flag.Bool("write", false, "rewrite machine_gen.go when it is stale")

const specDir = "../spec"

func target(t *testing.T) gen.Target {
	tg, ok := gen.TargetFor("headend/machine_gen.go")
	if !ok {
		t.Fatal("statemachine/gen has no target headend/machine_gen.go")
	}
	return tg
}

// TestMachineGenUpToDate fails when machine_gen.go differs from what the
// spec generates; -write updates it.
func TestMachineGenUpToDate(t *testing.T) {
	difftest.UpToDate(t, specDir, "..", target(t), *writeGen)
}

func adapters() []*difftest.Adapter {
	co := &collectionParams{Crypto: collectionSymbolicCrypto{}}
	cm := &commandsParams{}
	mk := &marketParams{}
	tp := &tamperParams{}
	return []*difftest.Adapter{{
		Module: "Collection", Role: "headend", Params: co,
		// MaxReadings as in the other roles (stored is a map, no cap).
		Wide: map[string]int64{"MaxReadings": 12, "MaxRestarts": 3, "MaxOutages": 3, "MaxAckDrops": 3},
		// The stored items are a @store (the database): the state is the
		// machine's beside the map-backed reference store.
		Init: func() reflect.Value {
			return reflect.ValueOf(&collectionFull{State: co.Init(), Store: collectionMapStore{Stored: map[collectionItem]bool{}}})
		},
		Event: func() reflect.Value { return reflect.ValueOf(&collectionEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			var out collectionOutput
			full := s.Interface().(*collectionFull)
			co.Store = &full.Store
			err := co.Step(&full.State, *ev.Interface().(*collectionEvent), &out)
			if err == nil {
				full.Store.Apply(&out)
			}
			return difftest.Out{Sends: map[string][]reflect.Value{"acks": difftest.Values(out.Acks)}, Action: out.Action, Persist: out.Persist}, err
		},
	}, {
		Module: "Commands", Role: "headend", Params: cm,
		Wide:  map[string]int64{"MaxCommands": 12, "MaxRestarts": 4},
		Init:  func() reflect.Value { s := cm.Init(); return reflect.ValueOf(&s) },
		Event: func() reflect.Value { return reflect.ValueOf(&commandsEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			var out commandsOutput
			err := cm.Step(s.Interface().(*commandsState), *ev.Interface().(*commandsEvent), &out)
			return difftest.Out{Sends: map[string][]reflect.Value{"sigs": difftest.Values(out.Sigs)}, Action: out.Action, Persist: out.Persist}, err
		},
	}, {
		Module: "Market", Role: "headend", Params: mk,
		// MarketRotate.cfg's constants: the key rotated after the theft
		// (k1 stolen and retired, k2 not). Reading and Entries grow with
		// T^2 * NC and every step tries each of them (about 130 events).
		Wide: map[string]int64{"T": 3, "Switch": 2, "Invalid": 2, "Rotate": 3, "NC": 2},
		// The accepted readings, the log, the counters, the flagged
		// counters and what was served are @stores
		// (the database): the state is the machine's beside the
		// map-backed reference store.
		Init: func() reflect.Value {
			return reflect.ValueOf(&marketFull{State: mk.Init(), Store: marketMapStore{
				Accepted: map[marketEntry]bool{}, Logged: map[marketReading]bool{}, Counted: map[int64]bool{}, Flagged: map[int64]bool{}, Served: map[marketServed]bool{}}})
		},
		Event: func() reflect.Value { return reflect.ValueOf(&marketEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			var out marketOutput
			full := s.Interface().(*marketFull)
			mk.Store = &full.Store
			err := mk.Step(&full.State, *ev.Interface().(*marketEvent), &out)
			if err == nil {
				full.Store.Apply(&out)
			}
			return difftest.Out{Action: out.Action, Persist: out.Persist}, err
		},
	}, {
		// 4 * MaxEvents items (two kinds, signed or not) within
		// statemachine.SetCap. Every state is checked on TamperLive.cfg's
		// constants (one event: 2880 states): Tamper.cfg's 113112 states
		// take minutes per role here; the random walks have three events.
		Module: "Tamper", Role: "headend", Params: tp,
		Small: map[string]int64{"MaxEvents": 1},
		Wide:  map[string]int64{"MaxEvents": 3, "MaxCrashes": 2, "MaxRestarts": 2, "MaxOutages": 2, "MaxDrops": 2, "MaxInjects": 2},
		// The head-end's stored events are a @store: the state is the
		// machine's beside the map-backed reference store.
		Init: func() reflect.Value {
			return reflect.ValueOf(&tamperFull{State: tp.Init(), Store: tamperMapStore{Stored: map[tamperItem]bool{}}})
		},
		Event: func() reflect.Value { return reflect.ValueOf(&tamperEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			var out tamperOutput
			full := s.Interface().(*tamperFull)
			tp.Store = &full.Store
			err := tp.Step(&full.State, *ev.Interface().(*tamperEvent), &out)
			if err == nil {
				full.Store.Apply(&out)
			}
			return difftest.Out{Sends: map[string][]reflect.Value{"acks": difftest.Values(out.Acks)}, Action: out.Action, Persist: out.Persist}, err
		},
	}}
}

// TestDiffMachineRandom: 100 random walks of 100 steps (rapid), every step
// checking every event of the head-end against the spec.
func TestDiffMachineRandom(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.Module, func(t *testing.T) {
			st := difftest.Random(t, specDir, ad, 100)
			t.Logf("%s: %d steps, %d Step calls (%d refused by a guard, %d only by a dropped model bound); other roles' writes to the head-end's state: %v",
				ad.Module, st.Steps, st.StepCalls, st.Refused, st.BoundOnly, st.Foreign)
			if !difftest.InMutantChild() && !testing.Short() && st.Steps < 10000 {
				t.Errorf("only %d differential steps, want >= 10000", st.Steps)
			}
		})
	}
}

// TestDiffMachineExhaustive: every reachable state of the small model,
// every event of the head-end.
func TestDiffMachineExhaustive(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.Module, func(t *testing.T) {
			st := difftest.Exhaustive(t, specDir, ad)
			t.Logf("%s: %d reachable states, %d Step calls checked", ad.Module, st.States, st.StepCalls)
		})
	}
}

// TestDiffCatchesMutants: one guard flipped or one assignment changed must
// fail the differential tests.
func TestDiffCatchesMutants(t *testing.T) {
	difftest.Mutants(t, specDir, target(t), "TestDiffMachine", []gen.Mutation{
		{Module: "Collection", Action: "Ingest", Guard: 1},       // Collection: SignedByMeter(i) flipped
		{Action: "Issue", Guard: 1},                              // k = "disconnect" => a # b flipped
		{Action: "Issue", Assign: "issued"},                      // issued' = issued + 1 + 1
		{Module: "Market", Action: "Ingest", Guard: 3},           // Market: a thief's reading before the theft accepted
		{Module: "Market", Action: "Ingest", Guard: 4},           // Market: a reading logged twice (r \notin logged flipped)
		{Module: "Market", Action: "Ingest", Guard: 5},           // Market: a second reading under a stored counter (r.c \notin counted flipped)
		{Module: "Market", Action: "Ingest", Guard: 6},           // Market: KeyInUse(r) flipped (the old key after its retirement)
		{Module: "Market", Action: "Ingest", Guard: 7},           // Market: ValidAtSigning(r) flipped
		{Module: "Market", Action: "Conflict", Guard: 6},         // Market: a conflict flagged for a counter never stored
		{Module: "Market", Action: "Ingest", Assign: "accepted"}, // Market: the accepted readings cleared (a @store)
		{Action: "Fetch", Guard: 2},                              // Market: Entitled(p, t) flipped
		{Action: "PublishCRL", Guard: 1},                         // Market: now >= Invalid flipped
		{Action: "PublishCRL", Assign: "crlKnown"},               // Market: the CRL not recorded
		{Action: "Fetch", Assign: "served"},                      // Market: what was served forgotten (a @store)
		{Action: "Tick", Assign: "switched"},                     // Market: the switch recorded wrongly
		{Action: "Serve", Guard: 1},                              // Market: a reading never stored served (e \in accepted flipped)
		{Action: "Serve", Guard: 2},                              // Market: Evidential(e) flipped
		{Module: "Tamper", Action: "Ingest", Guard: 1},           // Tamper: only unsigned events stored
		{Module: "Tamper", Action: "Ingest", Assign: "alarms"},   // Tamper: the alarms emptied
		{Module: "Tamper", Action: "Ingest", Assign: "stored"},   // Tamper: the stored events emptied
	})
}
