package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

// keyingMeter is the meter's side of the PLC link as far as key agreement
// goes: it answers a gateway's signed key agreement (trusting gw) and
// seals under the session it agreed last, as a meter does. Other APDUs get
// no answer.
type keyingMeter struct {
	title  protocol.SystemTitle
	key    *ecdsa.PrivateKey
	gw     *ecdsa.PublicKey
	sender *protocol.Sender
	agreed int
}

func (m *keyingMeter) Exchange(to protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	if to != m.title || len(apdu) == 0 || apdu[0] != protocol.TagKeyAgreement {
		return nil, nil
	}
	msg, _, err := protocol.UnmarshalKeyAgreementTraced(apdu[1:])
	if err != nil {
		return nil, err
	}
	ka, resp, err := protocol.StartKeyAgreement(msg.Suite, m.title, msg.From, m.key, msg.Ephemeral, rand.Reader)
	if err != nil {
		return nil, err
	}
	keys, err := ka.Finish(msg, m.gw)
	if err != nil {
		return nil, err
	}
	if m.sender, err = protocol.NewSender(keys, protocol.NewMemStore()); err != nil {
		return nil, err
	}
	m.agreed++
	wire, err := resp.Marshal()
	if err != nil {
		return nil, err
	}
	return [][]byte{append([]byte{protocol.TagKeyAgreement}, wire...)}, nil
}

func (m *keyingMeter) Refused(protocol.SystemTitle) []error { return nil }

// TestRestartedGatewayNeedsNewKeyAgreement: the rule of spec/Channel.tla's
// Restart on the code. A gateway restarted on the same data directory and
// configuration holds no session (it keeps its sessions in memory): it
// opens no APDU and sends no request before a new signed key agreement.
// After that agreement the meter seals under the new key, and an APDU of
// the old key, which the first incarnation accepted, is refused when it is
// replayed to the new one (its window is empty, but the old key is gone
// with it). The log shows the spec's steps: the new incarnation's Restart,
// then its Rekey.
func TestRestartedGatewayNeedsNewKeyAgreement(t *testing.T) {
	meterTitle, gwTitle := protocol.SystemTitle{'V', 'M', 'R', 3}, protocol.SystemTitle{'V', 'G', 'W', 1}
	mk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	gk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	plc := &keyingMeter{title: meterTitle, key: mk, gw: &gk.PublicKey}
	traceDir := t.TempDir()
	cfg := Config{Name: "g1", Title: gwTitle, ChannelKey: gk, Dir: t.TempDir(), Rand: rand.Reader, Segment: plc}
	start := func() *Gateway {
		t.Helper()
		td, err := statemachine.OpenTraceDir(traceDir) // a new process continues the logs
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Trace = td
		g, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close(); td.Close() })
		return g
	}

	g1 := start()
	if err := g1.Commission(meterTitle, &mk.PublicKey); err != nil {
		t.Fatal(err)
	}
	old, err := plc.sender.Seal(nil, protocol.TagDataNotification, []byte("reading under the first key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g1.openFromMeter(meterTitle, old); err != nil {
		t.Fatalf("the first incarnation refused a genuine APDU: %v", err)
	}
	if err := g1.openFromMeter(meterTitle, old); !errors.Is(err, protocol.ErrReplay) {
		t.Fatalf("the first incarnation's replay: %v, want %v", err, protocol.ErrReplay)
	}
	if err := g1.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart: a new Gateway on the same directory and configuration.
	g2 := start()
	if err := g2.openFromMeter(meterTitle, old); !errors.Is(err, ErrNoSession) {
		t.Fatalf("restarted gateway, no key agreement yet: an APDU of the old key gave %v, want %v", err, ErrNoSession)
	}
	if _, err := g2.ReadNow(meterTitle); !errors.Is(err, ErrNoSession) {
		t.Fatalf("restarted gateway, no key agreement yet: a request gave %v, want %v", err, ErrNoSession)
	}
	if _, ok := g2.SessionKeyID(meterTitle); ok {
		t.Fatal("restarted gateway holds a session before its key agreement")
	}
	if err := g2.Commission(meterTitle, &mk.PublicKey); err != nil {
		t.Fatal(err)
	}
	if plc.agreed != 2 {
		t.Fatalf("%d key agreements, want 2", plc.agreed)
	}
	if err := g2.openFromMeter(meterTitle, old); !errors.Is(err, protocol.ErrAuthentication) {
		t.Fatalf("after the new key agreement, the old key's APDU replayed: %v, want %v", err, protocol.ErrAuthentication)
	}
	fresh, err := plc.sender.Seal(nil, protocol.TagDataNotification, []byte("reading under the second key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.openFromMeter(meterTitle, fresh); err != nil {
		t.Fatalf("the new key's APDU: %v", err)
	}

	f, err := os.Open(filepath.Join(traceDir, "channel", fmt.Sprintf("%x", meterTitle[:]), "gateway.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := statemachine.ReadTrace(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`Rekey {"gkey":2,"gopen":true,"seen":[]}`, `Receive {"gkey":2,"gopen":true,"seen":[0]}`,
		`Restart {"gkey":2,"gopen":false,"seen":[]}`, `Rekey {"gkey":3,"gopen":true,"seen":[]}`, `Receive {"gkey":3,"gopen":true,"seen":[0]}`}
	if len(lines) != len(want) {
		t.Fatalf("%d lines logged, want %d: %+v", len(lines), len(want), lines)
	}
	for i, l := range lines {
		if got := l.Action + " " + string(l.State); got != want[i] || l.Clock != uint64(i+1) {
			t.Errorf("line %d: %s at %d, want %s at %d", i+1, got, l.Clock, want[i], i+1)
		}
	}
}
