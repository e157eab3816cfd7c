package meter

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
)

// tamperEvents asks the meter for its unacknowledged events as the gateway
// does.
func (k *kit) tamperEvents(t *testing.T, m *Meter) [][]byte {
	t.Helper()
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUTamperEvents})
	if r.Kind != protocol.PDUData {
		t.Fatalf("tamper events: %+v", r)
	}
	b, err := protocol.UnmarshalTamperBatch(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b.Items
}

// ack signs the head-end's acknowledgement of a signed event.
func (k *kit) ack(t *testing.T, ev []byte) []byte {
	t.Helper()
	e, err := protocol.PeekEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	a, err := protocol.SignTamperAck(protocol.TamperAck{Meter: e.Meter, Seq: e.Counter, Digest: protocol.EventDigest(ev), Time: 9}, k.heKey, protocol.SubjectKeyID(&k.heKey.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (k *kit) relayAcks(t *testing.T, m *Meter, acks ...[]byte) protocol.PDU {
	t.Helper()
	b, err := (&protocol.TamperBatch{Items: acks}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUTamperAcks, Body: b})
}

// TestTamperKeptUntilSignedAck: a detected event is signed by the meter's
// metrological key, sent again on every request until the head-end's
// acknowledgement verifies, and survives a restart; an acknowledgement the
// head-end did not sign, for other bytes or for another meter is refused
// with ErrTamperAck and forgets nothing.
func TestTamperKeptUntilSignedAck(t *testing.T) {
	k := newKit(t, t.TempDir())
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { m.Close() }()
	k.agree(t, m)
	if _, err := m.Tamper("flood", time.Unix(100, 0)); !errors.Is(err, protocol.ErrTamperKind) {
		t.Fatalf("unknown kind: %v", err)
	}
	n1, err := m.Tamper(protocol.TamperCover, time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	n2, err := m.Tamper(protocol.TamperMagnetic, time.Unix(101, 0))
	if err != nil || n1 != 1 || n2 != 2 {
		t.Fatalf("numbers %d, %d, %v", n1, n2, err)
	}
	evs := k.tamperEvents(t, m)
	if again := k.tamperEvents(t, m); len(evs) != 2 || len(again) != 2 || !bytes.Equal(evs[0], again[0]) {
		t.Fatalf("events sent %d, resent %d (or changed)", len(evs), len(again))
	}
	for i, ev := range evs {
		e, err := k.verifier.VerifyEvent(ev)
		if err != nil || e.Counter != uint64(i+1) {
			t.Fatalf("event %d: %+v, %v", i, e, err)
		}
	}
	// Forged acknowledgements: another key, other bytes, another meter.
	forger := key(t)
	forged, _ := protocol.SignTamperAck(protocol.TamperAck{Meter: m.title(), Seq: 1, Digest: protocol.EventDigest(evs[0])}, forger, protocol.SubjectKeyID(&forger.PublicKey), rand.Reader)
	otherBytes, _ := protocol.SignTamperAck(protocol.TamperAck{Meter: m.title(), Seq: 1, Digest: protocol.EventDigest(evs[1])}, k.heKey, protocol.SubjectKeyID(&k.heKey.PublicKey), rand.Reader)
	other := m.title()
	other[7] ^= 1
	otherMeter, _ := protocol.SignTamperAck(protocol.TamperAck{Meter: other, Seq: 1, Digest: protocol.EventDigest(evs[0])}, k.heKey, protocol.SubjectKeyID(&k.heKey.PublicKey), rand.Reader)
	for name, a := range map[string][]byte{"forged": forged, "other bytes": otherBytes, "other meter": otherMeter} {
		if r := k.relayAcks(t, m, a); r.Status != protocol.StatusRejected {
			t.Fatalf("%s acknowledgement accepted: %+v", name, r)
		}
		if m.tamperPending() != 2 {
			t.Fatalf("%s acknowledgement forgot an event", name)
		}
	}
	_, err = m.tamperAcks(protocol.PDU{Body: mustBatch(t, forged)})
	if !errors.Is(err, ErrTamperAck) || !errors.Is(err, ErrUntrusted) {
		t.Fatalf("forged acknowledgement: %v, want ErrTamperAck and ErrUntrusted", err)
	}
	// The genuine acknowledgement of event 1 (twice: a resend) forgets it
	// only; event 2 survives a restart and is sent again.
	if r := k.relayAcks(t, m, k.ack(t, evs[0]), k.ack(t, evs[0])); r.Status != protocol.StatusOK {
		t.Fatalf("acknowledgement refused: %+v", r)
	}
	m = reopen(t, k, m)
	k.agree(t, m)
	left := k.tamperEvents(t, m)
	if m.tamperPending() != 1 || len(left) != 1 || !bytes.Equal(left[0], evs[1]) || m.tamperSeq() != 2 {
		t.Fatalf("after restart: %d pending, seq %d", m.tamperPending(), m.tamperSeq())
	}
	if n, _ := m.Tamper(protocol.TamperCover, time.Unix(102, 0)); n != 3 {
		t.Fatalf("next event number %d after restart, want 3 (never reused)", n)
	}
}

func mustBatch(t *testing.T, items ...[]byte) []byte {
	t.Helper()
	b, err := (&protocol.TamperBatch{Items: items}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTamperCrashAfterDetection: at every crash point of a run that
// detects events and takes acknowledgements (torn and dropped unsynced
// writes included), the restarted meter holds every event detected before
// the crash that no acknowledgement took, with the bytes it signed, and
// never numbers a new event like an old one.
func TestTamperCrashAfterDetection(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	fsys.Record()
	initial := fsys.Snapshot()
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	type point struct {
		at      int
		pending map[uint64][]byte // what must survive a crash from at on
		seq     uint64
		acking  uint64 // an event whose acknowledgement is on its way: it may be gone
	}
	var points []point
	pending := map[uint64][]byte{}
	note := func() {
		cp := map[uint64][]byte{}
		for n, b := range pending {
			cp[n] = b
		}
		points = append(points, point{len(fsys.Ops()), cp, m.tamperSeq(), 0})
	}
	for i := range 6 {
		n, err := m.Tamper([]string{protocol.TamperCover, protocol.TamperMagnetic}[i%2], time.Unix(int64(1000+i), 0))
		if err != nil {
			t.Fatal(err)
		}
		evs := k.tamperEvents(t, m)
		pending[n] = evs[len(evs)-1]
		note()
		if i%2 == 1 {
			points = append(points, point{len(fsys.Ops()), points[len(points)-1].pending, m.tamperSeq(), n - 1})
			if r := k.relayAcks(t, m, k.ack(t, pending[n-1])); r.Status != protocol.StatusOK {
				t.Fatalf("ack: %+v", r)
			}
			delete(pending, n-1)
			note()
		}
	}
	m.Close()
	res := crashfs.Replay(initial, fsys.Ops(), func(fs *crashfs.MemFS, k2 int) error {
		cfg := k.cfg
		cfg.fs = fs
		m2, err := New(cfg)
		if err != nil {
			return fmt.Errorf("the meter does not start: %w", err)
		}
		defer m2.Close()
		var want point
		for _, p := range points {
			if p.at <= k2 {
				want = p
			}
		}
		held := map[uint64][]byte{}
		for _, b := range m2.tamperLog() {
			e, _ := protocol.PeekEvent(b)
			held[e.Counter] = b
		}
		for n, b := range want.pending {
			if n == want.acking && held[n] == nil {
				continue
			}
			if !bytes.Equal(held[n], b) {
				return fmt.Errorf("event %d detected and unacknowledged is lost or changed", n)
			}
		}
		if m2.tamperSeq() < want.seq {
			return fmt.Errorf("event numbers restart at %d after %d was signed", m2.tamperSeq(), want.seq)
		}
		return nil
	})
	t.Logf("%s (%s)", res.Line("meter tamper"), crashfs.Summary(fsys.Ops()))
	for _, f := range res.Failed {
		t.Error(f)
	}
	if res.Points < 20 {
		t.Fatalf("only %d crash points", res.Points)
	}
}
