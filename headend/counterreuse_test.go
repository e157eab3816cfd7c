package headend

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestCounterReuseRefusedFirstKept plays spec/Market.tla's Conflict and
// S1_FirstKept on the head-end: a compromised meter (or whoever holds its
// key) signs a second, different block under a counter already stored, in
// a later batch and in the same batch as the first. The second is refused
// with ErrCounterReuse (class replay) and audited, the first stays stored
// and logged; the same block sent again is a duplicate, not a reuse.
func TestCounterReuseRefusedFirstKept(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, other := f.block(t, 1, 0), f.block(t, 1, 1)
	stored := func() []byte {
		t.Helper()
		var raw []byte
		if err := f.store.db.QueryRow(f.store.rebind(`SELECT raw FROM data WHERE meter = ? AND counter = ?`), f.meter[:], 1).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: first}})
	if err != nil || res.Stored != 1 {
		t.Fatalf("first: %+v %v", res, err)
	}
	n, _, err := f.store.logState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err = f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: other}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 0 || res.Duplicates != 0 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrCounterReuse) {
		t.Fatalf("a different block under counter 1: %+v", res)
	}
	if len(res.Acks) != 0 {
		t.Fatalf("the refused block is acknowledged end to end: %d acknowledgements", len(res.Acks))
	}
	if c := rejectClass(res.Rejected[0]); c != wan.RejectReplay {
		t.Fatalf("class %v, want replay", c)
	}
	if !bytes.Equal(stored(), first) {
		t.Fatal("the second block replaced the first")
	}
	if m, _, err := f.store.logState(ctx); err != nil || m != n {
		t.Fatalf("log of %d leaves after the refusal, want %d (%v)", m, n, err)
	}
	res, err = f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: first}})
	if err != nil || res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Fatalf("the first block again: %+v %v", res, err)
	}
	// Both in one batch, under a counter not stored yet: the first of the
	// batch is kept.
	a, b := f.block(t, 2, 2), f.block(t, 2, 3)
	res, err = f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: a}, {Kind: wan.KindBlock, Raw: b}})
	if err != nil || res.Stored != 1 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrCounterReuse) {
		t.Fatalf("two blocks under counter 2 in one batch: %+v %v", res, err)
	}
	// Only the kept block is acknowledged end to end.
	if len(res.Acks) != 1 {
		t.Fatalf("%d acknowledgements for one stored and one refused block, want 1", len(res.Acks))
	}
	if ack, err := protocol.PeekDataAck(res.Acks[0]); err != nil || ack.Digest != protocol.DataDigest(a) {
		t.Fatalf("the acknowledgement is not the kept block's: %+v %v", ack, err)
	}
	log, err := f.store.auditLog()
	if err != nil {
		t.Fatal(err)
	}
	reuses := 0
	for _, e := range log {
		if e.Action == "counter-reuse" && strings.Contains(e.Detail, "the item stored first is kept") {
			reuses++
		}
	}
	if reuses != 2 {
		t.Fatalf("%d counter-reuse audit entries, want 2: %+v", reuses, log)
	}
}
