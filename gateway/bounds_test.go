package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// floodPLC is a segment with one honest meter, which answers every request
// with a signed reading, and one compromised meter, which answers every
// request with a burst of APDUs that do not open.
type floodPLC struct {
	honest, rogue protocol.SystemTitle
	send          *protocol.Sender
	recv          *protocol.Receiver
	burst         int
}

func (f *floodPLC) Exchange(meter protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	if meter == f.rogue {
		out := make([][]byte, f.burst)
		for i := range out {
			out[i] = []byte{protocol.TagDataNotification, 7, 0x30, 0, 0, 0, byte(i), 1, 2}
		}
		return out, nil
	}
	_, plain, err := f.recv.Open(nil, apdu)
	if err != nil {
		return nil, err
	}
	p, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		return nil, err
	}
	ans := protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}
	if p.Kind == protocol.PDUGetReading {
		ans = protocol.PDU{Kind: protocol.PDUData, Request: p.Request, Body: signedItem(f.honest, p.Request, 0)}
	}
	b, err := ans.Marshal()
	if err != nil {
		return nil, err
	}
	a, err := f.send.Seal(nil, protocol.TagDataNotification, b)
	return [][]byte{a}, err
}

func (f *floodPLC) Refused(protocol.SystemTitle) []error { return nil }

// TestRefusalFloodBoundedAndHonestReadingsGoOn: a compromised meter makes
// the gateway refuse a hundred thousand APDUs; the gateway counts them all,
// keeps at most MaxRefusalsKept, and the commissioned honest meter's
// readings are still taken and queued.
func TestRefusalFloodBoundedAndHonestReadingsGoOn(t *testing.T) {
	honest, rogue, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 1}, protocol.SystemTitle{'V', 'M', 'R', 2}, protocol.SystemTitle{'V', 'G', 'W', 1}
	mkeys, gkeys, _ := agreeKeys(t, honest, gwTitle)
	_, rkeys, _ := agreeKeys(t, rogue, gwTitle)
	f := &floodPLC{honest: honest, rogue: rogue, burst: 1000}
	var err error
	if f.send, err = protocol.NewSender(mkeys, protocol.NewMemStore()); err != nil {
		t.Fatal(err)
	}
	if f.recv, err = protocol.NewReceiver(mkeys); err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Name: "gw", Title: gwTitle, Segment: f})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for title, keys := range map[protocol.SystemTitle]protocol.SessionKeys{honest: gkeys, rogue: rkeys} {
		s := &session{}
		if s.sender, err = protocol.NewSender(keys, protocol.NewMemStore()); err != nil {
			t.Fatal(err)
		}
		if s.channel, err = g.rekey(title, nil, keys, 0); err != nil {
			t.Fatal(err)
		}
		g.sessions[title] = s
	}
	for i := range 100 {
		if _, err := g.ReadNow(rogue); !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("read %d of the rogue meter: %v", i, err)
		}
		if _, err := g.ReadNow(honest); err != nil {
			t.Fatalf("honest reading %d during the flood: %v", i, err)
		}
	}
	if g.Refused.Total() != 100*f.burst || len(g.Refused.Last()) > MaxRefusalsKept || cap(g.Refused.ring) > MaxRefusalsKept {
		t.Fatalf("%d refusals counted (want %d), %d kept (at most %d)", g.Refused.Total(), 100*f.burst, len(g.Refused.Last()), MaxRefusalsKept)
	}
	if g.Queue().Len() != 100 || g.Stats().QueueDepth != 100 {
		t.Fatalf("%d honest readings queued (depth %d), want 100", g.Queue().Len(), g.Stats().QueueDepth)
	}
	if c := g.Refused.ByClass(); c[wan.RejectMalformed] != uint64(100*f.burst) {
		t.Fatalf("refusals by class %v, want all %d malformed", c, 100*f.burst)
	}
}

func TestRefusalsKeepTheLastInOrder(t *testing.T) {
	var r Refusals
	for i := range MaxRefusalsKept + 10 {
		r.add(fmt.Errorf("refusal %d", i))
	}
	last := r.Last()
	if r.Total() != MaxRefusalsKept+10 || len(last) != MaxRefusalsKept {
		t.Fatalf("total %d, kept %d", r.Total(), len(last))
	}
	for i, e := range last {
		if want := fmt.Sprintf("refusal %d", i+10); e.Error() != want {
			t.Fatalf("kept %d: %q, want %q", i, e, want)
		}
	}
}

// TestCommandsForUnknownMetersKeepNoState: a flood of signed commands for
// meters the gateway never commissioned is refused with ErrNoSession and
// leaves no per-meter state behind; a commissioned meter's command is then
// relayed as before.
func TestCommandsForUnknownMetersKeepNoState(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 3}, protocol.SystemTitle{'V', 'G', 'W', 3}
	he, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mkeys, gkeys, _ := agreeKeys(t, meter, gwTitle)
	cm := &commandMeter{}
	var err error
	if cm.send, err = protocol.NewSender(mkeys, protocol.NewMemStore()); err != nil {
		t.Fatal(err)
	}
	if cm.recv, err = protocol.NewReceiver(mkeys); err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Name: "gw", Title: gwTitle, Segment: cm})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	openSession(t, g, meter, gkeys)
	sign := func(m protocol.SystemTitle, ctr uint64) []byte {
		b, err := protocol.SignCommand(protocol.Command{Kind: protocol.CmdTariff, Meter: m, Counter: ctr, Tariff: 2}, he, protocol.SubjectKeyID(&he.PublicKey), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i := range 2000 {
		other := protocol.SystemTitle{'X', 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}
		if err := g.Command(other, sign(other, 1)); !errors.Is(err, ErrNoSession) {
			t.Fatalf("command %d for an unknown meter: %v, want ErrNoSession", i, err)
		}
	}
	if len(g.cmds) != 0 {
		t.Fatalf("the gateway keeps %d command machines for meters it never commissioned", len(g.cmds))
	}
	if err := g.Command(meter, sign(meter, 1)); err != nil {
		t.Fatalf("commissioned meter's command after the flood: %v", err)
	}
	if len(cm.counters) != 1 || cm.counters[0] != 1 {
		t.Fatalf("meter received %v", cm.counters)
	}
}
