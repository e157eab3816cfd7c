package meter

import (
	"math"
	"testing"
)

// readingState is a meter that has taken 16 readings the gateway has not
// yet acknowledged: the reading path inserts into the middle of its buffer's
// capacity, not into an empty set.
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
