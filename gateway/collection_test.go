package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

var (
	itemKeyOnce sync.Once
	itemKey     *ecdsa.PrivateKey
)

// signedItem is a meter's signed reading (day 0) or block of day with the
// counter, under a test key (the gateway does not verify; it reads the
// meter and counter).
func signedItem(meter protocol.SystemTitle, counter uint64, day int64) []byte {
	itemKeyOnce.Do(func() { itemKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	s, err := protocol.NewMeterSigner(meter, itemKey, rand.Reader)
	if err != nil {
		panic(err)
	}
	if day == 0 {
		r, err := s.SignReading(protocol.Reading{Meter: meter, Counter: counter, Time: 1, OBIS: protocol.ActiveEnergyImport, Value: counter})
		if err != nil {
			panic(err)
		}
		return r
	}
	iv := make([]protocol.Interval, 96)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: 1}
	}
	b, err := s.SignBlock(protocol.BlockHeader{Meter: meter, Counter: counter, Start: day * 86400, Period: 900, OBIS: protocol.ActiveEnergyImport, Register: 96}, iv)
	if err != nil {
		panic(err)
	}
	w, err := b.Marshal()
	if err != nil {
		panic(err)
	}
	return w
}

// flakyHeadEnd commits nothing and answers nothing while down.
type flakyHeadEnd struct {
	down bool
	got  int
}

func (h *flakyHeadEnd) Ingest(_ context.Context, _ string, items []wan.Item) (wan.IngestResult, error) {
	if h.down {
		return wan.IngestResult{}, ErrWANDown
	}
	h.got += len(items)
	return wan.IngestResult{Stored: len(items)}, nil
}

// TestQueueKeptUntilHeadEndAck: a block the gateway collected stays in its
// queue (and its Collection machine's queue) through a WAN failure and a
// restart, and leaves only once the head-end answered after its commit
// (the machine's Uploaded); an upload of an item not queued is refused
// by the machine (Upload: i \in queue).
func TestQueueKeptUntilHeadEndAck(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 5}, protocol.SystemTitle{'V', 'G', 'W', 5}
	mkeys, gkeys, gk := agreeKeys(t, meter, gwTitle)
	bm := &blockMeter{title: meter}
	bm.send, _ = protocol.NewSender(mkeys, protocol.NewMemStore())
	bm.recv, _ = protocol.NewReceiver(mkeys)
	cfg := Config{Name: "g5", Title: gwTitle, ChannelKey: gk, Rand: rand.Reader, Segment: bm, Dir: t.TempDir()}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	openSession(t, g, meter, gkeys)
	for d := int64(20000); d < 20003; d++ {
		if err := g.CollectDay(meter, d); err != nil {
			t.Fatal(err)
		}
	}
	he := &flakyHeadEnd{down: true}
	if _, _, err := g.Flush(context.Background(), he, 2); !errors.Is(err, ErrWANDown) {
		t.Fatalf("flush with the WAN down: %v", err)
	}
	if g.Queue().Len() != 3 || !g.Queue().has(meter, 1) {
		t.Fatalf("%d queued after a failed upload, want 3", g.Queue().Len())
	}
	g.Close()
	if g, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.upload([]queued{{id: itemRef{meter: meter, counter: 9}, ok: true}}, &g.batch); !errors.Is(err, ErrNotQueued) {
		t.Fatalf("upload of an item not queued: %v", err)
	}
	he.down = false
	if n, _, err := g.Flush(context.Background(), he, 2); err != nil || n != 3 || g.Queue().Len() != 0 || g.Queue().has(meter, 1) {
		t.Fatalf("flush: %d sent, %v, %d still queued", n, err, g.Queue().Len())
	}
}
