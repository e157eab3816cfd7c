package headend

import (
	"context"
	"sync"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestGroupCommitOverlappingBatches: gateways ingest concurrently, with
// re-deliveries inside a batch, across batches committed in one group and
// of items committed before. Every item is stored once and logged once,
// the counts of the answers add up, and each stored block's log index
// proves the block it names (a duplicate given an index would shift every
// later one).
func TestGroupCommitOverlappingBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.he.cfg.LogKey = key(t)
	const unique = 60
	blocks := make([][]byte, unique+1)
	for c := 1; c <= unique; c++ {
		blocks[c] = f.block(t, uint64(c), c%50)
	}
	// 8 gateways, 4 batches each: batch j of gateway g holds counters
	// g*5+j*7+k (mod unique), k < 12, and its first item twice.
	const gateways, rounds, per = 8, 4, 12
	var mu sync.Mutex
	stored, dups, sent := 0, 0, 0
	var wg sync.WaitGroup
	for g := range gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range rounds {
				var items []wan.Item
				for k := range per {
					c := (g*5+j*7+k)%unique + 1
					items = append(items, wan.Item{Kind: wan.KindBlock, Raw: blocks[c]})
				}
				items = append(items, items[0])
				res, err := f.he.Ingest(ctx, "gw", items)
				if err != nil || len(res.Rejected) > 0 {
					t.Errorf("gateway %d batch %d: %+v %v", g, j, res, err)
					return
				}
				mu.Lock()
				stored += res.Stored
				dups += res.Duplicates
				sent += len(items)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Then every block once more, in one batch: all duplicates.
	var all []wan.Item
	for c := 1; c <= unique; c++ {
		all = append(all, wan.Item{Kind: wan.KindBlock, Raw: blocks[c]})
	}
	res, err := f.he.Ingest(ctx, "gw", all)
	if err != nil {
		t.Fatal(err)
	}
	stored += res.Stored
	dups += res.Duplicates
	sent += len(all)
	items, _, err := f.store.Counts()
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[int]bool{}
	for g := range gateways {
		for j := range rounds {
			for k := range per {
				distinct[(g*5+j*7+k)%unique+1] = true
			}
		}
	}
	if items != len(distinct) || stored != items || stored+dups != sent {
		t.Fatalf("%d rows, %d acknowledged as stored, %d as duplicates of %d sent; want %d rows", items, stored, dups, sent, len(distinct))
	}
	sth, err := f.he.signTreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sth.Size != uint64(items) {
		t.Fatalf("log of %d leaves for %d stored items", sth.Size, items)
	}
	for c := range distinct {
		sb, err := protocol.UnmarshalSignedBlock(blocks[c])
		if err != nil {
			t.Fatal(err)
		}
		ev, err := f.he.evidence(ctx, f.meter, uint64(c))
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.VerifyLeaf(sb.Sign1); err != nil {
			t.Fatalf("block %d at log index %d: %v", c, ev.Index, err)
		}
	}
}
