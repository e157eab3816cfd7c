package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// One fuzz target per decoder. Each checks that bad input never panics and,
// where the codec has both directions, that whatever a decoder accepts
// re-encodes to the same bytes where the format has one encoding
// (marshal∘parse = input), or otherwise to bytes that parse back to the same
// value and re-encode to themselves (parse∘marshal = identity on every value
// the parser yields; CBOR read by unmarshalStrict may use longer integer
// forms or another key order than the deterministic encoder writes).

// roundTrip asserts parse∘marshal = identity for v, a value parse accepted:
// marshal(v) succeeds, parses back to a value equal to v, and that value
// marshals to the same bytes again.
func roundTrip[T any](t *testing.T, v T, marshal func(T) ([]byte, error), parse func([]byte) (T, error), eq func(a, b T) bool) {
	t.Helper()
	w, err := marshal(v)
	if err != nil {
		t.Fatalf("accepted value does not re-encode: %v\n%+v", err, v)
	}
	v2, err := parse(w)
	if err != nil {
		t.Fatalf("re-encoding does not parse: %v\n% x", err, w)
	}
	if !eq(v, v2) {
		t.Fatalf("parse∘marshal is not the identity:\n in %+v\nout %+v", v, v2)
	}
	w2, err := marshal(v2)
	if err != nil || !bytes.Equal(w, w2) {
		t.Fatalf("re-encoding is not a fixed point (%v):\n% x\n% x", err, w, w2)
	}
}

func FuzzParseSecured(f *testing.F) {
	s, _ := pair(f, NewMemStore())
	for _, n := range []int{0, 1, 100, 300} {
		a, _ := s.Seal(nil, TagDataNotification, make([]byte, n))
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ct, err := ParseSecured(b)
		if err != nil {
			return
		}
		re := appendBERLen([]byte{h.Tag}, 1+InvocationCounterLen+len(ct))
		re = append(re, h.Control, byte(h.Counter>>24), byte(h.Counter>>16), byte(h.Counter>>8), byte(h.Counter))
		re = append(re, ct...)
		if !bytes.Equal(re, b) {
			t.Fatalf("parse/encode not identity: % x", b)
		}
	})
}

// FuzzOpen feeds arbitrary APDUs to a receiver: nothing may authenticate.
func FuzzOpen(f *testing.F) {
	s, r := pair(f, NewMemStore())
	a, _ := s.Seal(nil, TagDataNotification, []byte("seed"))
	f.Add(a)
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Equal(b, a) {
			return
		}
		if _, _, err := r.Open(nil, b); err == nil {
			t.Fatalf("forged APDU authenticated: % x", b)
		}
	})
}

func FuzzUnmarshalKeyAgreement(f *testing.F) {
	meter, gw := titles()
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	_, m, _ := StartKeyAgreement(Suite1, gw, meter, k, nil, rand.Reader)
	w, _ := m.Marshal()
	f.Add(w)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalKeyAgreement(b)
		if err != nil {
			return
		}
		re, err := m.Marshal()
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzUnmarshalKeyAgreementTraced: a frame with a trace trailer parses to
// the message and the value AppendTraceTrailer appended, and marshals back
// to the same bytes.
func FuzzUnmarshalKeyAgreementTraced(f *testing.F) {
	meter, gw := titles()
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	_, m, _ := StartKeyAgreement(Suite1, gw, meter, k, nil, rand.Reader)
	w, _ := m.Marshal()
	f.Add(w)
	f.Add(AppendTraceTrailer(w, 7))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, v, err := UnmarshalKeyAgreementTraced(b)
		if err != nil {
			return
		}
		re, err := m.Marshal()
		if err != nil || !bytes.Equal(AppendTraceTrailer(re, v), b) {
			t.Fatalf("round trip: %v (trace value %d)", err, v)
		}
	})
}

func FuzzUnmarshalFirmwareBlock(f *testing.F) {
	w, _ := (&FirmwareBlock{Campaign: 1, Index: 0, Total: 3, Data: []byte{1, 2, 3}}).Marshal()
	f.Add(w)
	f.Fuzz(func(t *testing.T, b []byte) {
		fb, err := UnmarshalFirmwareBlock(b)
		if err != nil {
			return
		}
		re, err := fb.Marshal()
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzUnmarshalSignedBlock(f *testing.F) {
	s, _, _ := newMeter(f)
	h, iv := sampleBlock(s.Meter)
	for _, n := range []int{4, len(iv)} { // 96 intervals: one has a status
		b, _ := s.SignBlock(h, iv[:n])
		w, _ := b.Marshal()
		f.Add(w)
		// The same block laid out without SignedBlock.Marshal, so the seed
		// does not share a fault of the codec under test.
		wire := signedBlockWire{Sign1: b.Sign1}
		for _, v := range iv[:n] {
			wire.Values = append(wire.Values, v.Value)
			wire.Status = append(wire.Status, v.Status)
		}
		if !slices.ContainsFunc(wire.Status, func(s byte) bool { return s != 0 }) {
			wire.Status = nil
		}
		w, _ = marshal(wire)
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := UnmarshalSignedBlock(p)
		if err != nil {
			return
		}
		roundTrip(t, b, func(b SignedBlock) ([]byte, error) { return b.Marshal() }, UnmarshalSignedBlock,
			func(a, b SignedBlock) bool {
				return bytes.Equal(a.Sign1, b.Sign1) && slices.Equal(a.Intervals, b.Intervals)
			})
	})
}

// FuzzVerifyReading: arbitrary bytes never verify and never panic.
func FuzzVerifyReading(f *testing.F) {
	s, v, _ := newMeter(f)
	msg, _ := s.SignReading(Reading{Meter: s.Meter, Counter: 1, Time: 2, OBIS: ActiveEnergyImport, Value: 3})
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Equal(b, msg) {
			return
		}
		if r, err := v.VerifyReading(b); err == nil && r.Value != 3 {
			t.Fatalf("altered reading verified: %+v", r)
		}
	})
}

func FuzzVerifyManifest(f *testing.F) {
	mk, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	ak, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	m := Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: NewComponent([]byte("lr")), Issued: 1}
	data, _ := SignManifest(m, rand.Reader, ManifestSigner{KeyID: []byte("m"), Key: mk}, ManifestSigner{KeyID: []byte("a"), Key: ak})
	pol := ManifestPolicy{Model: "VM-E3", InstalledVersion: 4, SecurityFloor: 2,
		Manufacturers: map[string]*ecdsa.PublicKey{"m": &mk.PublicKey}, Authorities: map[string]*ecdsa.PublicKey{"a": &ak.PublicKey}}
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := VerifyManifest(b, pol)
		if err == nil && (got.Version != 5 || got.SecurityVersion != 3) {
			t.Fatalf("manifest with other content verified: %+v", got)
		}
	})
}

func FuzzVerifyCommand(f *testing.F) {
	meter, _ := titles()
	he, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	data, _ := SignCommand(Command{Meter: meter, Counter: 1, Kind: CmdTariff, Tariff: 2}, he, []byte("he"), rand.Reader)
	keys := func([]byte) (*ecdsa.PublicKey, func(CommandKind) bool, error) {
		return &he.PublicKey, func(CommandKind) bool { return true }, nil
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := VerifyCommand(b, meter, keys)
		if err == nil && (c.Kind != CmdTariff || c.Tariff != 2) {
			t.Fatalf("altered command verified: %+v", c)
		}
		// The gateway's unverified read never panics and agrees with the
		// verified one on every command that verifies.
		p, perr := PeekCommand(b)
		if err == nil && (perr != nil || p.Counter != c.Counter || p.Meter != c.Meter || p.Kind != c.Kind) {
			t.Fatalf("peek %+v (%v) differs from the verified %+v", p, perr, c)
		}
	})
}

// FuzzVerifyTrustList: nothing but the operator's list may verify.
func FuzzVerifyTrustList(f *testing.F) {
	meter, _ := titles()
	op, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	good, err := SignTrustList(TrustList{Version: 1, Issued: 1, Meter: meter, Entries: []TrustEntry{{Role: RoleHeadEnd, SPKI: []byte{0x30, 0x00}}}}, op, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := VerifyTrustList(b, &op.PublicKey, meter, 0); err == nil && !bytes.Equal(b, good) {
			t.Fatalf("forged trust list verified: % x", b)
		}
	})
}

// FuzzCertificate runs arbitrary DER through the checks the head-end applies
// to a presented certificate: parsing, the bound system title, the
// encryption key, the profile lint (`pki lint` reads any file), and chain
// and status validation. Only the issued
// certificate may validate.
func FuzzCertificate(f *testing.F) {
	root, err := NewRootCA("fuzz root", mustKey(f), time.Unix(0, 0), 100*365*24*time.Hour, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	meter, _ := titles()
	good, err := root.Issue(Identity{CommonName: "m", SystemTitle: &meter}, []Role{RoleMeterSigning}, &mustKey(f).PublicKey, time.Unix(0, 0), 50*365*24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewValidator([]*x509.Certificate{root.Cert}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		CertSystemTitle(c)
		CertGridArea(c)
		EncryptionKey(c)
		CertType(c)
		LintChain([]*x509.Certificate{c, root.Cert}, nil)
		LintChain([]*x509.Certificate{c}, []*x509.Certificate{root.Cert, c})
		if v.Check(c, RoleMeterSigning, time.Unix(1000, 0)) == nil && !bytes.Equal(der, good.Raw) {
			t.Fatalf("a certificate the root never issued validated: % x", der)
		}
	})
}

func mustKey(f testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	return k
}

// FuzzVerifyEventAndBlockHeader: signed events and block headers from the
// field; only what the meter signed may verify, under its own content type
// (an event never verifies as a block header and the other way round).
func FuzzVerifyEventAndBlockHeader(f *testing.F) {
	s, v, _ := newMeter(f)
	ev, _ := s.SignEvent(Event{Meter: s.Meter, Counter: 1, Time: 2, Code: EventCoverOpened})
	blk, _ := s.SignBlock(BlockHeader{Meter: s.Meter, Counter: 2, Start: 0, Period: 900, OBIS: ActiveEnergyImport}, []Interval{{0, 5, 0}})
	f.Add(ev)
	f.Add(blk.Sign1)
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := v.VerifyEvent(b); err == nil && (!bytes.Equal(b, ev) || e.Code != EventCoverOpened) {
			t.Fatalf("event verified from % x", b)
		}
		if h, err := v.VerifyBlockHeader(b); err == nil && (!bytes.Equal(b, blk.Sign1) || h.Count != 1) {
			t.Fatalf("block header verified from % x", b)
		}
	})
}

func FuzzUnmarshalPDU(f *testing.F) {
	for _, p := range []PDU{{Kind: PDUGetBlock, Day: 20000}, {Kind: PDUResult, Request: 9, Status: StatusRejected, Detail: "protocol: manifest rejected"}, {Kind: PDUData, Body: []byte{1, 2, 3}},
		{Kind: PDUManifest, Request: 1 << 40, Day: -1, Campaign: 7, Body: []byte("m"), Status: StatusMissing, Detail: "d", Clock: 12}} {
		b, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// Encoded without PDU.Marshal, so the seed does not share a fault
		// of the codec under test.
		if b, err = marshal(p); err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalPDU(b)
		if err != nil {
			return
		}
		roundTrip(t, p, func(p PDU) ([]byte, error) { return p.Marshal() }, UnmarshalPDU, func(a, b PDU) bool {
			same := bytes.Equal(a.Body, b.Body) // an empty body is omitted: nil and empty are one value
			a.Body, b.Body = nil, nil
			return same && reflect.DeepEqual(a, b)
		})
	})
}

// FuzzUnmarshalIntervalProof: exported proofs come from anyone; only the
// meter's own intervals may verify.
func FuzzUnmarshalIntervalProof(f *testing.F) {
	s, v, _ := newMeter(f)
	blk, _ := s.SignBlock(BlockHeader{Meter: s.Meter, Counter: 2, Period: 900, OBIS: ActiveEnergyImport}, []Interval{{0, 5, 0}, {1, 6, 0}, {2, 7, 0}})
	p, _ := blk.Proof(1)
	good, _ := p.Marshal()
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := UnmarshalIntervalProof(b)
		if err != nil {
			return
		}
		roundTrip(t, q, func(p IntervalProof) ([]byte, error) { return p.Marshal() }, UnmarshalIntervalProof, func(a, b IntervalProof) bool {
			return bytes.Equal(a.Sign1, b.Sign1) && a.Interval == b.Interval && slices.Equal(a.Path, b.Path)
		})
		if _, err := v.VerifyInterval(q); err == nil && q.Interval != p.Interval && q.Interval.Value != 5 && q.Interval.Value != 7 {
			t.Fatalf("an interval the meter never signed verified: %+v", q.Interval)
		}
	})
}

// FuzzParseSign1: the hand-written COSE_Sign1 parser (sign1.go) consumes
// exactly its input: the parts it returns, laid out again in the one shape
// meters produce, give the input back byte for byte (marshal∘parse = input;
// the shape has one encoding), and the payload it hands on is the byte
// string's content.
func FuzzParseSign1(f *testing.F) {
	s, _, _ := newMeter(f)
	r, _ := s.SignReading(Reading{Meter: s.Meter, Counter: 1, Time: 2, OBIS: ActiveEnergyImport, Value: 3})
	e, _ := s.SignEvent(Event{Meter: s.Meter, Counter: 2, Time: 3, Code: EventClockJump, Detail: bytes.Repeat([]byte{7}, 200)})
	h, iv := sampleBlock(s.Meter)
	blk, _ := s.SignBlock(h, iv)
	contents := []string{contentReading, contentEvent, contentBlock}
	for i, m := range [][]byte{r, e, blk.Sign1} {
		f.Add(m, uint8(i))
	}
	f.Fuzz(func(t *testing.T, msg []byte, which uint8) {
		content := contents[int(which)%len(contents)]
		p, err := parseSign1(msg, content)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTrailing) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		re := []byte{0xD2, 0x84}
		re = append(re, protectedFor[content]...)
		re = append(re, 0xA1, 0x04, 0x40+SystemTitleLen)
		re = append(re, p.kid...)
		re = appendCBORBytesHeader(re, len(p.content))
		re = append(re, p.content...)
		re = append(re, 0x58, 64)
		re = append(re, p.sig...)
		if !bytes.Equal(re, msg) {
			t.Fatalf("parse/lay out not identity:\n in % x\nout % x", msg, re)
		}
		if !bytes.Equal(p.protected, protectedFor[content]) || !bytes.HasSuffix(p.payload, p.content) ||
			len(p.payload) != len(appendCBORBytesHeader(nil, len(p.content)))+len(p.content) {
			t.Fatalf("parts disagree: %+v", p)
		}
	})
}

// appendCBORBytesHeader appends the shortest CBOR byte-string header for n.
func appendCBORBytesHeader(b []byte, n int) []byte {
	switch {
	case n < 24:
		return append(b, 0x40+byte(n))
	case n < 256:
		return append(b, 0x58, byte(n))
	default:
		return append(b, 0x59, byte(n>>8), byte(n))
	}
}
