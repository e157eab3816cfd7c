package meter

import (
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
)

// TestReadingKeptUntilGatewayAck: every signed item the meter hands out
// (blocks and an on-demand reading) is kept, through compactions and a
// power loss, until the gateway acknowledges it (the Collection machine's
// Acked); an acknowledged one is dropped, the others stay, and counters
// continue above every one signed.
func TestReadingKeptUntilGatewayAck(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	var ctrs []uint64
	for d := int64(20000); d < 20080; d++ { // beyond blockRetention: old blocks would be compacted away
		measureDay(t, m, d)
		r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: d})
		_, ctr, err := protocol.PeekData(r.Body, true)
		if err != nil {
			t.Fatal(err)
		}
		ctrs = append(ctrs, ctr)
	}
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
	_, rc, err := protocol.PeekData(r.Body, false)
	if err != nil {
		t.Fatal(err)
	}
	ctrs = append(ctrs, rc)
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	if a := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUAck, Counter: ctrs[0]}); a.Status != protocol.StatusOK {
		t.Fatalf("ack: %+v", a)
	}
	m.Close()
	if m, err = New(k.cfg); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	if m.kept(ctrs[0]) {
		t.Fatalf("item %d kept after the gateway's ack", ctrs[0])
	}
	for _, c := range ctrs[1:] {
		if !m.kept(c) {
			t.Fatalf("item %d dropped before the gateway's ack (%d kept)", c, m.unacknowledged())
		}
	}
	if got := m.coll.m.State.Taken; got != int64(rc) {
		t.Fatalf("taken %d after restart, last counter signed %d", got, rc)
	}
}
