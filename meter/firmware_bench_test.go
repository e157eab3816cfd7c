package meter

import (
	"testing"

	"github.com/verimeter/verimeter/statemachine"
)

// BenchmarkFirmwareStep: one step of the generated Firmware machine as
// the core takes it, a refused offer (the logbook entry asked for in the
// output), on a state reset each time; out's slices are reused, so the
// step does not allocate.
func BenchmarkFirmwareStep(b *testing.B) {
	store := &firmwareMapStore{Logbook: map[firmwareEntry]bool{}}
	p := &firmwareParams{FactoryV: 4, FactorySv: 2, LogCap: 64, Store: store}
	init := p.Init()
	var out firmwareOutput
	ev := firmwareEvent{Kind: firmwareOffer, M: firmwareManifest{V: 3, Sv: 2, Lr: true}, Chk: "ok"}
	ev.M.Sigs.Insert("manufacturer", statemachine.CompareString)
	b.ReportAllocs()
	for b.Loop() {
		s := init
		if err := p.Step(&s, ev, &out); err != nil || len(out.LogbookAdd) != 1 {
			b.Fatal(err)
		}
	}
}
