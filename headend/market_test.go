package headend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/wan"
)

// TestMarketMachineDecidesTheSwitch: the meter's Market machine, not the
// contracts table, draws the supplier switch's boundary. A contract of the
// old supplier left open past the switch (a second row from noon on) does
// not let it read the new supplier's slot; the new supplier is served its
// slot only once the head-end's clock has reached the switch (Tick); the
// steps are logged under market/<meter>-<switch>/headend.
func TestMarketMachineDecidesTheSwitch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := t.TempDir()
	td, err := statemachine.NewTraceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer td.Close()
	cfg := f.he.cfg
	cfg.Trace = td
	f.he = New(cfg)
	if _, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}}); err != nil {
		t.Fatal(err)
	}
	noon := f.t0.Add(12 * time.Hour)
	day := [2]time.Time{f.t0, f.t0.Add(24 * time.Hour)}
	if err := f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := f.store.switchSupplier(f.meter, "supplier B", noon, f.t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The old supplier's contract left open by mistake: the table alone
	// would serve it the afternoon.
	if err := f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, noon.Add(time.Hour), f.t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.now = f.t0.Add(6 * time.Hour) // before the switch
	if _, err := f.he.fetch(ctx, f.parts["supplier B"], f.meter, day[0], day[1]); !errors.Is(err, ErrNotEntitled) {
		t.Fatalf("B before the switch took effect: %v", err)
	}
	f.now = f.t0.Add(30 * time.Hour)
	a, err := f.he.fetch(ctx, f.parts["supplier A"], f.meter, day[0], day[1])
	if err != nil || len(a) != 48 || a[47].Interval.Index != 47 {
		t.Fatalf("supplier A: %d intervals, %v, want the 48 before noon", len(a), err)
	}
	b, err := f.he.fetch(ctx, f.parts["supplier B"], f.meter, day[0], day[1])
	if err != nil || len(b) != 48 || b[0].Interval.Index != 48 {
		t.Fatalf("supplier B: %d intervals, %v, want the 48 from noon", len(b), err)
	}
	log, err := os.ReadFile(filepath.Join(dir, "market", fmt.Sprintf("%x-%d", f.meter[:], noon.Unix()), "headend.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		for _, a := range []string{"Tick", "Fetch"} {
			if strings.Contains(l, `"action":"`+a+`"`) {
				actions = append(actions, a)
			}
		}
	}
	// B's first fetch: no step enabled (slot 1 is A's, slot 2 later than
	// now); then the Tick, A's slot 1 (slot 2 refused), B's slot 2.
	if got := strings.Join(actions, " "); got != "Tick Fetch Fetch" {
		t.Fatalf("logged steps %q, want Tick Fetch Fetch:\n%s", got, log)
	}
}
