//go:build linux

package check

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/memtest"
)

const touchChild = "VERIMETER_TOUCH_CHILD"

// TestTablesTouchedWhenMade checks that the fingerprint set and the claim
// table, made from memory fresh from the system, are backed by pages of
// their own as they are made, so that their probes (reads first) take no
// fault and their inserts no second one (value.TouchPages). It runs in a
// process of its own, where a new table is sure to be fresh memory: in
// this one it may reuse memory the collector freed and the runtime
// cleared, which would hide the difference.
func TestTablesTouchedWhenMade(t *testing.T) {
	if memtest.RaceEnabled {
		t.Skip("the race detector's shadow memory takes faults of its own at the claim table's atomic accesses; run without -race")
	}
	if os.Getenv(touchChild) == "1" {
		tablesTouched(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTablesTouchedWhenMade$", "-test.v")
	// disablethp: the heap in small pages, a fault each, also where the
	// system backs memory by huge pages unasked (transparent huge pages
	// "always")
	cmd.Env = append(os.Environ(), touchChild+"=1", "GODEBUG="+strings.TrimPrefix(os.Getenv("GODEBUG")+",disablethp=1", ","))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestTablesTouchedWhenMade") {
		t.Fatalf("the check in its own process failed: %v\n%s", err, out)
	}
}

func tablesTouched(t *testing.T) {
	const slots = 1 << 21
	pages := int64(slots * 16 / 4096) // the claim table's; the set's half of it
	for _, tc := range []struct {
		name  string
		pages int64
		make  func() func(i uint64) // returns a probe-then-insert of key i
	}{
		{"claims", pages, func() func(uint64) {
			tab := newClaimTable(slots)
			return func(i uint64) { tab.claim(1<<40|i*256, 7) } // 256 slots a page
		}},
		{"fpset", pages / 2, func() func(uint64) {
			s := NewFPSet(slots * 3 / 4)
			return func(i uint64) { s.Insert(1<<40 | i*512) } // 512 a page
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := memtest.MinorFaults(t)
			insert := tc.make()
			made := memtest.MinorFaults(t) - before
			before = memtest.MinorFaults(t)
			// one key a page, in the order of the slots: each probe reads
			// a slot no one read before, then writes it
			for i := uint64(0); i < uint64(tc.pages); i++ {
				insert(i)
			}
			used := memtest.MinorFaults(t) - before
			if made < tc.pages*9/10 || used > tc.pages/20 {
				t.Fatalf("%d pages: %d faults making the table (want about as many), %d using it (want none)", tc.pages, made, used)
			}
		})
	}
}
