package headend

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

func (f *fixture) tamperEvent(tb testing.TB, n uint64, code uint16) []byte {
	tb.Helper()
	ev, err := f.signer.SignEvent(protocol.Event{Meter: f.meter, Counter: n, Time: f.t0.Unix(), Code: code})
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// TestTamperStoredOnceOneAlarmSignedAck: a verified event is stored once
// and raises one alarm, however often it is uploaded, and every upload is
// answered with an acknowledgement the head-end signed for exactly those
// bytes; after a restart on the same store a resend raises no alarm. An
// unsigned (forged) or altered event is refused with ErrTamperEvent and
// the machine's guard, and stores nothing; an operator acknowledges an
// alarm once.
func TestTamperStoredOnceOneAlarmSignedAck(t *testing.T) { testTamper(t, newFixture(t)) }

func testTamper(t *testing.T, f *fixture) {
	ctx := context.Background()
	ev1, ev2 := f.tamperEvent(t, 1, protocol.EventCoverOpened), f.tamperEvent(t, 2, protocol.EventMagneticField)
	acks, rejected, err := f.he.ingestTamper(ctx, "gw", protocol.TamperBatch{Items: [][]byte{ev1, ev1, ev2}})
	if err != nil || len(rejected) != 0 || len(acks.Items) != 3 {
		t.Fatalf("first upload: %d acks, %v, %v", len(acks.Items), rejected, err)
	}
	heKey := f.he.cfg.Key
	keys := func(kid []byte) (*ecdsa.PublicKey, error) {
		if !bytes.Equal(kid, protocol.SubjectKeyID(&heKey.PublicKey)) {
			return nil, protocol.ErrWrongSigner
		}
		return &heKey.PublicKey, nil
	}
	for i, want := range [][]byte{ev1, ev1, ev2} {
		a, err := protocol.VerifyTamperAck(acks.Items[i], f.meter, keys)
		if err != nil || a.Digest != protocol.EventDigest(want) {
			t.Fatalf("acknowledgement %d: %+v, %v", i, a, err)
		}
	}
	if s := f.he.Stats(); s.TamperEvents != 2 || s.TamperRefused != 0 {
		t.Fatalf("counted %d new tamper events, %d refused; want the 2 events stored", s.TamperEvents, s.TamperRefused)
	}
	// A restart on the same store: the resend is a duplicate.
	f.he = New(f.he.cfg)
	if _, _, err := f.he.ingestTamper(ctx, "gw", protocol.TamperBatch{Items: [][]byte{ev2}}); err != nil {
		t.Fatal(err)
	}
	alarms, err := f.he.alarms(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 2 || alarms[0].Event != 1 || alarms[1].Event != 2 || alarms[1].Kind != protocol.TamperMagnetic {
		t.Fatalf("alarms %+v, want one per event", alarms)
	}
	// Forged (another key) and altered (a signature byte) events.
	forger, _ := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	forged, _ := forger.SignEvent(protocol.Event{Meter: f.meter, Counter: 3, Time: f.t0.Unix(), Code: protocol.EventCoverOpened})
	altered := bytes.Clone(f.tamperEvent(t, 4, protocol.EventCoverOpened))
	altered[len(altered)-1] ^= 1
	acks, rejected, err = f.he.ingestTamper(ctx, "gw", protocol.TamperBatch{Items: [][]byte{forged, altered, {0xD2}}})
	if err != nil || len(acks.Items) != 0 || len(rejected) != 3 {
		t.Fatalf("forgeries: %d acks, %v, %v", len(acks.Items), rejected, err)
	}
	for i, err := range rejected[:2] {
		if !errors.Is(err, ErrTamperEvent) || !errors.Is(err, protocol.ErrBadSignature) || !errors.Is(err, statemachine.ErrNotEnabled) {
			t.Fatalf("refusal %d: %v", i, err)
		}
	}
	if !errors.Is(rejected[2], ErrTamperEvent) || !errors.Is(rejected[2], protocol.ErrTruncated) {
		t.Fatalf("truncated event: %v", rejected[2])
	}
	if s := f.he.Stats(); s.TamperEvents != 0 || s.TamperRefused != 3 {
		t.Fatalf("after the restart counted %d new tamper events, %d refused; want the duplicate not counted and 3 refused", s.TamperEvents, s.TamperRefused)
	}
	if again, _ := f.he.alarms(ctx, false); len(again) != 2 {
		t.Fatalf("%d alarms after forgeries", len(again))
	}
	if row, err := f.store.storedTamper(ctx, f.meter, 3); err != nil || row.ok {
		t.Fatalf("forged event stored: %+v, %v", row, err)
	}
	if err := f.he.acknowledgeAlarm(ctx, alarms[1].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.he.acknowledgeAlarm(ctx, alarms[1].ID, "bob"); !errors.Is(err, ErrAlarm) {
		t.Fatalf("second acknowledgement: %v", err)
	}
	open, _ := f.he.alarms(ctx, true)
	all, _ := f.he.alarms(ctx, false)
	if len(open) != 1 || open[0].ID != alarms[0].ID || all[1].AckedBy != "alice" {
		t.Fatalf("open %+v, all %+v", open, all)
	}
}

// FuzzIngestTamper: whatever bytes a gateway uploads as tamper events, the
// head-end answers without a store error and acknowledges (so stores and
// alarms) only an event the meter signed, and each refusal is typed.
func FuzzIngestTamper(f *testing.F) {
	fx := newFixture(f)
	ev := fx.tamperEvent(f, 1, protocol.EventCoverOpened)
	f.Add(ev)
	f.Add([]byte{0xD2, 0x84})
	f.Add(append(append([]byte(nil), ev...), 0))
	f.Fuzz(func(t *testing.T, raw []byte) {
		acks, rejected, err := fx.he.ingestTamper(context.Background(), "gw", protocol.TamperBatch{Items: [][]byte{raw}})
		if err != nil {
			t.Fatalf("store error: %v", err)
		}
		if len(acks.Items) > 0 && !bytes.Equal(raw, ev) {
			t.Fatalf("acknowledged an event the meter never signed: % x", raw)
		}
		if len(acks.Items) == 0 && (len(rejected) != 1 || !errors.Is(rejected[0], ErrTamperEvent)) {
			t.Fatalf("refused without a typed reason: %v", rejected)
		}
	})
}

// TestTamperAlarmsNoCapacity: the alarms of one meter are the database's
// (the @store alarms of spec/Tamper.tla), not a fixed-capacity set of its
// machine: a meter's 40th event is stored, alarmed and acknowledged like
// its first, and so after a restart on the same store.
func TestTamperAlarmsNoCapacity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = statemachine.SetCap + 8
	var batch protocol.TamperBatch
	for i := uint64(1); i <= n; i++ {
		batch.Items = append(batch.Items, f.tamperEvent(t, i, protocol.EventCoverOpened))
	}
	half := len(batch.Items) / 2
	acks, rejected, err := f.he.ingestTamper(ctx, "gw", protocol.TamperBatch{Items: batch.Items[:half]})
	if err != nil || len(rejected) != 0 || len(acks.Items) != half {
		t.Fatalf("first half: %d acks, %v, %v", len(acks.Items), rejected, err)
	}
	f.he = New(f.he.cfg) // a restart: the alarms are read from the store
	acks, rejected, err = f.he.ingestTamper(ctx, "gw", protocol.TamperBatch{Items: batch.Items})
	if err != nil || len(rejected) != 0 || len(acks.Items) != n {
		t.Fatalf("all %d: %d acks, %v, %v", n, len(acks.Items), rejected, err)
	}
	alarms, err := f.he.alarms(ctx, false)
	if err != nil || len(alarms) != n {
		t.Fatalf("%d alarms (%v), want %d, one per event", len(alarms), err, n)
	}
	for i, a := range alarms {
		if a.Event != uint64(i+1) || a.Kind != protocol.TamperCover {
			t.Fatalf("alarm %d: %+v", i, a)
		}
	}
}
