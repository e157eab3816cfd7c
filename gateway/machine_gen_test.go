package gateway

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
	tg, ok := gen.TargetFor("gateway/machine_gen.go")
	if !ok {
		t.Fatal("statemachine/gen has no target gateway/machine_gen.go")
	}
	return tg
}

// TestMachineGenUpToDate fails when machine_gen.go differs from what the
// spec generates; -write updates it.
func TestMachineGenUpToDate(t *testing.T) {
	difftest.UpToDate(t, specDir, "..", target(t), *writeGen)
}

func adapters() []*difftest.Adapter {
	ch := &channelParams{Crypto: channelSymbolicCrypto{}}
	chOut := channelOutput{Kas: make([]int64, 0, 4)}
	co := &collectionParams{}
	cm := &commandsParams{}
	out := commandsOutput{Net: make([]commandsNet, 0, 4)}
	tp := &tamperParams{}
	return []*difftest.Adapter{{
		Module: "Collection", Role: "gateway", Params: co,
		// MaxReadings as in the other roles (the queue is a map, no cap).
		Wide: map[string]int64{"MaxReadings": 12, "MaxRestarts": 3, "MaxOutages": 3, "MaxAckDrops": 3},
		// The store-and-forward queue is a @store (the queue's journal):
		// the state is the machine's beside the map-backed reference store.
		Init: func() reflect.Value {
			return reflect.ValueOf(&collectionFull{State: co.Init(), Store: collectionMapStore{Queue: map[collectionItem]bool{}}})
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
			return difftest.Out{Sends: map[string][]reflect.Value{"plcAcks": difftest.Values(out.PlcAcks), "uploads": difftest.Values(out.Uploads)}, Action: out.Action, Persist: out.Persist}, err
		},
	}, {
		Module: "Channel", Role: "gateway", Params: ch,
		// MaxCtr below statemachine.SetCap: seen holds a key's counters.
		Wide: map[string]int64{"MaxSeals": 24, "Block": 4, "MaxCtr": 24, "MaxKeys": 4, "MaxForged": 3, "MaxRestarts": 3},
		// The window (seen) is a @store: the state is the machine's
		// beside the map-backed reference store.
		Init: func() reflect.Value {
			return reflect.ValueOf(&channelFull{State: ch.Init(), Store: channelMapStore{Seen: map[int64]bool{}}})
		},
		Event: func() reflect.Value { return reflect.ValueOf(&channelEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			full := s.Interface().(*channelFull)
			ch.Store = &full.Store
			err := ch.Step(&full.State, *ev.Interface().(*channelEvent), &chOut)
			if err == nil {
				full.Store.Apply(&chOut)
			}
			return difftest.Out{Sends: map[string][]reflect.Value{"kas": difftest.Values(chOut.Kas)}, Action: chOut.Action, Persist: chOut.Persist}, err
		},
	}, {
		Module: "Commands", Role: "gateway", Params: cm,
		Wide:  map[string]int64{"MaxCommands": 12, "MaxRestarts": 4},
		Init:  func() reflect.Value { s := cm.Init(); return reflect.ValueOf(&s) },
		Event: func() reflect.Value { return reflect.ValueOf(&commandsEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			err := cm.Step(s.Interface().(*commandsState), *ev.Interface().(*commandsEvent), &out)
			return difftest.Out{Sends: map[string][]reflect.Value{"net": difftest.Values(out.Net)}, Action: out.Action, Persist: out.Persist}, err
		},
	}, {
		// 4 * MaxEvents items (two kinds, signed or not) within
		// statemachine.SetCap. Every state is checked on TamperLive.cfg's
		// constants (one event: 2880 states): Tamper.cfg's 113112 states
		// take minutes per role here; the random walks have three events.
		Module: "Tamper", Role: "gateway", Params: tp,
		Small: map[string]int64{"MaxEvents": 1},
		Wide:  map[string]int64{"MaxEvents": 3, "MaxCrashes": 2, "MaxRestarts": 2, "MaxOutages": 2, "MaxDrops": 2, "MaxInjects": 2},
		Init:  func() reflect.Value { s := tp.Init(); return reflect.ValueOf(&s) },
		Event: func() reflect.Value { return reflect.ValueOf(&tamperEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			var out tamperOutput
			err := tp.Step(s.Interface().(*tamperState), *ev.Interface().(*tamperEvent), &out)
			return difftest.Out{Sends: map[string][]reflect.Value{"uploads": difftest.Values(out.Uploads)}, Action: out.Action, Persist: out.Persist}, err
		},
	}}
}

// TestDiffMachineRandom: 100 random walks of 100 steps (rapid), every step
// checking every event of the gateway against the spec.
func TestDiffMachineRandom(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.Module, func(t *testing.T) {
			st := difftest.Random(t, specDir, ad, 100)
			t.Logf("%s: %d steps, %d Step calls (%d refused by a guard, %d only by a dropped model bound); other roles' writes to the gateway's state: %v",
				ad.Module, st.Steps, st.StepCalls, st.Refused, st.BoundOnly, st.Foreign)
			if !difftest.InMutantChild() && !testing.Short() && st.Steps < 10000 {
				t.Errorf("only %d differential steps, want >= 10000", st.Steps)
			}
		})
	}
}

// TestDiffMachineExhaustive: every reachable state of the small model,
// every event of the gateway.
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
		{Action: "Receive", Guard: 1},                               // Channel: gopen flipped
		{Action: "Receive", Guard: 2},                               // Channel: m.k = gkey flipped
		{Action: "Receive", Guard: 3},                               // Channel: m.c \notin seen flipped
		{Action: "Rekey", Assign: "gkey"},                           // Channel: gkey' = gkey + 1 + 1
		{Action: "Rekey", Assign: "gopen"},                          // Channel: a key agreement leaves no session
		{Module: "Channel", Action: "Restart", Assign: "gopen"},     // Channel: a restart keeps the session
		{Module: "Collection", Action: "Upload", Guard: 1},          // Collection: i \in queue flipped
		{Module: "Collection", Action: "Uploaded", Assign: "queue"}, // Collection: queue' emptied
		{Action: "Relay", Guard: 1},                                 // c \notin relayed flipped
		{Action: "Relay", Assign: "relayed"},                        // relayed' emptied instead of growing
		{Module: "Tamper", Action: "Collect", Guard: 1},             // Tamper: e \notin queue flipped
		{Module: "Tamper", Action: "Inject", Guard: 1},              // Tamper: an injected event signed
		{Module: "Tamper", Action: "Upload", Guard: 2},              // Tamper: wanUp flipped
		{Module: "Tamper", Action: "Uploaded", Assign: "queue"},     // Tamper: the queue emptied on an ack
		{Module: "Tamper", Action: "Drop", Assign: "queue"},         // Tamper: a drop empties the queue
		{Module: "Tamper", Action: "WanDown", Assign: "wanUp"},      // Tamper: an outage leaves the link up
	})
}
