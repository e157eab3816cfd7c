package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// commandMeter is the meter's end of a session for the command tests: it
// opens what the gateway relays, notes each command's counter and the
// PDU's Lamport time, and answers OK.
type commandMeter struct {
	send     *protocol.Sender
	recv     *protocol.Receiver
	counters []uint64
	clocks   []uint64
	drop     int // exchanges still to lose
}

var errLinkDown = errors.New("PLC link down")

func (m *commandMeter) Exchange(_ protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	if m.drop > 0 {
		m.drop--
		return nil, errLinkDown
	}
	_, plain, err := m.recv.Open(nil, apdu)
	if err != nil {
		return nil, err
	}
	p, err := protocol.UnmarshalPDU(plain)
	if err != nil {
		return nil, err
	}
	c, err := protocol.PeekCommand(p.Body)
	if err != nil {
		return nil, err
	}
	m.counters = append(m.counters, c.Counter)
	m.clocks = append(m.clocks, p.Clock)
	b, err := (&protocol.PDU{Kind: protocol.PDUResult, Request: p.Request}).Marshal()
	if err != nil {
		return nil, err
	}
	a, err := m.send.Seal(nil, protocol.TagCommand, b)
	return [][]byte{a}, err
}

func (m *commandMeter) Refused(protocol.SystemTitle) []error { return nil }

// TestCommandRelayIsTheGeneratedMachine: the gateway relays each command
// once since it started (a repeat is ErrRelayed and never reaches the
// meter); past the relayed set's capacity it forgets, as the spec's
// Restart does, and goes on; the PDU carries the relay's Lamport time after
// the head-end's; a command for another meter is refused; the log holds
// every relay and both restarts.
func TestCommandRelayIsTheGeneratedMachine(t *testing.T) {
	meter, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 3}, protocol.SystemTitle{'V', 'G', 'W', 3}
	he, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mkeys, gkeys, gk := agreeKeys(t, meter, gwTitle)
	cm := &commandMeter{}
	var err error
	if cm.send, err = protocol.NewSender(mkeys, protocol.NewMemStore()); err != nil {
		t.Fatal(err)
	}
	if cm.recv, err = protocol.NewReceiver(mkeys); err != nil {
		t.Fatal(err)
	}
	traces, err := statemachine.NewTraceDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Name: "g3", Title: gwTitle, ChannelKey: gk, Rand: rand.Reader, Segment: cm, Trace: traces})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	openSession(t, g, meter, gkeys)
	sign := func(counter uint64, to protocol.SystemTitle) []byte {
		b, err := protocol.SignCommand(protocol.Command{Meter: to, Counter: counter, Kind: protocol.CmdTariff, Tariff: 1, Trace: 100 + counter}, he, []byte("he"), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if err := g.Command(meter, sign(1, meter)); err != nil {
		t.Fatal(err)
	}
	if err := g.Command(meter, sign(1, meter)); !errors.Is(err, ErrRelayed) || len(cm.counters) != 1 {
		t.Fatalf("repeat: %v, %d relayed", err, len(cm.counters))
	}
	if cm.clocks[0] <= 101 {
		t.Fatalf("relay stamped %d, not after the head-end's 101", cm.clocks[0])
	}
	n := uint64(statemachine.SetCap + 2)
	for c := uint64(2); c <= n; c++ {
		if err := g.Command(meter, sign(c, meter)); err != nil {
			t.Fatalf("command %d: %v", c, err)
		}
	}
	if len(cm.counters) != int(n) {
		t.Fatalf("%d commands reached the meter, want %d", len(cm.counters), n)
	}
	// A relay the meter never answered is forgotten, so the retry goes out.
	cm.drop = 1
	lost := sign(n+1, meter)
	if err := g.Command(meter, lost); !errors.Is(err, errLinkDown) {
		t.Fatalf("relay over a dead link: %v", err)
	}
	if err := g.Command(meter, lost); err != nil || cm.counters[len(cm.counters)-1] != n+1 {
		t.Fatalf("retry after the lost relay: %v", err)
	}
	if err := g.Command(meter, sign(n+2, protocol.SystemTitle{'V', 'M', 'R', 9})); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("a command for another meter: %v", err)
	}
	if err := traces.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(traces.Dir(), "commands", fmt.Sprintf("%x", meter[:]), "gateway-g3.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(src), `"action":"Relay"`); got != int(n)+2 {
		t.Errorf("%d relays logged, want %d", got, n+2)
	}
	if got := strings.Count(string(src), `"action":"Restart"`); got != 2 {
		t.Errorf("%d restarts logged, want 2 (a full set, a lost relay)", got)
	}
}
