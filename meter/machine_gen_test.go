package meter

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
	tg, ok := gen.TargetFor("meter/machine_gen.go")
	if !ok {
		t.Fatal("statemachine/gen has no target meter/machine_gen.go")
	}
	return tg
}

// TestMachineGenUpToDate regenerates the meter's machines in memory and
// fails when the committed file differs (go/types' generate_test.go style);
// -write updates it.
func TestMachineGenUpToDate(t *testing.T) {
	difftest.UpToDate(t, specDir, "..", target(t), *writeGen)
}

func adapters() []*difftest.Adapter {
	ch := &channelParams{}
	co := &collectionParams{}
	cm := &commandsParams{Crypto: commandsSymbolicCrypto{}}
	fw := &firmwareParams{}
	tp := &tamperParams{}
	chOut := channelOutput{Net: make([]channelNet, 0, 4)}
	return []*difftest.Adapter{
		{
			Module: "Channel", Role: "meter", Params: ch,
			Wide:  map[string]int64{"MaxSeals": 30, "Block": 4, "MaxCtr": 40, "MaxKeys": 4, "MaxForged": 3, "MaxRestarts": 3},
			Init:  func() reflect.Value { s := ch.Init(); return reflect.ValueOf(&s) },
			Event: func() reflect.Value { return reflect.ValueOf(&channelEvent{}) },
			Step: func(s, ev reflect.Value) (difftest.Out, error) {
				err := ch.Step(s.Interface().(*channelState), *ev.Interface().(*channelEvent), &chOut)
				return difftest.Out{Sends: map[string][]reflect.Value{"net": difftest.Values(chOut.Net)}, Action: chOut.Action, Persist: chOut.Persist}, err
			},
		},
		{
			Module: "Collection", Role: "meter", Params: co,
			Wide: map[string]int64{"MaxReadings": 12, "MaxRestarts": 3, "MaxOutages": 3, "MaxAckDrops": 3},
			// The readings kept until the head-end's ack (meterBuf) are a
			// @store: the state is the machine's beside the map-backed
			// reference store.
			Init: func() reflect.Value {
				return reflect.ValueOf(&collectionFull{State: co.Init(), Store: collectionMapStore{MeterBuf: map[int64]bool{}}})
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
				return difftest.Out{Sends: map[string][]reflect.Value{"plc": difftest.Values(out.Plc)}, Action: out.Action, Persist: out.Persist}, err
			},
		},
		{
			Module: "Commands", Role: "meter", Params: cm,
			Wide:  map[string]int64{"MaxCommands": 4, "MaxRestarts": 3},
			Init:  func() reflect.Value { s := cm.Init(); return reflect.ValueOf(&s) },
			Event: func() reflect.Value { return reflect.ValueOf(&commandsEvent{}) },
			Step: func(s, ev reflect.Value) (difftest.Out, error) {
				var out commandsOutput
				err := cm.Step(s.Interface().(*commandsState), *ev.Interface().(*commandsEvent), &out)
				return difftest.Out{Action: out.Action, Persist: out.Persist}, err
			},
		},
		{
			// The logbook is a @store: the state is the machine's beside
			// the map-backed reference store. A walk ends when the logbook
			// is full and no install is in progress.
			Module: "Firmware", Role: "meter", Params: fw, MinSteps: 1000,
			Small: map[string]int64{"LogCap": 1},
			Wide:  map[string]int64{"LogCap": 8, "MaxFaults": 4},
			Init: func() reflect.Value {
				return reflect.ValueOf(&firmwareFull{State: fw.Init(), Store: firmwareMapStore{Logbook: map[firmwareEntry]bool{}}})
			},
			Event: func() reflect.Value { return reflect.ValueOf(&firmwareEvent{}) },
			Step: func(s, ev reflect.Value) (difftest.Out, error) {
				full := s.Interface().(*firmwareFull)
				fw.Store = &full.Store
				var out firmwareOutput
				err := fw.Step(&full.State, *ev.Interface().(*firmwareEvent), &out)
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
			Module: "Tamper", Role: "meter", Params: tp,
			Small: map[string]int64{"MaxEvents": 1},
			Wide:  map[string]int64{"MaxEvents": 3, "MaxCrashes": 2, "MaxRestarts": 2, "MaxOutages": 2, "MaxDrops": 2, "MaxInjects": 2},
			Init:  func() reflect.Value { s := tp.Init(); return reflect.ValueOf(&s) },
			Event: func() reflect.Value { return reflect.ValueOf(&tamperEvent{}) },
			Step: func(s, ev reflect.Value) (difftest.Out, error) {
				var out tamperOutput
				err := tp.Step(s.Interface().(*tamperState), *ev.Interface().(*tamperEvent), &out)
				return difftest.Out{Sends: map[string][]reflect.Value{"plc": difftest.Values(out.Plc)}, Action: out.Action, Persist: out.Persist}, err
			},
		},
	}
}

// TestDiffMachineRandom: 100 random walks of 100 steps per module (rapid),
// every step checking every event of the meter against the spec.
func TestDiffMachineRandom(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.Module, func(t *testing.T) {
			st := difftest.Random(t, specDir, ad, 100)
			t.Logf("%s: %d steps, %d Step calls (%d refused by a guard, %d only by a dropped model bound); other roles' writes to the meter's state: %v",
				ad.Module, st.Steps, st.StepCalls, st.Refused, st.BoundOnly, st.Foreign)
			want := 10000
			if ad.MinSteps > 0 {
				want = ad.MinSteps
			}
			if !difftest.InMutantChild() && !testing.Short() && st.Steps < want {
				t.Errorf("only %d differential steps, want >= %d", st.Steps, want)
			}
		})
	}
}

// TestDiffMachineExhaustive: every reachable state of each module's model,
// every event of the meter.
func TestDiffMachineExhaustive(t *testing.T) {
	for _, ad := range adapters() {
		t.Run(ad.Module, func(t *testing.T) {
			st := difftest.Exhaustive(t, specDir, ad)
			t.Logf("%s: %d reachable states, %d Step calls checked", ad.Module, st.States, st.StepCalls)
		})
	}
}

// TestDiffCatchesMutants: a machine with one guard flipped or one
// assignment changed must fail the differential tests.
func TestDiffCatchesMutants(t *testing.T) {
	difftest.Mutants(t, specDir, target(t), "TestDiffMachine", []gen.Mutation{
		{Action: "Seal", Guard: 1},                    // Channel: next < reserved flipped
		{Action: "Reserve", Guard: 1},                 // Channel: next = reserved flipped
		{Action: "Agree", Guard: 1},                   // Channel: k > mkey flipped
		{Action: "Take", Assign: "taken"},             // Collection: taken' = taken + 1 + 1
		{Action: "EndToEndAcked", Assign: "meterBuf"}, // Collection: meterBuf' emptied
		{Action: "ExecuteDisconnect", Guard: 5},       // Commands: the two approvers differ, flipped
		{Action: "ExecuteDisconnect", Guard: 3},       // Commands: the first approval checked, flipped
		{Action: "Seal", Assign: "next"},              // Channel: next' = next + 1 + 1
		{Action: "Crash", Assign: "next"},             // Channel: next' = reserved + 1
		{Action: "Execute", Guard: 1},                 // Commands: SignedBy(m, "headend") flipped
		{Action: "Execute", Guard: 2},                 // Commands: m.id > last flipped
		{Action: "Execute", Assign: "last"},           // Commands: last' changed
		{Action: "ExecuteTrustList", Guard: 3},        // Commands: ListSignedBy(l, "trustlist") flipped
		{Action: "ExecuteTrustList", Guard: 4},        // Commands: l.ver > tlVer flipped
		{Action: "ExecuteTrustList", Assign: "tlVer"}, // Commands: tlVer' changed
		{Action: "Offer", Guard: 3},                   // Firmware: entries < LogCap flipped (the logbook overwritten)
		{Action: "Activate", Guard: 1},                // Firmware: activation before the image is written
		{Action: "Settle", Guard: 1},                  // Firmware: pc = "settle" flipped
		{Action: "Offer", Assign: "tslot"},            // Firmware: the target slot changed
		{Action: "SelfTestFail", Assign: "entries"},   // Firmware: the entry count skips one
		{Action: "RaiseFloor", Assign: "floor"},       // Firmware: floor' raised one more
		{Action: "RollBack", Assign: "act"},           // Firmware: the old slot not made active again
		{Action: "Settle", Assign: "entries"},         // Firmware: an interrupted attempt counted wrong
		// Persist and Crash act on sensed, which is empty but in the mutant
		// event_not_persisted: their mutants are equivalent to the machine.
		{Action: "Detect", Assign: "mlog"},     // Tamper: the event not persisted
		{Action: "Send", Guard: 1},             // Tamper: e \in mlog flipped
		{Action: "Detect", Assign: "seq"},      // Tamper: an event number skipped
		{Action: "ReceiveAck", Assign: "mlog"}, // Tamper: the log forgotten on any ack
	})
}
