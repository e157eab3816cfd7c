package headend

import (
	"fmt"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

// TestSeedContractAfterSwitch: a contract of the configuration is seeded
// once; seeding it again (a restart of the head-end, or a second head-end
// on the same database) neither duplicates it nor, after a supplier switch
// ended it, revives it: from the switch on the new supplier alone is
// entitled.
func TestSeedContractAfterSwitch(t *testing.T) {
	f := newFixture(t)
	end := f.t0.Add(30 * 24 * time.Hour)
	seed := func() bool {
		t.Helper()
		added, err := f.store.SeedContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, end)
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !seed() {
		t.Fatal("the first seed was not taken")
	}
	if seed() {
		t.Fatal("a second seed of the same contract was taken")
	}
	noon := f.t0.Add(12 * time.Hour)
	if err := f.store.switchSupplier(f.meter, "supplier B", noon, end); err != nil {
		t.Fatal(err)
	}
	if seed() {
		t.Fatal("the seed revived the contract the switch ended")
	}
	for _, c := range []struct {
		at   time.Time
		want string
	}{{f.t0.Add(time.Hour), "[supplier A]"}, {noon.Add(time.Hour), "[supplier B]"}} {
		got, err := f.store.supplierAt(f.meter, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("suppliers at %s: %v, want %s", c.at, got, c.want)
		}
	}
}
