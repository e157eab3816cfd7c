package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// tamperPLCMeter is the meter's end of a session for the tamper tests: it
// answers PDUTamperEvents with its events (and whatever else the test put
// in the batch) and takes PDUTamperAcks.
type tamperPLCMeter struct {
	send   *protocol.Sender
	recv   *protocol.Receiver
	events [][]byte
	acks   [][]byte
}

func (m *tamperPLCMeter) Exchange(_ protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	_, plain, err := m.recv.Open(nil, apdu)
	if err != nil {
		return nil, err
	}
	p, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		return nil, err
	}
	out := protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}
	switch p.Kind {
	case protocol.PDUTamperEvents:
		b, err := (&protocol.TamperBatch{Clock: 7, Items: m.events}).Marshal()
		if err != nil {
			return nil, err
		}
		out = protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Body: b}
	case protocol.PDUTamperAcks:
		b, err := protocol.UnmarshalTamperBatch(p.Body)
		if err != nil {
			return nil, err
		}
		m.acks = append(m.acks, b.Items...)
	}
	w, err := out.Marshal()
	if err != nil {
		return nil, err
	}
	a, err := m.send.Seal(nil, protocol.TagDataNotification, w)
	return [][]byte{a}, err
}

func (m *tamperPLCMeter) Refused(protocol.SystemTitle) []error { return nil }

// tamperHeadEnd acknowledges every event it gets, or is unreachable.
type tamperHeadEnd struct {
	key     *ecdsa.PrivateKey
	down    bool
	batches int
}

func (h *tamperHeadEnd) Tamper(_ context.Context, _ string, b protocol.TamperBatch) (protocol.TamperBatch, error) {
	if h.down {
		return protocol.TamperBatch{}, ErrWANDown
	}
	h.batches++
	out := protocol.TamperBatch{Clock: b.Clock + 1, Items: [][]byte{}}
	for _, ev := range b.Items {
		e, err := protocol.PeekEvent(ev)
		if err != nil {
			return out, err
		}
		a, err := protocol.SignTamperAck(protocol.TamperAck{Meter: e.Meter, Seq: e.Counter, Digest: protocol.EventDigest(ev)}, h.key, protocol.SubjectKeyID(&h.key.PublicKey), rand.Reader)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, a)
	}
	return out, nil
}

// TestTamperQueueIsDurableAndDropsOnlyOnAck: the gateway queues each of a
// meter's events once (a resend is not queued again; an item it cannot
// read is refused), keeps them across a WAN outage and a restart, drops
// them only on the head-end's acknowledgement (durably: not back after
// another restart) and relays the acknowledgements to the meter.
func TestTamperQueueIsDurableAndDropsOnlyOnAck(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 4}, protocol.SystemTitle{'V', 'G', 'W', 4}
	mkeys, gkeys, gk := agreeKeys(t, meter, gwTitle)
	mk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := protocol.NewMeterSigner(meter, mk, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tm := &tamperPLCMeter{}
	for n, code := range []uint16{protocol.EventCoverOpened, protocol.EventMagneticField} {
		ev, err := signer.SignEvent(protocol.Event{Meter: meter, Counter: uint64(n + 1), Time: 5, Code: code})
		if err != nil {
			t.Fatal(err)
		}
		tm.events = append(tm.events, ev)
	}
	if tm.send, err = protocol.NewSender(mkeys, protocol.NewMemStore()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	traces, err := statemachine.NewTraceDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "g4", Title: gwTitle, ChannelKey: gk, Dir: dir, Rand: rand.Reader, Segment: tm, Trace: traces}
	open := func() *Gateway {
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		openSession(t, g, meter, gkeys)
		// A restarted gateway agrees new keys; here the same ones, and the
		// meter's receiver starts again with it.
		if tm.recv, err = protocol.NewReceiver(mkeys); err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := open()
	defer func() { g.Close() }()
	if n, err := g.CollectTamper(meter); err != nil || n != 2 {
		t.Fatalf("collect: %d, %v", n, err)
	}
	// The meter resends, with an item the gateway cannot read.
	tm.events = append(tm.events, []byte("not an event"))
	if n, err := g.CollectTamper(meter); err != nil || n != 0 || g.Refused.Total() != 1 {
		t.Fatalf("resend: %d queued, %v, %d refused", n, err, g.Refused.Total())
	}
	tm.events = tm.events[:2]
	he := &tamperHeadEnd{key: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)), down: true}
	if _, err := g.UploadTamper(context.Background(), he); !errors.Is(err, ErrWANDown) {
		t.Fatalf("upload with the WAN down: %v", err)
	}
	g.Close()
	g = open()
	if q := g.TamperQueued(); q != 2 {
		t.Fatalf("%d events after restart, want 2", q)
	}
	he.down = false
	if n, err := g.UploadTamper(context.Background(), he); err != nil || n != 2 {
		t.Fatalf("upload: %d acknowledged, %v", n, err)
	}
	if n, err := g.RelayTamperAcks(meter); err != nil || n != 2 || len(tm.acks) != 2 {
		t.Fatalf("relay: %d, %v; the meter got %d", n, err, len(tm.acks))
	}
	g.Close()
	g = open()
	if q := g.TamperQueued(); q != 0 {
		t.Fatalf("%d acknowledged events back after restart", q)
	}
	if n, err := g.UploadTamper(context.Background(), he); err != nil || n != 0 || he.batches != 1 {
		t.Fatalf("nothing to upload: %d, %v, %d batches", n, err, he.batches)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
