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
	"github.com/verimeter/verimeter/wan"
)

// TestIngestRefusesUnsignedWithTypedError: an item whose meter's signature
// does not verify is refused by the Collection machine's Ingest (its guard
// SignedByMeter(i) reads the outcome the event carries) with ErrUnsigned,
// which keeps the verification's cause and the guard's refusal, and is
// neither stored nor counted; the signed items of the batch are stored.
func TestIngestRefusesUnsignedWithTypedError(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	forger, _ := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	forged, _ := forger.SignReading(protocol.Reading{Meter: f.meter, Counter: 9, Time: f.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	bad := append([]byte(nil), f.block(t, 3, 0)...)
	bad[len(bad)-1] ^= 1
	res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindReading, Raw: forged}, {Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}, {Kind: wan.KindBlock, Raw: bad}})
	if err != nil || res.Stored != 1 || len(res.Rejected) != 2 {
		t.Fatalf("batch: %+v %v", res, err)
	}
	for _, r := range res.Rejected {
		var g *statemachine.GuardError
		if !errors.Is(r, ErrUnsigned) || !errors.As(r, &g) || g.Action != "Ingest" {
			t.Fatalf("refusal %v: want ErrUnsigned wrapping the Ingest guard", r)
		}
	}
	if !errors.Is(res.Rejected[0], protocol.ErrBadSignature) {
		t.Fatalf("forged reading: %v, want the signature's cause kept", res.Rejected[0])
	}
	if n, _ := f.store.counters(f.meter, 0, 1<<62); len(n) != 1 {
		t.Fatalf("stored counters %v, want only the signed block's", n)
	}
}

// TestCollectionStepIsTheDecision: the machine, not the caller, refuses an
// unsigned item and asks to store a signed one (one Step per item).
func TestCollectionStepIsTheDecision(t *testing.T) {
	p := collectionParams{Crypto: signatureOutcome{}}
	var out collectionOutput
	if err := collectionStep(&p, &out, collectionItem{R: 7, Signed: true}, nil); err != nil {
		t.Fatalf("signed item refused: %v", err)
	}
	cause := errors.New("bad signature")
	err := collectionStep(&p, &out, collectionItem{R: 7}, cause)
	if !errors.Is(err, ErrUnsigned) || !errors.Is(err, cause) || !errors.Is(err, statemachine.ErrNotEnabled) {
		t.Fatalf("unsigned item: %v", err)
	}
}

// TestIngestAcknowledgesEndToEnd: the answer to a batch carries the
// head-end's signed end-to-end acknowledgement (protocol.DataAck) of each
// item it stored, under its key and naming the item's exact bytes, which
// the gateway relays and the meter waits for (spec/Collection.tla,
// EndToEndAcked); a duplicate is acknowledged again, a refused item not.
func TestIngestAcknowledgesEndToEnd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	blk := f.block(t, 1, 0)
	forger, _ := protocol.NewMeterSigner(f.meter, key(t), rand.Reader)
	forged, _ := forger.SignReading(protocol.Reading{Meter: f.meter, Counter: 9, Time: f.t0.Unix(), OBIS: protocol.ActiveEnergyImport, Value: 1})
	pub := &f.he.cfg.Key.PublicKey
	keys := func(kid []byte) (*ecdsa.PublicKey, error) {
		if !bytes.Equal(kid, protocol.SubjectKeyID(pub)) {
			return nil, protocol.ErrWrongSigner
		}
		return pub, nil
	}
	for _, round := range []string{"stored", "duplicate"} {
		res, err := f.he.Ingest(ctx, "gw", []wan.Item{{Kind: wan.KindBlock, Raw: blk}, {Kind: wan.KindReading, Raw: forged}})
		if err != nil || len(res.Rejected) != 1 || len(res.Acks) != 1 {
			t.Fatalf("%s: %+v %v: want 1 refused, 1 acknowledgement", round, res, err)
		}
		a, err := protocol.VerifyDataAck(res.Acks[0], f.meter, keys)
		if err != nil || a.Counter != 1 || a.Digest != protocol.DataDigest(blk) {
			t.Fatalf("%s: acknowledgement %+v %v: want item 1, its bytes' digest", round, a, err)
		}
	}
}
