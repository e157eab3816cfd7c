package meter

import (
	"math"
	"testing"
)

// readingState is a meter that has taken 16 readings the gateway has not
// yet acknowledged (they are in its @store meterBuf, outside the state).
func readingState(p *CollectionParams) CollectionState {
	s := p.Init()
	var out CollectionOutput
	for i := 0; i < 16; i++ {
		if err := p.Step(&s, CollectionEvent{Kind: CollectionMeasure}, &out); err != nil {
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
	c.unacked.set = map[int64]struct{}{}
	c.p.Store = &c.unacked
	c.out = CollectionOutput{Plc: make([]int64, 0, 1), MeterBufAdd: make([]int64, 0, 1), MeterBufRemove: make([]int64, 0, 1)}
	c.m = collectionMachine{Role: "meter", Name: "meter", Step: c.p.Step, State: readingState(&c.p),
		Action: func(o *CollectionOutput) string { return o.Action }}
	return c
}

// BenchmarkCollectionTakeStep is the meter's reading path as it runs it:
// one Take through the meter's Collection Instance (Step, clock tick),
// the counter of the next signed item decided; no allocation.
func BenchmarkCollectionTakeStep(b *testing.B) {
	c := meterCollection(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.m.Apply(0, CollectionEvent{Kind: CollectionMeasure}, &c.out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollectionAckStep is the gateway's acknowledgement as the
// meter runs it: one Acked through the meter's Collection Instance and
// the removal from its store of unacknowledged items.
func BenchmarkCollectionAckStep(b *testing.B) {
	c := meterCollection(b)
	b.ReportAllocs()
	for b.Loop() {
		c.unacked.set[7] = struct{}{}
		if _, err := c.m.Apply(0, CollectionEvent{Kind: CollectionAck, R: 7}, &c.out); err != nil {
			b.Fatal(err)
		}
		c.unacked.apply(&c.out)
	}
}

// TestStepReadingPathAllocatesNothing: the generated Step of the meter's
// reading path (take a reading; reserve counters, seal, lose power) never
// allocates, given an output buffer with capacity.
func TestStepReadingPathAllocatesNothing(t *testing.T) {
	co := &CollectionParams{}
	base := readingState(co)
	var cout CollectionOutput
	if a := testing.AllocsPerRun(1000, func() {
		s := base
		if err := co.Step(&s, CollectionEvent{Kind: CollectionMeasure}, &cout); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("measure: %v allocs per step", a)
	}
	ch := &ChannelParams{Block: 256, MaxCtr: math.MaxUint32 + 1}
	cbase := ch.Init()
	out := ChannelOutput{Net: make([]ChannelNet, 0, 1)}
	if a := testing.AllocsPerRun(1000, func() {
		s := cbase
		for _, k := range []ChannelEventKind{ChannelReserve, ChannelSend, ChannelSend, ChannelPowerLoss, ChannelSend} {
			err := ch.Step(&s, ChannelEvent{Kind: k}, &out)
			if (err != nil) != (k == ChannelSend && s.Next == s.Reserved) {
				t.Fatalf("%v: %v", k, err)
			}
		}
		_ = ch.Step(&s, ChannelEvent{Kind: ChannelReserve}, &out) // refused: a preallocated GuardError
	}); a != 0 {
		t.Errorf("channel: %v allocs per sequence", a)
	}
}

// BenchmarkStepMeasure is one generated Step of the meter's reading path
// (Collection's Take) from a state with 16 unacknowledged readings,
// including the copy of that state.
func BenchmarkStepMeasure(b *testing.B) {
	p := &CollectionParams{}
	base := readingState(p)
	var out CollectionOutput
	b.ReportAllocs()
	for b.Loop() {
		s := base
		if err := p.Step(&s, CollectionEvent{Kind: CollectionMeasure}, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepSeal is one generated Step sealing an APDU (Channel's Seal):
// counter check, history insert and one message out.
func BenchmarkStepSeal(b *testing.B) {
	p := &ChannelParams{Block: 256, MaxCtr: math.MaxUint32 + 1}
	base := p.Init()
	out := ChannelOutput{Net: make([]ChannelNet, 0, 1)}
	if err := p.Step(&base, ChannelEvent{Kind: ChannelReserve}, &out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := base
		if err := p.Step(&s, ChannelEvent{Kind: ChannelSend}, &out); err != nil {
			b.Fatal(err)
		}
	}
}
