package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
)

func headEndAckKey(t testing.TB) (*ecdsa.PrivateKey, AckKeys) {
	k, err := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(kid []byte) (*ecdsa.PublicKey, error) {
		if !bytes.Equal(kid, SubjectKeyID(&k.PublicKey)) {
			return nil, fmt.Errorf("%w: unknown head-end key", ErrWrongSigner)
		}
		return &k.PublicKey, nil
	}
	return k, keys
}

func TestTamperAckRoundTripAndRefusals(t *testing.T) {
	s, _, _ := newMeter(t)
	ev, err := s.SignEvent(Event{Meter: s.Meter, Counter: 3, Time: 1000, Code: EventCoverOpened})
	if err != nil {
		t.Fatal(err)
	}
	k, keys := headEndAckKey(t)
	want := TamperAck{Meter: s.Meter, Seq: 3, Digest: EventDigest(ev), Time: 1001}
	ack, err := SignTamperAck(want, k, SubjectKeyID(&k.PublicKey), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyTamperAck(ack, s.Meter, keys)
	if err != nil || got != want {
		t.Fatalf("VerifyTamperAck = %+v, %v; want %+v", got, err, want)
	}
	if p, err := PeekTamperAck(ack); err != nil || p != want {
		t.Fatalf("PeekTamperAck = %+v, %v", p, err)
	}
	// Every prefix fails cleanly, a trailing byte is refused.
	for i := range ack {
		if _, err := VerifyTamperAck(ack[:i], s.Meter, keys); err == nil {
			t.Fatalf("prefix of %d bytes verified", i)
		}
	}
	if _, err := VerifyTamperAck(append(bytes.Clone(ack), 0), s.Meter, keys); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v, want ErrMalformed", err)
	}
	// Another meter's acknowledgement, another key, an altered byte.
	other := s.Meter
	other[0] ^= 1
	if _, err := VerifyTamperAck(ack, other, keys); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("other meter: %v, want ErrWrongSigner", err)
	}
	_, keys2 := headEndAckKey(t)
	if _, err := VerifyTamperAck(ack, s.Meter, keys2); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("unknown key: %v, want ErrWrongSigner", err)
	}
	bad := bytes.Clone(ack)
	bad[len(bad)-1] ^= 1
	if _, err := VerifyTamperAck(bad, s.Meter, keys); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered signature: %v, want ErrBadSignature", err)
	}
	// A signed event is no acknowledgement.
	if _, err := VerifyTamperAck(ev, s.Meter, keys); !errors.Is(err, ErrMalformed) {
		t.Fatalf("event as acknowledgement: %v, want ErrMalformed", err)
	}
}

// TestDataAckRoundTripAndRefusals: a head-end's data acknowledgement
// verifies for its meter under its key; another meter, another key, an
// altered signature and a tamper acknowledgement of the same fields are
// refused (and a data acknowledgement is no tamper acknowledgement).
func TestDataAckRoundTripAndRefusals(t *testing.T) {
	s, _, _ := newMeter(t)
	item := []byte("a signed reading")
	k, keys := headEndAckKey(t)
	kid := SubjectKeyID(&k.PublicKey)
	want := DataAck{Meter: s.Meter, Counter: 9, Digest: DataDigest(item), Time: 1001}
	ack, err := SignDataAck(want, k, kid, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := VerifyDataAck(ack, s.Meter, keys); err != nil || got != want {
		t.Fatalf("VerifyDataAck = %+v, %v; want %+v", got, err, want)
	}
	if p, err := PeekDataAck(ack); err != nil || p != want {
		t.Fatalf("PeekDataAck = %+v, %v", p, err)
	}
	for i := range ack {
		if _, err := VerifyDataAck(ack[:i], s.Meter, keys); err == nil {
			t.Fatalf("prefix of %d bytes verified", i)
		}
	}
	other := s.Meter
	other[0] ^= 1
	if _, err := VerifyDataAck(ack, other, keys); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("other meter: %v, want ErrWrongSigner", err)
	}
	_, keys2 := headEndAckKey(t)
	if _, err := VerifyDataAck(ack, s.Meter, keys2); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("unknown key: %v, want ErrWrongSigner", err)
	}
	bad := bytes.Clone(ack)
	bad[len(bad)-1] ^= 1
	if _, err := VerifyDataAck(bad, s.Meter, keys); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered signature: %v, want ErrBadSignature", err)
	}
	tamper, err := SignTamperAck(TamperAck{Meter: s.Meter, Seq: 9, Digest: DataDigest(item), Time: 1001}, k, kid, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDataAck(tamper, s.Meter, keys); !errors.Is(err, ErrMalformed) {
		t.Fatalf("tamper acknowledgement as data acknowledgement: %v, want ErrMalformed", err)
	}
	if _, err := VerifyTamperAck(ack, s.Meter, keys); !errors.Is(err, ErrMalformed) {
		t.Fatalf("data acknowledgement as tamper acknowledgement: %v, want ErrMalformed", err)
	}
}

func TestPeekEvent(t *testing.T) {
	s, _, _ := newMeter(t)
	e := Event{Meter: s.Meter, Counter: 7, Time: 5, Code: EventMagneticField}
	ev, err := s.SignEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := PeekEvent(ev); err != nil || got.Counter != 7 || got.Code != EventMagneticField || got.Meter != s.Meter {
		t.Fatalf("PeekEvent = %+v, %v", got, err)
	}
	for i := range ev {
		if _, err := PeekEvent(ev[:i]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", i)
		}
	}
	if _, err := PeekEvent(append(bytes.Clone(ev), 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing byte: %v, want ErrTrailing", err)
	}
	if k, err := TamperKind(EventMagneticField); err != nil || k != TamperMagnetic {
		t.Fatalf("TamperKind = %q, %v", k, err)
	}
	if _, err := TamperCode("flood"); !errors.Is(err, ErrTamperKind) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("TamperCode(flood) = %v", err)
	}
}

func TestTamperBatch(t *testing.T) {
	in := TamperBatch{Clock: 42, Items: [][]byte{{1, 2, 3}, bytes.Repeat([]byte{9}, 300)}}
	b, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalTamperBatch(b)
	if err != nil || got.Clock != 42 || len(got.Items) != 2 || !bytes.Equal(got.Items[1], in.Items[1]) {
		t.Fatalf("UnmarshalTamperBatch = %+v, %v", got, err)
	}
	for i := range b {
		if _, err := UnmarshalTamperBatch(b[:i]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", i)
		}
	}
	if _, err := UnmarshalTamperBatch(append(bytes.Clone(b), 0)); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, err := (&TamperBatch{Items: make([][]byte, MaxTamperList+1)}).Marshal(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("too many items: %v", err)
	}
	empty, err := (&TamperBatch{}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnmarshalTamperBatch(empty); err != nil || len(got.Items) != 0 {
		t.Fatalf("empty batch: %+v, %v", got, err)
	}
	if _, err := UnmarshalTamperBatch([]byte{0xA0}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("batch without list: %v", err)
	}
	if _, err := UnmarshalTamperBatch([]byte{0xA1, 0x02, 0x81, 0x40}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty item: %v", err)
	}
}

// FuzzTamperAck: acknowledgements from the field parse strictly, and
// whatever parses is written back byte for byte (parse∘marshal = id);
// only the head-end's own acknowledgement verifies.
func FuzzTamperAck(f *testing.F) {
	s, _, _ := newMeter(f)
	k, keys := headEndAckKey(f)
	ack, err := SignTamperAck(TamperAck{Meter: s.Meter, Seq: 1, Time: 2}, k, SubjectKeyID(&k.PublicKey), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ack)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, a, err := ackEnvelope(b)
		if err != nil {
			return
		}
		again, err := m.MarshalCBOR()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parse∘marshal changed % x into % x (%v)", b, again, err)
		}
		if p, err := marshal(a); err != nil || !bytes.Equal(p, m.Payload) {
			t.Fatalf("payload % x re-encodes as % x (%v)", m.Payload, p, err)
		}
		if _, err := VerifyTamperAck(b, s.Meter, keys); err == nil && !bytes.Equal(b, ack) {
			t.Fatalf("acknowledgement verified from % x", b)
		}
	})
}

// FuzzTamperBatch: parse∘marshal = id on the batches of PDUs and the WAN.
func FuzzTamperBatch(f *testing.F) {
	b, _ := (&TamperBatch{Clock: 3, Items: [][]byte{{1}, {2, 3}}}).Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		batch, err := UnmarshalTamperBatch(b)
		if err != nil {
			return
		}
		again, err := batch.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parse∘marshal changed % x into % x (%v)", b, again, err)
		}
	})
}

// FuzzDataAck: a data acknowledgement parses strictly (peeked as the
// gateway does, verified as the meter does), and only the head-end's own
// acknowledgement verifies.
func FuzzDataAck(f *testing.F) {
	s, _, _ := newMeter(f)
	k, keys := headEndAckKey(f)
	ack, err := SignDataAck(DataAck{Meter: s.Meter, Counter: 1, Digest: DataDigest([]byte("item"))}, k, SubjectKeyID(&k.PublicKey), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ack)
	f.Fuzz(func(t *testing.T, b []byte) {
		peeked, perr := PeekDataAck(b)
		a, err := VerifyDataAck(b, s.Meter, keys)
		if err != nil {
			return
		}
		if perr != nil || peeked != a {
			t.Fatalf("verified %+v, peeked %+v (%v)", a, peeked, perr)
		}
		if !bytes.Equal(b, ack) {
			t.Fatalf("acknowledgement verified from % x", b)
		}
	})
}
