package protocol

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// Read side by side in one run: go test -bench 'Verify' ./protocol

func BenchmarkRawECDSAVerify(b *testing.B) {
	k, _ := ecdsa.GenerateKey(Suite1.SigningCurve(), rand.Reader)
	h := sha256.Sum256([]byte("reading"))
	sig, _ := ecdsa.SignASN1(rand.Reader, k, h[:])
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			b.Fatal("verify")
		}
	}
}

func BenchmarkVerifyReading(b *testing.B) {
	s, v, _ := newMeter(b)
	msg, _ := s.SignReading(Reading{Meter: s.Meter, Counter: 1, Time: 1_764_000_000, OBIS: ActiveEnergyImport, Value: 123456})
	if _, err := v.VerifyReading(msg); err != nil { // warm the key cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyReading(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyIntervalWithProof: one interval of a 96-interval block, the
// block signature already checked.
func BenchmarkVerifyIntervalWithProof(b *testing.B) {
	s, v, _ := newMeter(b)
	h, iv := sampleBlock(s.Meter)
	blk, _ := s.SignBlock(h, iv)
	hdr, err := v.VerifyBlock(blk)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := blk.Proof(57)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyIntervalAgainst(hdr, p.Interval, p.Path); err != nil {
			b.Fatal(err)
		}
	}
}
