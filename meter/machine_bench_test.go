package meter

import (
	"math"
	"testing"
)

// readingState is a meter that has taken 16 readings the gateway has not
// yet acknowledged (they are in its @store meterBuf, outside the state).
func readingState(p *collectionParams) collectionState {
	s := p.Init()
	var out collectionOutput
	for i := 0; i < 16; i++ {
		if err := p.Step(&s, collectionEvent{Kind: collectionMeasure}, &out); err != nil {
			panic(err)
		}
	}
	return s
}

// meterCollection is the Collection machine as the meter runs it
// (initCollection): its params with the meter's store of unacknowledged
// items, its reused output, the statemachine.Instance it steps through;
// without a recorder and without the journal write of Persist, which is
// the step's I/O, not its decision.
func meterCollection(b *testing.B) *collection {
	c := &collection{}
	c.unacked.set = map[int64]keptItem{}
	c.p.Store = &c.unacked
	c.out = collectionOutput{Plc: make([]int64, 0, 1), MeterBufAdd: make([]int64, 0, 1), MeterBufRemove: make([]int64, 0, 1)}
	c.m = collectionMachine{Role: "meter", Name: "meter", Step: c.p.Step, State: readingState(&c.p),
		Action: func(o *collectionOutput) string { return o.Action }}
	return c
}

// BenchmarkCollectionTakeStep is the meter's reading path as it runs it:
// one Take through the meter's Collection Instance (Step, clock tick),
// the counter of the next signed item decided; no allocation.
func BenchmarkCollectionTakeStep(b *testing.B) {
	c := meterCollection(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.m.Apply(0, collectionEvent{Kind: collectionMeasure}, &c.out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollectionAckStep is the head-end's end-to-end acknowledgement
// as the meter runs it once verified: one EndToEndAcked through the meter's Collection Instance and
// the removal from its store of unacknowledged items.
func BenchmarkCollectionAckStep(b *testing.B) {
	c := meterCollection(b)
	b.ReportAllocs()
	for b.Loop() {
		c.unacked.set[7] = keptItem{}
		if _, err := c.m.Apply(0, collectionEvent{Kind: collectionE2eAck, I: collectionItem{R: 7, Signed: true}}, &c.out); err != nil {
			b.Fatal(err)
		}
		c.unacked.apply(&c.out)
	}
}

// TestStepReadingPathAllocatesNothing: the generated Step of the meter's
// reading path (take a reading; reserve counters, seal, lose power) never
// allocates, given an output buffer with capacity.
func TestStepReadingPathAllocatesNothing(t *testing.T) {
	co := &collectionParams{}
	base := readingState(co)
	var cout collectionOutput
	if a := testing.AllocsPerRun(1000, func() {
		s := base
		if err := co.Step(&s, collectionEvent{Kind: collectionMeasure}, &cout); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("measure: %v allocs per step", a)
	}
	ch := &channelParams{Block: 256, MaxCtr: math.MaxUint32 + 1}
	cbase := ch.Init()
	out := channelOutput{Net: make([]channelNet, 0, 1)}
	if a := testing.AllocsPerRun(1000, func() {
		s := cbase
		for _, k := range []channelEventKind{channelReserve, channelSend, channelSend, channelPowerLoss, channelSend} {
			err := ch.Step(&s, channelEvent{Kind: k}, &out)
			if (err != nil) != (k == channelSend && s.Next == s.Reserved) {
				t.Fatalf("%v: %v", k, err)
			}
		}
		_ = ch.Step(&s, channelEvent{Kind: channelReserve}, &out) // refused: a preallocated GuardError
	}); a != 0 {
		t.Errorf("channel: %v allocs per sequence", a)
	}
}

// BenchmarkStepMeasure is one generated Step of the meter's reading path
// (Collection's Take) from a state with 16 unacknowledged readings,
// including the copy of that state.
func BenchmarkStepMeasure(b *testing.B) {
	p := &collectionParams{}
	base := readingState(p)
	var out collectionOutput
	b.ReportAllocs()
	for b.Loop() {
		s := base
		if err := p.Step(&s, collectionEvent{Kind: collectionMeasure}, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepSeal is one generated Step sealing an APDU (Channel's Seal):
// counter check, history insert and one message out.
func BenchmarkStepSeal(b *testing.B) {
	p := &channelParams{Block: 256, MaxCtr: math.MaxUint32 + 1}
	base := p.Init()
	out := channelOutput{Net: make([]channelNet, 0, 1)}
	if err := p.Step(&base, channelEvent{Kind: channelReserve}, &out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := base
		if err := p.Step(&s, channelEvent{Kind: channelSend}, &out); err != nil {
			b.Fatal(err)
		}
	}
}
