package protocol

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/veraison/go-cose"
)

// The hand-written COSE_Sign1 verifier (sign1.go) against go-cose, on the
// same signed reading and the same signed 96-interval block header, read
// side by side in one run:
//
//	go test -run '^$' -bench 'COSE' -benchmem ./protocol
//
// "full" is what a head-end does per message: parse, check the signature,
// decode the payload strictly and match the key id to the payload's meter.
// "sig" is the COSE part alone (parse and signature check).

// goCOSEVerify is the full check written with go-cose instead of parseSign1:
// the same header rules (ES256, the content type, kid = the payload's
// meter), then the payload decoded by decode.
func goCOSEVerify(cv cose.Verifier, msg []byte, content string, decode func([]byte) (SystemTitle, error)) error {
	var m cose.Sign1Message
	if err := m.UnmarshalCBOR(msg); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if alg, err := m.Headers.Protected.Algorithm(); err != nil || alg != cose.AlgorithmES256 {
		return fmt.Errorf("%w: algorithm", ErrMalformed)
	}
	if ct, ok := m.Headers.Protected[cose.HeaderLabelContentType].(string); !ok || ct != content {
		return fmt.Errorf("%w: content type", ErrMalformed)
	}
	if err := m.Verify(nil, cv); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	meter, err := decode(m.Payload)
	if err != nil {
		return err
	}
	kid, _ := m.Headers.Unprotected[cose.HeaderLabelKeyID].([]byte)
	if string(kid) != string(meter[:]) {
		return ErrWrongSigner
	}
	return nil
}

func decodeReading(p []byte) (SystemTitle, error) {
	var r Reading
	err := unmarshalStrict(p, &r)
	return r.Meter, err
}

func decodeBlockHeader(p []byte) (SystemTitle, error) {
	var h BlockHeader
	err := unmarshalStrict(p, &h)
	return h.Meter, err
}

// coseSamples signs the benchmark's reading and block header once.
func coseSamples(tb testing.TB) (s *MeterSigner, v *Verifier, k *ecdsa.PrivateKey, reading, block []byte) {
	s, v, k = newMeter(tb)
	reading, err := s.SignReading(Reading{Meter: s.Meter, Counter: 1, Time: 1_764_000_000, OBIS: ActiveEnergyImport, Value: 123456})
	if err != nil {
		tb.Fatal(err)
	}
	h, iv := sampleBlock(s.Meter)
	blk, err := s.SignBlock(h, iv)
	if err != nil {
		tb.Fatal(err)
	}
	return s, v, k, reading, blk.Sign1
}

func BenchmarkCOSEVerify(b *testing.B) {
	_, v, k, reading, block := coseSamples(b)
	cv, err := cose.NewVerifier(cose.AlgorithmES256, &k.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.VerifyReading(reading); err != nil { // warm the key cache
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, content string
		msg           []byte
		ours          func() error
		decode        func([]byte) (SystemTitle, error)
	}{
		{"reading", contentReading, reading, func() error { _, err := v.VerifyReading(reading); return err }, decodeReading},
		{"block", contentBlock, block, func() error { _, err := v.VerifyBlockHeader(block); return err }, decodeBlockHeader},
	} {
		b.Run(c.name+"/full/ours", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.ours(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/full/go-cose", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := goCOSEVerify(cv, c.msg, c.content, c.decode); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/sig/ours", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := parseSign1(c.msg, c.content)
				if err != nil || !verifyParts(&k.PublicKey, &p) {
					b.Fatal("verify", err)
				}
			}
		})
		b.Run(c.name+"/sig/go-cose", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m cose.Sign1Message
				if err := m.UnmarshalCBOR(c.msg); err != nil {
					b.Fatal(err)
				}
				if err := m.Verify(nil, cv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// handSign1 builds the one COSE_Sign1 shape meters produce without go-cose:
// the Sig_structure hashed from slices, then the message laid out byte by
// byte. It exists to measure what go-cose costs on the signing side.
func handSign1(k *ecdsa.PrivateKey, kid SystemTitle, content string, payload []byte) ([]byte, error) {
	prot := protectedFor[content]
	if len(payload) >= 1<<16 {
		return nil, ErrTooLong
	}
	pl := appendCBORBytesHeader(nil, len(payload))
	pl = append(pl, payload...)
	d := sha256.New()
	d.Write(sigStructurePrefix)
	d.Write(prot)
	d.Write([]byte{0x40})
	d.Write(pl)
	r, s, err := ecdsa.Sign(rand.Reader, k, d.Sum(nil))
	if err != nil {
		return nil, err
	}
	msg := make([]byte, 0, 2+len(prot)+3+SystemTitleLen+len(pl)+2+64)
	msg = append(msg, 0xD2, 0x84)
	msg = append(msg, prot...)
	msg = append(msg, 0xA1, 0x04, 0x40+SystemTitleLen)
	msg = append(msg, kid[:]...)
	msg = append(msg, pl...)
	msg = append(msg, 0x58, 64)
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return append(msg, sig[:]...), nil
}

func BenchmarkCOSESign(b *testing.B) {
	s, _, k, _, _ := coseSamples(b)
	r := Reading{Meter: s.Meter, Counter: 1, Time: 1_764_000_000, OBIS: ActiveEnergyImport, Value: 123456}
	payload, err := marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("reading/go-cose", func(b *testing.B) { // the production path: MeterSigner
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SignReading(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reading/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := marshal(r)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := handSign1(k, s.Meter, contentReading, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-ecdsa", func(b *testing.B) { // the floor: one P-256 signature
		h := sha256.Sum256(payload)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := ecdsa.Sign(rand.Reader, k, h[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCOSEInterop: go-cose verifies what we sign, we verify what go-cose
// signs on its own (a message built with go-cose's API, not MeterSigner),
// and both agree on the hand-laid shape and on a forged signature.
func TestCOSEInterop(t *testing.T) {
	s, v, k, reading, block := coseSamples(t)
	cv, err := cose.NewVerifier(cose.AlgorithmES256, &k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// Ours signed, go-cose verifies.
	if err := goCOSEVerify(cv, reading, contentReading, decodeReading); err != nil {
		t.Errorf("go-cose rejects our reading: %v", err)
	}
	if err := goCOSEVerify(cv, block, contentBlock, decodeBlockHeader); err != nil {
		t.Errorf("go-cose rejects our block header: %v", err)
	}
	ev, err := s.SignEvent(Event{Meter: s.Meter, Counter: 2, Time: 5, Code: EventCoverOpened, Detail: []byte("lid")})
	if err != nil {
		t.Fatal(err)
	}
	if err := goCOSEVerify(cv, ev, contentEvent, func(p []byte) (SystemTitle, error) {
		var e Event
		err := unmarshalStrict(p, &e)
		return e.Meter, err
	}); err != nil {
		t.Errorf("go-cose rejects our event: %v", err)
	}

	// go-cose signed, ours verifies.
	gs, err := cose.NewSigner(cose.AlgorithmES256, k)
	if err != nil {
		t.Fatal(err)
	}
	r := Reading{Meter: s.Meter, Counter: 9, Time: 1_764_000_900, OBIS: ActiveEnergyImport, Value: 77, Status: StatusTamper}
	payload, err := marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	headers := cose.Headers{
		Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256, cose.HeaderLabelContentType: contentReading},
		Unprotected: cose.UnprotectedHeader{cose.HeaderLabelKeyID: s.Meter[:]},
	}
	theirs, err := cose.Sign1(rand.Reader, gs, headers, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.VerifyReading(theirs); err != nil || got != r {
		t.Errorf("we reject go-cose's reading: %v %+v", err, got)
	}

	// The hand-laid shape is accepted by both.
	hand, err := handSign1(k, s.Meter, contentReading, payload)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.VerifyReading(hand); err != nil || got != r {
		t.Errorf("we reject the hand-laid reading: %v %+v", err, got)
	}
	if err := goCOSEVerify(cv, hand, contentReading, decodeReading); err != nil {
		t.Errorf("go-cose rejects the hand-laid reading: %v", err)
	}

	// A signature by another key: both refuse, ours with ErrBadSignature.
	other, err := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := handSign1(other, s.Meter, contentReading, payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyReading(forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("we accept a forged reading: %v", err)
	}
	if err := goCOSEVerify(cv, forged, contentReading, decodeReading); err == nil {
		t.Error("go-cose accepts a forged reading")
	}
}

// BenchmarkCOSEInterleaved alternates the hand-written and the go-cose
// path message by message and reports the median time of each and their
// ratio: on a machine shared with other work, separate sub-benchmarks run
// seconds apart and their difference is mostly load; interleaving (and
// alternating which goes first) sees the same load on both sides.
func BenchmarkCOSEInterleaved(b *testing.B) {
	s, v, k, reading, block := coseSamples(b)
	cv, err := cose.NewVerifier(cose.AlgorithmES256, &k.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	r := Reading{Meter: s.Meter, Counter: 1, Time: 1_764_000_000, OBIS: ActiveEnergyImport, Value: 123456}
	for _, c := range []struct {
		name         string
		ours, theirs func() error
	}{
		{"verify-reading",
			func() error { _, err := v.VerifyReading(reading); return err },
			func() error { return goCOSEVerify(cv, reading, contentReading, decodeReading) }},
		{"verify-block",
			func() error { _, err := v.VerifyBlockHeader(block); return err },
			func() error { return goCOSEVerify(cv, block, contentBlock, decodeBlockHeader) }},
		// Signing: production signs with go-cose; "ours" here is handSign1.
		{"sign-reading",
			func() error {
				p, err := marshal(r)
				if err == nil {
					_, err = handSign1(k, s.Meter, contentReading, p)
				}
				return err
			},
			func() error { _, err := s.SignReading(r); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var ours, theirs []float64
			timed := func(f func() error) float64 {
				t0 := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				return float64(time.Since(t0))
			}
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					ours = append(ours, timed(c.ours))
					theirs = append(theirs, timed(c.theirs))
				} else {
					theirs = append(theirs, timed(c.theirs))
					ours = append(ours, timed(c.ours))
				}
			}
			mo, mt := median(ours), median(theirs)
			b.ReportMetric(mo, "hand-ns/op")
			b.ReportMetric(mt, "go-cose-ns/op")
			b.ReportMetric(mt/mo, "go-cose/hand")
		})
	}
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}
