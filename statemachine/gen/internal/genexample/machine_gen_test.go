package genexample

import (
	"flag"
	"reflect"
	"testing"

	"github.com/verimeter/verimeter/statemachine/gen"
	"github.com/verimeter/verimeter/statemachine/gen/difftest"
)

var writeGen = flag.Bool("write", false, "rewrite machine_gen.go when it is stale")

// The example is its own spec directory; the path is relative to it.
var target = gen.Target{Role: "gateway", Path: "machine_gen.go", Package: "genexample", Modules: []string{"Window"}}

func TestGenExampleUpToDate(t *testing.T) {
	difftest.UpToDate(t, ".", ".", target, *writeGen)
}

func adapter() *difftest.Adapter {
	p := &WindowParams{}
	out := WindowOutput{Acks: make([]WindowAcks, 0, 1)}
	return &difftest.Adapter{
		Module: "Window", Role: "gateway", Params: p,
		Wide:  map[string]int64{"MaxCtr": 6, "MaxKeys": 4},
		Init:  func() reflect.Value { s := p.Init(); return reflect.ValueOf(&s) },
		Event: func() reflect.Value { return reflect.ValueOf(&WindowEvent{}) },
		Step: func(s, ev reflect.Value) (difftest.Out, error) {
			err := p.Step(s.Interface().(*WindowState), *ev.Interface().(*WindowEvent), &out)
			var acks []reflect.Value
			for _, m := range out.Acks {
				acks = append(acks, reflect.ValueOf(m))
			}
			return difftest.Out{Sends: map[string][]reflect.Value{"acks": acks}, Action: out.Action, Persist: out.Persist}, err
		},
	}
}

func TestDiffMachineRandom(t *testing.T) {
	st := difftest.Random(t, ".", adapter(), 60)
	t.Logf("%d steps, %d Step calls (%d refused by a guard, %d only by a dropped model bound)", st.Steps, st.StepCalls, st.Refused, st.BoundOnly)
}

func TestDiffMachineExhaustive(t *testing.T) {
	st := difftest.Exhaustive(t, ".", adapter())
	t.Logf("%d reachable states, %d Step calls checked", st.States, st.StepCalls)
}

func TestDiffCatchesMutants(t *testing.T) {
	difftest.Mutants(t, ".", target, "TestDiffMachine", []gen.Mutation{
		{Action: "Receive", Guard: 2},           // m.c \notin seen flipped
		{Action: "Receive", Assign: "dup"},      // in the THEN branch: dup' negated
		{Action: "Receive", Assign: "accepted"}, // in the THEN branch: accepted' emptied
		{Action: "Rekey", Assign: "key"},        // key' = key + 1 + 1
	})
}
